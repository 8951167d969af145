/**
 * One worker per pod bound to this node (upstream's podWorkers + syncPod/syncTerminatingPod/
 * syncTerminatedPod). A worker runs one sync at a time; updates that arrive meanwhile coalesce into
 * one more sync. A sync reads the runtime's view of the pod, asks the pure core (pod_sync.ts) what to
 * do, does it through the CRI, and writes the status (pod_status.ts) through the status manager.
 *
 * Lifecycle of a worker:
 *   syncing ──(deletionTimestamp, or a terminal phase)──► terminating: containers stopped with the
 *   grace period, sandbox stopped, final status written, and for a deleted pod the API object removed
 *   (DELETE with gracePeriodSeconds 0 and the pod's uid) ──(pod gone from the API)──► cleaned up:
 *   sandbox and containers removed from the runtime, volumes torn down, the worker forgotten.
 */
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import type { Clock, Logger, Timer } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import type { ContainerRuntime, DNSConfig } from "./cri/cri.js";
import { CriError, ImageNeverPullError } from "./cri/errors.js";
import { CrashLoopBackOff } from "./backoff.js";
import { ContainerConfigError, containerConfig, sandboxConfig } from "./container_config.js";
import { computePodActions, type ContainerToStart } from "./pod_sync.js";
import { generatePodStatus } from "./pod_status.js";
import type { ProbeManager } from "./probes/probe_manager.js";
import { readRuntimePod, type RuntimeContainer, type RuntimePod } from "./runtime_pod.js";
import { podCgroupParent } from "./linux_resources.js";
import type { StatusManager } from "./status_manager.js";
import { MountError, type VolumeManager, type VolumeSources } from "./volumes/volume_manager.js";

/** Pods one kubelet runs at once (upstream's default maxPods is 110; room for terminating ones). */
export const POD_WORKERS_MAX = 1024;
/** A pod is synced at least this often even when nothing is reported about it (volumes, tokens, status). */
export const RESYNC_INTERVAL_MS = 30_000;
/** A sync that failed (API, runtime, volume) is retried after this long. */
export const SYNC_RETRY_MS = 5_000;
/** Volumes of a running pod are refreshed (ConfigMap/Secret updates, token renewal) this often. */
export const VOLUME_RESYNC_MS = 60_000;
/** Exited instances kept per container name: the newest and the one before (`logs --previous`), as upstream's container GC (maxPerPodContainer 1 dead besides the live one). */
export const INSTANCES_KEPT_PER_CONTAINER = 2;
/** The least grace a container gets (upstream's minimumGracePeriodInSeconds). */
export const MINIMUM_GRACE_PERIOD_S = 2;
/**
 * containerd records an exit before it handles the OOM event of the same container, so a status read at
 * once may say `Error` where a moment later it says `OOMKilled`. A container that exited with 137 less
 * than OOM_REREAD_WINDOW_MS ago is read again after OOM_REREAD_MS.
 */
export const OOM_REREAD_MS = 500;
export const OOM_REREAD_WINDOW_MS = 5_000;

export interface PodWorkersOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly runtime: ContainerRuntime;
  readonly volumes: VolumeManager;
  readonly sources: VolumeSources;
  readonly statusManager: StatusManager;
  readonly probes: ProbeManager;
  readonly backoff: CrashLoopBackOff;
  readonly nodeIP: string;
  readonly logRoot: string;
  readonly nodeAllocatable: () => Readonly<Record<string, string>>;
  readonly baseEnv?: ReadonlyMap<string, string>;
  /** The node's memory in bytes (OOM scores of Burstable containers). */
  readonly memoryCapacityBytes?: number;
  /** The pod's resolv.conf for its sandbox (cluster DNS); undefined: the runtime's default (the host's). */
  readonly dnsConfig?: (pod: Pod) => DNSConfig | undefined;
  /** Pods go under /kubepods/<qos>/pod<uid> (runtimes with cgroups); their cgroups are removed with the pod. */
  readonly cgroupsPerQos?: boolean;
  /** Removes a gone pod's cgroup (by its parent path); given with cgroupsPerQos. */
  readonly removePodCgroup?: (cgroupParent: string) => void;
  /** The runtime's name in status container IDs (`containerd`); default `tk8s`. */
  readonly containerIdScheme?: string;
  /** Image pull back-off (upstream's: 10 s doubling to 5 min per pod and image). */
  readonly imageBackoff?: CrashLoopBackOff;
  /** Records an event on the pod (container: its field path `spec.containers{name}`). */
  readonly event: (pod: Pod, container: Container | null, type: "Normal" | "Warning", reason: string, message: string) => void;
  /** The final delete of a terminated pod (DELETE, gracePeriodSeconds 0, uid precondition). */
  readonly deletePod: (pod: Pod) => Promise<void>;
}

