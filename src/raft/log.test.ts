import { test } from "node:test";
import assert from "node:assert/strict";
import { RaftLog, NO_LIMIT } from "./log.js";
import { CompactedError, MemoryStorage } from "./storage.js";
import type { Entry } from "./types.js";

const ent = (index: number, term: number, data = ""): Entry => ({ index, term, type: "EntryNormal", data: new TextEncoder().encode(data) });

function logWith(stable: Entry[], unstable: Entry[] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(stable);
  const l = new RaftLog(s);
  l.append(unstable);
  return l;
}

const base = [ent(1, 1), ent(2, 2), ent(3, 3)];

const conflictCases = [
  { name: "no entries: no conflict", ents: [], want: 0 },
  { name: "entries all present: no conflict", ents: [ent(1, 1), ent(2, 2)], want: 0 },
  { name: "new entries after the end", ents: [ent(3, 3), ent(4, 4)], want: 4 },
  { name: "a different term at an existing index", ents: [ent(2, 1), ent(3, 4)], want: 2 },
];
for (const c of conflictCases) {
  test(`raftLog.findConflict: ${c.name}`, () => assert.equal(logWith(base).findConflict(c.ents), c.want));
}

const appendCases = [
  { name: "a mismatched previous term is refused", index: 3, logTerm: 2, commit: 3, ents: [ent(4, 4)], want: null, last: 3 },
  { name: "an index past the end is refused", index: 4, logTerm: 3, commit: 3, ents: [ent(5, 4)], want: null, last: 3 },
  { name: "a matching previous entry appends", index: 3, logTerm: 3, commit: 3, ents: [ent(4, 4)], want: 4, last: 4 },
  { name: "a conflicting suffix is replaced", index: 1, logTerm: 1, commit: 1, ents: [ent(2, 4)], want: 2, last: 2 },
  { name: "entries already present are not truncated", index: 1, logTerm: 1, commit: 1, ents: [ent(2, 2)], want: 2, last: 3 },
];
for (const c of appendCases) {
  test(`raftLog.maybeAppend: ${c.name}`, () => {
    const l = logWith(base);
    assert.equal(l.maybeAppend(c.index, c.logTerm, c.commit, c.ents), c.want);
    assert.equal(l.lastIndex(), c.last);
  });
}

test("raftLog.maybeAppend: commit follows the leader but never past the last new entry", () => {
  const l = logWith(base);
  l.maybeAppend(3, 3, 10, [ent(4, 4)]);
  assert.equal(l.committed, 4);
});

test("raftLog.maybeAppend: a conflict with a committed entry is a programmer error", () => {
  const l = logWith(base);
  l.commitTo(3);
  assert.throws(() => l.maybeAppend(1, 1, 3, [ent(2, 9)]), /conflicts with committed/);
});

const upToDateCases = [
  { name: "a higher last term wins regardless of length", lasti: 1, term: 4, want: true },
  { name: "a lower last term loses regardless of length", lasti: 10, term: 2, want: false },
  { name: "same term, longer log is up to date", lasti: 4, term: 3, want: true },
  { name: "same term, same length is up to date", lasti: 3, term: 3, want: true },
  { name: "same term, shorter log is not", lasti: 2, term: 3, want: false },
];
for (const c of upToDateCases) {
  test(`raftLog.isUpToDate: ${c.name}`, () => assert.equal(logWith(base).isUpToDate(c.lasti, c.term), c.want));
}

test("raftLog.findConflictByTerm skips back to the last entry of a term <= the given one", () => {
  const l = logWith([ent(1, 1), ent(2, 1), ent(3, 3), ent(4, 3), ent(5, 5)]);
  assert.deepEqual(l.findConflictByTerm(5, 4), [4, 3]);
  assert.deepEqual(l.findConflictByTerm(5, 2), [2, 1]);
  assert.deepEqual(l.findConflictByTerm(5, 5), [5, 5]);
});

test("raftLog: terms and slices span storage and unstable entries", () => {
  const l = logWith(base, [ent(4, 4, "x"), ent(5, 4, "y")]);
  assert.equal(l.term(3), 3);
  assert.equal(l.term(5), 4);
  assert.equal(l.term(6), 0, "beyond the end: 0, as etcd");
  assert.deepEqual(l.slice(2, 6, NO_LIMIT).map((e) => e.index), [2, 3, 4, 5]);
  assert.deepEqual(l.slice(4, 6, 1).map((e) => e.index), [4], "bounded by bytes, at least one entry");
  l.stableTo(5, 4);
  assert.equal(l.unstableEntries().length, 0);
});

test("raftLog: stableTo with a term that no longer matches keeps the entries unstable", () => {
  const l = logWith(base, [ent(4, 4)]);
  l.append([ent(4, 5)]); // replaced while the host was writing the old one
  l.stableTo(4, 4);
  assert.equal(l.unstableEntries().length, 1);
});

test("raftLog.nextEnts hands out committed, unapplied entries within the byte limit", () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1, "aa"), ent(2, 1, "bb"), ent(3, 1, "cc")]);
  const l = new RaftLog(s, 3);
  l.commitTo(3);
  assert.deepEqual(l.nextEnts().map((e) => e.index), [1]);
  l.appliedTo(1);
  assert.deepEqual(l.nextEnts().map((e) => e.index), [2]);
  assert.ok(l.hasNextEnts());
  l.appliedTo(3);
  assert.equal(l.hasNextEnts(), false);
});

test("raftLog.maybeCommit commits only an index whose entry is of the given term", () => {
  const l = logWith(base);
  assert.equal(l.maybeCommit(3, 2), false);
  assert.equal(l.maybeCommit(3, 3), true);
  assert.equal(l.committed, 3);
});

test("raftLog: a compacted range throws CompactedError, and restore installs a snapshot", () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
  s.compact(2);
  const l = new RaftLog(s);
  assert.equal(l.firstIndex(), 3);
  assert.throws(() => l.slice(1, 3, NO_LIMIT), CompactedError);
  l.restore({ metadata: { index: 10, term: 4, confState: { voters: [1n], learners: [] } }, data: new Uint8Array() });
  assert.equal(l.committed, 10);
  assert.equal(l.lastIndex(), 10);
  assert.equal(l.term(10), 4);
  assert.ok(l.hasPendingSnapshot());
});
