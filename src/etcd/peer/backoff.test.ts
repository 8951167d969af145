import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "./backoff.js";

test("backoff: delays double from the initial delay up to the cap and stay there", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000 });
  assert.deepEqual(Array.from({ length: 7 }, () => b.next()), [100, 200, 400, 800, 1000, 1000, 1000]);
});

test("backoff: a reset makes the next delay the initial one again", () => {
  const b = new Backoff({ initialMs: 50, maxMs: 400 });
  b.next();
  b.next();
  b.reset();
  assert.equal(b.next(), 50);
});

test("backoff: options where the cap is below the initial delay are refused", () => {
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), /0 < initialMs <= maxMs/);
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), RangeError);
});
