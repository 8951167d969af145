/**
 * The pure part of the Job controller (pkg/controller/job, Kubernetes 1.32): which pods count as
 * succeeded or failed, the pod-failure backoff, completion indexes, and the one decision a sync makes
 * from the Job and its pods — is the Job finished, how many pods to create or delete, when to look
 * again. The controller (job_controller.ts) does the IO around it.
 *
 * Terminal conditions come in two steps, as 1.32 does with JobManagedBy/JobPodReplacementPolicy on:
 * a sync that sees the Job done writes the interim condition (SuccessCriteriaMet or FailureTarget);
 * a later sync, once every pod is counted and none is terminating, adds Complete or Failed with the
 * same reason and message.
 */
import type { Pod, PodTemplateSpec, EnvVar, Container } from "kubernetes-types/core/v1.js";
import type { Job, JobCondition } from "kubernetes-types/batch/v1.js";
import { isPodReady, parseTimeMs } from "../util/pod_util.js";

export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
export const JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
export const JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";

/** As upstream: the first pod-failure backoff, doubled per failure since the last success. */
export const DEFAULT_JOB_POD_FAILURE_BACKOFF_MS = 10_000;
/** As upstream 1.32 (MaxJobPodFailureBackOff = 10 minutes). */
export const MAX_JOB_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** As upstream: pods created or deleted in one sync; the rest wait for the next. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** As upstream: UIDs in status.uncountedTerminatedPods (keeps the status under ~20 KB). */
export const MAX_UNCOUNTED_PODS = 500;

export const REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded";
export const REASON_DEADLINE_EXCEEDED = "DeadlineExceeded";
export const REASON_COMPLETIONS_REACHED = "CompletionsReached";
export const MESSAGE_BACKOFF_LIMIT_EXCEEDED = "Job has reached the specified backoff limit";
export const MESSAGE_DEADLINE_EXCEEDED = "Job was active longer than specified deadline";
export const MESSAGE_COMPLETIONS_REACHED = "Reached expected number of succeeded pods";

export type JobConditionType = "Complete" | "Failed" | "SuccessCriteriaMet" | "FailureTarget" | "Suspended";

/** The condition of `type` if it is True. */
export function trueCondition(job: Job, type: JobConditionType): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

/** Complete or Failed is True (util.IsJobFinished). */
export function isJobFinished(job: Job): boolean {
  return trueCondition(job, "Complete") !== undefined || trueCondition(job, "Failed") !== undefined;
}

/** When the Job finished (the terminal condition's lastTransitionTime, or completionTime). */
export function jobFinishTimeMs(job: Job): number | undefined {
  const c = trueCondition(job, "Complete") ?? trueCondition(job, "Failed");
  if (c === undefined) return undefined;
  return parseTimeMs(c.lastTransitionTime) ?? parseTimeMs(job.status?.completionTime);
}

export function isIndexedJob(job: Job): boolean {
  return job.spec?.completionMode === "Indexed";
}

