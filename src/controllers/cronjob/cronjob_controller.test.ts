import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.js";
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import { ManualClock } from "../../env/manual_clock.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { CronJobController } from "./cronjob_controller.js";
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION } from "./cronjob_core.js";
import { eventually, startControllerTestEnv } from "../job/integration_env.js";

test("CronJobController: a */1 CronJob creates its Job when the manual clock reaches the next minute", async () => {
  const clock = new ManualClock();
  // ManualClock's wall clock starts in 2023; move it to the real time the API server stamps objects with.
  clock.advance(Date.now() - clock.wallMs());
  const t = await startControllerTestEnv(clock);
  const recorder = new ApiEventRecorder({ clock: t.ctx.env.clock, log: t.ctx.env.log }, t.client, { component: "cronjob-controller" });
  const cc = new CronJobController(t.ctx, { recorder });
  cc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = cc.run(1);
  try {
    const cronJobs = t.client.resource<CronJob>("batch", "v1", "cronjobs").namespace("default");
    const jobs = t.client.resource<Job>("batch", "v1", "jobs").namespace("default");
    await cronJobs.create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: {
        schedule: "*/1 * * * *",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox", command: ["date"] }] } } } },
      },
    });
    // The first sync finds nothing due and asks to be woken at the next minute.
    await eventually("a wake-up at the next minute", () => (cc.queue.waiting() > 0 ? true : undefined));
    assert.equal((await jobs.list()).items.length, 0);
    clock.advance(61_000);
    const job = await eventually("the Job", async () => (await jobs.list()).items[0]);
    const minutes = Number(job.metadata!.name!.slice("tick-".length));
    const scheduledMs = minutes * 60_000;
    assert.ok(scheduledMs <= clock.wallMs() && scheduledMs > clock.wallMs() - 120_000);
    assert.equal(job.metadata?.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], new Date(scheduledMs).toISOString().replace(".000Z", "Z"));
    assert.equal(job.metadata?.ownerReferences?.[0]?.kind, "CronJob");
    const cj = await eventually("status.active", async () => {
      const c = await cronJobs.get("tick");
      return c.status?.active?.length === 1 ? c : undefined;
    });
    assert.equal(cj.status?.active?.[0]?.name, job.metadata?.name);
    assert.equal(Date.parse(cj.status!.lastScheduleTime!), scheduledMs);
    const events = t.client.resource<Event>("", "v1", "events").namespace("default");
    await eventually("SuccessfulCreate event", async () =>
      (await events.list()).items.some((e) => e.reason === "SuccessfulCreate" && e.message === `Created job ${job.metadata?.name}`) ? true : undefined,
    );
    // The Job completes: the next sync drops it from active and records lastSuccessfulTime.
    const now = new Date(clock.wallMs()).toISOString().replace(/\.\d{3}Z$/, "Z");
    await jobs.updateStatus({
      ...job,
      status: {
        startTime: now,
        completionTime: now,
        succeeded: 1,
        conditions: [
          { type: "SuccessCriteriaMet", status: "True", lastTransitionTime: now, lastProbeTime: now, reason: "CompletionsReached", message: "Reached expected number of succeeded pods" },
          { type: "Complete", status: "True", lastTransitionTime: now, lastProbeTime: now, reason: "CompletionsReached", message: "Reached expected number of succeeded pods" },
        ],
      },
    });
    const after = await eventually("lastSuccessfulTime", async () => {
      const c = await cronJobs.get("tick");
      return c.status?.lastSuccessfulTime !== undefined && (c.status.active ?? []).length === 0 ? c : undefined;
    });
    assert.equal(after.status?.lastSuccessfulTime, now);
  } finally {
    cc.stop();
    await running;
    await t.close();
  }
});

test("CronJobController: concurrencyPolicy Forbid skips a schedule while the previous Job runs", async () => {
  const clock = new ManualClock();
  clock.advance(Date.now() - clock.wallMs());
  const t = await startControllerTestEnv(clock);
  const recorder = new ApiEventRecorder({ clock: t.ctx.env.clock, log: t.ctx.env.log }, t.client, { component: "cronjob-controller" });
  const cc = new CronJobController(t.ctx, { recorder });
  cc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = cc.run(1);
  try {
    const cronJobs = t.client.resource<CronJob>("batch", "v1", "cronjobs").namespace("default");
    const jobs = t.client.resource<Job>("batch", "v1", "jobs").namespace("default");
    await cronJobs.create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "solo", namespace: "default" },
      spec: {
        schedule: "* * * * *",
        concurrencyPolicy: "Forbid",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["sleep", "600"] }] } } } },
      },
    });
    await eventually("a wake-up", () => (cc.queue.waiting() > 0 ? true : undefined));
    clock.advance(61_000);
    await eventually("the first Job in status.active", async () => ((await cronJobs.get("solo")).status?.active?.length === 1 ? true : undefined));
    clock.advance(60_000);
    const events = t.client.resource<Event>("", "v1", "events").namespace("default");
    await eventually("JobAlreadyActive", async () =>
      (await events.list()).items.some(
        (e) => e.involvedObject.name === "solo" && e.reason === "JobAlreadyActive" && e.message === "Not starting job because prior execution is running and concurrency policy is Forbid",
      )
        ? true
        : undefined,
    );
    assert.equal((await jobs.list()).items.length, 1);
  } finally {
    cc.stop();
    await running;
    await t.close();
  }
});