interface Worker {
  pod: Pod;
  /** The API object is gone (deleted, or no longer bound here). */
  removed: boolean;
  running: Promise<void> | null;
  pending: boolean;
  timer: Timer | null;
  /** Waiting reasons from the last sync, by container name. */
  waiting: Map<string, { reason: string; message: string }>;
  volumes: Map<string, string> | null;
  volumesAtMs: number;
  /** The pod was stopped (deleted or finished): its containers will not run again. */
  terminated: boolean;
  /** The final DELETE was sent. */
  deleteSent: boolean;
  done: boolean;
}

export class PodWorkers {
  readonly #o: PodWorkersOptions;
  readonly #imageBackoff: CrashLoopBackOff;
  readonly #workers = new Map<string, Worker>();
  #stopped = false;
  syncs = 0;

  constructor(options: PodWorkersOptions) {
    this.#o = options;
    this.#imageBackoff = options.imageBackoff ?? new CrashLoopBackOff();
  }

  #sandboxConfig(pod: Pod, attempt: number) {
    const dnsConfig = this.#o.dnsConfig?.(pod);
    return sandboxConfig(pod, attempt, { logRoot: this.#o.logRoot, ...(dnsConfig === undefined ? {} : { dnsConfig }), cgroupsPerQos: this.#o.cgroupsPerQos === true });
  }

  /** The pod's current API object as the worker knows it. */
  pod(uid: string): Pod | undefined {
    return this.#workers.get(uid)?.pod;
  }

  podByName(namespace: string, name: string): Pod | undefined {
    for (const w of this.#workers.values()) if (w.pod.metadata?.namespace === namespace && w.pod.metadata?.name === name) return w.pod;
    return undefined;
  }

  uids(): string[] {
    return [...this.#workers.keys()];
  }

  /** A pod bound here was added or changed. */
  update(pod: Pod): void {
    const uid = pod.metadata?.uid ?? "";
    if (uid === "" || this.#stopped) return;
    let w = this.#workers.get(uid);
    if (w === undefined) {
      if (this.#workers.size >= POD_WORKERS_MAX) {
        this.#o.log.warn("too many pods; not running this one", { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, limit: POD_WORKERS_MAX });
        return;
      }
      w = { pod, removed: false, running: null, pending: false, timer: null, waiting: new Map(), volumes: null, volumesAtMs: 0, terminated: false, deleteSent: false, done: false };
      this.#workers.set(uid, w);
    } else {
      const before = w.pod;
      w.pod = pod;
      // As upstream's config source: a change of status alone (most often the kubelet's own write) is a
      // reconcile, not a reason to sync; otherwise every status write would start another sync at once and
      // a reason like ErrImagePull would last only until that sync overwrote it.
      if (!specOrMetadataChanged(before, pod)) return;
    }
    this.#kick(uid);
  }

  /** The pod's API object is gone: stop what still runs and clean up. */
  remove(pod: Pod): void {
    const uid = pod.metadata?.uid ?? "";
    const w = this.#workers.get(uid);
    if (w === undefined) return;
    w.removed = true;
    this.#kick(uid);
  }

  /** Something changed in the runtime or a probe for this pod. */
  sync(uid: string): void {
    if (this.#workers.has(uid)) this.#kick(uid);
  }

  #kick(uid: string): void {
    const w = this.#workers.get(uid);
    if (w === undefined || this.#stopped) return;
    if (w.running !== null) {
      w.pending = true;
      return;
    }
    w.timer?.cancel();
    w.timer = null;
    w.running = this.#run(uid, w).finally(() => {
      w.running = null;
      if (w.done) {
        this.#workers.delete(uid);
        return;
      }
      if (w.pending) {
        w.pending = false;
        this.#kick(uid);
      }
    });
  }

  #after(uid: string, w: Worker, ms: number): void {
    if (this.#stopped || w.done) return;
    if (w.timer !== null) w.timer.cancel();
    w.timer = this.#o.clock.setTimer(ms, () => {
      w.timer = null;
      this.#kick(uid);
    });
  }

  async #run(uid: string, w: Worker): Promise<void> {
    this.syncs++;
    let nextMs = RESYNC_INTERVAL_MS;
    try {
      nextMs = await this.#syncOnce(w);
    } catch (err) {
      rethrowIfAssertion(err);
      this.#o.log.warn("pod sync failed", { pod: podKey(w.pod), error: (err as Error).message });
      nextMs = SYNC_RETRY_MS;
    }
    if (!w.done) this.#after(uid, w, nextMs);
  }

