import type { Pod } from "kubernetes-types/core/v1.js";
import type { Clock, Logger, Timer } from "../../env/env.js";
import { PodInfo, podKey, podName, podPriority } from "../cache/pod_info.js";
import {
  ActionType, DEFAULT_PLUGIN_EVENTS, EVENT_ASSIGNED_POD_ADD, EVENT_ASSIGNED_POD_DELETE, EVENT_UNSCHEDULABLE_TIMEOUT, assignedPodUpdateEvents, eventMatches, type ClusterEvent,
} from "./events.js";
import { KeyedHeap } from "./heap.js";

/** podInitialBackoffDuration: the first retry of a failed pod waits this long. */
export const POD_INITIAL_BACKOFF_MS = 1_000;
/** podMaxBackoffDuration: doubling stops here. */
export const POD_MAX_BACKOFF_MS = 10_000;
/** podMaxInUnschedulablePodsDuration: a pod no event has woken is retried after this anyway. */
export const POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60 * 1_000;
/** How often backoffQ is checked for pods whose backoff ended (upstream: every second). */
export const BACKOFF_FLUSH_INTERVAL_MS = 1_000;
/** How often unschedulable pods are checked against the 5-minute limit (upstream: every 30 s). */
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;
/** Pending pods the queue holds at most; beyond it add() refuses the pod (it stays in the informer and comes back on resync). */
export const PENDING_PODS_MAX = 100_000;

/** A pod waiting to be scheduled with its queue bookkeeping (upstream `QueuedPodInfo`). */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When it last entered the queue; orders equal priorities and starts its backoff. */
  timestampMs: number;
  /** Scheduling attempts so far; the backoff doubles with each. */
  attempts: number;
  initialAttemptTimestampMs: number | null;
  /** Plugins that rejected it last time: only events they registered for move it back. */
  unschedulablePlugins: Set<string>;
  /** Held back by spec.schedulingGates (PreEnqueue). */
  gated: boolean;
  /** Insertion order: ties in priority and timestamp come out first-in first-out. */
  seq: number;
}

export interface SchedulingQueueOptions {
  readonly podInitialBackoffMs?: number;
  readonly podMaxBackoffMs?: number;
  readonly podMaxInUnschedulablePodsDurationMs?: number;
  /** Events each plugin's rejection can be undone by; the default plugins' when omitted. */
  readonly pluginEvents?: ReadonlyMap<string, readonly ClusterEvent[]>;
  readonly pendingPodsMax?: number;
  readonly log?: Logger;
}

/** Which sub-queue a pod is in. */
export type QueueName = "active" | "backoff" | "unschedulable";

/**
 * The scheduling queue (upstream `PriorityQueue`), three parts:
 *
 *   activeQ        pods to try now: higher priority first, then earlier timestamp (PrioritySort)
 *   backoffQ       pods that failed and wait 1 s, 2 s, 4 s … 10 s (by attempts) before activeQ
 *   unschedulable  pods no node fits: they wait for an event one of their rejecting plugins
 *                  cares about (a node added, a pod deleted…), or 5 minutes at most
 *
 * pop() takes the next pod and marks it in flight until done(); a move request that arrives while a
 * pod is in flight sends it to backoffQ instead of unschedulable, since the event may have helped.
 * The queue also remembers nominated pods (where preemption made room) for the filters.
 */
export class SchedulingQueue {
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxUnschedulableMs: number;
  readonly #pluginEvents: ReadonlyMap<string, readonly ClusterEvent[]>;
  readonly #pendingMax: number;

