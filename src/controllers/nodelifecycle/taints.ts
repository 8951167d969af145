/**
 * Taints and tolerations as upstream's helpers (k8s.io/api core/v1 toleration.go, taint.go,
 * pkg/util/taints, component-helpers v1helper.GetMatchingTolerations): who tolerates what, and the
 * set arithmetic the node lifecycle controller uses to add and remove its own taints.
 */
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";

/** Toleration.ToleratesTaint: an empty effect or key matches all; Exists ignores the value. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== "" && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== "" && t.key !== taint.key) return false;
  switch (t.operator ?? "") {
    case "":
    case "Equal":
      return (t.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

/**
 * v1helper.GetMatchingTolerations: whether every taint is tolerated, and for each taint the first
 * toleration that tolerates it (the ones whose tolerationSeconds then count).
 */
export function getMatchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { allTolerated: boolean; used: Toleration[] } {
  if (taints.length === 0) return { allTolerated: true, used: [] };
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((tol) => toleratesTaint(tol, taint));
    if (t === undefined) return { allTolerated: false, used: [] };
    used.push(t);
  }
  return { allTolerated: true, used };
}

/**
 * The taint eviction controller's getMinTolerationTime in ms: 0 for no tolerations or any
 * tolerationSeconds <= 0, -1 (forever) when none has tolerationSeconds, else the smallest.
 */
export function minTolerationTimeMs(used: readonly Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Number.POSITIVE_INFINITY ? -1 : min * 1000;
}

/** Taint.MatchTaint: same key and effect (value and timeAdded do not matter). */
export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function taintExists(taints: readonly Taint[] | undefined, taint: Taint): boolean {
  return (taints ?? []).some((t) => matchTaint(t, taint));
}

/**
 * The taints after removing `remove` and adding `add` (an added taint replaces one with the same key
 * and effect); null when nothing would change, so callers write only real changes.
 */
export function applyTaintChange(current: readonly Taint[] | undefined, add: readonly Taint[], remove: readonly Taint[]): Taint[] | null {
  const cur = current ?? [];
  let changed = false;
  let next = cur.filter((t) => {
    const drop = remove.some((r) => matchTaint(r, t));
    if (drop) changed = true;
    return !drop;
  });
  for (const a of add) {
    const existing = next.find((t) => matchTaint(t, a));
    if (existing !== undefined && (existing.value ?? "") === (a.value ?? "")) continue;
    next = next.filter((t) => !matchTaint(t, a));
    next.push(a);
    changed = true;
  }
  return changed ? next : null;
}
