/** Printers for `batch/v1`, as upstream's `AddHandlers` defines them (1.32: jobs have a STATUS column). */
import type { CronJob, Job, JobCondition } from "kubernetes-types/batch/v1.js";
import { humanDuration, parseTime, translateTimestampSince } from "./duration.js";
import { NONE, boolString, formatLabelSelector, layoutContainerCells } from "./format.js";
import { AGE_COLUMN, CONTAINERS_DOC, IMAGES_DOC, NAME_COLUMN, column, groupResource, wide, type Printer } from "./printer.js";

const age = (obj: { metadata?: { creationTimestamp?: string } }, nowMs: number) =>
  translateTimestampSince(obj.metadata?.creationTimestamp, nowMs);
const nameOf = (obj: { metadata?: { name?: string } }) => obj.metadata?.name ?? "";

/** `hasJobCondition`: the first condition of the type decides. */
function hasJobCondition(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  const c = (conditions ?? []).find((cond) => cond.type === type);
  return c !== undefined && c.status === "True";
}

/** The job's STATUS cell: terminal conditions first, then deletion, then suspension. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasJobCondition(conditions, "Complete")) return "Complete";
  if (hasJobCondition(conditions, "Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (hasJobCondition(conditions, "Suspended")) return "Suspended";
  if (hasJobCondition(conditions, "FailureTarget")) return "FailureTarget";
  return "Running";
}

/** COMPLETIONS: `succeeded/completions`; a work-queue job (no completions) shows `n/1`, or `n/1 of P` when parallel. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** DURATION: empty before the job starts, running time until it completes, then start to completion. */
export function jobDuration(job: Job, nowMs: number): string {
  const start = parseTime(job.status?.startTime);
  if (start === null) return "";
  const completion = parseTime(job.status?.completionTime);
  return humanDuration((completion ?? nowMs) - start);
}

export const jobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Status", "string", "Status of the job."),
    column("Completions", "string", "JobStatus.succeeded"),
    column("Duration", "string", "Time required to complete the job."),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "JobSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const job = obj as Job;
    const { names, images } = layoutContainerCells(job.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(job),
        jobStatus(job),
        jobCompletions(job),
        jobDuration(job, nowMs),
        age(job, nowMs),
        names,
        images,
        formatLabelSelector(job.spec?.selector),
      ],
    };
  },
};

export const cronJobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Schedule", "string", "CronJobSpec.schedule"),
    column("Timezone", "string", "CronJobSpec.timeZone"),
    column("Suspend", "boolean", "CronJobSpec.suspend"),
    column("Active", "integer", "CronJobStatus.active"),
    column("Last Schedule", "string", "CronJobStatus.lastScheduleTime"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "JobSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const cj = obj as CronJob;
    const last = cj.status?.lastScheduleTime;
    const lastSchedule = last === undefined || last === null ? NONE : translateTimestampSince(last, nowMs);
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const { names, images } = layoutContainerCells(jobSpec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(cj),
        cj.spec?.schedule ?? "",
        cj.spec?.timeZone ?? NONE,
        // Defaulting sets spec.suspend to false, so upstream prints "False" rather than "<unset>".
        boolString(cj.spec?.suspend ?? false),
        cj.status?.active?.length ?? 0,
        lastSchedule,
        age(cj, nowMs),
        names,
        images,
        formatLabelSelector(jobSpec?.selector),
      ],
    };
  },
};

/** batch/v1 printers by GroupResource. */
export const BATCH_PRINTERS: ReadonlyMap<string, Printer> = new Map([
  [groupResource("batch", "jobs"), jobPrinter],
  [groupResource("batch", "cronjobs"), cronJobPrinter],
]);
