/**
 * The pure arithmetic and bookkeeping of Deployments (pkg/controller/deployment/util/deployment_util.go,
 * Kubernetes 1.32): maxSurge/maxUnavailable fenceposts, how far the new ReplicaSet may grow, the
 * proportions of a scale during a rollout, revision annotations, conditions and status.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetCondition } from "kubernetes-types/apps/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import { rfc3339 } from "../events/recorder.js";
import { canonicalize } from "./pod_template_hash.js";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
export const DEPRECATED_ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to";
export const LAST_APPLIED_CONFIG_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
/** apps.DefaultDeploymentUniqueLabelKey. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";
/** As upstream's maxRevHistoryLengthInChars. */
export const REVISION_HISTORY_CHARS_MAX = 2000;
/** math.MaxInt32: a progressDeadlineSeconds or revisionHistoryLimit of this value means "none". */
export const INT32_MAX = 2147483647;

// Condition reasons (deploymentutil).
export const REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated";
export const FAILED_RS_CREATE_REASON = "ReplicaSetCreateError";
export const NEW_REPLICA_SET_REASON = "NewReplicaSetCreated";
export const FOUND_NEW_RS_REASON = "FoundNewReplicaSet";
export const NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable";
export const TIMED_OUT_REASON = "ProgressDeadlineExceeded";
export const PAUSED_DEPLOY_REASON = "DeploymentPaused";
export const RESUMED_DEPLOY_REASON = "DeploymentResumed";
export const MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable";
export const MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable";

/** Annotations a Deployment never copies onto its ReplicaSets (and kubectl rollout undo never copies back). */
const ANNOTATIONS_TO_SKIP = new Set([
  LAST_APPLIED_CONFIG_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO_ANNOTATION,
]);

export function replicasOf(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}
export function rsReplicas(rs: ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down. */
export function scaledValueFromIntOrPercent(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return v;
  if (!v.endsWith("%")) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const n = Number(v.slice(0, -1));
  if (!Number.isInteger(n)) throw new Error(`invalid value "${v}": strconv.Atoi: parsing "${v.slice(0, -1)}": invalid syntax`);
  const scaled = (n * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down; if both come to zero,
 * maxUnavailable becomes 1 (validation forbids 0/0, but 10% of 5 rounds to 0).
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [surge: number, unavailable: number] {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desired, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d))[0];
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const u = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d))[1];
  return Math.min(u, replicasOf(d));
}

export function minAvailable(d: Deployment): number {
  return isRollingUpdate(d) ? replicasOf(d) - maxUnavailable(d) : 0;
}

export function replicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + rsReplicas(rs), 0);
}
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}
export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}
export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** The size the new ReplicaSet may grow to now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const strategy = d.spec?.strategy?.type ?? "RollingUpdate";
  if (strategy === "Recreate") return replicasOf(d);
  if (strategy !== "RollingUpdate") throw new Error(`deployment type ${strategy} isn't supported`);
  const surge = scaledValueFromIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, replicasOf(d), true);
  const current = replicaCount(allRSs);
  const maxTotal = replicasOf(d) + surge;
  if (current >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - rsReplicas(newRS));
  return rsReplicas(newRS) + up;
}

function annotation(obj: { metadata?: { annotations?: Record<string, string> } } | undefined, key: string): string | undefined {
  return obj?.metadata?.annotations?.[key];
}

/** The revision annotation as a number; 0 when absent or not a number (Revision). */
export function revisionOf(rs: ReplicaSet | Deployment | undefined): number {
  const v = annotation(rs, REVISION_ANNOTATION);
  if (v === undefined || !/^-?\d+$/.test(v)) return 0;
  return Number(v);
}

export function maxRevision(rss: readonly ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = annotation(rs, key);
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}
export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  return annotation(rs, DESIRED_REPLICAS_ANNOTATION) !== String(desired) || annotation(rs, MAX_REPLICAS_ANNOTATION) !== String(max);
}

/** Sets desired-replicas and max-replicas on `rs` (mutates); true if they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const md = (rs.metadata ??= {});
  const a = (md.annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/** True for annotations that a Deployment does not copy to its ReplicaSets. */
export function skipCopyAnnotation(key: string): boolean {
  return ANNOTATIONS_TO_SKIP.has(key);
}

