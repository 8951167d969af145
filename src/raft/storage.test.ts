import { test } from "node:test";
import assert from "node:assert/strict";
import { CompactedError, MemoryStorage, SnapOutOfDateError, UnavailableError } from "./storage.js";
import type { Entry } from "./types.js";

const ent = (index: number, term: number, data = ""): Entry => ({ index, term, type: "EntryNormal", data: new TextEncoder().encode(data) });

/** Storage holding a snapshot at 3 (term 3) and entries 4, 5 (terms 4, 5), as etcd's storage tests. */
function sample(): MemoryStorage {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 2), ent(3, 3), ent(4, 4), ent(5, 5)]);
  s.compact(3);
  return s;
}

const termCases = [
  { name: "an index before the snapshot is compacted", i: 2, want: CompactedError },
  { name: "the snapshot's own index has its term", i: 3, want: 3 },
  { name: "an entry in the log has its term", i: 5, want: 5 },
  { name: "an index past the end is unavailable", i: 6, want: UnavailableError },
] as const;
for (const c of termCases) {
  test(`MemoryStorage.term: ${c.name}`, () => {
    const s = sample();
    if (typeof c.want === "number") assert.equal(s.term(c.i), c.want);
    else assert.throws(() => s.term(c.i), c.want);
  });
}

const entriesCases = [
  { name: "a range starting at the snapshot is compacted", lo: 3, hi: 5, max: 1000, want: CompactedError },
  { name: "a range inside the log is returned", lo: 4, hi: 6, max: 1000, want: [4, 5] },
  { name: "a byte limit keeps at least one entry", lo: 4, hi: 6, max: 0, want: [4] },
] as const;
for (const c of entriesCases) {
  test(`MemoryStorage.entries: ${c.name}`, () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1, "a"), ent(2, 2, "b"), ent(3, 3, "c"), ent(4, 4, "d"), ent(5, 5, "e")]);
    s.compact(3);
    if (Array.isArray(c.want)) assert.deepEqual(s.entries(c.lo, c.hi, c.max).map((e) => e.index), c.want);
    else assert.throws(() => s.entries(c.lo, c.hi, c.max), c.want as typeof CompactedError);
  });
}

test("MemoryStorage: first and last index follow compaction", () => {
  const s = sample();
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.lastIndex(), 5);
  assert.throws(() => s.compact(3), CompactedError);
  s.compact(4);
  assert.equal(s.firstIndex(), 5);
});

test("MemoryStorage.append: overlapping entries replace the suffix, compacted ones are skipped", () => {
  const s = sample();
  s.append([ent(3, 3), ent(4, 6), ent(5, 6)]);
  assert.deepEqual([s.term(4), s.term(5)], [6, 6]);
  s.append([ent(6, 6)]);
  assert.equal(s.lastIndex(), 6);
  s.append([ent(5, 7)]);
  assert.equal(s.lastIndex(), 5, "the suffix after a rewritten entry is gone");
  assert.throws(() => s.append([ent(8, 7)]), /missing log entry/);
});

test("MemoryStorage: createSnapshot records the term and config; applySnapshot refuses an older one", () => {
  const s = sample();
  const snap = s.createSnapshot(5, { voters: [1n, 2n], learners: [] }, new Uint8Array([9]));
  assert.deepEqual(snap.metadata, { index: 5, term: 5, confState: { voters: [1n, 2n], learners: [] } });
  assert.throws(() => s.createSnapshot(4, null, new Uint8Array()), SnapOutOfDateError);
  assert.throws(() => s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 4 } }), SnapOutOfDateError);
  s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 10, term: 7 } });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.term(10), 7);
  assert.deepEqual(s.initialState().confState.voters, [1n, 2n]);
});
