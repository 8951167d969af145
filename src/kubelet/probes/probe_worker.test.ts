import assert from "node:assert/strict";
import { test } from "node:test";
import type { Probe } from "kubernetes-types/core/v1.js";
import { ManualClock } from "../../env/manual_clock.js";
import { ProbeWorker, type ProbeType } from "./probe_worker.js";

/** Lets the probe's promise and the worker's continuation run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function harness(type: ProbeType, probe: Probe, outcomes: boolean[], started = () => true) {
  const clock = new ManualClock();
  const results: boolean[] = [];
  const failures: string[] = [];
  let calls = 0;
  const w = new ProbeWorker({
    clock, type, probe, startedAtMs: clock.wallMs(), started,
    run: async () => {
      const ok = outcomes[Math.min(calls, outcomes.length - 1)]!;
      calls++;
      return { success: ok, output: ok ? "" : `fail ${calls}` };
    },
    onResult: (s) => results.push(s),
    onFailedAttempt: (o) => failures.push(o),
  });
  const step = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { w, results, failures, step, calls: () => calls };
}

test("ProbeWorker: liveness fails only after failureThreshold failures in a row, then stops probing", async () => {
  const h = harness("liveness", { periodSeconds: 10, failureThreshold: 3, initialDelaySeconds: 5 }, [true, false, false, true, false, false, false]);
  h.w.start();
  await h.step(4_999);
  assert.equal(h.calls(), 0, "nothing before initialDelaySeconds");
  await h.step(1);
  assert.equal(h.calls(), 1);
  for (let i = 0; i < 6; i++) await h.step(10_000);
  assert.equal(h.calls(), 7);
  assert.deepEqual(h.results, [false], "one flip, after the 3rd failure in a row");
  assert.deepEqual(h.failures, ["fail 2", "fail 3", "fail 5", "fail 6", "fail 7"]);
  assert.equal(h.w.stopped, true);
  await h.step(60_000);
  assert.equal(h.calls(), 7, "on hold until the container is replaced");
});

test("ProbeWorker: readiness starts not ready, becomes ready after successThreshold, and keeps probing", async () => {
  const h = harness("readiness", { periodSeconds: 1, successThreshold: 2, failureThreshold: 1 }, [true, true, false, true]);
  h.w.start();
  assert.equal(h.w.result, false);
  await h.step(0);
  await h.step(1000);
  assert.deepEqual(h.results, [true]);
  await h.step(1000);
  assert.deepEqual(h.results, [true, false]);
  await h.step(1000);
  await h.step(1000);
  assert.deepEqual(h.results, [true, false, true]);
  assert.equal(h.w.stopped, false);
});

test("ProbeWorker: liveness waits for the startup probe to succeed", async () => {
  let started = false;
  const h = harness("liveness", { periodSeconds: 1 }, [false], () => started);
  h.w.start();
  await h.step(0);
  await h.step(5000);
  assert.equal(h.calls(), 0);
  started = true;
  await h.step(1000);
  assert.equal(h.calls(), 1);
});
