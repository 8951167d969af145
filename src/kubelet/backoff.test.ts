import assert from "node:assert/strict";
import { test } from "node:test";
import { CrashLoopBackOff, formatGoDuration } from "./backoff.js";

test("CrashLoopBackOff: 10 s doubling to 5 min, forgotten after 10 min without restarts", () => {
  const b = new CrashLoopBackOff();
  const seen: number[] = [];
  for (let i = 0; i < 7; i++) {
    b.next("k", i * 1000);
    seen.push(b.durationMs("k", i * 1000));
  }
  assert.deepEqual(seen, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.isInBackOffSince("k", 6000, 6000 + 299_999), true);
  assert.equal(b.isInBackOffSince("k", 6000, 6000 + 300_000), false);
  assert.equal(b.durationMs("k", 6000 + 600_001), 0, "reset after twice the maximum");
});

test("formatGoDuration: as Go prints durations in the back-off message", () => {
  assert.deepEqual([10_000, 80_000, 300_000].map(formatGoDuration), ["10s", "1m20s", "5m0s"]);
});