export function hasJobTrackingFinalizer(pod: Pod): boolean {
  return (pod.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/** podReplacementPolicy Failed: a terminating pod is not replaced until it is Failed. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === "Failed" || job.spec?.podFailurePolicy != null;
}

/**
 * isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded — an
 * orphan pod deleted out from under the Job never reaches Failed and must still count.
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === "Failed") return true;
  if (onlyReplaceFailedPods(job)) return false;
  return pod.metadata?.deletionTimestamp != null && pod.status?.phase !== "Succeeded";
}

/** Neither finished nor being deleted. */
export function isPodActiveForJob(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && pod.metadata?.deletionTimestamp == null;
}

/** Being deleted but not finished (status.terminating). */
export function isPodTerminatingForJob(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp != null && phase !== "Succeeded" && phase !== "Failed";
}

/** The completion index of a pod, or -1 when it has none or it does not parse. */
export function completionIndexOf(pod: Pod): number {
  const v = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}

/** When a pod finished: its containers' latest finishedAt, else its deletion or creation time. */
export function podFinishedTimeMs(pod: Pod): number {
  let latest: number | undefined;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const t = parseTimeMs(s.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  return parseTimeMs(ready?.lastTransitionTime) ?? parseTimeMs(pod.metadata?.deletionTimestamp) ?? parseTimeMs(pod.metadata?.creationTimestamp) ?? 0;
}

/** Failures since the last success and when the latest of them happened (upstream's backoffRecord). */
export interface BackoffRecord {
  readonly failuresAfterLastSuccess: number;
  readonly lastFailureTimeMs: number | undefined;
}

export const NO_BACKOFF: BackoffRecord = { failuresAfterLastSuccess: 0, lastFailureTimeMs: undefined };

/**
 * The record after a sync saw `newSucceeded` and `newFailed` pods finish (newBackoffRecord): a
 * success resets the count to the failures that finished after it.
 */
export function newBackoffRecord(prev: BackoffRecord, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
  const failedTimes = newFailed.map(podFinishedTimeMs).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    if (failedTimes.length === 0) return prev;
    return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failedTimes.length, lastFailureTimeMs: failedTimes[failedTimes.length - 1] };
  }
  const lastSuccessMs = Math.max(...newSucceeded.map(podFinishedTimeMs));
  const after = failedTimes.filter((t) => t > lastSuccessMs);
  return { failuresAfterLastSuccess: after.length, lastFailureTimeMs: after.length === 0 ? undefined : after[after.length - 1] };
}

/** The backoff for `failures` failures: 10 s, 20 s, 40 s, … capped at 10 minutes. */
export function podFailureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  let d = DEFAULT_JOB_POD_FAILURE_BACKOFF_MS;
  for (let i = 1; i < failures; i++) {
    d *= 2;
    if (d >= MAX_JOB_POD_FAILURE_BACKOFF_MS) return MAX_JOB_POD_FAILURE_BACKOFF_MS;
  }
  return d;
}

/** How long pod creation must still wait at wall time `nowMs` (getRemainingTime). */
export function remainingBackoffMs(record: BackoffRecord, nowMs: number): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureTimeMs === undefined) return 0;
  const backoff = podFailureBackoffMs(record.failuresAfterLastSuccess);
  const elapsed = nowMs - record.lastFailureTimeMs;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

/** Sorted, distinct indexes as the API writes them: "0-2,4,6-7". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Parses "0-2,4" (status.completedIndexes); entries at or beyond `completions` are dropped. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (text === undefined || text === "") return out;
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const lo = Number(m[1]);
    const hi = Math.min(m[2] === undefined ? lo : Number(m[2]), completions - 1);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/** The template of the pod for completion index `index`: annotation, label, env and hostname as upstream. */