/**
 * SetNewReplicaSetAnnotations (mutates `rs`): copies the Deployment's annotations (change-cause among
 * them) except the skipped ones, raises the revision to `newRevision` if it is lower (keeping the old
 * one in revision-history: that is a rollback to this ReplicaSet), and on creation sets the replicas
 * annotations. True if anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, historyCharsMax = REVISION_HISTORY_CHARS_MAX): boolean {
  const md = (rs.metadata ??= {});
  const a = (md.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION_ANNOTATION];
  const had = oldRevision !== undefined;
  let oldRevisionInt = 0;
  if (oldRevision !== undefined && oldRevision !== "") {
    if (!/^-?\d+$/.test(oldRevision)) return false;
    oldRevisionInt = Number(oldRevision);
  }
  if (!/^-?\d+$/.test(newRevision)) return false;
  const newRevisionInt = Number(newRevision);
  if (oldRevisionInt < newRevisionInt) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (had && oldRevisionInt < newRevisionInt) {
    const history = a[REVISION_HISTORY_ANNOTATION] ?? "";
    let old = history.split(",");
    if (old[0]!.length === 0) {
      a[REVISION_HISTORY_ANNOTATION] = oldRevision!;
    } else {
      let total = history.length + oldRevision!.length + 1;
      let start = 0;
      while (total > historyCharsMax && start < old.length) {
        total -= old[start]!.length + 1;
        start++;
      }
      if (total <= historyCharsMax) {
        old = [...old.slice(start), oldRevision!];
        a[REVISION_HISTORY_ANNOTATION] = old.join(",");
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** Sets the Deployment's revision annotation (mutates); true if it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const md = (d.metadata ??= {});
  const a = (md.annotations ??= {});
  if (a[REVISION_ANNOTATION] === revision) return false;
  a[REVISION_ANNOTATION] = revision;
  return true;
}

function withoutHashLabel(t: PodTemplateSpec | undefined): unknown {
  const labels = { ...(t?.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return canonicalize({ ...t, metadata: { ...t?.metadata, labels } });
}

/** Templates equal apart from the pod-template-hash label (EqualIgnoreHash, semantic: empty == absent). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return JSON.stringify(withoutHashLabel(a)) === JSON.stringify(withoutHashLabel(b));
}

function creationMs(rs: ReplicaSet): number {
  const t = rs.metadata?.creationTimestamp;
  return t === undefined ? 0 : Date.parse(t);
}

/** ReplicaSetsByCreationTimestamp: older first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = creationMs(a) - creationMs(b);
  if (d !== 0) return d;
  const an = a.metadata?.name ?? "";
  const bn = b.metadata?.name ?? "";
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** ReplicaSetsBySizeOlder: larger first, then older first. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(a, b);
}

/** ReplicaSetsBySizeNewer: larger first, then newer first. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return rsReplicas(b) - rsReplicas(a) || byCreation(b, a);
}

/** ReplicaSetsByRevision: lower revision first, then older first. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** The oldest ReplicaSet whose template equals the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one (FindOldReplicaSets' allOldRSs). */
export function findOldReplicaSets(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet[] {
  const n = findNewReplicaSet(d, rss);
  return rss.filter((rs) => rs.metadata?.uid !== n?.metadata?.uid);
}

export function filterActive(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && rsReplicas(rs) > 0);
}

/** The only active ReplicaSet, or the newest if none is active; undefined with several active. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (newRS === undefined && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** The new ReplicaSet has all the Deployment's replicas, available (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (rs === undefined) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  return rsReplicas(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

/** Go's math.Round: halves away from zero. */
function goRound(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** getReplicaSetFraction: how much of a scale this ReplicaSet's share is. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -rsReplicas(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return goRound((rsReplicas(rs) * deploymentReplicas) / annotated) - rsReplicas(rs);
}

/** GetProportion: this ReplicaSet's part of `toAdd`, never exceeding what is left. */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (rs === undefined || rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** One planned change of a ReplicaSet's replicas. */
export interface ScalePlan {
  readonly rs: ReplicaSet;
  readonly replicas: number;
  /** "up", "down", or "" (proportional scaling with nothing to add only refreshes annotations). */
  readonly operation: "up" | "down" | "";
}

/**
 * How a scaling event (spec.replicas changed, or paused) resizes the ReplicaSets (DeploymentController.scale):
 * the single active one takes everything; a saturated new one leaves the old at zero; otherwise, in a
 * rolling update, the difference is spread in proportion to each set's size, leftovers to the largest.
 */
export function planScale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScalePlan[] {
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest !== undefined) {
    if (rsReplicas(activeOrLatest) === replicasOf(d)) return [];
    return [{ rs: activeOrLatest, replicas: replicasOf(d), operation: rsReplicas(activeOrLatest) < replicasOf(d) ? "up" : "down" }];
  }
  if (isSaturated(d, newRS)) {
    return filterActive(oldRSs).map((rs) => ({ rs, replicas: 0, operation: "down" as const }));
  }
  if (!isRollingUpdate(d)) return [];
  let all = filterActive([...oldRSs, newRS]);
  const allReplicas = replicaCount(all);
  const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowedSize - allReplicas;
  let operation: "up" | "down" | "" = "";
  if (toAdd > 0) {
    all = [...all].sort(bySizeNewer);
    operation = "up";
  } else if (toAdd < 0) {
    all = [...all].sort(bySizeOlder);
    operation = "down";
  }
  let added = 0;
  const sizes = new Map<ReplicaSet, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const p = getProportion(rs, d, toAdd, added);
      sizes.set(rs, rsReplicas(rs) + p);
      added += p;
    } else {
      sizes.set(rs, rsReplicas(rs));
    }
  }
  return all.map((rs, i) => {
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
    return { rs, replicas: size, operation };
  });
}

