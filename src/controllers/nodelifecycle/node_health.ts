/**
 * The node lifecycle controller's decisions, pure (pkg/controller/nodelifecycle: tryUpdateNodeHealth,
 * processTaintBaseEviction, doNoScheduleTaintingPass). The controller remembers, per node, when it last
 * saw a sign of life (`probeMs`, on its own monotonic clock): a new Ready heartbeat in the node's status,
 * or a Lease in kube-node-lease renewed later than before. Comparing the kubelet's timestamps with our
 * clock would make clock skew between machines look like a dead node; comparing what we observed with
 * when we observed it does not.
 *
 *   t=0   lease renewTime 10:00:00 → probe 0
 *   t=10  lease renewTime 10:00:10 → probe 10
 *   t=55  no renewal since t=10, grace 40 s → Ready/MemoryPressure/DiskPressure/PIDPressure := Unknown
 *   t=60  observed Ready Unknown → taint node.kubernetes.io/unreachable:NoExecute (timeAdded now)
 */
import type { Node, NodeCondition, Taint } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { parseTimeMs } from "../util/pod_util.js";
import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  applyTaintChange,
  taintExists,
} from "./taints.js";

/** Upstream --node-monitor-period. */
export const NODE_MONITOR_PERIOD_MS = 5_000;
/** Upstream --node-monitor-grace-period (40 s in 1.32). */
export const NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
/** Upstream --node-startup-grace-period: a node that never posted status gets this long. */
export const NODE_STARTUP_GRACE_PERIOD_MS = 60_000;

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** The conditions the controller marks Unknown; NetworkUnavailable is left to the network's owner. */
export const NODE_CONDITION_TYPES_MONITORED = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;

