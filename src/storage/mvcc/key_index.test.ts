import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyIndex, RevisionNotFoundError } from "./key_index.js";
import { revisionId } from "./revision.js";

/** Builds a key index from a script such as "put 1; put 2; del 3; put 4". */
function run(ops: string): KeyIndex {
  const ki = new KeyIndex("k");
  for (const op of ops.split(";").map((s) => s.trim()).filter(Boolean)) {
    const [verb, rev] = op.split(" ");
    const r = { main: Number(rev), sub: 0 };
    if (verb === "put") ki.put(r);
    else if (verb === "del") ki.tombstone(r);
    else throw new Error(`bad op ${op}`);
  }
  return ki;
}

function getAt(ki: KeyIndex, at: number): { modified: number; created: number; version: number } | null {
  try {
    const r = ki.get(at);
    return { modified: r.modified.main, created: r.created.main, version: r.version };
  } catch (err) {
    if (err instanceof RevisionNotFoundError) return null;
    throw err;
  }
}

const getCases = [
  { name: "a key is not visible before its first put", ops: "put 2", at: 1, want: null },
  { name: "the first put is version 1 created at its own revision", ops: "put 2", at: 2, want: { modified: 2, created: 2, version: 1 } },
  { name: "later puts raise the version and keep the creation", ops: "put 2; put 4; put 6", at: 5, want: { modified: 4, created: 2, version: 2 } },
  { name: "a read at the tombstone finds nothing", ops: "put 1; del 2; put 3", at: 2, want: null },
  { name: "a put after a tombstone starts a new generation", ops: "put 1; del 2; put 3", at: 3, want: { modified: 3, created: 3, version: 1 } },
  { name: "a read after the last tombstone finds nothing", ops: "put 1; put 2; del 3", at: 10, want: null },
  { name: "history before a tombstone is still readable", ops: "put 1; put 2; del 3; put 4", at: 2, want: { modified: 2, created: 1, version: 2 } },
];
for (const c of getCases) test(`KeyIndex.get: ${c.name}`, () => assert.deepEqual(getAt(run(c.ops), c.at), c.want));

const compactCases = [
  {
    name: "compacting in the middle of a generation keeps the newest revision at or below it",
    ops: "put 1; put 2; del 3; put 4; del 5",
    at: 2,
    gens: [[2, 3], [4, 5], []],
    available: ["2_0"],
  },
  {
    name: "a generation ended by a tombstone at or below the compaction point is dropped",
    ops: "put 1; put 2; del 3; put 4; del 5",
    at: 4,
    gens: [[4, 5], []],
    available: ["4_0"],
  },
  {
    name: "a generation left holding only its tombstone is dropped too",
    ops: "put 1; put 2; del 3; put 4; del 5",
    at: 5,
    gens: [[]],
    available: [],
  },
  {
    name: "compacting a live key keeps its latest revision",
    ops: "put 1; put 2; put 3",
    at: 10,
    gens: [[3]],
    available: ["3_0"],
  },
];
for (const c of compactCases) {
  test(`KeyIndex.compact: ${c.name}`, () => {
    const ki = run(c.ops);
    const available = new Set<string>();
    ki.compact(c.at, available);
    assert.deepEqual(ki.generations.map((g) => g.revs.map((r) => r.main)), c.gens);
    assert.deepEqual([...available].sort(), c.available);
  });
  test(`KeyIndex.keep: agrees with compact when ${c.name}`, () => {
    const available = new Set<string>();
    run(c.ops).keep(c.at, available);
    assert.deepEqual([...available].sort(), c.available);
  });
}

test("KeyIndex.compact: reads at or after the compaction point are unchanged", () => {
  const ops = "put 1; put 2; del 3; put 4; put 6; del 7; put 9";
  for (let at = 1; at <= 9; at++) {
    const before = run(ops);
    const after = run(ops);
    after.compact(at, new Set());
    for (let r = at; r <= 10; r++) assert.deepEqual(getAt(after, r), getAt(before, r), `compact ${at}, read ${r}`);
  }
});

test("KeyIndex.put: a put that does not move forward is a programmer error", () => {
  const ki = run("put 5");
  assert.throws(() => ki.put({ main: 5, sub: 0 }), /is not after/);
  assert.throws(() => ki.put({ main: 4, sub: 0 }), /is not after/);
});

test("KeyIndex.since: lists one revision per main revision from the given one", () => {
  const ki = new KeyIndex("k");
  ki.put({ main: 1, sub: 0 });
  ki.put({ main: 2, sub: 0 });
  ki.put({ main: 2, sub: 1 });
  ki.tombstone({ main: 3, sub: 0 });
  assert.deepEqual(ki.since(2).map(revisionId), ["2_1", "3_0"]);
});