/** A scaling event: an active ReplicaSet's desired-replicas annotation differs from spec.replicas. */
export function isScalingEvent(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[]): boolean {
  return filterActive(allRSs).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== replicasOf(d);
  });
}

/** What reconcileNewReplicaSet scales the new ReplicaSet to; undefined when it stays. */
export function planNewReplicaSet(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number | undefined {
  if (rsReplicas(newRS) === replicasOf(d)) return undefined;
  if (rsReplicas(newRS) > replicasOf(d)) return replicasOf(d);
  const n = newRSNewReplicas(d, allRSs, newRS);
  return n === rsReplicas(newRS) ? undefined : n;
}

/**
 * How far the old ReplicaSets may shrink in one step of a rolling update (reconcileOldReplicaSets):
 * first unhealthy replicas (spec minus available) of the oldest sets, bounded by what availability
 * allows; then, with those applied, available replicas above minAvailable, oldest sets first.
 */
export function planOldReplicaSets(d: Deployment, allRSs: readonly ReplicaSet[], oldRSs: readonly ReplicaSet[], newRS: ReplicaSet): ScalePlan[] {
  const oldPods = replicaCount(oldRSs);
  if (oldPods === 0) return [];
  const allPods = replicaCount(allRSs);
  const minAvail = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvail - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const plans: ScalePlan[] = [];
  // Unhealthy replicas first: removing them does not lower availability, and they may block the rollout.
  const sorted = [...oldRSs].sort(byCreation);
  const size = new Map<ReplicaSet, number>(sorted.map((rs) => [rs, rsReplicas(rs)]));
  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxScaledDown) break;
    const replicas = size.get(rs)!;
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const down = Math.min(maxScaledDown - cleaned, replicas - available);
    size.set(rs, replicas - down);
    plans.push({ rs, replicas: replicas - down, operation: "down" });
    cleaned += down;
  }
  // Then available replicas beyond the minimum (scaleDownOldReplicaSetsForRollingUpdate).
  const availablePods = availableReplicaCount([...sorted, newRS]);
  if (availablePods > minAvail) {
    const total = availablePods - minAvail;
    let scaled = 0;
    for (const rs of sorted) {
      if (scaled >= total) break;
      const replicas = size.get(rs)!;
      if (replicas === 0) continue;
      const down = Math.min(replicas, total - scaled);
      size.set(rs, replicas - down);
      plans.push({ rs, replicas: replicas - down, operation: "down" });
      scaled += down;
    }
  }
  return plans;
}

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== INT32_MAX;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== INT32_MAX;
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: "True" | "False" | "Unknown", reason: string, message: string, nowMs: number): DeploymentCondition {
  const t = rfc3339(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition (mutates): same status and reason → no change; same status → keep the transition time. */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur !== undefined && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = cur !== undefined && cur.status === cond.status ? { ...cond, lastTransitionTime: cur.lastTransitionTime } : cond;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (status.conditions === undefined) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** ReplicaSetToDeploymentCondition. */
export function replicaSetToDeploymentCondition(c: ReplicaSetCondition): DeploymentCondition {
  return {
    type: c.type,
    status: c.status,
    ...(c.lastTransitionTime === undefined ? {} : { lastTransitionTime: c.lastTransitionTime, lastUpdateTime: c.lastTransitionTime }),
    ...(c.reason === undefined ? {} : { reason: c.reason }),
    ...(c.message === undefined ? {} : { message: c.message }),
  };
}

/** The status the ReplicaSets add up to, with the Available condition (calculateStatus). */
export function calculateStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    ...(d.status?.collisionCount === undefined ? {} : { collisionCount: d.status.collisionCount }),
    ...(d.status?.conditions === undefined ? {} : { conditions: d.status.conditions.map((c) => ({ ...c })) }),
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition("Available", "True", MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability.", nowMs));
  } else {
    setCondition(status, newCondition("Available", "False", MINIMUM_REPLICAS_UNAVAILABLE, "Deployment does not have minimum availability.", nowMs));
  }
  return status;
}

/** All replicas updated, running and available, and the latest generation observed (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Any progress since the last status (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** No progress for progressDeadlineSeconds since the Progressing condition was last updated (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (c === undefined) return false;
  if (c.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (c.reason === TIMED_OUT_REASON) return true;
  const from = c.lastUpdateTime === undefined ? NaN : Date.parse(c.lastUpdateTime);
  if (Number.isNaN(from)) return false;
  return from + (d.spec!.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/**
 * The rollout status with the Progressing condition brought up to date (syncRolloutStatus, without
 * the write): NewReplicaSetAvailable when complete, ReplicaSetUpdated on progress,
 * ProgressDeadlineExceeded past the deadline; ReplicaFailure copied from the ReplicaSets.
 */
export function rolloutStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const s = calculateStatus(allRSs, newRS, d, nowMs);
  if (!hasProgressDeadline(d)) removeCondition(s, "Progressing");
  const cur = getCondition(d.status, "Progressing");
  const isComplete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && cur !== undefined && cur.reason === NEW_RS_AVAILABLE_REASON;
  const name = d.metadata?.name ?? "";
  if (hasProgressDeadline(d) && !isComplete) {
    if (deploymentComplete(d, s)) {
      const msg = newRS !== undefined ? `ReplicaSet "${newRS.metadata?.name}" has successfully progressed.` : `Deployment "${name}" has successfully progressed.`;
      setCondition(s, newCondition("Progressing", "True", NEW_RS_AVAILABLE_REASON, msg, nowMs));
    } else if (deploymentProgressing(d, s)) {
      const msg = newRS !== undefined ? `ReplicaSet "${newRS.metadata?.name}" is progressing.` : `Deployment "${name}" is progressing.`;
      let c = newCondition("Progressing", "True", REPLICA_SET_UPDATED_REASON, msg, nowMs);
      if (cur !== undefined) {
        if (cur.status === "True") c = { ...c, lastTransitionTime: cur.lastTransitionTime };
        removeCondition(s, "Progressing");
      }
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, nowMs)) {
      const msg = newRS !== undefined ? `ReplicaSet "${newRS.metadata?.name}" has timed out progressing.` : `Deployment "${name}" has timed out progressing.`;
      setCondition(s, newCondition("Progressing", "False", TIMED_OUT_REASON, msg, nowMs));
    }
  }
  const failures: DeploymentCondition[] = [];
  for (const c of newRS?.status?.conditions ?? []) if (c.type === "ReplicaFailure") failures.push(replicaSetToDeploymentCondition(c));
  if (failures.length === 0) {
    for (const rs of allRSs) for (const c of rs?.status?.conditions ?? []) if (c.type === "ReplicaFailure") failures.push(replicaSetToDeploymentCondition(c));
  }
  if (failures.length > 0) setCondition(s, failures[0]!);
  else removeCondition(s, "ReplicaFailure");
  return s;
}

