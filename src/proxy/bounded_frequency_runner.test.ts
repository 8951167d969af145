import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { BoundedFrequencyRunner } from "./bounded_frequency_runner.js";

/** Lets the runner's promise chain settle (fn → finally → reschedule). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function setup(opts: { minIntervalMs: number; maxIntervalMs: number; burstRuns: number }, fn?: () => Promise<void>) {
  const clock = new ManualClock();
  const times: number[] = [];
  const runner = new BoundedFrequencyRunner(clock, fn ?? (async () => void times.push(clock.nowMs())), opts);
  return { clock, times, runner };
}

test("a request runs at once, and many requests between runs cost one run", async () => {
  const { clock, times, runner } = setup({ minIntervalMs: 1000, maxIntervalMs: 30_000, burstRuns: 1 });
  runner.start();
  runner.run();
  clock.advance(0);
  await settle();
  assert.deepEqual(times, [0]);
  for (let i = 0; i < 100; i++) runner.run();
  clock.advance(999);
  await settle();
  assert.deepEqual(times, [0], "no run before the min interval");
  clock.advance(1);
  await settle();
  assert.deepEqual(times, [0, 1000], "exactly one run for 100 requests");
  await runner.stop();
});

test("burstRuns lets that many requests run back to back, then min interval applies", async () => {
  const { clock, times, runner } = setup({ minIntervalMs: 1000, maxIntervalMs: 30_000, burstRuns: 2 });
  runner.start();
  for (let i = 0; i < 3; i++) {
    runner.run();
    clock.advance(0);
    await settle();
  }
  assert.deepEqual(times, [0, 0]);
  clock.advance(1000);
  await settle();
  assert.deepEqual(times, [0, 0, 1000]);
  await runner.stop();
});

test("without requests it runs every max interval", async () => {
  const { clock, times, runner } = setup({ minIntervalMs: 1000, maxIntervalMs: 30_000, burstRuns: 2 });
  runner.start();
  for (let i = 0; i < 3; i++) {
    clock.advance(30_000);
    await settle();
  }
  assert.deepEqual(times, [30_000, 60_000, 90_000]);
  await runner.stop();
});

test("a request during a run makes exactly one more run after it, never two at once", async () => {
  const clock = new ManualClock();
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => undefined;
  let runs = 0;
  const runner = new BoundedFrequencyRunner(clock, async () => {
    runs++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((r) => (release = r));
    active--;
  }, { minIntervalMs: 0, maxIntervalMs: 60_000, burstRuns: 1 });
  runner.start();
  runner.run();
  clock.advance(0);
  await settle();
  runner.run();
  runner.run();
  clock.advance(0);
  await settle();
  assert.equal(runs, 1);
  release();
  await settle();
  clock.advance(0);
  await settle();
  assert.equal(runs, 2);
  release();
  await settle();
  clock.advance(0);
  await settle();
  assert.equal(runs, 2);
  assert.equal(maxActive, 1);
  await runner.stop();
});

test("retryAfter runs again after the delay", async () => {
  const { clock, times, runner } = setup({ minIntervalMs: 100, maxIntervalMs: 30_000, burstRuns: 1 });
  runner.start();
  runner.retryAfter(5000);
  clock.advance(4999);
  await settle();
  assert.deepEqual(times, []);
  clock.advance(1);
  await settle();
  assert.deepEqual(times, [5000]);
  await runner.stop();
});

test("after stop nothing runs", async () => {
  const { clock, times, runner } = setup({ minIntervalMs: 0, maxIntervalMs: 1000, burstRuns: 1 });
  runner.start();
  await runner.stop();
  runner.run();
  clock.advance(10_000);
  await settle();
  assert.deepEqual(times, []);
});