export function podTemplateForIndex(job: Job, template: PodTemplateSpec, index: number): PodTemplateSpec {
  const t = structuredClone(template);
  const meta = (t.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
  meta.labels = { ...(meta.labels ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
  const spec = (t.spec ??= { containers: [] });
  const env: EnvVar = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } };
  const addEnv = (c: Container): void => {
    if ((c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) return;
    c.env = [...(c.env ?? []), env];
  };
  spec.containers.forEach(addEnv);
  spec.initContainers?.forEach(addEnv);
  // Upstream sets it whatever the template says: the index is the pod's stable DNS name.
  spec.hostname = `${job.metadata?.name}-${index}`;
  return t;
}

/** What one sync decides (before status tracking). */
export interface JobDecision {
  /** The condition to move towards: interim (SuccessCriteriaMet/FailureTarget) or terminal (Complete/Failed). */
  readonly finishedCondition: { type: JobConditionType; reason: string; message: string } | undefined;
  /** Active pods to delete (the Job finished, was suspended, or has too many). */
  readonly podsToDelete: Pod[];
  /** Pods to create: `undefined` entries for NonIndexed Jobs, the completion index for Indexed. */
  readonly indexesToCreate: (number | undefined)[];
  /** Look again after this long (deadline, backoff); undefined: only on changes. */
  readonly requeueAfterMs: number | undefined;
  readonly backoff: BackoffRecord;
  /** Totals including pods finished but not yet counted in status. */
  readonly succeeded: number;
  readonly failed: number;
  readonly newSucceeded: Pod[];
  readonly newFailed: Pod[];
  /** Active after this sync's deletions and creations. */
  readonly active: number;
  readonly ready: number;
  readonly terminating: number;
  /** The Suspended condition to ensure (status and reason), when manageJob ran. */
  readonly suspended: { status: "True" | "False"; reason: string; message: string } | undefined;
}

export interface JobDecisionInput {
  readonly job: Job;
  /** The Job's pods (owned), as the cache has them. */
  readonly pods: readonly Pod[];
  /** Wall-clock now. */
  readonly nowMs: number;
  readonly backoff: BackoffRecord;
  /** Pods whose finalizer removal was sent but not yet seen: treated as without the finalizer. */
  readonly expectedRmFinalizers: ReadonlySet<string>;
  /** Creations and deletions of earlier syncs have been observed. */
  readonly satisfiedExpectations: boolean;
}

function uidOf(p: Pod): string {
  return p.metadata?.uid ?? "";
}

/** Ranks active pods for removal: unassigned, pending, not ready, then the newest first. */
function removalOrder(a: Pod, b: Pod): number {
  const score = (p: Pod): number[] => [
    p.spec?.nodeName ? 1 : 0,
    p.status?.phase === "Running" ? 1 : 0,
    isPodReady(p) ? 1 : 0,
    -(parseTimeMs(p.metadata?.creationTimestamp) ?? 0),
  ];
  const sa = score(a);
  const sb = score(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i]! - sb[i]!;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

/** The decision of syncJob for a Job that is not finished. */
export function decideJob(input: JobDecisionInput): JobDecision {
  const { job, pods, nowMs } = input;
  const spec = job.spec!;
  const status = job.status ?? {};
  const uncountedSucceeded = new Set(status.uncountedTerminatedPods?.succeeded ?? []);
  const uncountedFailed = new Set(status.uncountedTerminatedPods?.failed ?? []);
  const withFinalizer = (p: Pod): boolean => hasJobTrackingFinalizer(p) && !input.expectedRmFinalizers.has(uidOf(p));

  const activePods = pods.filter(isPodActiveForJob);
  const terminating = pods.filter(isPodTerminatingForJob).length;
  const newSucceeded = pods.filter((p) => withFinalizer(p) && p.status?.phase === "Succeeded" && !uncountedSucceeded.has(uidOf(p)));
  const newFailed = pods.filter((p) => withFinalizer(p) && p.status?.phase !== "Succeeded" && isPodFailed(p, job) && !uncountedFailed.has(uidOf(p)));
  let succeeded = (status.succeeded ?? 0) + newSucceeded.length + uncountedSucceeded.size;
  const failed = (status.failed ?? 0) + newFailed.length + uncountedFailed.size;
  const backoff = newBackoffRecord(input.backoff, newSucceeded, newFailed);
  const suspendedSpec = spec.suspend === true;
  const startMs = parseTimeMs(status.startTime) ?? (suspendedSpec ? undefined : nowMs);
  const backoffLimit = spec.backoffLimit ?? 6;
  const completions = spec.completions ?? undefined;
  const indexed = isIndexedJob(job) && completions !== undefined;

  let requeueAfterMs: number | undefined;
  let finished: JobDecision["finishedCondition"];
  const criteria = trueCondition(job, "SuccessCriteriaMet");
  const target = trueCondition(job, "FailureTarget");
  if (criteria !== undefined) finished = { type: "Complete", reason: criteria.reason ?? "", message: criteria.message ?? "" };
  else if (target !== undefined) finished = { type: "Failed", reason: target.reason ?? "", message: target.message ?? "" };
  else if (failed > backoffLimit || pastBackoffLimitOnFailure(job, activePods)) {
    finished = { type: "FailureTarget", reason: REASON_BACKOFF_LIMIT_EXCEEDED, message: MESSAGE_BACKOFF_LIMIT_EXCEEDED };
  } else if (spec.activeDeadlineSeconds != null && !suspendedSpec && startMs !== undefined) {
    const leftMs = startMs + spec.activeDeadlineSeconds * 1000 - nowMs;
    if (leftMs <= 0) finished = { type: "FailureTarget", reason: REASON_DEADLINE_EXCEEDED, message: MESSAGE_DEADLINE_EXCEEDED };
    else requeueAfterMs = leftMs;
  }

  // Indexed: succeeded is the number of distinct succeeded indexes below completions.
  let succeededIndexes = new Set<number>();
  if (indexed) {
    succeededIndexes = parseIndexes(status.completedIndexes, completions);
    for (const p of pods) {
      const ix = completionIndexOf(p);
      if (p.status?.phase === "Succeeded" && ix >= 0 && ix < completions) succeededIndexes.add(ix);
    }
    succeeded = succeededIndexes.size;
  }

  const podsToDelete: Pod[] = [];
  const indexesToCreate: (number | undefined)[] = [];
  let active = activePods.length;
  let suspended: JobDecision["suspended"];
  if (finished !== undefined) {
    podsToDelete.push(...activePods);
    active = 0;
  } else {
    if (input.satisfiedExpectations && job.metadata?.deletionTimestamp == null) {
      // manageJob
      if (suspendedSpec) {
        podsToDelete.push(...activePods.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC));
        active -= podsToDelete.length;
      } else {
        const parallelism = spec.parallelism ?? 1;
        let wantActive: number;
        if (completions === undefined) wantActive = succeeded > 0 ? active : parallelism;
        else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));
        const excess: Pod[] = [];
        let keep = activePods;
        if (indexed) {
          // Pods of out-of-range, duplicated or already succeeded indexes go first.
          const seen = new Set<number>();
          keep = [];
          for (const p of [...activePods].sort((a, b) => -removalOrder(a, b))) {
            const ix = completionIndexOf(p);
            if (ix < 0 || ix >= completions || seen.has(ix) || succeededIndexes.has(ix)) excess.push(p);
            else {
              seen.add(ix);
              keep.push(p);
            }
          }
        }
        const rmAtLeast = Math.max(0, keep.length - wantActive);
        excess.push(...[...keep].sort(removalOrder).slice(0, rmAtLeast));
        if (excess.length > 0) {
          podsToDelete.push(...excess.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC));
          active -= podsToDelete.length;
        } else if (active < wantActive) {
          const waitMs = remainingBackoffMs(backoff, nowMs);
          if (waitMs > 0) requeueAfterMs = requeueAfterMs === undefined ? waitMs : Math.min(requeueAfterMs, waitMs);
          else {
            const terminatingToWait = onlyReplaceFailedPods(job) ? terminating : 0;
            let diff = Math.min(wantActive - terminatingToWait - active, MAX_POD_CREATE_DELETE_PER_SYNC);
            if (diff > 0) {
              if (indexed) {
                const activeIndexes = new Set(keep.map(completionIndexOf));
                for (let i = 0; i < completions && indexesToCreate.length < diff; i++) {
                  if (!succeededIndexes.has(i) && !activeIndexes.has(i)) indexesToCreate.push(i);
                }
                diff = indexesToCreate.length;
              } else {
                for (let i = 0; i < diff; i++) indexesToCreate.push(undefined);
              }
              active += diff;
            }
          }
        }
      }
      suspended = suspendedSpec
        ? { status: "True", reason: "JobSuspended", message: "Job suspended" }
        : { status: "False", reason: "JobResumed", message: "Job resumed" };
    }
    const complete = completions === undefined ? succeeded > 0 && active === 0 : succeeded >= completions && active === 0;
    if (complete) {
      finished = { type: "SuccessCriteriaMet", reason: REASON_COMPLETIONS_REACHED, message: MESSAGE_COMPLETIONS_REACHED };
      suspended = undefined;
    }
  }
  const deleting = new Set(podsToDelete.map(uidOf));
  const ready = activePods.filter((p) => !deleting.has(uidOf(p)) && isPodReady(p)).length;
  return {
    finishedCondition: finished,
    podsToDelete,
    indexesToCreate,
    requeueAfterMs,
    backoff,
    succeeded,
    failed,
    newSucceeded,
    newFailed,
    active,
    ready,
    terminating: terminating + podsToDelete.length,
    suspended,
  };
}

/** restartPolicy OnFailure: the active pods' container restarts add up to the backoff limit. */
function pastBackoffLimitOnFailure(job: Job, activePods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== "OnFailure") return false;
  const limit = job.spec.backoffLimit ?? 6;
  let restarts = 0;
  for (const p of activePods) {
    if (p.status?.phase !== "Running" && p.status?.phase !== "Pending") continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  return limit === 0 ? restarts > 0 : restarts >= limit;
}
