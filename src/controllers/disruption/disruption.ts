/**
 * The disruption controller's arithmetic, pure (pkg/controller/disruption: getExpectedPodCount,
 * buildDisruptedPodMap, countHealthyPods, updatePdbStatus). For a PodDisruptionBudget:
 *
 *   expectedPods   minAvailable as an integer: the matching pods; otherwise the sum of the scales of
 *                  the pods' controllers (each controller once)
 *   desiredHealthy minAvailable (int, or percent of expected rounded up), or expected − maxUnavailable
 *   currentHealthy matching pods that are Ready, not being deleted, not recently disrupted
 *   disruptionsAllowed = max(0, currentHealthy − desiredHealthy), 0 while expectedPods is 0
 *
 *   maxUnavailable 25%, Deployment of 4 replicas, 3 pods Ready → expected 4, desired 3, allowed 0
 */
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1.js";
import type { Condition } from "kubernetes-types/meta/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { isPodReady, parseTimeMs } from "../util/pod_util.js";

/** As upstream's DeletionTimeout: a pod the eviction API let go but that still exists after this is healthy again. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED_CONDITION = "DisruptionAllowed";
export const SUFFICIENT_PODS_REASON = "SufficientPods";
export const INSUFFICIENT_PODS_REASON = "InsufficientPods";
export const SYNC_FAILED_REASON = "SyncFailed";

/** intstr.IntOrString on the wire. */
export type IntOrString = number | string;

/** intstr.GetScaledValueFromIntOrPercent; throws upstream's messages for a malformed value. */
export function scaledValueFromIntOrPercent(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  if (!v.endsWith("%")) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  if (!/^[+-]?\d+%$/.test(v)) throw new Error(`invalid value for IntOrString: invalid value "${v}": strconv.Atoi: parsing "${v.slice(0, -1)}": invalid syntax`);
  const pct = Number.parseInt(v.slice(0, -1), 10);
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

/** A pod's controller and its scale, as one of upstream's finders found it. */
export interface ControllerScale {
  readonly uid: string;
  readonly scale: number;
}

export interface ExpectedCount {
  readonly expectedCount: number;
  readonly desiredHealthy: number;
  /** Names of matching pods with no controller (a Warning event UnmanagedPods upstream). */
  readonly unmanagedPods: string[];
}

/**
 * getExpectedScale: the sum of the scales of the pods' controllers. `controllerOf` returns undefined
 * for a pod without a controllerRef and null when its controller cannot be found (an error upstream).
 */
export function expectedScale(pods: readonly Pod[], controllerOf: (pod: Pod) => ControllerScale | null | undefined): { expectedCount: number; unmanagedPods: string[] } {
  const scales = new Map<string, number>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const c = controllerOf(pod);
    if (c === undefined) {
      unmanagedPods.push(pod.metadata?.name ?? "");
      continue;
    }
    if (c === null) throw new Error(`found no controllers for pod "${pod.metadata?.name ?? ""}"`);
    scales.set(c.uid, c.scale);
  }
  let expectedCount = 0;
  for (const s of scales.values()) expectedCount += s;
  return { expectedCount, unmanagedPods };
}

/** getExpectedPodCount. */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[], controllerOf: (pod: Pod) => ControllerScale | null | undefined): ExpectedCount {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { expectedCount, unmanagedPods } = expectedScale(pods, controllerOf);
    const max = scaledValueFromIntOrPercent(maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max), unmanagedPods };
  }
  if (minAvailable !== undefined && minAvailable !== null) {
    if (typeof minAvailable === "number") return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanagedPods: [] };
    const { expectedCount, unmanagedPods } = expectedScale(pods, controllerOf);
    return { expectedCount, desiredHealthy: scaledValueFromIntOrPercent(minAvailable, expectedCount, true), unmanagedPods };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

/**
 * buildDisruptedPodMap: the pods the eviction API recorded as disrupted that still exist, are not
 * being deleted and are within DeletionTimeout; `recheckWallMs` is when the next one expires.
 */
export function buildDisruptedPodMap(
  pods: readonly Pod[],
  pdb: PodDisruptionBudget,
  wallMs: number,
): { disruptedPods: Record<string, string>; recheckWallMs: number | undefined; expired: Pod[] } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disruptedPods: Record<string, string> = {};
  const expired: Pod[] = [];
  let recheckWallMs: number | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) continue;
    const name = pod.metadata?.name ?? "";
    const at = recorded[name];
    if (at === undefined) continue;
    const expiresMs = (parseTimeMs(at) ?? 0) + DELETION_TIMEOUT_MS;
    if (expiresMs < wallMs) {
      expired.push(pod);
      continue;
    }
    disruptedPods[name] = at;
    recheckWallMs = recheckWallMs === undefined ? expiresMs : Math.min(recheckWallMs, expiresMs);
  }
  return { disruptedPods, recheckWallMs, expired };
}

