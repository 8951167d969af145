import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Event } from "kubernetes-types/core/v1.js";
import { ManualClock } from "../../env/manual_clock.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { startControllerTestEnv } from "../util/controller_test_env.js";
import { ApiEventRecorder, objectReference, rfc3339 } from "./recorder.js";

test("objectReference carries kind, namespace, name, uid, apiVersion and resourceVersion", () => {
  const ref = objectReference({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web", namespace: "ns", uid: "u", resourceVersion: "5" } });
  assert.deepEqual(ref, { kind: "ReplicaSet", namespace: "ns", name: "web", uid: "u", apiVersion: "apps/v1", resourceVersion: "5" });
});

test("rfc3339 prints whole seconds as metav1.Time does", () => {
  assert.equal(rfc3339(Date.parse("2026-01-02T03:04:05.678Z")), "2026-01-02T03:04:05Z");
});

test("the recorder writes Events through the API and counts identical ones on the first", async () => {
  const t = await startControllerTestEnv();
  try {
    const clock = new ManualClock(0);
    const rec = new ApiEventRecorder({ clock, log: new MemoryLogger() }, t.client, { component: "replicaset-controller" });
    const cm = await t.client.resource<ConfigMap>("", "v1", "configmaps").namespace("default").create({ metadata: { name: "owner" } });
    rec.event(cm, "Normal", "SuccessfulCreate", "Created pod: owner-abcde");
    await rec.flush();
    clock.advance(2000);
    rec.event(cm, "Normal", "SuccessfulCreate", "Created pod: owner-abcde");
    rec.event(cm, "Warning", "FailedCreate", "Error creating: quota");
    await rec.flush();
    const events = (await t.client.resource<Event>("", "v1", "events").namespace("default").list()).items;
    assert.equal(events.length, 2);
    const created = events.find((e) => e.reason === "SuccessfulCreate")!;
    assert.equal(created.count, 2);
    assert.equal(created.type, "Normal");
    assert.equal(created.message, "Created pod: owner-abcde");
    assert.equal(created.source?.component, "replicaset-controller");
    assert.equal(created.involvedObject.uid, cm.metadata?.uid);
    assert.equal(created.involvedObject.kind, "ConfigMap");
    assert.equal(created.involvedObject.resourceVersion, cm.metadata?.resourceVersion);
    assert.match(created.metadata!.name!, /^owner\.[0-9a-f]+$/);
    assert.equal(created.firstTimestamp, rfc3339(clock.wallMs() - 2000));
    assert.equal(created.lastTimestamp, rfc3339(clock.wallMs()));
    const failed = events.find((e) => e.reason === "FailedCreate")!;
    assert.deepEqual([failed.type, failed.count], ["Warning", 1]);
    assert.deepEqual(rec.stats(), { written: 2, patched: 1, dropped: 0, failed: 0 });
  } finally {
    await t.stop();
  }
});

test("the recorder never throws and drops events beyond its queue", async () => {
  const t = await startControllerTestEnv();
  try {
    const log = new MemoryLogger();
    const rec = new ApiEventRecorder({ clock: new ManualClock(), log }, t.client, { component: "x", queueMax: 2 });
    assert.doesNotThrow(() => rec.event({ metadata: {} }, "Normal", "R", "no name"));
    for (let i = 0; i < 5; i++) rec.event({ kind: "Pod", apiVersion: "v1", metadata: { name: `p${i}`, namespace: "default" } }, "Normal", "R", `m${i}`);
    await rec.flush();
    // The first starts writing at once (leaving the queue), two wait, two are dropped.
    assert.equal(rec.stats().dropped, 2);
    assert.equal(rec.stats().written, 3);
    // A server that refuses an event (a namespace that does not exist) costs one warning, not an exception.
    rec.event({ kind: "Pod", apiVersion: "v1", metadata: { name: "x", namespace: "nope" } }, "Normal", "R", "m");
    await rec.flush();
    assert.equal(rec.stats().failed, 1);
    assert.ok(log.records.some((r) => r.msg === "cannot write event; dropped"));
  } finally {
    await t.stop();
  }
});
