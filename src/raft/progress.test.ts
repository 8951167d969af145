import { test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "./progress.js";

const newPr = (match: number, next: number) => new Progress({ match, next, maxInflight: 2, maxInflightBytes: 0, isLearner: false });

const decrCases = [
  { name: "replicate: a stale rejection (<= match) is ignored", state: "replicate", match: 5, next: 10, rejected: 5, hint: 0, ok: false, want: 10 },
  { name: "replicate: a rejection falls back to match+1", state: "replicate", match: 5, next: 10, rejected: 9, hint: 9, ok: true, want: 6 },
  { name: "probe: a rejection of an older probe is ignored", state: "probe", match: 0, next: 10, rejected: 5, hint: 5, ok: false, want: 10 },
  { name: "probe: next jumps to the hint + 1", state: "probe", match: 0, next: 10, rejected: 9, hint: 3, ok: true, want: 4 },
  { name: "probe: next never drops below 1", state: "probe", match: 0, next: 1, rejected: 0, hint: 0, ok: true, want: 1 },
];
for (const c of decrCases) {
  test(`Progress.maybeDecrTo: ${c.name}`, () => {
    const pr = newPr(c.match, c.next);
    if (c.state === "replicate") {
      pr.becomeReplicate();
      pr.next = c.next;
    }
    assert.equal(pr.maybeDecrTo(c.rejected, c.hint), c.ok);
    assert.equal(pr.next, c.want);
  });
}

test("Progress: a probe pauses after one message, an ack unpauses and moves match", () => {
  const pr = newPr(0, 5);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(1, 1, 5);
  assert.ok(pr.isPaused());
  assert.ok(pr.maybeUpdate(5));
  assert.equal(pr.isPaused(), false);
  assert.equal(pr.next, 6);
  assert.equal(pr.maybeUpdate(3), false, "an old ack does not move match back");
});

test("Progress: replicate sends optimistically until the window is full; snapshot pauses", () => {
  const pr = newPr(4, 5);
  pr.becomeReplicate();
  pr.sentEntries(2, 2, 6);
  assert.equal(pr.next, 7);
  pr.sentEntries(1, 1, 7);
  assert.ok(pr.isPaused());
  pr.becomeSnapshot(20);
  assert.ok(pr.isPaused());
  pr.becomeProbe();
  assert.equal(pr.next, 21, "after a snapshot, probe from just past it");
});

