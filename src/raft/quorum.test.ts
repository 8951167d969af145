import { test } from "node:test";
import assert from "node:assert/strict";
import { majorityCommitted, voteResult } from "./quorum.js";

const commitCases = [
  { name: "three voters: the second highest", voters: [1n, 2n, 3n], match: { 1: 9, 2: 7, 3: 3 }, want: 7 },
  { name: "five voters: the third highest", voters: [1n, 2n, 3n, 4n, 5n], match: { 1: 9, 2: 7, 3: 7, 4: 3, 5: 0 }, want: 7 },
  { name: "four voters need three", voters: [1n, 2n, 3n, 4n], match: { 1: 9, 2: 7, 3: 3, 4: 0 }, want: 3 },
  { name: "a voter with no progress counts as 0", voters: [1n, 2n, 3n], match: { 1: 9 }, want: 0 },
  { name: "no voters commit everything", voters: [], match: {}, want: Number.MAX_SAFE_INTEGER },
];
for (const c of commitCases) {
  test(`majorityCommitted: ${c.name}`, () => {
    const m = c.match as Record<string, number>;
    assert.equal(majorityCommitted(new Set(c.voters), (id) => m[String(id)]), c.want);
  });
}

const voteCases = [
  { name: "a majority of yes wins", votes: [[1n, true], [2n, true]], want: "VoteWon" },
  { name: "a majority of no loses", votes: [[1n, true], [2n, false], [3n, false]], want: "VoteLost" },
  { name: "undecided while a majority is still possible", votes: [[1n, true], [2n, false]], want: "VotePending" },
] as const;
for (const c of voteCases) {
  test(`voteResult: ${c.name} (3 voters)`, () => {
    assert.equal(voteResult(new Set([1n, 2n, 3n]), new Map(c.votes as unknown as [bigint, boolean][])), c.want);
  });
}

