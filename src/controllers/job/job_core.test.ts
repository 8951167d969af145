import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Job } from "kubernetes-types/batch/v1.js";
import { rfc3339 } from "../events/recorder.js";
import {
  decideJob,
  formatIndexes,
  newBackoffRecord,
  NO_BACKOFF,
  parseIndexes,
  podFailureBackoffMs,
  remainingBackoffMs,
  podTemplateForIndex,
  JOB_TRACKING_FINALIZER,
  JOB_COMPLETION_INDEX_ANNOTATION,
  type JobDecisionInput,
} from "./job_core.js";

const T0 = Date.parse("2024-05-01T00:00:00Z");

function job(spec: Partial<NonNullable<Job["spec"]>> = {}, status: Job["status"] = {}): Job {
  return {
    metadata: { name: "pi", namespace: "default", uid: "job-uid" },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, template: { spec: { containers: [{ name: "c" }], restartPolicy: "Never" } }, ...spec },
    status,
  };
}

function pod(name: string, phase: string, opts: { finishedAtMs?: number; index?: number; ready?: boolean; finalizer?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      creationTimestamp: rfc3339(T0),
      ...(opts.finalizer === false ? {} : { finalizers: [JOB_TRACKING_FINALIZER] }),
      ...(opts.index === undefined ? {} : { annotations: { [JOB_COMPLETION_INDEX_ANNOTATION]: String(opts.index) } }),
    },
    spec: { containers: [{ name: "c" }] },
    status: {
      phase,
      ...(opts.ready === true ? { conditions: [{ type: "Ready", status: "True" }] } : {}),
      ...(opts.finishedAtMs === undefined ? {} : { containerStatuses: [{ name: "c", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: rfc3339(opts.finishedAtMs) } } }] }),
    },
  };
}

function input(j: Job, pods: Pod[], extra: Partial<JobDecisionInput> = {}): JobDecisionInput {
  return { job: j, pods, nowMs: T0, backoff: NO_BACKOFF, expectedRmFinalizers: new Set(), satisfiedExpectations: true, ...extra };
}

const backoffCases = [
  { failures: 0, want: 0 },
  { failures: 1, want: 10_000 },
  { failures: 2, want: 20_000 },
  { failures: 6, want: 320_000 },
  { failures: 7, want: 600_000 },
  { failures: 30, want: 600_000 },
];
for (const c of backoffCases) {
  test(`podFailureBackoffMs: ${c.failures} failures since the last success wait ${c.want} ms`, () => assert.equal(podFailureBackoffMs(c.failures), c.want));
}

test("remainingBackoffMs: the wait counts from the last failure and reaches zero", () => {
  const rec = { failuresAfterLastSuccess: 2, lastFailureTimeMs: T0 };
  assert.equal(remainingBackoffMs(rec, T0 + 5_000), 15_000);
  assert.equal(remainingBackoffMs(rec, T0 + 25_000), 0);
});

test("newBackoffRecord: a success resets the count to the failures that came after it", () => {
  const failedEarly = pod("a", "Failed", { finishedAtMs: T0 });
  const ok = pod("b", "Succeeded", { finishedAtMs: T0 + 1000 });
  const failedLate = pod("c", "Failed", { finishedAtMs: T0 + 2000 });
  assert.deepEqual(newBackoffRecord({ failuresAfterLastSuccess: 4, lastFailureTimeMs: T0 - 1 }, [ok], [failedEarly, failedLate]), {
    failuresAfterLastSuccess: 1,
    lastFailureTimeMs: T0 + 2000,
  });
  assert.deepEqual(newBackoffRecord(NO_BACKOFF, [], [failedEarly, failedLate]), { failuresAfterLastSuccess: 2, lastFailureTimeMs: T0 + 2000 });
});

test("formatIndexes and parseIndexes: ranges are written compactly and read back", () => {
  assert.equal(formatIndexes([4, 0, 1, 2, 6, 7]), "0-2,4,6-7");
  assert.deepEqual([...parseIndexes("0-2,4,6-7", 7)].sort(), [0, 1, 2, 4, 6]);
});

test("decideJob: a new Job creates parallelism pods, no more than the completions left", () => {
  const d = decideJob(input(job({ completions: 5, parallelism: 3 }), []));
  assert.equal(d.indexesToCreate.length, 3);
  assert.equal(d.active, 3);
  assert.equal(d.finishedCondition, undefined);
  const d2 = decideJob(input(job({ completions: 5, parallelism: 3 }, { succeeded: 4 }), []));
  assert.equal(d2.indexesToCreate.length, 1);
});

