import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressTracker } from "./tracker.js";

function tracker(voters: bigint[], learners: bigint[] = []): ProgressTracker {
  const t = new ProgressTracker(4, 0);
  for (const id of voters) {
    t.voters.add(id);
    t.progress.set(id, t.newProgress(0, 1, false));
  }
  for (const id of learners) {
    t.learners.add(id);
    t.progress.set(id, t.newProgress(0, 1, true));
  }
  return t;
}

test("ProgressTracker: learners' matches do not count toward the commit index", () => {
  const t = tracker([1n, 2n, 3n], [4n, 5n]);
  t.progress.get(1n)!.match = 10;
  t.progress.get(4n)!.match = 10;
  t.progress.get(5n)!.match = 10;
  assert.equal(t.committed(), 0);
  t.progress.get(2n)!.match = 8;
  assert.equal(t.committed(), 8);
});

test("ProgressTracker: only a member's first vote counts, and learners' votes are ignored", () => {
  const t = tracker([1n, 2n, 3n], [4n]);
  t.recordVote(1n, true);
  t.recordVote(4n, true);
  assert.equal(t.tallyVotes().result, "VotePending");
  t.recordVote(2n, false);
  t.recordVote(2n, true);
  assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 1, result: "VotePending" });
  t.recordVote(3n, false);
  assert.equal(t.tallyVotes().result, "VoteLost");
});

test("ProgressTracker: quorumActive counts recently active voters only", () => {
  const t = tracker([1n, 2n, 3n], [4n]);
  t.progress.get(1n)!.recentActive = true;
  t.progress.get(4n)!.recentActive = true;
  assert.equal(t.quorumActive(), false);
  t.progress.get(3n)!.recentActive = true;
  assert.equal(t.quorumActive(), true);
});

test("ProgressTracker: ids and confState come out sorted, for deterministic message order", () => {
  const t = tracker([3n, 1n, 2n], [9n, 5n]);
  assert.deepEqual(t.ids(), [1n, 2n, 3n, 5n, 9n]);
  assert.deepEqual(t.confState(), { voters: [1n, 2n, 3n], learners: [5n, 9n] });
});
