/**
 * What one sync of a pod must do, decided without IO (upstream's kuberuntime computePodActions): the
 * pod spec against the runtime's state gives a list of actions the pod worker then carries out
 * through the CRI. Pure: the same pod, runtime state, back-off state and time give the same actions.
 *
 *   no sandbox ──► create sandbox ──► init containers one by one, in order, each to exit 0
 *                                 └─► then every regular container; an exited one restarts per
 *                                     restartPolicy, no sooner than its CrashLoopBackOff allows
 */
import { createHash } from "node:crypto";
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import { CrashLoopBackOff, formatGoDuration } from "./backoff.js";
import { latestContainer, type RuntimeContainer, type RuntimePod } from "./runtime_pod.js";

export interface ContainerToStart {
  readonly name: string;
  readonly init: boolean;
  /** The restart count the new instance carries (the previous instance's + 1). */
  readonly restartCount: number;
  /** A previous instance exited: this start is a restart and advances the back-off. */
  readonly isRestart: boolean;
}

export interface ContainerToKill {
  readonly id: string;
  readonly name: string;
  /** Why, as the `Killing` event says it. */
  readonly message: string;
}

export interface PodActions {
  /** Stop every container and the sandbox (before a new sandbox, or because nothing is left to run). */
  readonly killPod: boolean;
  readonly createSandbox: boolean;
  readonly sandboxAttempt: number;
  /** The sandbox to run containers in (when not creating one). */
  readonly sandboxId: string | null;
  readonly containersToKill: readonly ContainerToKill[];
  readonly containersToStart: readonly ContainerToStart[];
  /** Containers that should restart but are backing off: waiting `CrashLoopBackOff` with this message. */
  readonly backOff: readonly { readonly name: string; readonly message: string; readonly retryInMs: number }[];
  /** An init container failed and the pod may not restart it: the pod is Failed. */
  readonly initFailed: boolean;
}

export interface SyncInput {
  /** Wall-clock milliseconds (runtime timestamps are wall-clock). */
  readonly nowMs: number;
  readonly backoff: CrashLoopBackOff;
  /** Running containers (by ID) a liveness or startup probe declared failed, with the `Killing` message. */
  readonly probeFailures?: ReadonlyMap<string, string>;
}

/** A hash of what in a container spec cannot change without a restart (upstream's HashContainer). */
export function containerHash(c: Container): string {
  const relevant = { name: c.name, image: c.image, command: c.command, args: c.args, workingDir: c.workingDir, env: c.env, ports: c.ports, volumeMounts: c.volumeMounts };
  return createHash("sha256").update(JSON.stringify(relevant)).digest("hex").slice(0, 8);
}