  readonly #activeQ = new KeyedHeap<QueuedPodInfo>((a, b) => {
    const pa = podPriority(a.podInfo.pod);
    const pb = podPriority(b.podInfo.pod);
    if (pa !== pb) return pa > pb;
    if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs;
    return a.seq < b.seq;
  });
  readonly #backoffQ = new KeyedHeap<QueuedPodInfo>((a, b) => {
    const ta = this.#backoffExpiryMs(a);
    const tb = this.#backoffExpiryMs(b);
    return ta !== tb ? ta < tb : a.seq < b.seq;
  });
  readonly #unschedulable = new Map<string, QueuedPodInfo>();
  readonly #inFlight = new Map<string, QueuedPodInfo>();
  #schedulingCycle = 0;
  #moveRequestCycle = -1;
  #seq = 0;
  readonly #timers = new Map<string, Timer>();
  #closed = false;
  #onActive: (() => void) | null = null;

  readonly #nominatedByNode = new Map<string, PodInfo[]>();
  readonly #nominatedNodeOf = new Map<string, string>();

  constructor(env: { readonly clock: Clock }, options: SchedulingQueueOptions = {}) {
    this.#clock = env.clock;
    this.#log = options.log;
    this.#initialBackoffMs = options.podInitialBackoffMs ?? POD_INITIAL_BACKOFF_MS;
    this.#maxBackoffMs = options.podMaxBackoffMs ?? POD_MAX_BACKOFF_MS;
    this.#maxUnschedulableMs = options.podMaxInUnschedulablePodsDurationMs ?? POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
    this.#pluginEvents = options.pluginEvents ?? DEFAULT_PLUGIN_EVENTS;
    this.#pendingMax = options.pendingPodsMax ?? PENDING_PODS_MAX;
  }

  /** Called (synchronously) whenever a pod enters activeQ, so the shell's loop can wake up. */
  onActive(fn: (() => void) | null): void {
    this.#onActive = fn;
  }

  /** Starts the periodic flushes on the clock: backoffQ every second, unschedulable every 30 s. */
  run(): void {
    // Each loop re-arms its one timer; these loops never end until close().
    const every = (name: string, ms: number, fn: () => void): void => {
      const tick = (): void => {
        if (this.#closed) return;
        fn();
        this.#timers.set(name, this.#clock.setTimer(ms, tick));
      };
      this.#timers.set(name, this.#clock.setTimer(ms, tick));
    };
    every("backoff", BACKOFF_FLUSH_INTERVAL_MS, () => this.flushBackoffQCompleted());
    every("unschedulable", UNSCHEDULABLE_FLUSH_INTERVAL_MS, () => this.flushUnschedulablePodsLeftover());
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  get schedulingCycle(): number {
    return this.#schedulingCycle;
  }

  /** How many pods wait in each part (plus in flight). */
  counts(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.#activeQ.size, backoff: this.#backoffQ.size, unschedulable: this.#unschedulable.size, inFlight: this.#inFlight.size };
  }

  /** Where the pod waits, if it does. */
  whereIs(pod: Pod): QueueName | null {
    const k = podKey(pod);
    if (this.#activeQ.has(k)) return "active";
    if (this.#backoffQ.has(k)) return "backoff";
    if (this.#unschedulable.has(k)) return "unschedulable";
    return null;
  }

  #pendingCount(): number {
    return this.#activeQ.size + this.#backoffQ.size + this.#unschedulable.size;
  }

  #newQueued(pod: Pod): QueuedPodInfo {
    return { podInfo: new PodInfo(pod), timestampMs: this.#clock.nowMs(), attempts: 0, initialAttemptTimestampMs: null, unschedulablePlugins: new Set(), gated: false, seq: this.#seq++ };
  }

  /** backoff = initial × 2^(attempts−1), capped at max. */
  backoffDurationMs(attempts: number): number {
    let d = this.#initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      if (d > this.#maxBackoffMs - d) return this.#maxBackoffMs;
      d += d;
    }
    return Math.min(d, this.#maxBackoffMs);
  }

  #backoffExpiryMs(q: QueuedPodInfo): number {
    return q.timestampMs + this.backoffDurationMs(q.attempts);
  }

  #isBackingOff(q: QueuedPodInfo): boolean {
    if (q.gated) return false;
    return this.#backoffExpiryMs(q) > this.#clock.nowMs();
  }

  /** PreEnqueue (SchedulingGates): a gated pod waits in unschedulable until its gates are removed. */
  #moveToActiveQ(q: QueuedPodInfo): boolean {
    const gates = q.podInfo.pod.spec?.schedulingGates ?? [];
    const k = q.podInfo.key;
    if (gates.length > 0) {
      q.gated = true;
      q.unschedulablePlugins = new Set(["SchedulingGates"]);
      this.#unschedulable.set(k, q);
      return false;
    }
    q.gated = false;
    this.#unschedulable.delete(k);
    this.#backoffQ.delete(k);
    this.#activeQ.addOrUpdate(k, q);
    this.#onActive?.();
    return true;
  }

  /** A new pending pod: to activeQ (or held as gated). False when the queue is full. */
  add(pod: Pod): boolean {
    const k = podKey(pod);
    if (this.#activeQ.has(k) || this.#backoffQ.has(k) || this.#unschedulable.has(k)) {
      this.update(undefined, pod);
      return true;
    }
    if (this.#pendingCount() >= this.#pendingMax) {
      this.#log?.warn("scheduling queue full; pod not queued", { pod: podName(pod), limit: this.#pendingMax });
      return false;
    }
    const q = this.#newQueued(pod);
    this.#moveToActiveQ(q);
    this.addNominatedPod(q.podInfo, null);
    return true;
  }

  /** The next pod to schedule, or null when activeQ is empty. It stays in flight until done(). */
  pop(): QueuedPodInfo | null {
    const q = this.#activeQ.pop();
    if (q === undefined) return null;
    q.attempts++;
    if (q.initialAttemptTimestampMs === null) q.initialAttemptTimestampMs = this.#clock.nowMs();
    this.#schedulingCycle++;
    this.#inFlight.set(q.podInfo.key, q);
    return q;
  }

  /** The pod's cycle is over (bound, requeued or dropped). */
  done(pod: Pod): void {
    this.#inFlight.delete(podKey(pod));
  }

  /**
   * AddUnschedulableIfNotPresent: a pod whose cycle failed goes back. To backoffQ when it failed for
   * no plugin's reason (an error) or when a move request came after its cycle started; otherwise to
   * unschedulable, to wait for an event. False when it is already queued (an update re-added it).
   * `nominatedNodeName` is the decision's (preemption's node, "" to clear, null to keep the pod's
   * own), applied after, as upstream's handleSchedulingFailure does.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, podSchedulingCycle: number, nominatedNodeName: string | null = null): boolean {
    const k = q.podInfo.key;
    this.#inFlight.delete(k);
    let added = false;
    if (!this.#activeQ.has(k) && !this.#backoffQ.has(k) && !this.#unschedulable.has(k)) {
      q.timestampMs = this.#clock.nowMs();
      if (this.#moveRequestCycle >= podSchedulingCycle || q.unschedulablePlugins.size === 0) this.#backoffQ.addOrUpdate(k, q);
      else this.#unschedulable.set(k, q);
      this.addNominatedPod(q.podInfo, null);
      added = true;
    }
    if (nominatedNodeName !== null) this.addNominatedPod(q.podInfo, nominatedNodeName);
    return added;
  }

  /** A pending pod changed: an update that may make it schedulable moves it out of unschedulable. */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    const k = podKey(newPod);
    const replace = (q: QueuedPodInfo): void => {
      q.podInfo = new PodInfo(newPod);
      this.#updateNominated(q.podInfo);
    };
    const inActive = this.#activeQ.get(k);
    if (inActive !== undefined) {
      replace(inActive);
      this.#activeQ.addOrUpdate(k, inActive);
      return;
    }
    const inBackoff = this.#backoffQ.get(k);
    if (inBackoff !== undefined) {
      replace(inBackoff);
      this.#backoffQ.addOrUpdate(k, inBackoff);
      return;
    }
    const u = this.#unschedulable.get(k);
    if (u !== undefined) {
      const before = u.podInfo.pod;
      replace(u);
      // A re-add (informer resync) compares with what the queue held, so an unchanged pod stays put.
      if (isPodUpdated(oldPod ?? before, newPod)) {
        if (this.#isBackingOff(u)) {
          this.#unschedulable.delete(k);
          this.#backoffQ.addOrUpdate(k, u);
        } else {
          this.#moveToActiveQ(u);
        }
      }
      return;
    }
    if (this.#pendingCount() >= this.#pendingMax) return;
    const q = this.#inFlight.get(k) !== undefined ? { ...this.#inFlight.get(k)!, podInfo: new PodInfo(newPod) } : this.#newQueued(newPod);
    this.#moveToActiveQ(q);
    this.#updateNominated(q.podInfo);
  }

  /** A pending pod was deleted (or got bound elsewhere): it leaves every part of the queue. */
  delete(pod: Pod): void {
    const k = podKey(pod);
    this.#activeQ.delete(k);
    this.#backoffQ.delete(k);
    this.#unschedulable.delete(k);
    this.deleteNominatedPodIfExists(pod);
  }

  /** A pod was bound (or assumed) somewhere: pods with affinity to it may now fit. */
  assignedPodAdded(pod: Pod): void {
    this.#movePods(this.#unschedulableWithMatchingAffinity(pod), EVENT_ASSIGNED_POD_ADD);
  }

  assignedPodUpdated(oldPod: Pod, newPod: Pod): void {
    for (const ev of assignedPodUpdateEvents(oldPod, newPod)) {
      if ((ev.actionType & ActionType.UpdatePodScaleDown) !== 0) this.moveAllToActiveOrBackoffQueue(ev); // scale-down frees room for anyone
      else this.#movePods(this.#unschedulableWithMatchingAffinity(newPod), ev);
    }
  }

  assignedPodDeleted(_pod: Pod): void {
    this.moveAllToActiveOrBackoffQueue(EVENT_ASSIGNED_POD_DELETE);
  }

  /**
   * MoveAllToActiveOrBackoffQueue: every unschedulable pod that a plugin which rejected it registered
   * this event for goes to activeQ, or to backoffQ if its backoff has not ended. `preCheck` can veto pods.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: Pod) => boolean): void {
    const list = [...this.#unschedulable.values()].filter((q) => preCheck === undefined || preCheck(q.podInfo.pod));
    this.#movePods(list, event);
  }

  #movePods(list: readonly QueuedPodInfo[], event: ClusterEvent): void {
    for (const q of list) {
      if (!this.#podMatchesEvent(q, event)) continue;
      const k = q.podInfo.key;
      if (q.gated) continue;
      this.#unschedulable.delete(k);
      if (this.#isBackingOff(q)) this.#backoffQ.addOrUpdate(k, q);
      else this.#moveToActiveQ(q);
    }
    this.#moveRequestCycle = this.#schedulingCycle;
  }

  #podMatchesEvent(q: QueuedPodInfo, event: ClusterEvent): boolean {
    if (event.resource === "*") return true;
    if (q.unschedulablePlugins.size === 0) return true;
    for (const plugin of q.unschedulablePlugins) {
      for (const want of this.#pluginEvents.get(plugin) ?? []) if (eventMatches(want, event)) return true;
    }
    return false;
  }

  #unschedulableWithMatchingAffinity(pod: Pod): QueuedPodInfo[] {
    const ns = pod.metadata?.namespace ?? "default";
    const labels = pod.metadata?.labels;
    return [...this.#unschedulable.values()].filter((q) =>
      q.podInfo.requiredAffinityTerms.some((t) => t.namespaces.has(ns) && t.selector.matches(labels)) ||
      q.podInfo.requiredAntiAffinityTerms.length > 0 ||
      (q.podInfo.pod.spec?.topologySpreadConstraints?.length ?? 0) > 0,
    );
  }

  /** flushBackoffQCompleted: pods whose backoff ended move to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.#clock.nowMs();
    for (;;) {
      const q = this.#backoffQ.peek();
      if (q === undefined || this.#backoffExpiryMs(q) > now) break;
      this.#backoffQ.pop();
      this.#moveToActiveQ(q);
    }
  }

  /** flushUnschedulablePodsLeftover: pods unschedulable for 5 minutes are retried anyway (gated ones stay). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.#clock.nowMs();
    const stale = [...this.#unschedulable.values()].filter((q) => !q.gated && now - q.timestampMs > this.#maxUnschedulableMs);
    if (stale.length > 0) this.#movePods(stale, EVENT_UNSCHEDULABLE_TIMEOUT);
  }

  // --- nominator ---

  /**
   * Records that the pod is nominated to a node: `nodeName` "" forgets it, a name overrides, null
   * takes the pod's own status.nominatedNodeName (if any).
   */
  addNominatedPod(pi: PodInfo, nodeName: string | null): void {
    this.deleteNominatedPodIfExists(pi.pod);
    const node = nodeName ?? pi.pod.status?.nominatedNodeName ?? "";
    if (node === "") return;
    if ((pi.pod.spec?.nodeName ?? "") !== "") return;
    const k = pi.key;
    this.#nominatedNodeOf.set(k, node);
    const list = this.#nominatedByNode.get(node) ?? [];
    list.push(pi);
    this.#nominatedByNode.set(node, list);
  }

  #updateNominated(pi: PodInfo): void {
    const k = pi.key;
    const node = this.#nominatedNodeOf.get(k);
    // An update keeps the nomination the scheduler made unless the pod's own status names a node.
    this.addNominatedPod(pi, pi.pod.status?.nominatedNodeName ? null : (node ?? null));
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    const k = podKey(pod);
    const node = this.#nominatedNodeOf.get(k);
    if (node === undefined) return;
    this.#nominatedNodeOf.delete(k);
    const list = (this.#nominatedByNode.get(node) ?? []).filter((p) => p.key !== k);
    if (list.length === 0) this.#nominatedByNode.delete(node);
    else this.#nominatedByNode.set(node, list);
  }

  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.#nominatedByNode.get(nodeName) ?? [];
  }
}

function stripForCompare(pod: Pod): unknown {
  const { resourceVersion: _rv, generation: _g, managedFields: _mf, finalizers: _f, ...meta } = pod.metadata ?? {};
  return { metadata: meta, spec: pod.spec };
}

/** isPodUpdated: anything but status, resourceVersion, generation, managedFields and finalizers changed. */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  return JSON.stringify(stripForCompare(oldPod)) !== JSON.stringify(stripForCompare(newPod));
}
