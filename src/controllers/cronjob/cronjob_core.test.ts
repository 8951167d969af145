import { test } from "node:test";
import assert from "node:assert/strict";
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import { parseSchedule } from "./schedule.js";
import {
  formatInZone,
  formatRfc1123Z,
  jobFromTemplate,
  jobNameFor,
  jobsBeyondHistoryLimits,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION,
} from "./cronjob_core.js";

function cronJob(spec: Partial<NonNullable<CronJob["spec"]>> = {}, status: CronJob["status"] = {}, created = "2024-05-01T10:00:00Z"): CronJob {
  return {
    metadata: { name: "hello", namespace: "default", uid: "cj-uid", creationTimestamp: created },
    spec: { schedule: "*/5 * * * *", jobTemplate: { metadata: { labels: { app: "hello" } }, spec: { template: { spec: { containers: [] } } } }, ...spec },
    status,
  };
}
const at = (s: string): number => Date.parse(s);

const missedCases = [
  { name: "nothing is due before the first schedule time", now: "2024-05-01T10:03:00Z", status: {}, deadline: undefined, want: { mostRecent: undefined, missed: 0 } },
  { name: "one time is due", now: "2024-05-01T10:06:00Z", status: {}, deadline: undefined, want: { mostRecent: "2024-05-01T10:05:00.000Z", missed: 1 } },
  { name: "several missed times give the latest", now: "2024-05-01T10:17:00Z", status: {}, deadline: undefined, want: { mostRecent: "2024-05-01T10:15:00.000Z", missed: 3 } },
  { name: "lastScheduleTime moves the start", now: "2024-05-01T10:17:00Z", status: { lastScheduleTime: "2024-05-01T10:10:00Z" }, deadline: undefined, want: { mostRecent: "2024-05-01T10:15:00.000Z", missed: 1 } },
  { name: "startingDeadlineSeconds forgets older times", now: "2024-05-01T11:01:00Z", status: {}, deadline: 200, want: { mostRecent: "2024-05-01T11:00:00.000Z", missed: 1 } },
  { name: "a deadline shorter than the gap leaves nothing due", now: "2024-05-01T11:03:00Z", status: {}, deadline: 60, want: { mostRecent: undefined, missed: 0 } },
];
for (const c of missedCases) {
  test(`mostRecentScheduleTime: ${c.name}`, () => {
    const cj = cronJob(c.deadline === undefined ? {} : { startingDeadlineSeconds: c.deadline }, c.status);
    const got = mostRecentScheduleTime(cj, at(c.now), parseSchedule("*/5 * * * *"));
    assert.deepEqual({ mostRecent: got.mostRecentMs === undefined ? undefined : new Date(got.mostRecentMs).toISOString(), missed: got.missed }, c.want);
  });
}

test("mostRecentScheduleTime: a schedule missed for a year still finds the latest time, bounded", () => {
  const cj = cronJob({ schedule: "* * * * *" }, {}, "2023-05-01T00:00:00Z");
  const got = mostRecentScheduleTime(cj, at("2024-05-01T10:17:30Z"), parseSchedule("* * * * *"));
  assert.equal(new Date(got.mostRecentMs!).toISOString(), "2024-05-01T10:17:00.000Z");
  assert.ok(got.missed > 100);
});

test("nextScheduleDelayMs: the requeue lands just after the next schedule time", () => {
  const cj = cronJob({}, { lastScheduleTime: "2024-05-01T10:05:00Z" });
  assert.equal(nextScheduleDelayMs(cj, at("2024-05-01T10:07:00Z"), parseSchedule("*/5 * * * *")), 3 * 60_000 + 100);
});

test("jobFromTemplate: the Job is named by the minute and carries the scheduled timestamp and the controller ref", () => {
  const cj = cronJob();
  const t = at("2024-05-01T10:05:00Z");
  const job = jobFromTemplate(cj, t, "UTC");
  assert.equal(job.metadata?.name, `hello-${t / 60_000}`);
  assert.equal(jobNameFor(cj, t), "hello-28575965");
  assert.equal(job.metadata?.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], "2024-05-01T10:05:00Z");
  assert.equal(job.metadata?.labels?.app, "hello");
  assert.deepEqual(job.metadata?.ownerReferences?.[0], { apiVersion: "batch/v1", kind: "CronJob", name: "hello", uid: "cj-uid", blockOwnerDeletion: true, controller: true });
});

test("formatInZone and formatRfc1123Z: times print as Go prints them", () => {
  assert.equal(formatInZone(at("2024-05-01T13:00:00Z"), "America/New_York"), "2024-05-01T09:00:00-04:00");
  assert.equal(formatRfc1123Z(at("2024-05-01T13:00:00Z")), "Wed, 01 May 2024 13:00:00 +0000");
});

test("jobsBeyondHistoryLimits: the oldest finished Jobs beyond each limit go", () => {
  const job = (name: string, type: string, start: string): Job => ({
    metadata: { name },
    status: { startTime: start, conditions: [{ type, status: "True" }] },
  });
  const jobs = [job("s1", "Complete", "2024-05-01T10:00:00Z"), job("s2", "Complete", "2024-05-01T10:05:00Z"), job("s3", "Complete", "2024-05-01T10:10:00Z"), job("f1", "Failed", "2024-05-01T10:00:00Z"), job("f2", "Failed", "2024-05-01T10:01:00Z")];
  const gone = jobsBeyondHistoryLimits(cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata?.name);
  assert.deepEqual(gone, ["s1", "s2", "f1"]);
});
