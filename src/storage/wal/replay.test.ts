import { test } from "node:test";
import assert from "node:assert/strict";
import { Encoder } from "./encoder.js";
import { WalCorruptError } from "./errors.js";
import type { WalRecord } from "./record.js";
import { replay, type SegmentBytes } from "./replay.js";
import { segmentName } from "./segment_name.js";

const entry = (index: number, term = 1): WalRecord => ({ type: "entry", entry: { term, index, type: "EntryNormal", data: new Uint8Array([index]) } });

/** Encodes segments seq 0.. with the given bodies, chaining the CRC as the WAL does. */
function segments(bodies: { firstIndex: number; records: WalRecord[]; version?: number }[]): SegmentBytes[] {
  let crc = 0;
  return bodies.map((b, seq) => {
    const enc = new Encoder(crc);
    const bytes = enc.encode([
      { type: "crc", prevCrc: crc },
      { type: "metadata", metadata: { version: b.version ?? 1, seq, firstIndex: b.firstIndex } },
      ...b.records,
    ]);
    crc = enc.crc;
    const name = segmentName(seq, b.firstIndex);
    return { seq, firstIndex: b.firstIndex, name, path: `/w/${name}`, bytes };
  });
}

test("replay: entries, hard state and snapshot marker across segments", () => {
  const got = replay(segments([
    { firstIndex: 1, records: [entry(1), entry(2), { type: "hardState", hardState: { term: 1, vote: 1n, commit: 2 } }] },
    { firstIndex: 3, records: [entry(3), { type: "snapshot", snapshot: { index: 2, term: 1 } }, entry(4)] },
  ]));
  assert.deepEqual(got.entries.map((e) => e.index), [3, 4]);
  assert.deepEqual(got.snapshot, { index: 2, term: 1 });
  assert.deepEqual(got.hardState, { term: 1, vote: 1n, commit: 2 });
  assert.equal(got.lastIndex, 4);
  assert.equal(got.tornTail, null);
});

test("replay: a later entry at a held index replaces that entry and everything after it", () => {
  const got = replay(segments([{ firstIndex: 1, records: [entry(1), entry(2), entry(3), entry(2, 2)] }]));
  assert.deepEqual(got.entries.map((e) => [e.index, e.term]), [[1, 1], [2, 2]]);
  assert.equal(got.lastIndex, 2);
});

const corruptCases = [
  {
    name: "a segment whose metadata names another first index",
    segs: () => { const s = segments([{ firstIndex: 1, records: [] }]); return [{ ...s[0]!, firstIndex: 5, name: segmentName(0, 5), path: `/w/${segmentName(0, 5)}` }]; },
    want: /says segment 0 first index 1, but the file is named for segment 0 first index 5$/,
  },
  {
    name: "a segment of an unknown format version",
    segs: () => segments([{ firstIndex: 1, records: [], version: 9 }]),
    want: /has format version 9; this build reads version 1$/,
  },
  {
    name: "a hole in the entries",
    segs: () => segments([{ firstIndex: 1, records: [entry(1), entry(3)] }]),
    want: /is entry 3 where the log needs entry 2 \(entries are missing\)$/,
  },
  {
    name: "a first segment that does not start at the log's beginning, with no snapshot to cover it",
    segs: () => segments([{ firstIndex: 5, records: [entry(5)] }]),
    want: /is entry 5 where the log needs entry 1/,
  },
];
for (const c of corruptCases) {
  test(`replay: ${c.name} is WalCorruptError`, () => {
    assert.throws(() => replay(c.segs()), (err: unknown) => err instanceof WalCorruptError && c.want.test(err.message));
  });
}

test("replay: a torn tail of the last segment is reported, not thrown", () => {
  const [seg] = segments([{ firstIndex: 1, records: [entry(1), entry(2)] }]);
  const torn = { ...seg!, bytes: seg!.bytes.subarray(0, seg!.bytes.length - 3) };
  const got = replay([torn]);
  assert.deepEqual(got.entries.map((e) => e.index), [1]);
  assert.equal(got.tornTail?.path, seg!.path);
  assert.equal(got.tornTail?.droppedBytes, torn.bytes.length - got.tornTail!.offset);
});
