/**
 * A pod's status as the kubelet reports it (upstream's generateAPIPodStatus, getPhase and the
 * status/generate.go conditions), computed without IO from the pod, the runtime's view of it and what
 * the last sync and the probes learned. Texts and reasons are upstream's, since kubectl and users match on them.
 */
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.js";
import { latestContainer, previousContainer, CONTAINER_ID_SCHEME, type RuntimeContainer, type RuntimePod } from "./runtime_pod.js";
import { restartPolicyOf, shouldRestart } from "./pod_sync.js";

/** Condition types the kubelet owns; others on the pod (PodScheduled, DisruptionTarget, gates) are kept as they are. */
export const KUBELET_CONDITIONS = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"] as const;

export interface StatusInput {
  /** Wall-clock milliseconds, for `startTime` and condition transitions. */
  readonly nowMs: number;
  readonly hostIP: string;
  /** Waiting reasons the last sync left per container name (CreateContainerError, CrashLoopBackOff, …). */
  readonly waiting?: ReadonlyMap<string, { readonly reason: string; readonly message: string }>;
  /** Readiness probe result per container ID (undefined: no result yet). */
  readonly readiness?: (containerId: string) => boolean | undefined;
  /** Startup probe result per container ID. */
  readonly startup?: (containerId: string) => boolean | undefined;
  /** The pod is being killed (deleted or finished): the sandbox is going, no container restarts. */
  readonly terminating?: boolean;
  /**
   * The status the kubelet last set (the status manager's cache), newer than the informer's copy of
   * the pod: startTime, condition transition times and a terminal phase carry over from it (upstream
   * prefers statusManager.GetPodStatus over pod.Status). Conditions other components own still come
   * from the pod.
   */
  readonly oldStatus?: PodStatus;
  /** The runtime's name in container IDs (`containerd://<id>`, as upstream); default CONTAINER_ID_SCHEME. */
  readonly containerIdScheme?: string;
}

/** RFC 3339 with seconds, as metav1.Time marshals. */
// metav1.Time formatting lives in one place; the name stays for this module\'s importers.
import { formatTime as rfc3339 } from "../api/time.js";
export { rfc3339 };

function nsTime(ns: bigint): string {
  return rfc3339(Number(ns / 1_000_000n));
}

function terminatedOf(c: RuntimeContainer, scheme: string): ContainerState {
  const reason = c.reason !== "" ? c.reason : c.exitCode === 0 ? "Completed" : "Error";
  return {
    terminated: {
      exitCode: c.exitCode,
      reason,
      ...(c.message === "" ? {} : { message: c.message }),
      ...(c.startedAtNs > 0n ? { startedAt: nsTime(c.startedAtNs) } : {}),
      finishedAt: nsTime(c.finishedAtNs > 0n ? c.finishedAtNs : c.createdAtNs),
      containerID: `${scheme}://${c.id}`,
    },
  };
}

function isSucceeded(c: RuntimeContainer | undefined): boolean {
  return c !== undefined && c.state === "CONTAINER_EXITED" && c.exitCode === 0;
}

function containerStatusOf(pod: Pod, spec: Container, rp: RuntimePod, input: StatusInput, defaultWaiting: string, hasProbes: { readiness: boolean; startup: boolean }): ContainerStatus {
  const last = latestContainer(rp, spec.name);
  const prev = previousContainer(rp, spec.name);
  const override = input.waiting?.get(spec.name);
  const base = { name: spec.name, image: spec.image ?? "", imageID: last?.imageRef ?? "", restartCount: last?.restartCount ?? 0 };
  if (last === undefined) {
    return { ...base, state: { waiting: { reason: override?.reason ?? defaultWaiting, ...(override?.message ? { message: override.message } : {}) } }, lastState: {}, ready: false, started: false };
  }
  const scheme = input.containerIdScheme ?? CONTAINER_ID_SCHEME;
  const containerID = `${scheme}://${last.id}`;
  if (last.state === "CONTAINER_RUNNING") {
    const started = hasProbes.startup ? input.startup?.(last.id) === true : true;
    const ready = !started ? false : hasProbes.readiness ? input.readiness?.(last.id) === true : true;
    return {
      ...base,
      containerID,
      state: { running: { startedAt: nsTime(last.startedAtNs) } },
      lastState: prev === undefined ? {} : terminatedOf(prev, scheme),
      ready,
      started,
    };
  }
  // Exited (or never started): waiting to restart, or terminated for good.
  const willRestart = input.terminating !== true && shouldRestart(pod, last);
  if (override !== undefined && willRestart) {
    return { ...base, containerID, state: { waiting: { reason: override.reason, ...(override.message ? { message: override.message } : {}) } }, lastState: terminatedOf(last, scheme), ready: false, started: false };
  }
  return { ...base, containerID, state: terminatedOf(last, scheme), lastState: prev === undefined ? {} : terminatedOf(prev, scheme), ready: false, started: false };
}