  /** One sync; returns when to sync again at the latest. */
  async #syncOnce(w: Worker): Promise<number> {
    const pod = w.pod;
    const m = pod.metadata ?? {};
    const uid = m.uid ?? "";
    const phase = pod.status?.phase;
    if (w.removed) {
      await this.#terminate(w, "removed");
      await this.#cleanup(w);
      return RESYNC_INTERVAL_MS;
    }
    if (m.deletionTimestamp != null) {
      await this.#terminate(w, "deleted");
      if (!w.deleteSent) {
        w.deleteSent = true;
        try {
          await this.#o.deletePod(pod);
        } catch (err) {
          w.deleteSent = false;
          throw err;
        }
      }
      return SYNC_RETRY_MS; // until the DELETE event arrives
    }
    if (phase === "Succeeded" || phase === "Failed") {
      // A finished pod keeps its containers (for logs) but nothing runs and nothing restarts.
      if (!w.terminated) await this.#terminate(w, "finished");
      return RESYNC_INTERVAL_MS;
    }

    const now = this.#o.clock.wallMs();
    if (w.volumes === null || now - w.volumesAtMs >= VOLUME_RESYNC_MS) {
      try {
        w.volumes = await this.#o.volumes.setUp(pod);
        w.volumesAtMs = now;
      } catch (err) {
        if (!(err instanceof MountError)) throw err;
        this.#o.event(pod, null, "Warning", "FailedMount", err.message);
        if (w.volumes === null) {
          await this.#writeStatus(w, await readRuntimePod(this.#o.runtime, uid, m.namespace, m.name));
          return SYNC_RETRY_MS;
        }
      }
    }

