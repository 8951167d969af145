import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftChecker, type RaftViolation } from "./raft_checker.js";
import type { Entry, HardState } from "../../src/raft/types.js";

const e = (index: number, term: number, data = `d${index}t${term}`): Entry => ({ index, term, type: "EntryNormal", data: new TextEncoder().encode(data) });
const hs = (term: number, vote: bigint, commit: number): HardState => ({ term, vote, commit });

/** A script of observer calls: p = persisted, a = applied, l = leader, s = snapshot installed, c = crashed. */
type Call =
  | { p: bigint; hs?: HardState; ents?: Entry[] }
  | { a: bigint; ent: Entry }
  | { l: bigint; term: number; leader: bigint }
  | { s: bigint; index: number; term: number }
  | { c: bigint };

function run(calls: Call[]): RaftViolation[] {
  const c = new RaftChecker();
  for (const call of calls) {
    if ("p" in call) c.persisted(call.p, call.hs ?? null, call.ents ?? []);
    else if ("a" in call) c.applied(call.a, call.ent);
    else if ("l" in call) c.leader(call.l, call.term, call.leader);
    else if ("s" in call) c.snapshotInstalled(call.s, call.index, call.term);
    else c.crashed(call.c);
  }
  return c.violations;
}

const cases: { name: string; calls: Call[]; want: RaftViolation["property"] | null }[] = [
  {
    name: "a normal history: election, replication, apply on both",
    calls: [
      { p: 1n, hs: hs(2, 1n, 0), ents: [e(1, 1)] },
      { p: 2n, hs: hs(2, 1n, 0), ents: [e(1, 1)] },
      { l: 1n, term: 2, leader: 1n },
      { l: 2n, term: 2, leader: 1n },
      { p: 1n, ents: [e(2, 2)] },
      { p: 2n, hs: hs(2, 1n, 2), ents: [e(2, 2)] },
      { a: 1n, ent: e(1, 1) }, { a: 1n, ent: e(2, 2) }, { a: 2n, ent: e(1, 1) }, { a: 2n, ent: e(2, 2) },
    ],
    want: null,
  },
  {
    name: "a follower may overwrite an uncommitted suffix with the new leader's entries",
    calls: [
      { p: 1n, ents: [e(1, 1), e(2, 1)] },
      { p: 2n, ents: [e(1, 1), e(2, 2, "other")] },
      { p: 1n, ents: [e(2, 2, "other")] },
      { a: 1n, ent: e(2, 2, "other") },
    ],
    want: null,
  },
  {
    name: "a restarted member re-applies entries it applied before its crash",
    calls: [
      { p: 1n, ents: [e(1, 1), e(2, 1)] }, { a: 1n, ent: e(1, 1) }, { a: 1n, ent: e(2, 1) }, { a: 1n, ent: e(1, 1) },
    ],
    want: null,
  },
  { name: "two leaders in one term", calls: [{ l: 1n, term: 3, leader: 1n }, { l: 2n, term: 3, leader: 2n }], want: "election-safety" },
  { name: "a follower names another leader for a term", calls: [{ l: 1n, term: 3, leader: 1n }, { l: 3n, term: 3, leader: 2n }], want: "election-safety" },
  { name: "a member votes twice in one term", calls: [{ p: 1n, hs: hs(4, 2n, 0) }, { p: 1n, hs: hs(4, 3n, 0) }], want: "election-safety" },
  { name: "two members hold different entries at the same index and term", calls: [{ p: 1n, ents: [e(1, 1, "x")] }, { p: 2n, ents: [e(1, 1, "y")] }], want: "log-matching" },
  {
    name: "two logs agree at (2, 3) but disagree before it",
    calls: [{ p: 1n, ents: [e(1, 1), e(2, 3)] }, { p: 2n, ents: [e(1, 2), e(2, 3)] }],
    want: "log-matching",
  },
  { name: "entry terms go down along a log", calls: [{ p: 1n, ents: [e(1, 2), e(2, 1)] }], want: "log-matching" },
  { name: "two members apply different entries at one index", calls: [{ a: 1n, ent: e(1, 1, "x") }, { a: 2n, ent: e(1, 1, "y") }], want: "state-machine-safety" },
  {
    name: "a member overwrites an entry it already applied",
    calls: [{ p: 1n, ents: [e(1, 1), e(2, 1)] }, { a: 1n, ent: e(1, 1) }, { a: 1n, ent: e(2, 1) }, { p: 1n, ents: [e(2, 2)] }],
    want: "state-machine-safety",
  },
  {
    // A conflicting append during a Ready's persist makes Raft hand the unstable tail out again (SIM_SEED=6349).
    name: "a member persists again, unchanged, entries it already applied, then a new tail",
    calls: [{ p: 1n, ents: [e(1, 1), e(2, 1), e(3, 1)] }, { a: 1n, ent: e(1, 1) }, { a: 1n, ent: e(2, 1) }, { p: 1n, ents: [e(1, 1), e(2, 1), e(3, 2)] }],
    want: null,
  },
  {
    name: "a leader is elected without an entry that was committed before its term",
    calls: [
      { p: 1n, ents: [e(1, 1), e(2, 1)] }, { a: 1n, ent: e(2, 1) },
      { p: 2n, ents: [e(1, 1)] },
      { l: 2n, term: 2, leader: 2n },
    ],
    want: "leader-completeness",
  },
  {
    name: "a leader whose snapshot covers the committed entries is complete",
    calls: [{ a: 1n, ent: e(5, 1) }, { s: 2n, index: 5, term: 1 }, { l: 2n, term: 2, leader: 2n }],
    want: null,
  },
  { name: "a member's persisted term goes back", calls: [{ p: 1n, hs: hs(5, 0n, 0) }, { p: 1n, hs: hs(4, 0n, 0) }], want: "durable-state" },
  { name: "a member's persisted commit goes back", calls: [{ p: 1n, hs: hs(5, 0n, 9) }, { p: 1n, hs: hs(5, 0n, 3) }], want: "durable-state" },
  {
    name: "after a crash the commit index may go back once (a commit-only hard state is not synced)",
    calls: [{ p: 1n, hs: hs(5, 0n, 9) }, { c: 1n }, { p: 1n, hs: hs(5, 0n, 3) }],
    want: null,
  },
  {
    name: "a snapshot may replace an uncommitted entry of another term at its index",
    calls: [{ p: 2n, ents: [e(1, 1), e(2, 2)] }, { s: 2n, index: 2, term: 3 }, { p: 2n, ents: [e(3, 3)] }, { p: 1n, ents: [e(1, 1), e(2, 3), e(3, 3)] }],
    want: null,
  },
  { name: "a snapshot installed over a different committed entry", calls: [{ a: 1n, ent: e(3, 2) }, { s: 2n, index: 3, term: 1 }], want: "state-machine-safety" },
];

for (const c of cases) {
  test(`RaftChecker: ${c.name}`, () => {
    const v = run(c.calls);
    if (c.want === null) assert.deepEqual(v, []);
    else assert.ok(v.some((x) => x.property === c.want), `want a ${c.want} violation, got ${JSON.stringify(v)}`);
  });
}

test("RaftChecker keeps at most RAFT_VIOLATIONS_MAX violations", () => {
  const c = new RaftChecker();
  for (let t = 1; t <= 200; t++) (c.leader(1n, t, 1n), c.leader(2n, t, 2n));
  assert.equal(c.violations.length, 50);
  assert.match(c.text(), /^election-safety: term 1 has two leaders/);
});
