import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter } from "./rate_limiter.js";

test("ItemExponentialFailureRateLimiter: delays double per failure from 5 ms and reset on forget", () => {
  const l = new ItemExponentialFailureRateLimiter<string>();
  assert.deepEqual([1, 2, 3, 4, 5].map(() => l.when("a")), [5, 10, 20, 40, 80]);
  assert.equal(l.when("b"), 5, "items back off independently");
  assert.equal(l.numRequeues("a"), 5);
  l.forget("a");
  assert.equal(l.numRequeues("a"), 0);
  assert.equal(l.when("a"), 5);
});

test("ItemExponentialFailureRateLimiter: the delay is capped at 1000 s, even after very many failures", () => {
  const l = new ItemExponentialFailureRateLimiter<string>();
  let last = 0;
  for (let i = 0; i < 2000; i++) last = l.when("a");
  assert.equal(last, 1_000_000);
});

test("BucketRateLimiter: a burst of 100 passes at once, then retries are spaced at 10 qps", () => {
  const clock = new ManualClock();
  const l = new BucketRateLimiter<string>(clock);
  for (let i = 0; i < 100; i++) assert.equal(l.when(`k${i}`), 0);
  assert.equal(l.when("x"), 100);
  assert.equal(l.when("y"), 200, "each reservation waits behind the ones before it");
  clock.advance(1000);
  // 10 tokens refilled, 2 already reserved: 8 free, then waiting again.
  for (let i = 0; i < 8; i++) assert.equal(l.when(`z${i}`), 0);
  assert.equal(l.when("w"), 100);
});

test("MaxOfRateLimiter: the default controller limiter takes the larger of item backoff and bucket", () => {
  const clock = new ManualClock();
  const l = defaultControllerRateLimiter<string>(clock);
  assert.equal(l.when("a"), 5);
  assert.equal(l.when("a"), 10);
  for (let i = 0; i < 98; i++) l.when(`k${i}`);
  // The bucket is empty now: a fresh item waits for the bucket, not just 5 ms.
  assert.equal(l.when("fresh"), 100);
  assert.equal(l.numRequeues("a"), 2);
  l.forget("a");
  assert.equal(l.numRequeues("a"), 0);
  assert.ok(new MaxOfRateLimiter<string>() instanceof MaxOfRateLimiter);
});
