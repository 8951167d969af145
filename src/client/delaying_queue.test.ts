import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { DelayingQueue } from "./delaying_queue.js";
import { newRateLimitingQueue } from "./rate_limiting_queue.js";

test("DelayingQueue: an item added after a delay appears only when the clock reaches it", () => {
  const clock = new ManualClock();
  const q = new DelayingQueue<string>(clock);
  q.addAfter("a", 50);
  q.addAfter("b", 10);
  assert.equal(q.len(), 0);
  assert.equal(q.waiting(), 2);
  clock.advance(9);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.tryGet(), "b");
  clock.advance(39);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.tryGet(), "a");
  assert.equal(q.waiting(), 0);
});

test("DelayingQueue: adding a waiting item again keeps the earlier ready time", () => {
  const clock = new ManualClock();
  const q = new DelayingQueue<string>(clock);
  q.addAfter("a", 100);
  q.addAfter("a", 20);
  q.addAfter("a", 500);
  assert.equal(q.waiting(), 1);
  clock.advance(20);
  assert.equal(q.tryGet(), "a");
  q.done("a");
  clock.advance(1000);
  assert.equal(q.len(), 0, "the later duplicates were folded into the first");
});

test("DelayingQueue: a zero delay adds at once and many delays come out in ready order", () => {
  const clock = new ManualClock();
  const q = new DelayingQueue<number>(clock);
  q.addAfter(-1, 0);
  assert.equal(q.tryGet(), -1);
  const delays = [70, 10, 40, 30, 90, 20, 60, 50, 80, 0.5];
  delays.forEach((d, i) => q.addAfter(i, d));
  clock.advance(100);
  const order: number[] = [];
  for (let k = q.tryGet(); k !== undefined; k = q.tryGet()) order.push(delays[k]!);
  assert.deepEqual(order, [...delays].sort((a, b) => a - b));
});

test("DelayingQueue: shutDown cancels waiting items", () => {
  const clock = new ManualClock();
  const q = new DelayingQueue<string>(clock);
  q.addAfter("a", 10);
  q.shutDown();
  clock.advance(100);
  assert.equal(q.len(), 0);
});

test("RateLimitingQueue: a failing key comes back after 5, 10, 20 ms and at once after forget", () => {
  const clock = new ManualClock();
  const q = newRateLimitingQueue<string>(clock, { name: "test" });
  const readyAfter: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = clock.nowMs();
    q.addRateLimited("k");
    while (q.len() === 0) clock.advance(1);
    readyAfter.push(clock.nowMs() - start);
    assert.equal(q.tryGet(), "k");
    q.done("k");
  }
  assert.deepEqual(readyAfter, [5, 10, 20]);
  assert.equal(q.numRequeues("k"), 3);
  q.forget("k");
  assert.equal(q.numRequeues("k"), 0);
  assert.equal(q.metrics().retries, 3);
});