/** countHealthyPods: Ready, not being deleted, not disrupted within DeletionTimeout. */
export function countHealthyPods(pods: readonly Pod[], disruptedPods: Record<string, string>, wallMs: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) continue;
    const at = disruptedPods[pod.metadata?.name ?? ""];
    if (at !== undefined && (parseTimeMs(at) ?? 0) + DELETION_TIMEOUT_MS > wallMs) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** meta.SetStatusCondition: lastTransitionTime moves only when the status changes. */
export function setStatusCondition(conditions: readonly Condition[], c: Omit<Condition, "lastTransitionTime">, now: string): Condition[] {
  const existing = conditions.find((x) => x.type === c.type);
  if (existing === undefined) return [...conditions, { ...c, lastTransitionTime: now }];
  return conditions.map((x) => (x.type === c.type ? { ...c, lastTransitionTime: x.status === c.status ? x.lastTransitionTime : now } : x));
}

function allowedCondition(allowed: number, generation: number): Omit<Condition, "lastTransitionTime"> {
  return allowed > 0
    ? { type: DISRUPTION_ALLOWED_CONDITION, status: "True", reason: SUFFICIENT_PODS_REASON, message: "", observedGeneration: generation }
    : { type: DISRUPTION_ALLOWED_CONDITION, status: "False", reason: INSUFFICIENT_PODS_REASON, message: "", observedGeneration: generation };
}

/** pdbhelper.ConditionsAreUpToDate. */
function conditionsUpToDate(pdb: PodDisruptionBudget): boolean {
  const c = pdb.status?.conditions?.find((x) => x.type === DISRUPTION_ALLOWED_CONDITION);
  if (c === undefined || c.observedGeneration !== pdb.status?.observedGeneration) return false;
  const allowed = (pdb.status?.disruptionsAllowed ?? 0) > 0;
  return allowed ? c.status === "True" && c.reason === SUFFICIENT_PODS_REASON : c.status === "False" && c.reason === INSUFFICIENT_PODS_REASON;
}

/** updatePdbStatus: the status to write, or null when the PDB's status already says it. */
export function desiredPdbStatus(
  pdb: PodDisruptionBudget,
  counts: { currentHealthy: number; desiredHealthy: number; expectedCount: number; disruptedPods: Record<string, string> },
  now: string,
): PodDisruptionBudgetStatus | null {
  const { currentHealthy, desiredHealthy, expectedCount, disruptedPods } = counts;
  let disruptionsAllowed = currentHealthy - desiredHealthy;
  // No expected pods yet: a PDB whose first pods just appeared must not allow disruptions before
  // this controller has seen them.
  if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const generation = pdb.metadata?.generation ?? 0;
  const s = pdb.status;
  if (
    s !== undefined &&
    s.currentHealthy === currentHealthy &&
    s.desiredHealthy === desiredHealthy &&
    s.expectedPods === expectedCount &&
    s.disruptionsAllowed === disruptionsAllowed &&
    JSON.stringify(s.disruptedPods ?? {}) === JSON.stringify(disruptedPods) &&
    s.observedGeneration === generation &&
    conditionsUpToDate(pdb)
  ) {
    return null;
  }
  return {
    currentHealthy,
    desiredHealthy,
    expectedPods: expectedCount,
    disruptionsAllowed,
    ...(Object.keys(disruptedPods).length === 0 ? {} : { disruptedPods }),
    observedGeneration: generation,
    conditions: setStatusCondition(s?.conditions ?? [], allowedCondition(disruptionsAllowed, generation), now),
  };
}

/** failSafe: after a failed sync, no disruptions, and a SyncFailed condition saying why. */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, now: string): PodDisruptionBudgetStatus {
  const s = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 };
  return {
    ...s,
    disruptionsAllowed: 0,
    conditions: setStatusCondition(
      s.conditions ?? [],
      { type: DISRUPTION_ALLOWED_CONDITION, status: "False", reason: SYNC_FAILED_REASON, message, observedGeneration: s.observedGeneration ?? 0 },
      now,
    ),
  };
}
