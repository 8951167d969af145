/**
 * Pod predicates and the scale-down ranking controllers share (pkg/api/v1/pod/util.go and
 * pkg/controller/controller_utils.go, Kubernetes 1.32 with PodDeletionCost and LogarithmicScaleDown on).
 */
import type { Pod, PodCondition } from "kubernetes-types/core/v1.js";

/** The annotation whose integer value makes a pod cheaper (lower) or dearer to delete. */
export const POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

/** Parses an RFC 3339 time; undefined for a missing or zero time. */
import { parseTimeMs } from "../../api/time.js";
export { parseTimeMs };

/** Not finished and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && (pod.metadata?.deletionTimestamp ?? undefined) === undefined;
}

/** Finished or being deleted: counted by nobody (controller.IsPodTerminating is the delete half). */
export function isPodTerminating(pod: Pod): boolean {
  return (pod.metadata?.deletionTimestamp ?? undefined) !== undefined;
}

export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** The Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, "Ready")?.status === "True";
}

/**
 * Ready for at least minReadySeconds at wall time `nowMs` (podutil.IsPodAvailable: the Ready
 * condition's lastTransitionTime plus minReadySeconds is strictly before now).
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = getPodCondition(pod, "Ready");
  if (c?.status !== "True") return false;
  if (minReadySeconds === 0) return true;
  const since = parseTimeMs(c.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined) return 0;
  const n = Number(v);
  // upstream: an unparsable cost counts as 0 (validation rejects it on write anyway).
  return /^-?\d+$/.test(v.trim()) && Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function podReadyTimeMs(pod: Pod): number | undefined {
  const c = getPodCondition(pod, "Ready");
  return c?.status === "True" ? parseTimeMs(c.lastTransitionTime) : undefined;
}

/** afterOrZero: a zero time first, else the later time first. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/** floor(log2(now - t)) in nanoseconds, -1 for t not before now (logarithmicRankDiff's buckets). */
function logRank(tMs: number, nowMs: number): number {
  const dNs = (nowMs - tMs) * 1e6;
  return dNs > 0 ? Math.floor(Math.log2(dNs)) : -1;
}

function maxContainerRestarts(pod: Pod): [regular: number, sidecar: number] {
  let regular = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name));
  let sidecar = 0;
  for (const c of pod.status?.initContainerStatuses ?? []) if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  return [regular, sidecar];
}

/** Compares by time with LogarithmicScaleDown: pods in the same power-of-two age bucket tie, broken by UID. */
function lessByTime(ti: number | undefined, tj: number | undefined, nowMs: number | undefined, uidI: string, uidJ: string): boolean {
  if (nowMs === undefined || ti === undefined || tj === undefined) return afterOrZero(ti, tj);
  const diff = logRank(ti, nowMs) - logRank(tj, nowMs);
  if (diff === 0) return uidI < uidJ;
  return diff < 0;
}

export interface RankedPod {
  readonly pod: Pod;
  /** How many active related pods share this pod's node: doubled-up pods go first. */
  readonly rank: number;
}

/**
 * ActivePodsWithRanks.Less: true when pod i should be deleted before pod j.
 *   1. unassigned < assigned   2. Pending < Unknown < Running   3. not ready < ready
 *   4. lower pod-deletion-cost first   5. more pods on the same node first
 *   6. ready for less time first   7. more container restarts first   8. newer first
 */
export function podDeletesBefore(i: RankedPod, j: RankedPod, nowMs: number | undefined): boolean {
  const pi = i.pod;
  const pj = j.pod;
  const ni = pi.spec?.nodeName ?? "";
  const nj = pj.spec?.nodeName ?? "";
  if (ni !== nj && (ni === "" || nj === "")) return ni === "";
  const oi = PHASE_ORDINAL[pi.status?.phase ?? ""] ?? 0;
  const oj = PHASE_ORDINAL[pj.status?.phase ?? ""] ?? 0;
  if (oi !== oj) return oi < oj;
  const ri = isPodReady(pi);
  const rj = isPodReady(pj);
  if (ri !== rj) return !ri;
  const ci = deletionCost(pi);
  const cj = deletionCost(pj);
  if (ci !== cj) return ci < cj;
  if (i.rank !== j.rank) return i.rank > j.rank;
  const uidI = pi.metadata?.uid ?? "";
  const uidJ = pj.metadata?.uid ?? "";
  if (ri && rj) {
    const ti = podReadyTimeMs(pi);
    const tj = podReadyTimeMs(pj);
    if (ti !== tj) return lessByTime(ti, tj, nowMs, uidI, uidJ);
  }
  const [regI, sideI] = maxContainerRestarts(pi);
  const [regJ, sideJ] = maxContainerRestarts(pj);
  if (regI !== regJ) return regI > regJ;
  if (sideI !== sideJ) return sideI > sideJ;
  const ctI = parseTimeMs(pi.metadata?.creationTimestamp);
  const ctJ = parseTimeMs(pj.metadata?.creationTimestamp);
  if (ctI !== ctJ) return lessByTime(ctI, ctJ, nowMs, uidI, uidJ);
  return false;
}

/** Sorts `ranked` so the pods to delete first come first (stable, unlike Go's sort.Sort). */
export function sortPodsForDeletion(ranked: readonly RankedPod[], nowMs: number | undefined): RankedPod[] {
  return [...ranked].sort((a, b) => (podDeletesBefore(a, b, nowMs) ? -1 : podDeletesBefore(b, a, nowMs) ? 1 : 0));
}

/**
 * The `diff` pods of `filteredPods` to delete when scaling down (replica_set.go getPodsToDelete):
 * ranked by how many of `relatedPods` (every active pod of the owner's family) share their node.
 */
export function getPodsToDelete(filteredPods: readonly Pod[], relatedPods: readonly Pod[], diff: number, nowMs: number | undefined): Pod[] {
  if (diff >= filteredPods.length) return [...filteredPods];
  const onNode = new Map<string, number>();
  for (const p of relatedPods) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? "";
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked = filteredPods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? "") ?? 0 }));
  return sortPodsForDeletion(ranked, nowMs)
    .slice(0, diff)
    .map((r) => r.pod);
}