export function restartPolicyOf(pod: Pod): "Always" | "OnFailure" | "Never" {
  const p = pod.spec?.restartPolicy;
  return p === "OnFailure" || p === "Never" ? p : "Always";
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/** Whether an exited container should run again under the pod's restartPolicy. */
export function shouldRestart(pod: Pod, c: RuntimeContainer): boolean {
  const policy = restartPolicyOf(pod);
  if (policy === "Always") return true;
  if (policy === "OnFailure") return c.exitCode !== 0;
  return false;
}

function isExited(c: RuntimeContainer): boolean {
  // A container left CREATED (its start failed or the kubelet died between create and start) is
  // treated as one that ran and failed: it is replaced.
  return c.state === "CONTAINER_EXITED" || c.state === "CONTAINER_CREATED" || c.state === "CONTAINER_UNKNOWN";
}

/** The text of upstream's CrashLoopBackOff waiting message. */
export function backOffMessage(pod: Pod, container: string, durationMs: number): string {
  const m = pod.metadata ?? {};
  return `back-off ${formatGoDuration(durationMs)} restarting failed container=${container} pod=${m.name}_${m.namespace}(${m.uid})`;
}

export function computePodActions(pod: Pod, rp: RuntimePod, input: SyncInput): PodActions {
  const spec = pod.spec ?? { containers: [] };
  const meta = pod.metadata ?? {};
  const policy = restartPolicyOf(pod);
  const containers = spec.containers ?? [];
  const inits = spec.initContainers ?? [];
  const toKill: ContainerToKill[] = [];
  const toStart: ContainerToStart[] = [];
  const backOff: { name: string; message: string; retryInMs: number }[] = [];

  // Gate a (re)start on the container's back-off; a first start never waits.
  const startOrBackOff = (name: string, init: boolean, prev: RuntimeContainer | undefined): void => {
    if (prev === undefined) {
      toStart.push({ name, init, restartCount: 0, isRestart: false });
      return;
    }
    const key = CrashLoopBackOff.key(meta.namespace ?? "", meta.name ?? "", meta.uid ?? "", name);
    const finishedMs = prev.finishedAtNs > 0n ? nsToMs(prev.finishedAtNs) : nsToMs(prev.createdAtNs);
    if (input.backoff.isInBackOffSince(key, finishedMs, input.nowMs)) {
      const durationMs = input.backoff.durationMs(key, input.nowMs);
      backOff.push({ name, message: backOffMessage(pod, name, durationMs), retryInMs: Math.max(0, finishedMs + durationMs - input.nowMs) });
      return;
    }
    toStart.push({ name, init, restartCount: prev.restartCount + 1, isRestart: true });
  };

  // --- the sandbox ---
  const ready = rp.sandboxes.filter((s) => s.state === "SANDBOX_READY");
  const newest = rp.sandboxes[0];
  const sandboxChanged = newest === undefined || newest.state !== "SANDBOX_READY" || ready.length > 1;
  if (sandboxChanged) {
    const attempt = newest === undefined ? 0 : newest.attempt + 1;
    // A pod that must not restart and has run already is finished: no new sandbox for it.
    if (policy === "Never" && newest !== undefined && rp.containers.length > 0) {
      return { killPod: true, createSandbox: false, sandboxAttempt: attempt, sandboxId: null, containersToKill: [], containersToStart: [], backOff: [], initFailed: false };
    }
    // In a new sandbox everything starts over: the first init container, or every container that
    // still has something to do (OnFailure leaves the ones that succeeded).
    if (inits.length > 0) {
      startOrBackOff(inits[0]!.name, true, latestContainer(rp, inits[0]!.name));
    } else {
      for (const c of containers) {
        const last = latestContainer(rp, c.name);
        if (policy === "OnFailure" && last !== undefined && isExited(last) && last.exitCode === 0 && last.state === "CONTAINER_EXITED") continue;
        startOrBackOff(c.name, false, last !== undefined && isExited(last) ? last : undefined);
      }
    }
    if (toStart.length === 0 && backOff.length === 0) {
      // Nothing left to run (every container succeeded under OnFailure): stop, don't make a sandbox.
      return { killPod: true, createSandbox: false, sandboxAttempt: attempt, sandboxId: null, containersToKill: [], containersToStart: [], backOff: [], initFailed: false };
    }
    return { killPod: newest !== undefined, createSandbox: true, sandboxAttempt: attempt, sandboxId: null, containersToKill: [], containersToStart: toStart, backOff, initFailed: false };
  }
  const sandboxId = newest.id;
  const inSandbox = (name: string): RuntimeContainer | undefined => rp.containers.find((c) => c.name === name && c.sandboxId === sandboxId);

  // --- init containers: run in order, each to success, before any regular container ---
  const regularStarted = containers.some((c) => inSandbox(c.name) !== undefined);
  if (!regularStarted && inits.length > 0) {
    for (const init of inits) {
      const last = inSandbox(init.name);
      if (last === undefined) {
        startOrBackOff(init.name, true, undefined);
        return done(false);
      }
      if (last.state === "CONTAINER_RUNNING") return done(false); // wait for it to finish
      if (last.state === "CONTAINER_EXITED" && last.exitCode === 0) continue;
      // It failed. Never: the pod has failed. Otherwise run it again once its back-off allows.
      if (policy === "Never") return { ...done(true), killPod: true };
      startOrBackOff(init.name, true, last);
      return done(false);
    }
  }

  // --- regular containers ---
  let keep = 0;
  for (const c of containers) {
    const last = inSandbox(c.name);
    if (last === undefined) {
      startOrBackOff(c.name, false, latestContainer(rp, c.name));
      continue;
    }
    if (last.state === "CONTAINER_RUNNING") {
      const probeMessage = input.probeFailures?.get(last.id);
      if (last.hash !== "" && last.hash !== containerHash(c)) {
        toKill.push({ id: last.id, name: c.name, message: `Container ${c.name} definition changed, will be restarted` });
        startOrBackOff(c.name, false, undefined);
        toStart[toStart.length - 1] = { name: c.name, init: false, restartCount: last.restartCount + 1, isRestart: false };
      } else if (probeMessage !== undefined) {
        toKill.push({ id: last.id, name: c.name, message: probeMessage });
        // The kill makes it exit; the next sync restarts it (with back-off) if the policy allows.
        if (policy === "Never") continue;
      } else {
        keep++;
      }
      continue;
    }
    if (isExited(last) && shouldRestart(pod, last)) startOrBackOff(c.name, false, last);
  }
  if (keep === 0 && toStart.length === 0 && backOff.length === 0 && toKill.length === 0) {
    // Nothing runs and nothing will: stop the sandbox (the pod has finished).
    return { ...done(false), killPod: true };
  }
  return done(false);

  function done(initFailed: boolean): PodActions {
    return { killPod: false, createSandbox: false, sandboxAttempt: newest!.attempt, sandboxId, containersToKill: toKill, containersToStart: toStart, backOff, initFailed };
  }
}
