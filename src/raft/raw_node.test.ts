import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../env/seeded_rng.js";
import { RawNode, StepPeerNotFoundError } from "./raw_node.js";
import { MemoryStorage } from "./storage.js";
import { message, type Message } from "./types.js";

function newNode(id = 1n) {
  const storage = new MemoryStorage();
  const node = new RawNode({ id, storage, rng: new SeededRng(7), electionTick: 10, heartbeatTick: 1 });
  return { node, storage };
}

/** Persists a Ready into storage and advances, as a host would. */
function persist(n: { node: RawNode; storage: MemoryStorage }) {
  const rd = n.node.ready();
  n.storage.append(rd.entries);
  if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
  n.node.advance(rd);
  return rd;
}

test("RawNode.bootstrap: the first Ready persists the peers' conf changes, committed, and hands them out to apply", () => {
  const n = newNode();
  n.node.bootstrap([1n, 2n, 3n]);
  const rd = persist(n);
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 3 });
  assert.ok(rd.mustSync);
  assert.deepEqual(rd.entries.map((e) => e.type), ["EntryConfChange", "EntryConfChange", "EntryConfChange"]);
  assert.deepEqual(rd.committed.map((e) => e.index), [1, 2, 3]);
  assert.equal(n.node.hasReady(), false);
  assert.deepEqual(n.node.status().confState.voters, [1n, 2n, 3n]);
  assert.equal(n.node.status().applied, 3);
});

test("RawNode: a campaign's Ready carries the new term and self-vote (to persist) with the vote requests (to send after)", () => {
  const n = newNode();
  n.node.bootstrap([1n, 2n, 3n]);
  persist(n);
  n.node.campaign();
  const rd = persist(n);
  assert.deepEqual(rd.hardState, { term: 2, vote: 1n, commit: 3 });
  assert.ok(rd.mustSync, "a vote must be durable before the requests leave");
  assert.deepEqual(rd.softState, { lead: 0n, raftState: "StateCandidate" });
  assert.deepEqual(rd.messages.map((m: Message) => `${m.type}->${m.to}@${m.term}`), ["MsgVote->2@2", "MsgVote->3@2"]);
});

test("RawNode: a commit-only change does not need an fsync", () => {
  const n = newNode(2n);
  n.node.bootstrap([1n, 2n, 3n]);
  persist(n);
  const e = { term: 2, index: 4, type: "EntryNormal" as const, data: new Uint8Array([1]) };
  n.node.step(message({ type: "MsgApp", from: 1n, to: 2n, term: 2, index: 3, logTerm: 1, entries: [e], commit: 3 }));
  const rd1 = persist(n);
  assert.ok(rd1.mustSync);
  assert.deepEqual(rd1.messages.map((m) => `${m.type}:${m.index}`), ["MsgAppResp:4"], "the ack goes out with the entry it acknowledges");
  n.node.step(message({ type: "MsgHeartbeat", from: 1n, to: 2n, term: 2, commit: 4 }));
  const rd2 = persist(n);
  assert.deepEqual(rd2.hardState, { term: 2, vote: 0n, commit: 4 });
  assert.equal(rd2.mustSync, false);
  assert.deepEqual(rd2.committed.map((c) => c.index), [4]);
});

test("RawNode: a single voter commits its proposal in the Ready that persists it", () => {
  const n = newNode();
  n.node.bootstrap([1n]);
  persist(n);
  n.node.campaign();
  persist(n);
  n.node.propose(new TextEncoder().encode("x"));
  const rd = persist(n);
  assert.deepEqual(rd.entries.map((e) => e.index), [3]); // bootstrap 1, empty entry 2
  assert.deepEqual(rd.committed.map((e) => e.index), [3]);
  assert.equal(n.node.status().applied, 3);
});

test("RawNode.step refuses local message types and responses from unknown members", () => {
  const n = newNode();
  n.node.bootstrap([1n, 2n, 3n]);
  persist(n);
  assert.throws(() => n.node.step(message({ type: "MsgHup", from: 1n })), /local message/);
  assert.throws(() => n.node.step(message({ type: "MsgAppResp", from: 9n, to: 1n, term: 1 })), StepPeerNotFoundError);
});

test("RawNode.status shows progress only on the leader", () => {
  const n = newNode();
  n.node.bootstrap([1n]);
  persist(n);
  assert.equal(n.node.status().progress.size, 0);
  n.node.campaign();
  persist(n);
  const s = n.node.status();
  assert.equal(s.raftState, "StateLeader");
  assert.equal(s.lead, 1n);
  assert.deepEqual(s.progress.get(1n)?.state, "StateReplicate");
});

test("RawNode: invalid configs are refused with the reason", () => {
  const storage = new MemoryStorage();
  const rng = new SeededRng(1);
  assert.throws(() => new RawNode({ id: 0n, storage, rng, electionTick: 10, heartbeatTick: 1 }), /id must not be 0/);
  assert.throws(() => new RawNode({ id: 1n, storage, rng, electionTick: 1, heartbeatTick: 1 }), /electionTick must be > heartbeatTick/);
});
