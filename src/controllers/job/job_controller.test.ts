import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event, Pod } from "kubernetes-types/core/v1.js";
import type { Job } from "kubernetes-types/batch/v1.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { JobController } from "./job_controller.js";
import { TtlAfterFinishedController } from "./ttl_after_finished.js";
import { JOB_TRACKING_FINALIZER } from "./job_core.js";
import { eventually, startControllerTestEnv } from "./integration_env.js";

function newJob(name: string, spec: Partial<NonNullable<Job["spec"]>> = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default" },
    spec: { completions: 2, parallelism: 2, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] } }, ...spec },
  };
}

test("JobController: a Job whose pods succeed completes with SuccessCriteriaMet and Complete, then its TTL deletes it", async () => {
  const t = await startControllerTestEnv();
  const recorder = new ApiEventRecorder(t.ctx.env, t.client, { component: "job-controller" });
  const jc = new JobController(t.ctx, { recorder });
  const ttl = new TtlAfterFinishedController(t.ctx);
  jc.init();
  ttl.init();
  t.informers.start();
  assert.equal(await t.informers.waitForCacheSync(), true);
  const running = [jc.run(2), ttl.run(1)];
  try {
    const jobs = t.client.resource<Job>("batch", "v1", "jobs").namespace("default");
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    // Long enough to observe the finished Job before the TTL removes it, even on a loaded machine.
    const created = await jobs.create(newJob("pi", { ttlSecondsAfterFinished: 5 }));
    const uid = created.metadata!.uid!;
    const jobPods = await eventually("two pods", async () => {
      const l = (await pods.list({ labelSelector: `batch.kubernetes.io/controller-uid=${uid}` })).items;
      return l.length === 2 ? l : undefined;
    });
    for (const p of jobPods) {
      assert.deepEqual(p.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
      assert.equal(p.metadata?.ownerReferences?.[0]?.name, "pi");
      assert.equal(p.metadata?.generateName, "pi-");
    }
    await eventually("active 2", async () => ((await jobs.get("pi")).status?.active === 2 ? true : undefined));
    for (const p of jobPods) {
      await pods.updateStatus({ ...p, status: { ...p.status, phase: "Succeeded" } });
    }
    const done = await eventually("Complete", async () => {
      const j = await jobs.get("pi");
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") === true ? j : undefined;
    });
    assert.equal(done.status?.succeeded, 2);
    assert.equal(done.status?.active, 0);
    assert.equal(done.status?.failed ?? 0, 0);
    assert.deepEqual(done.status?.uncountedTerminatedPods ?? {}, { succeeded: [], failed: [] });
    const criteria = done.status?.conditions?.find((c) => c.type === "SuccessCriteriaMet");
    assert.equal(criteria?.reason, "CompletionsReached");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Complete")?.reason, "CompletionsReached");
    assert.ok(done.status?.completionTime !== undefined);
    assert.ok(done.status?.startTime !== undefined);
    for (const p of jobPods) {
      const now = await pods.get(p.metadata!.name!);
      assert.deepEqual(now.metadata?.finalizers ?? [], []);
    }
    const events = t.client.resource<Event>("", "v1", "events").namespace("default");
    await eventually("Completed event", async () => {
      const l = (await events.list()).items.filter((e) => e.involvedObject.name === "pi");
      return l.some((e) => e.reason === "Completed" && e.message === "Job completed") && l.filter((e) => e.reason === "SuccessfulCreate").length === 2 ? true : undefined;
    });
    // ttlSecondsAfterFinished: 5 — the Job goes away.
    await eventually("deleted by TTL", async () => {
      try {
        await jobs.get("pi");
        return undefined;
      } catch {
        return true;
      }
    });
  } finally {
    jc.stop();
    ttl.stop();
    await Promise.all(running);
    await t.close();
  }
});

test("JobController: failed pods beyond backoffLimit fail the Job with FailureTarget and Failed BackoffLimitExceeded", async () => {
  const t = await startControllerTestEnv();
  const recorder = new ApiEventRecorder(t.ctx.env, t.client, { component: "job-controller" });
  const jc = new JobController(t.ctx, { recorder });
  jc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = jc.run(1);
  try {
    const jobs = t.client.resource<Job>("batch", "v1", "jobs").namespace("default");
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    const created = await jobs.create(newJob("fail", { completions: 1, parallelism: 1, backoffLimit: 0 }));
    const p = await eventually("a pod", async () => (await pods.list({ labelSelector: `batch.kubernetes.io/controller-uid=${created.metadata!.uid}` })).items[0]);
    await pods.updateStatus({ ...p, status: { ...p.status, phase: "Failed" } });
    const failed = await eventually("Failed", async () => {
      const j = await jobs.get("fail");
      return j.status?.conditions?.some((c) => c.type === "Failed" && c.status === "True") === true ? j : undefined;
    });
    assert.equal(failed.status?.failed, 1);
    const target = failed.status?.conditions?.find((c) => c.type === "FailureTarget");
    assert.equal(target?.reason, "BackoffLimitExceeded");
    assert.equal(failed.status?.conditions?.find((c) => c.type === "Failed")?.message, "Job has reached the specified backoff limit");
    // No replacement pod was made.
    assert.equal((await pods.list({ labelSelector: `batch.kubernetes.io/controller-uid=${created.metadata!.uid}` })).items.length, 1);
  } finally {
    jc.stop();
    await running;
    await t.close();
  }
});

test("JobController: an Indexed Job makes one pod per index with its hostname and records completedIndexes", async () => {
  const t = await startControllerTestEnv();
  const recorder = new ApiEventRecorder(t.ctx.env, t.client, { component: "job-controller" });
  const jc = new JobController(t.ctx, { recorder });
  jc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = jc.run(2);
  try {
    const jobs = t.client.resource<Job>("batch", "v1", "jobs").namespace("default");
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    const created = await jobs.create(newJob("idx", { completionMode: "Indexed", completions: 3, parallelism: 3 }));
    const list = await eventually("three pods", async () => {
      const l = (await pods.list({ labelSelector: `batch.kubernetes.io/controller-uid=${created.metadata!.uid}` })).items;
      return l.length === 3 ? l : undefined;
    });
    const byIndex = new Map(list.map((p) => [p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ["0", "1", "2"]);
    for (const [ix, p] of byIndex) {
      assert.equal(p.spec?.hostname, `idx-${ix}`);
      assert.ok(p.metadata?.name?.startsWith(`idx-${ix}-`));
      assert.equal(p.metadata?.labels?.["batch.kubernetes.io/job-completion-index"], ix);
    }
    for (const p of list) await pods.updateStatus({ ...p, status: { ...p.status, phase: "Succeeded" } });
    const done = await eventually("Complete", async () => {
      const j = await jobs.get("idx");
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") === true ? j : undefined;
    });
    assert.equal(done.status?.completedIndexes, "0-2");
    assert.equal(done.status?.succeeded, 3);
  } finally {
    jc.stop();
    await running;
    await t.close();
  }
});
