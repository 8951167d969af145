import { test } from "node:test";
import assert from "node:assert/strict";
import { phaseFigures, quantile } from "./stats.js";

test("quantile picks the nearest rank and is NaN without samples", () => {
  const cases: { xs: number[]; q: number; want: number }[] = [
    { xs: [5, 1, 3], q: 0.5, want: 3 },
    { xs: [1, 2, 3, 4], q: 0.5, want: 2 },
    { xs: Array.from({ length: 100 }, (_, i) => i + 1), q: 0.99, want: 99 },
    { xs: [7], q: 0.99, want: 7 },
  ];
  for (const c of cases) assert.equal(quantile(c.xs, c.q), c.want, `${c.xs} q=${c.q}`);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test("phaseFigures measures from the first create to the last binding and ignores pods it did not create", () => {
  const createdMs = new Map([["a", 1000], ["b", 1100], ["c", 1200]]);
  const boundMs = new Map([["a", 1500], ["b", 2000], ["c", 3000], ["init", 900]]);
  const f = phaseFigures({ createdMs, boundMs });
  assert.equal(f.pods, 3);
  assert.equal(f.bound, 3);
  assert.equal(f.elapsedMs, 2000);
  assert.equal(f.podsPerSecond, 1.5);
  // Two full windows [1000,2000) and [2000,3000): a, then b; c lands on the edge of the third.
  assert.equal(f.windowAveragePodsPerSecond, 1);
  assert.equal(f.p50Ms, 900);
  assert.equal(f.p99Ms, 1800);
});

test("phaseFigures on a phase shorter than a second rates it by its length", () => {
  const f = phaseFigures({ createdMs: new Map([["a", 0], ["b", 0]]), boundMs: new Map([["a", 100], ["b", 200]]) });
  assert.equal(f.podsPerSecond, 10);
  assert.equal(f.windowAveragePodsPerSecond, 10);
});