test("decideJob: pods are not created while the expectations of an earlier sync are unmet", () => {
  const d = decideJob(input(job(), [], { satisfiedExpectations: false }));
  assert.equal(d.indexesToCreate.length, 0);
});

test("decideJob: all completions succeeded gives SuccessCriteriaMet with CompletionsReached", () => {
  const d = decideJob(input(job({ completions: 2, parallelism: 2 }), [pod("a", "Succeeded"), pod("b", "Succeeded")]));
  assert.deepEqual(d.finishedCondition, { type: "SuccessCriteriaMet", reason: "CompletionsReached", message: "Reached expected number of succeeded pods" });
  assert.equal(d.succeeded, 2);
  assert.equal(d.newSucceeded.length, 2);
});

test("decideJob: an existing SuccessCriteriaMet condition becomes Complete with the same reason", () => {
  const j = job({}, { succeeded: 1, conditions: [{ type: "SuccessCriteriaMet", status: "True", reason: "CompletionsReached", message: "m" }] });
  assert.deepEqual(decideJob(input(j, [])).finishedCondition, { type: "Complete", reason: "CompletionsReached", message: "m" });
});

test("decideJob: failures beyond backoffLimit give FailureTarget BackoffLimitExceeded and delete active pods", () => {
  const j = job({ completions: 3, parallelism: 2, backoffLimit: 1 });
  const d = decideJob(input(j, [pod("a", "Failed", { finishedAtMs: T0 }), pod("b", "Failed", { finishedAtMs: T0 }), pod("c", "Running")]));
  assert.deepEqual(d.finishedCondition, { type: "FailureTarget", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" });
  assert.deepEqual(d.podsToDelete.map((p) => p.metadata?.name), ["c"]);
  assert.equal(d.failed, 2);
});

test("decideJob: a failed pod delays the replacement by the pod-failure backoff", () => {
  const j = job({ completions: 1, backoffLimit: 6 });
  const d = decideJob(input(j, [pod("a", "Failed", { finishedAtMs: T0 - 4_000 })]));
  assert.equal(d.indexesToCreate.length, 0);
  assert.equal(d.requeueAfterMs, 6_000);
  const later = decideJob(input(j, [pod("a", "Failed", { finishedAtMs: T0 - 4_000 })], { nowMs: T0 + 7_000 }));
  assert.equal(later.indexesToCreate.length, 1);
});

test("decideJob: activeDeadlineSeconds past the start gives DeadlineExceeded, before it a requeue", () => {
  const j = job({ activeDeadlineSeconds: 30 }, { startTime: rfc3339(T0) });
  assert.equal(decideJob(input(j, [pod("a", "Running")], { nowMs: T0 + 10_000 })).requeueAfterMs, 20_000);
  const d = decideJob(input(j, [pod("a", "Running")], { nowMs: T0 + 31_000 }));
  assert.equal(d.finishedCondition?.reason, "DeadlineExceeded");
  assert.equal(d.finishedCondition?.message, "Job was active longer than specified deadline");
});

test("decideJob: a suspended Job deletes its active pods and says Suspended", () => {
  const d = decideJob(input(job({ suspend: true }), [pod("a", "Running")]));
  assert.equal(d.podsToDelete.length, 1);
  assert.equal(d.indexesToCreate.length, 0);
  assert.deepEqual(d.suspended, { status: "True", reason: "JobSuspended", message: "Job suspended" });
});

test("decideJob: an Indexed Job creates the lowest indexes neither active nor succeeded", () => {
  const j = job({ completionMode: "Indexed", completions: 4, parallelism: 3 });
  const d = decideJob(input(j, [pod("a", "Succeeded", { index: 0 }), pod("b", "Running", { index: 2 })]));
  assert.deepEqual(d.indexesToCreate, [1, 3]);
  assert.equal(d.succeeded, 1);
});

test("decideJob: an Indexed Job deletes a pod that duplicates an index", () => {
  const j = job({ completionMode: "Indexed", completions: 2, parallelism: 2 });
  const d = decideJob(input(j, [pod("a", "Running", { index: 0 }), pod("b", "Running", { index: 0 }), pod("c", "Running", { index: 1 })]));
  assert.equal(d.podsToDelete.length, 1);
});

test("podTemplateForIndex: the index goes into the annotation, label, env and hostname", () => {
  const t = podTemplateForIndex(job(), { spec: { containers: [{ name: "c" }] } }, 3);
  assert.equal(t.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION], "3");
  assert.equal(t.metadata?.labels?.[JOB_COMPLETION_INDEX_ANNOTATION], "3");
  assert.equal(t.spec?.hostname, "pi-3");
  assert.equal(t.spec?.containers[0]?.env?.[0]?.name, "JOB_COMPLETION_INDEX");
});