/**
 * When to look at a stuck rollout again (requeueStuckDeployment): ms until its progress deadline
 * passes (+1 s), 0 for "now", undefined when there is nothing to wait for.
 */
export function stuckRequeueAfterMs(d: Deployment, s: DeploymentStatus, nowMs: number): number | undefined {
  const cur = getCondition(d.status, "Progressing");
  if (!hasProgressDeadline(d) || cur === undefined) return undefined;
  if (deploymentComplete(d, s) || cur.reason === TIMED_OUT_REASON) return undefined;
  const updated = cur.lastUpdateTime === undefined ? NaN : Date.parse(cur.lastUpdateTime);
  if (Number.isNaN(updated)) return undefined;
  const after = updated + (d.spec!.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return after < 1000 ? 0 : after + 1000;
}

/** Old ReplicaSets beyond revisionHistoryLimit that may be deleted, lowest revision first (cleanupDeployment). */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
  if (!hasRevisionHistoryLimit(d)) return [];
  const alive = oldRSs.filter((rs) => (rs.metadata?.deletionTimestamp ?? undefined) === undefined);
  const diff = alive.length - (d.spec!.revisionHistoryLimit ?? 0);
  if (diff <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, diff)
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && rsReplicas(rs) === 0 && (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}

/**
 * Equality of two statuses as the API stores them (reflect.DeepEqual on the decoded status): the
 * wire omits zero counts (omitempty), so a 0 equals an absent field, except collisionCount (a pointer).
 */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  const norm = (s: DeploymentStatus | undefined): string => {
    const o: Record<string, unknown> = { ...(s ?? {}) };
    for (const k of Object.keys(o)) if (k !== "collisionCount" && (o[k] === 0 || o[k] === undefined)) delete o[k];
    return JSON.stringify(canonicalize(o) ?? {});
  };
  return norm(a) === norm(b);
}