export const UNREACHABLE_TAINT: Taint = { key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" };
export const NOT_READY_TAINT: Taint = { key: TAINT_NODE_NOT_READY, effect: "NoExecute" };

/** What the controller remembers about one node between passes (upstream's nodeHealthData). */
export interface NodeHealth {
  /** Our clock when we last saw the node alive. */
  readonly probeMs: number;
  /** Our clock when we last saw its Ready condition change. */
  readonly readyTransitionMs: number;
  /** The Ready condition as last seen (undefined: the node never posted one). */
  readonly readyCondition: NodeCondition | undefined;
  /** The renewTime of the node's Lease as last seen, in ms. */
  readonly leaseRenewMs: number | undefined;
}

export interface NodeHealthInput {
  readonly node: Node;
  readonly lease: Lease | undefined;
  readonly saved: NodeHealth | undefined;
  /** Monotonic now (Clock.nowMs). */
  readonly nowMs: number;
  /** Wall now (Clock.wallMs), for the timestamps written to the API. */
  readonly wallMs: number;
  readonly gracePeriodMs: number;
  readonly startupGracePeriodMs: number;
}

export interface NodeHealthResult {
  readonly health: NodeHealth;
  /** Ready as the node had it before this pass (a fake Unknown if it never posted one). */
  readonly observedReady: NodeCondition;
  /** Ready after this pass (undefined if the node never posted one and is still within grace). */
  readonly currentReady: NodeCondition | undefined;
  /** The node with its status changed, to write through nodes/status; null: nothing to write. */
  readonly statusUpdate: Node | null;
}

/** metav1.Time on the wire: RFC 3339, whole seconds. */
// metav1.Time formatting lives in one place; the name stays for this module\'s importers.
import { formatTime as rfc3339 } from "../../api/time.js";
export { rfc3339 };

export function getNodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

function sameCondition(a: NodeCondition | undefined, b: NodeCondition | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** tryUpdateNodeHealth: updates what we remember and marks the node Unknown once it is past grace. */
export function tryUpdateNodeHealth(input: NodeHealthInput): NodeHealthResult {
  const { node, lease, nowMs, wallMs } = input;
  const current = getNodeCondition(node, "Ready");
  const created = node.metadata?.creationTimestamp ?? rfc3339(wallMs);
  let saved = input.saved;
  let observedReady: NodeCondition;
  let gracePeriodMs: number;
  if (current === undefined) {
    // Never posted status: a fake Unknown Ready as of creation, and the longer startup grace.
    observedReady = { type: "Ready", status: "Unknown", lastHeartbeatTime: created, lastTransitionTime: created };
    gracePeriodMs = input.startupGracePeriodMs;
    if (saved === undefined) {
      const createdAgoMs = Math.max(0, wallMs - (parseTimeMs(created) ?? wallMs));
      saved = { probeMs: nowMs - createdAgoMs, readyTransitionMs: nowMs - createdAgoMs, readyCondition: undefined, leaseRenewMs: undefined };
    }
  } else {
    observedReady = { ...current };
    gracePeriodMs = input.gracePeriodMs;
  }

  let health: NodeHealth;
  const savedReady = saved?.readyCondition;
  if (saved === undefined || (savedReady === undefined && current !== undefined) || (savedReady !== undefined && current === undefined)) {
    health = { probeMs: nowMs, readyTransitionMs: nowMs, readyCondition: current, leaseRenewMs: saved?.leaseRenewMs };
  } else if (savedReady !== undefined && current !== undefined && savedReady.lastHeartbeatTime !== current.lastHeartbeatTime) {
    const transitionMs = savedReady.lastTransitionTime !== current.lastTransitionTime ? nowMs : saved.readyTransitionMs;
    health = { probeMs: nowMs, readyTransitionMs: transitionMs, readyCondition: current, leaseRenewMs: saved.leaseRenewMs };
  } else {
    health = { ...saved, readyCondition: current };
  }
  // A renewed Lease is a sign of life even when the status has not changed (the kubelet posts its
  // status only every few minutes when nothing changes; the Lease every 10 s).
  const renewMs = parseTimeMs(lease?.spec?.renewTime ?? undefined);
  if (renewMs !== undefined && (health.leaseRenewMs === undefined || health.leaseRenewMs < renewMs)) {
    health = { ...health, leaseRenewMs: renewMs, probeMs: nowMs };
  }

  if (nowMs <= health.probeMs + gracePeriodMs) return { health, observedReady, currentReady: current, statusUpdate: null };

  const now = rfc3339(wallMs);
  const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  for (const type of NODE_CONDITION_TYPES_MONITORED) {
    const c = conditions.find((x) => x.type === type);
    if (c === undefined) {
      conditions.push({
        type,
        status: "Unknown",
        reason: "NodeStatusNeverUpdated",
        message: "Kubelet never posted node status.",
        lastHeartbeatTime: created,
        lastTransitionTime: now,
      });
    } else if (c.status !== "Unknown") {
      c.status = "Unknown";
      c.reason = "NodeStatusUnknown";
      c.message = "Kubelet stopped posting node status.";
      c.lastTransitionTime = now;
    }
  }
  const newReady = conditions.find((c) => c.type === "Ready");
  if (sameCondition(newReady, observedReady)) return { health, observedReady, currentReady: newReady, statusUpdate: null };
  const statusUpdate: Node = { ...node, status: { ...node.status, conditions } };
  return {
    health: { ...health, readyTransitionMs: nowMs, readyCondition: newReady },
    observedReady,
    currentReady: newReady,
    statusUpdate,
  };
}

export interface TaintChange {
  readonly add: Taint[];
  readonly remove: Taint[];
}

/**
 * processTaintBaseEviction: the NoExecute taint that matches the observed Ready status (not-ready for
 * False, unreachable for Unknown, none for True), swapping the other out. timeAdded is now.
 */
export function noExecuteTaintChange(node: Node, observedReadyStatus: string, wallMs: number): TaintChange | null {
  const taints = node.spec?.taints ?? [];
  const stamp = (t: Taint): Taint => ({ ...t, timeAdded: rfc3339(wallMs) });
  let change: TaintChange;
  switch (observedReadyStatus) {
    case "False":
      change = taintExists(taints, NOT_READY_TAINT) ? { add: [], remove: [UNREACHABLE_TAINT] } : { add: [stamp(NOT_READY_TAINT)], remove: [UNREACHABLE_TAINT] };
      break;
    case "Unknown":
      change = taintExists(taints, UNREACHABLE_TAINT) ? { add: [], remove: [NOT_READY_TAINT] } : { add: [stamp(UNREACHABLE_TAINT)], remove: [NOT_READY_TAINT] };
      break;
    default:
      change = { add: [], remove: [UNREACHABLE_TAINT, NOT_READY_TAINT] };
  }
  return applyTaintChange(taints, change.add, change.remove) === null ? null : change;
}

/** nodeConditionToTaintKeyStatusMap: which condition status puts which NoSchedule taint on a node. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set([...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)), TAINT_NODE_UNSCHEDULABLE]);

/** doNoScheduleTaintingPass: the NoSchedule taints the node's conditions and spec.unschedulable call for. */
export function noScheduleTaintChange(node: Node): TaintChange | null {
  const want: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key !== undefined) want.push({ key, effect: "NoSchedule" });
  }
  if (node.spec?.unschedulable === true) want.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
  const have = (node.spec?.taints ?? []).filter((t) => t.effect === "NoSchedule" && CONDITION_TAINT_KEYS.has(t.key));
  const add = want.filter((w) => !have.some((h) => h.key === w.key));
  const remove = have.filter((h) => !want.some((w) => w.key === h.key));
  return add.length === 0 && remove.length === 0 ? null : { add, remove };
}