    let rp = await readRuntimePod(this.#o.runtime, uid, m.namespace, m.name);
    const actions = computePodActions(pod, rp, { nowMs: now, backoff: this.#o.backoff, probeFailures: this.#o.probes.failures() });
    let nextMs = RESYNC_INTERVAL_MS;
    const grace = graceSeconds(pod);

    if (actions.killPod) await this.#killPod(pod, rp, grace, "");
    let sandboxId = actions.sandboxId;
    if (actions.createSandbox) {
      try {
        sandboxId = (await this.#o.runtime.runPodSandbox({ config: this.#sandboxConfig(pod, actions.sandboxAttempt) })).podSandboxId;
      } catch (err) {
        rethrowIfAssertion(err);
        this.#o.event(pod, null, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${(err as Error).message}`);
        throw err;
      }
    }
    for (const k of actions.containersToKill) {
      const c = containerSpec(pod, k.name);
      this.#o.event(pod, c, "Normal", "Killing", k.message);
      await this.#o.runtime.stopContainer(k.id, grace);
    }
    for (const b of actions.backOff) {
      w.waiting.set(b.name, { reason: "CrashLoopBackOff", message: b.message });
      const c = containerSpec(pod, b.name);
      this.#o.event(pod, c, "Warning", "BackOff", `Back-off restarting failed container ${b.name} in pod ${m.name}_${m.namespace}(${uid})`);
      nextMs = Math.min(nextMs, Math.max(100, b.retryInMs));
    }
    if (sandboxId !== null) {
      for (const s of actions.containersToStart) {
        const ok = await this.#startContainer(w, sandboxId, s);
        if (!ok) nextMs = Math.min(nextMs, SYNC_RETRY_MS);
      }
    }
    rp = await readRuntimePod(this.#o.runtime, uid, m.namespace, m.name);
    if (rp.containers.some((c) => mayBecomeOomKilled(c, now))) nextMs = Math.min(nextMs, OOM_REREAD_MS);
    await this.#collectGarbage(rp);
    this.#o.probes.update(pod, rp);
    const status = await this.#writeStatus(w, rp);
    // A pod that reached a terminal phase: stop it now rather than on the next event.
    if (status === "Succeeded" || status === "Failed") {
      await this.#terminate(w, "finished");
    }
    return nextMs;
  }

  async #startContainer(w: Worker, sandboxId: string, s: ContainerToStart): Promise<boolean> {
    const pod = w.pod;
    const m = pod.metadata ?? {};
    const c = containerSpec(pod, s.name);
    if (c === null) return true;
    const fail = (reason: string, message: string, event = true): false => {
      w.waiting.set(s.name, { reason, message });
      if (event) this.#o.event(pod, c, "Warning", "Failed", `Error: ${message}`);
      return false;
    };
    let imageRef: string;
    try {
      imageRef = await this.#ensureImage(pod, c);
    } catch (err) {
      rethrowIfAssertion(err);
      if (err instanceof ImageManagerError) {
        // As kuberuntime's startContainer: the event names the reason, the status carries the message.
        w.waiting.set(s.name, { reason: err.reason, message: err.message });
        this.#o.event(pod, c, "Warning", "Failed", `Error: ${err.reason}`);
        return false;
      }
      const reason = err instanceof CriError && err.kubeletReason !== undefined ? err.kubeletReason : "ErrImagePull";
      return fail(reason, (err as Error).message);
    }
    if (s.isRestart) this.#o.backoff.next(CrashLoopBackOff.key(m.namespace ?? "", m.name ?? "", m.uid ?? "", s.name), this.#o.clock.wallMs());
    let config;
    try {
      config = await containerConfig({
        pod, container: c, restartCount: s.restartCount, volumes: w.volumes ?? new Map(), sources: this.#o.sources,
        imageRef, nodeAllocatable: this.#o.nodeAllocatable(), ...(this.#o.baseEnv === undefined ? {} : { baseEnv: this.#o.baseEnv }),
        ...(this.#o.memoryCapacityBytes === undefined ? {} : { memoryCapacityBytes: this.#o.memoryCapacityBytes }),
      });
    } catch (err) {
      rethrowIfAssertion(err);
      if (err instanceof ContainerConfigError) return fail("CreateContainerConfigError", err.message);
      throw err;
    }
    let containerId: string;
    try {
      containerId = (await this.#o.runtime.createContainer({ podSandboxId: sandboxId, config, sandboxConfig: this.#sandboxConfig(pod, 0) })).containerId;
    } catch (err) {
      rethrowIfAssertion(err);
      const reason = err instanceof CriError && err.kubeletReason !== undefined ? err.kubeletReason : "CreateContainerError";
      return fail(reason, (err as Error).message);
    }
    this.#o.event(pod, c, "Normal", "Created", `Created container: ${c.name}`);
    try {
      await this.#o.runtime.startContainer(containerId);
    } catch (err) {
      rethrowIfAssertion(err);
      return fail("RunContainerError", (err as Error).message);
    }
    w.waiting.delete(s.name);
    this.#o.event(pod, c, "Normal", "Started", `Started container ${c.name}`);
    return true;
  }

  /** Removes exited instances beyond the newest two of each container, so a crash loop does not fill the runtime. */
  async #collectGarbage(rp: RuntimePod): Promise<void> {
    const seen = new Map<string, number>();
    for (const c of rp.containers) {
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      if (n > INSTANCES_KEPT_PER_CONTAINER && c.state === "CONTAINER_EXITED") await this.#o.runtime.removeContainer(c.id);
    }
  }

  /**
   * Upstream's image manager (EnsureImageExists): pull per imagePullPolicy (default Always for `:latest` or
   * no tag, else IfNotPresent); `Never` with a missing image is ErrImageNeverPull; a failed pull is
   * ErrImagePull and starts a back-off per pod and image, during which the answer is ImagePullBackOff.
   */
  async #ensureImage(pod: Pod, c: Container): Promise<string> {
    const image = c.image ?? "";
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    let present;
    try {
      present = (await this.#o.runtime.imageStatus({ image })).image;
    } catch (err) {
      rethrowIfAssertion(err);
      const message = `Failed to inspect image "${image}": ${(err as Error).message}`;
      this.#o.event(pod, c, "Warning", "InspectFailed", message);
      throw new ImageManagerError("ImageInspectError", message, { cause: err });
    }
    const shouldPull = policy === "Always" || (policy === "IfNotPresent" && present === null);
    if (!shouldPull) {
      if (present !== null) {
        this.#o.event(pod, c, "Normal", "Pulled", `Container image "${image}" already present on machine`);
        return present.id;
      }
      const message = new ImageNeverPullError(image).message;
      this.#o.event(pod, c, "Warning", "ErrImageNeverPull", message);
      throw new ImageManagerError("ErrImageNeverPull", message);
    }
    const key = `${pod.metadata?.uid ?? ""}_${image}`;
    const now = this.#o.clock.wallMs();
    if (this.#imageBackoff.isInBackOffSinceUpdate(key, now)) {
      const message = `Back-off pulling image "${image}"`;
      this.#o.event(pod, c, "Normal", "BackOff", message);
      throw new ImageManagerError("ImagePullBackOff", message);
    }
    this.#o.event(pod, c, "Normal", "Pulling", `Pulling image "${image}"`);
    const started = this.#o.clock.nowMs();
    let imageRef: string;
    try {
      imageRef = (await this.#o.runtime.pullImage({ image: { image } })).imageRef;
    } catch (err) {
      rethrowIfAssertion(err);
      const why = (err as Error).message;
      this.#o.event(pod, c, "Warning", "Failed", `Failed to pull image "${image}": ${why}`);
      this.#imageBackoff.next(key, this.#o.clock.wallMs());
      throw new ImageManagerError("ErrImagePull", why, { cause: err });
    }
    const took = goDuration(this.#o.clock.nowMs() - started);
    let size = 0;
    try {
      size = (await this.#o.runtime.imageStatus({ image: imageRef })).image?.size ?? 0;
    } catch (err) {
      rethrowIfAssertion(err); // the size is only for the event
    }
    this.#o.event(pod, c, "Normal", "Pulled", `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`);
    return imageRef;
  }

  /** Stops every running container (with the grace period) and the pod's sandboxes. */
  async #killPod(pod: Pod, rp: RuntimePod, grace: number, reason: string): Promise<void> {
    const running = rp.containers.filter((c) => c.state === "CONTAINER_RUNNING");
    await Promise.all(running.map(async (rc) => {
      const c = containerSpec(pod, rc.name);
      if (reason !== "") this.#o.event(pod, c, "Normal", "Killing", `Stopping container ${rc.name}`);
      await this.#o.runtime.stopContainer(rc.id, grace);
    }));
    for (const s of rp.sandboxes) if (s.state === "SANDBOX_READY") await this.#o.runtime.stopPodSandbox(s.id);
  }

  async #terminate(w: Worker, why: "deleted" | "removed" | "finished"): Promise<void> {
    const pod = w.pod;
    const m = pod.metadata ?? {};
    const rp = await readRuntimePod(this.#o.runtime, m.uid ?? "", m.namespace, m.name);
    const grace = why === "finished" ? MINIMUM_GRACE_PERIOD_S : graceSeconds(pod);
    const needsKill = rp.containers.some((c) => c.state === "CONTAINER_RUNNING") || rp.sandboxes.some((s) => s.state === "SANDBOX_READY");
    if (needsKill) await this.#killPod(pod, rp, grace, why);
    this.#o.probes.removePod(m.uid ?? "");
    w.terminated = true;
    if (why !== "removed" && (needsKill || why === "deleted")) {
      await this.#writeStatus(w, await readRuntimePod(this.#o.runtime, m.uid ?? "", m.namespace, m.name));
    }
  }

  async #cleanup(w: Worker): Promise<void> {
    const m = w.pod.metadata ?? {};
    const uid = m.uid ?? "";
    const rp = await readRuntimePod(this.#o.runtime, uid, m.namespace, m.name);
    for (const s of rp.sandboxes) await this.#o.runtime.removePodSandbox(s.id);
    this.#o.volumes.tearDown(uid);
    this.#o.backoff.forgetPrefix(`${m.name}_${m.namespace}_${uid}_`);
    this.#imageBackoff.forgetPrefix(`${uid}_`);
    if (this.#o.cgroupsPerQos === true) this.#o.removePodCgroup?.(podCgroupParent(w.pod));
    this.#o.statusManager.forget(uid);
    w.timer?.cancel();
    w.done = true;
    this.#o.log.info("cleaned up pod", { pod: podKey(w.pod), podUid: uid });
  }

  async #writeStatus(w: Worker, rp: RuntimePod): Promise<string | undefined> {
    const probes = this.#o.probes;
    const status = generatePodStatus(w.pod, rp, {
      nowMs: this.#o.clock.wallMs(),
      hostIP: this.#o.nodeIP,
      waiting: w.waiting,
      readiness: (id) => probes.readinessResult(id),
      startup: (id) => probes.startupResult(id),
      terminating: w.terminated || w.pod.metadata?.deletionTimestamp != null,
      oldStatus: this.#o.statusManager.lastStatus(w.pod.metadata?.uid ?? ""),
      ...(this.#o.containerIdScheme === undefined ? {} : { containerIdScheme: this.#o.containerIdScheme }),
    });
    await this.#o.statusManager.setPodStatus(w.pod, status);
    return status.phase;
  }

  /** Stops every worker's timers and waits for running syncs; containers keep running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const running: Promise<void>[] = [];
    for (const w of this.#workers.values()) {
      w.timer?.cancel();
      if (w.running !== null) running.push(w.running);
    }
    await Promise.all(running);
  }
}

/** What the image manager answers instead of an image: the waiting reason and its message. */
export class ImageManagerError extends Error {
  override readonly name = "ImageManagerError";
  constructor(readonly reason: "ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "ImageInspectError", message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The API's default imagePullPolicy: Always for `:latest` or an untagged image, else IfNotPresent (a digest counts as a tag). */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  if (image.includes("@")) return "IfNotPresent";
  const lastPart = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastPart.lastIndexOf(":");
  if (colon < 0) return "Always";
  return lastPart.slice(colon + 1) === "latest" ? "Always" : "IfNotPresent";
}

/** An exit by SIGKILL a moment ago that the runtime has not (yet) called OOMKilled. */
function mayBecomeOomKilled(c: RuntimeContainer, nowMs: number): boolean {
  if (c.state !== "CONTAINER_EXITED" || c.exitCode !== 137 || c.reason === "OOMKilled") return false;
  return nowMs - Number(c.finishedAtNs / 1_000_000n) < OOM_REREAD_WINDOW_MS;
}

/** Whether anything but status and bookkeeping (resourceVersion, managedFields) differs. */
function specOrMetadataChanged(a: Pod, b: Pod): boolean {
  const meta = (p: Pod) => {
    const { resourceVersion: _rv, managedFields: _mf, ...rest } = p.metadata ?? {};
    return rest;
  };
  return JSON.stringify([a.spec, meta(a)]) !== JSON.stringify([b.spec, meta(b)]);
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function containerSpec(pod: Pod, name: string): Container | null {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name) ?? null;
}

/** The grace period for stopping the pod's containers: the deletion's, else the spec's, at least 2 s. */
export function graceSeconds(pod: Pod): number {
  const g = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(MINIMUM_GRACE_PERIOD_S, g);
}

/** A duration as Go prints a time.Duration under a minute: `512ms`, `1.234s`. */
function goDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
