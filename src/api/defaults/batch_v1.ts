/**
 * Defaulting for batch/v1, as pkg/apis/batch/v1/defaults.go in Kubernetes 1.32 (JobBackoffLimitPerIndex
 * and JobPodReplacementPolicy are beta and on), plus the pod template defaults.
 *
 * Not here: a Job's selector and the controller-uid / job-name labels on its template are set by the
 * job strategy when manualSelector is false, not by defaulting. A template without restartPolicy is
 * defaulted to Always like any pod spec, which Job validation then rejects, as upstream.
 */

import { defaultPodTemplateSpec } from "./pod_spec.js";
import { child, defaultNil, defaultZero, isEmpty, isNil, items, struct, type JsonObject } from "./fields.js";

/** Pod failures a Job tolerates before it is marked Failed. */
export const BACKOFF_LIMIT_DEFAULT = 6;
/** math.MaxInt32: with a per-index limit, the job-wide limit is effectively off. */
export const BACKOFF_LIMIT_WITH_PER_INDEX = 2147483647;
export const SUCCESSFUL_JOBS_HISTORY_LIMIT_DEFAULT = 3;
export const FAILED_JOBS_HISTORY_LIMIT_DEFAULT = 1;

/** SetObjectDefaults_Job. */
export function defaultJob(job: JsonObject): void {
  const spec = struct(job, "spec");
  if (spec === undefined) return;
  // A non-parallel job may leave both unset: it then runs one pod to one completion.
  if (isNil(spec["completions"]) && isNil(spec["parallelism"])) {
    spec["completions"] = 1;
    spec["parallelism"] = 1;
  }
  defaultNil(spec, "parallelism", 1);
  if (isNil(spec["backoffLimit"])) {
    spec["backoffLimit"] = isNil(spec["backoffLimitPerIndex"]) ? BACKOFF_LIMIT_DEFAULT : BACKOFF_LIMIT_WITH_PER_INDEX;
  }
  const templateLabels = child(child(child(spec, "template") ?? {}, "metadata") ?? {}, "labels");
  // Go copies a non-nil map even when empty, but an empty map is omitted on the wire: copy only labels that show.
  if (templateLabels !== undefined && !isEmpty(templateLabels)) {
    const metadata = struct(job, "metadata");
    if (metadata !== undefined && isEmpty(metadata["labels"])) metadata["labels"] = { ...templateLabels };
  }
  defaultNil(spec, "completionMode", "NonIndexed");
  defaultNil(spec, "suspend", false);
  defaultNil(spec, "podReplacementPolicy", isNil(spec["podFailurePolicy"]) ? "TerminatingOrFailed" : "Failed");
  defaultNil(spec, "manualSelector", false);
  defaultJobSpecTypes(spec);
}

/** SetObjectDefaults_CronJob: its job template gets type-level defaults only, not SetDefaults_Job. */
export function defaultCronJob(cronJob: JsonObject): void {
  const spec = struct(cronJob, "spec");
  if (spec === undefined) return;
  defaultZero(spec, "concurrencyPolicy", "Allow");
  defaultNil(spec, "suspend", false);
  defaultNil(spec, "successfulJobsHistoryLimit", SUCCESSFUL_JOBS_HISTORY_LIMIT_DEFAULT);
  defaultNil(spec, "failedJobsHistoryLimit", FAILED_JOBS_HISTORY_LIMIT_DEFAULT);
  const jobTemplate = struct(spec, "jobTemplate");
  const jobSpec = jobTemplate === undefined ? undefined : struct(jobTemplate, "spec");
  if (jobSpec !== undefined) defaultJobSpecTypes(jobSpec);
}

/** Defaults of the types inside a JobSpec, wherever it appears: pod failure policy patterns and the pod template. */
function defaultJobSpecTypes(spec: JsonObject): void {
  const policy = child(spec, "podFailurePolicy");
  for (const rule of policy === undefined ? [] : items(policy, "rules")) {
    // SetDefaults_PodFailurePolicyOnPodConditionsPattern: a pattern without status matches status True.
    for (const pattern of items(rule, "onPodConditions")) defaultZero(pattern, "status", "True");
  }
  const template = struct(spec, "template");
  if (template !== undefined) defaultPodTemplateSpec(template);
}
