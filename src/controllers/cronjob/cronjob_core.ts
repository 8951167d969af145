/**
 * The pure part of the CronJob controller (pkg/controller/cronjob, the v2 controller of 1.32): which
 * scheduled time is due, how many were missed, the Job a schedule makes, when to look again.
 *
 * The schedule is counted from the later of the CronJob's creation (or its lastScheduleTime) and
 * `now - startingDeadlineSeconds`: with a deadline, times older than it are not "missed", just gone.
 *
 *   schedule "every 5 minutes", last 10:00, now 10:17  →  missed 10:05, 10:10, 10:15; the most recent, 10:15, is due
 */
import type { Job, CronJob } from "kubernetes-types/batch/v1.js";
import type { ObjectReference } from "kubernetes-types/core/v1.js";
import { parseTimeMs } from "../util/pod_util.js";
import { zoneOffsetMs, type Schedule } from "./schedule.js";

export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/** As upstream: more missed times than this is reported as TooManyMissedTimes (and the latest still runs). */
export const MISSED_SCHEDULES_REPORT_MIN = 100;
/** Bounds the walk over missed times; past it the latest due time is searched from `now - SEARCH_BACK`. */
export const MISSED_SCHEDULES_WALK_MAX = 10_000;
/** How far back the latest due time is searched once the walk bound is hit (the cron search bound). */
const SEARCH_BACK_MS_MAX = 5 * 366 * 24 * 3600_000;
/** As upstream: requeues land a little after the schedule time so that time is surely due. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export interface MostRecentSchedule {
  /** Where the search started. */
  readonly earliestMs: number;
  /** The most recent schedule time at or before now, if any is due. */
  readonly mostRecentMs: number | undefined;
  /** How many times were missed (counted up to the walk bound). */
  readonly missed: number;
}

/** mostRecentScheduleTime: the latest unmet schedule time and the number of missed ones. */
export function mostRecentScheduleTime(cj: CronJob, nowMs: number, schedule: Schedule, includeStartingDeadline = true): MostRecentSchedule {
  let earliestMs = parseTimeMs(cj.status?.lastScheduleTime) ?? parseTimeMs(cj.metadata?.creationTimestamp) ?? nowMs;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline != null) {
    const schedulingDeadlineMs = nowMs - deadline * 1000;
    if (schedulingDeadlineMs > earliestMs) earliestMs = schedulingDeadlineMs;
  }
  let t = schedule.next(earliestMs);
  let mostRecentMs: number | undefined;
  let missed = 0;
  while (t !== undefined && t <= nowMs && missed < MISSED_SCHEDULES_WALK_MAX) {
    mostRecentMs = t;
    missed++;
    t = schedule.next(t);
  }
  if (t !== undefined && t <= nowMs) {
    // Too many to walk: look back from now in doubling windows; the first window holding a schedule
    // time holds few of them, so the short walk to the latest one is cheap.
    for (let windowMs = 60_000; windowMs <= SEARCH_BACK_MS_MAX; windowMs *= 2) {
      let u = schedule.next(Math.max(earliestMs, nowMs - windowMs));
      if (u === undefined || u > nowMs) continue;
      for (let i = 0; u !== undefined && u <= nowMs && i < MISSED_SCHEDULES_WALK_MAX; i++) {
        mostRecentMs = u;
        u = schedule.next(u);
      }
      break;
    }
    missed = MISSED_SCHEDULES_WALK_MAX;
  }
  return { earliestMs, mostRecentMs, missed };
}

/** Milliseconds from now until the next schedule time after the latest due one (nextScheduleTimeDuration). */
export function nextScheduleDelayMs(cj: CronJob, nowMs: number, schedule: Schedule): number | undefined {
  const { earliestMs, mostRecentMs } = mostRecentScheduleTime(cj, nowMs, schedule, false);
  const next = schedule.next(mostRecentMs ?? earliestMs);
  if (next === undefined) return undefined;
  return Math.max(0, next - nowMs) + NEXT_SCHEDULE_DELTA_MS;
}

/** `<cronjob>-<scheduled time in minutes since the epoch>` (getJobName). */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata?.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 with the zone's offset, as Go's time.Format(time.RFC3339) of a time in that zone. */
export function formatInZone(ms: number, timeZone: string): string {
  const offsetMs = zoneOffsetMs(timeZone, ms);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMs).toISOString().replace(/\.\d{3}Z$/, "");
  if (offsetMs === 0) return `${local}Z`;
  const sign = offsetMs < 0 ? "-" : "+";
  const abs = Math.abs(offsetMs) / 60_000;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** Go's RFC1123Z in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"), which the MissSchedule event prints. */
export function formatRfc1123Z(ms: number): string {
  const d = new Date(ms);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The Job a schedule time makes (getJobFromTemplate2): the template's metadata and spec, owned by the CronJob. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number, timeZone: string): Job {
  const tm = cj.spec?.jobTemplate.metadata ?? {};
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata?.namespace,
      labels: { ...(tm.labels ?? {}) },
      annotations: { ...(tm.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduledMs, timeZone) },
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "CronJob", name: cj.metadata?.name ?? "", uid: cj.metadata?.uid ?? "", blockOwnerDeletion: true, controller: true },
      ],
    },
    spec: structuredClone(cj.spec?.jobTemplate.spec ?? { template: {} }),
  };
}

/** The finished condition type of a Job ("Complete" or "Failed"), if finished. */
export function jobFinishedType(job: Job): "Complete" | "Failed" | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") return c.type;
  }
  return undefined;
}

export function jobReference(job: Job): ObjectReference {
  return {
    kind: "Job",
    namespace: job.metadata?.namespace,
    name: job.metadata?.name,
    uid: job.metadata?.uid,
    apiVersion: "batch/v1",
    resourceVersion: job.metadata?.resourceVersion,
  };
}

/**
 * Finished Jobs beyond the history limits, oldest first (cleanupFinishedJobs): successful ones beyond
 * successfulJobsHistoryLimit, failed ones beyond failedJobsHistoryLimit, ordered by start time.
 */
export function jobsBeyondHistoryLimits(cj: CronJob, jobs: readonly Job[]): Job[] {
  const byStart = (a: Job, b: Job): number => {
    const sa = parseTimeMs(a.status?.startTime);
    const sb = parseTimeMs(b.status?.startTime);
    if (sa === undefined && sb !== undefined) return 1;
    if (sa !== undefined && sb === undefined) return -1;
    if (sa !== sb) return (sa ?? 0) - (sb ?? 0);
    return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  };
  const out: Job[] = [];
  const pick = (type: "Complete" | "Failed", limit: number | undefined | null): void => {
    if (limit === undefined || limit === null) return;
    const finished = jobs.filter((j) => jobFinishedType(j) === type && j.metadata?.deletionTimestamp == null).sort(byStart);
    out.push(...finished.slice(0, Math.max(0, finished.length - limit)));
  };
  pick("Complete", cj.spec?.successfulJobsHistoryLimit);
  pick("Failed", cj.spec?.failedJobsHistoryLimit);
  return out;
}
