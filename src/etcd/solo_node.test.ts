import { test } from "node:test";
import assert from "node:assert/strict";
import { SoloNode } from "./solo_node.js";

const fresh = () => new SoloNode({ id: 1n, hardState: { term: 0, vote: 0, commit: 0 }, lastIndex: 0 });
const data = (s: string) => new TextEncoder().encode(s);

test("a new member leads in term 2, as etcd's does, and must persist that hard state before anything else", () => {
  const n = fresh();
  assert.equal(n.term, 2);
  const rd = n.ready();
  assert.deepEqual(rd.hardState, { term: 2, vote: 1, commit: 0 });
  assert.equal(rd.mustSync, true);
  assert.deepEqual([rd.entries.length, rd.committed.length], [0, 0]);
  n.advance(rd);
  assert.equal(n.hasReady(), false);
});

test("a proposal is handed out to persist first, and to apply only in the Ready after it is durable", () => {
  const n = fresh();
  n.advance(n.ready());
  const index = n.propose(data("a"));
  assert.equal(index, 1);
  const rd1 = n.ready();
  assert.deepEqual(rd1.entries.map((e) => [e.term, e.index]), [[2, 1]]);
  assert.equal(rd1.committed.length, 0, "nothing is committed before it is on disk");
  n.advance(rd1);
  assert.equal(n.commitIndex, 1);
  const rd2 = n.ready();
  assert.deepEqual(rd2.committed.map((e) => e.index), [1]);
  assert.equal(rd2.mustSync, false, "a commit-index-only change needs no fsync of its own");
  n.advance(rd2);
  assert.equal(n.hasReady(), false);
});

test("proposals made while a Ready is out are batched into the next one", () => {
  const n = fresh();
  n.advance(n.ready());
  n.propose(data("a"));
  const rd1 = n.ready();
  n.propose(data("b"));
  n.propose(data("c"));
  n.advance(rd1);
  const rd2 = n.ready();
  assert.deepEqual(rd2.entries.map((e) => e.index), [2, 3]);
  assert.deepEqual(rd2.committed.map((e) => e.index), [1]);
});

test("ready() twice without advance() is a programmer error", () => {
  const n = fresh();
  n.ready();
  assert.throws(() => n.ready(), /before advance/);
});

test("a restarted member continues the log after its last index in a higher term", () => {
  const n = new SoloNode({ id: 1n, hardState: { term: 4, vote: 1, commit: 10 }, lastIndex: 12 });
  assert.equal(n.term, 5);
  assert.equal(n.commitIndex, 12, "with one voter everything in its log is committed");
  n.advance(n.ready());
  assert.equal(n.propose(data("x")), 13);
});