/** Upstream's getPhase. */
export function podPhase(pod: Pod, init: readonly ContainerStatus[], regular: readonly ContainerStatus[], initDone: boolean): PodStatus["phase"] {
  const policy = restartPolicyOf(pod);
  if (!initDone) {
    const failed = init.some((s) => s.state?.terminated !== undefined && s.state.terminated.exitCode !== 0);
    if (failed && policy === "Never") return "Failed";
    return "Pending";
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of regular) {
    if (s.state?.running !== undefined) running++;
    else if (s.state?.terminated !== undefined) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated !== undefined) stopped++; // crash looping: it has run
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? "True" : "False", ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }) } as PodCondition;
}

/** The whole status the kubelet writes for `pod`. */
export function generatePodStatus(pod: Pod, rp: RuntimePod, input: StatusInput): PodStatus {
  const spec = pod.spec ?? { containers: [] };
  const api = pod.status ?? {};
  const old = input.oldStatus ?? api;
  const probes = (c: Container) => ({ readiness: c.readinessProbe != null, startup: c.startupProbe != null });
  const inits = spec.initContainers ?? [];
  const containers = spec.containers ?? [];
  const sandbox = rp.sandboxes[0];
  const regularRan = containers.some((c) => latestContainer(rp, c.name) !== undefined);
  const initDone = regularRan || inits.every((c) => isSucceeded(latestContainer(rp, c.name)));
  const initStatuses = inits.map((c) => containerStatusOf(pod, c, rp, input, "PodInitializing", probes(c)));
  const statuses = containers.map((c) => containerStatusOf(pod, c, rp, input, initDone ? "ContainerCreating" : "PodInitializing", probes(c)));

  let phase = podPhase(pod, initStatuses, statuses, initDone);
  // A pod never leaves a terminal phase.
  for (const p of [api.phase, old.phase]) if (p === "Succeeded" || p === "Failed") phase = p;

  const oldConditions = old.conditions ?? [];
  const withTransition = (c: PodCondition): PodCondition => {
    const prev = oldConditions.find((o) => o.type === c.type);
    const lastTransitionTime = prev !== undefined && prev.status === c.status && prev.lastTransitionTime !== undefined ? prev.lastTransitionTime : rfc3339(input.nowMs);
    return { ...c, lastTransitionTime };
  };
  const incomplete = inits.filter((c, i) => !(regularRan || isSucceeded(latestContainer(rp, c.name))) && initStatuses[i] !== undefined).map((c) => c.name);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const completed = phase === "Succeeded";
  const readyCond = (type: string): PodCondition =>
    completed ? condition(type, false, "PodCompleted") : unready.length === 0 ? condition(type, true) : condition(type, false, "ContainersNotReady", `containers with unready status: [${unready.join(" ")}]`);
  const sandboxReady = sandbox !== undefined && sandbox.state === "SANDBOX_READY" && input.terminating !== true;
  const owned: PodCondition[] = [
    condition("PodReadyToStartContainers", sandboxReady),
    completed || incomplete.length === 0 ? condition("Initialized", true, completed && inits.length > 0 ? "PodCompleted" : undefined) : condition("Initialized", false, "ContainersNotInitialized", `containers with incomplete status: [${incomplete.join(" ")}]`),
    readyCond("Ready"),
    readyCond("ContainersReady"),
  ].map(withTransition);
  const kept = (api.conditions ?? []).filter((c) => !(KUBELET_CONDITIONS as readonly string[]).includes(c.type));

  // A pod on the host network has the node's address (the runtime reports none for its sandbox).
  const podIP = spec.hostNetwork === true ? input.hostIP : sandbox?.ip ?? "";
  const status: PodStatus = {
    ...api,
    phase,
    conditions: [...owned, ...kept],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(podIP !== "" ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? rfc3339(input.nowMs),
    containerStatuses: statuses,
    ...(inits.length > 0 ? { initContainerStatuses: initStatuses } : {}),
  };
  return status;
}

/** Whether two statuses differ in anything the API would store (key order, and null versus absent, aside). */
export function podStatusEqual(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val !== null && typeof val === "object" && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return val;
  });
}
