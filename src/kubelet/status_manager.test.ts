import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import { MemoryLogger } from "../env/memory_logger.js";
import type { RestClient } from "../client/rest_client.js";
import { StatusManager } from "./status_manager.js";

const pod: Pod = { metadata: { name: "web", namespace: "default", uid: "u1" }, status: { phase: "Pending" } };
const status = (phase: PodStatus["phase"], ready = "False"): PodStatus => ({ phase, conditions: [{ type: "Ready", status: ready }] });

/** A writer whose calls stay pending until the test releases them, recording what was written. */
function gatedWriter() {
  const written: PodStatus[] = [];
  const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const write = (_p: Pod, s: PodStatus) => new Promise<void>((resolve, reject) => {
    written.push(s);
    gates.push({ resolve, reject });
  });
  const release = async (err?: Error) => {
    const g = gates.shift();
    assert.ok(g !== undefined, "a write is pending");
    if (err === undefined) g.resolve();
    else g.reject(err);
    await new Promise((r) => setImmediate(r));
  };
  return { written, gates, write, release };
}

const noClient = {} as RestClient;

test("setPodStatus writes nothing when the API already holds the status, or when it was written before", async () => {
  const w = gatedWriter();
  const sm = new StatusManager(noClient, new MemoryLogger(), w.write);
  await sm.setPodStatus({ ...pod, status: status("Running", "True") }, status("Running", "True"));
  assert.equal(w.written.length, 0);
  const p = sm.setPodStatus(pod, status("Failed"));
  await w.release();
  await p;
  await sm.setPodStatus(pod, status("Failed"));
  assert.equal(w.written.length, 1);
  assert.equal(sm.writes, 1);
});

test("changes that arrive while a write is in flight coalesce into one write of the newest status", async () => {
  const w = gatedWriter();
  const sm = new StatusManager(noClient, new MemoryLogger(), w.write);
  const first = sm.setPodStatus(pod, status("Pending"));
  const second = sm.setPodStatus(pod, status("Running"));
  const third = sm.setPodStatus(pod, status("Running", "True"));
  assert.equal(w.written.length, 1, "one write at a time per pod");
  await w.release();
  assert.deepEqual(w.written.map((s) => [s.phase, s.conditions?.[0]?.status]), [["Pending", "False"], ["Running", "True"]], "the intermediate status is never sent");
  await w.release();
  await Promise.all([first, second, third]);
  assert.deepEqual(sm.lastStatus("u1"), status("Running", "True"));
});

test("a failed write is retried by the next setPodStatus, even with the same status", async () => {
  const w = gatedWriter();
  const log = new MemoryLogger();
  const sm = new StatusManager(noClient, log, w.write);
  const p = sm.setPodStatus(pod, status("Running"));
  await w.release(new Error("connection reset"));
  await p;
  assert.ok(log.records.some((r) => r.msg === "cannot update pod status"));
  const again = sm.setPodStatus(pod, status("Running"));
  assert.equal(w.written.length, 2);
  await w.release();
  await again;
  await sm.setPodStatus(pod, status("Running"));
  assert.equal(w.written.length, 2, "written now: nothing more to send");
});

test("forget drops the pod's cache: a new pod with its uid starts from what the API shows", async () => {
  const w = gatedWriter();
  const sm = new StatusManager(noClient, new MemoryLogger(), w.write);
  const p = sm.setPodStatus(pod, status("Running"));
  await w.release();
  await p;
  sm.forget("u1");
  assert.equal(sm.lastStatus("u1"), undefined);
  await sm.setPodStatus({ ...pod, status: status("Running") }, status("Running"));
  assert.equal(w.written.length, 1);
});
