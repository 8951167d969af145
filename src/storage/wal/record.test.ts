import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "../../util/crc32c.js";
import {
  LENGTH_WORD_BYTES,
  WAL_RECORD_BYTES_MAX,
  frameBytes,
  paddingBytes,
  readLengthWord,
  readPayload,
  recordBytes,
  writeLengthWord,
  writePayload,
  RECORD_HEADER_BYTES,
  RECORD_TYPE,
  recordTypeByte,
  type WalRecord,
} from "./record.js";

const paddingCases = [
  { recordBytes: 5, want: 3 },
  { recordBytes: 8, want: 0 },
  { recordBytes: 9, want: 7 },
  { recordBytes: 16, want: 0 },
  { recordBytes: 21, want: 3 },
];
for (const c of paddingCases) {
  test(`paddingBytes: a ${c.recordBytes}-byte record is padded with ${c.want} zeros to 8-byte alignment`, () => {
    assert.equal(paddingBytes(c.recordBytes), c.want);
    assert.equal(frameBytes(c.recordBytes) % 8, 0);
  });
}

test("a length word reads back the length and padding it was written with", () => {
  for (const n of [5, 6, 7, 8, 9, 100, 4096, 65_537, WAL_RECORD_BYTES_MAX]) {
    const word = new Uint8Array(LENGTH_WORD_BYTES);
    writeLengthWord(word, 0, n);
    assert.deepEqual(readLengthWord(word, 0), { kind: "valid", recordBytes: n, padBytes: paddingBytes(n) });
    assert.equal(word[7], paddingBytes(n), "the top byte holds the padding count");
  }
});

test("an all-zero length word reads as zero, not as malformed", () => {
  assert.deepEqual(readLengthWord(new Uint8Array(8), 0), { kind: "zero" });
});

test("every single-byte change to a length word makes it malformed, so rot never looks like a torn tail", () => {
  for (const n of [5, 13, 300, 70_000, 5_000_000]) {
    const word = new Uint8Array(LENGTH_WORD_BYTES);
    writeLengthWord(word, 0, n);
    for (let at = 0; at < LENGTH_WORD_BYTES; at++) {
      for (let xor = 1; xor < 256; xor++) {
        const bad = word.slice();
        bad[at]! ^= xor;
        const read = readLengthWord(bad, 0);
        assert.notEqual(read.kind, "valid", `length ${n}, byte ${at} ^ ${xor} still reads as valid`);
      }
    }
  }
});

test("a length word above WAL_RECORD_BYTES_MAX is malformed even when its check matches", () => {
  const n = WAL_RECORD_BYTES_MAX + 8;
  const word = new Uint8Array(LENGTH_WORD_BYTES);
  new DataView(word.buffer).setUint32(0, n, true);
  const check = crc32c(word.subarray(0, 4));
  word.set([check & 0xff, (check >>> 8) & 0xff, (check >>> 16) & 0xff, 0], 4);
  assert.deepEqual(readLengthWord(word, 0), { kind: "malformed", reason: `has length ${n}, outside [5, ${WAL_RECORD_BYTES_MAX}]` });
});

const payloadCases: { name: string; record: WalRecord }[] = [
  { name: "an entry with data", record: { type: "entry", entry: { term: 7, index: 42, type: "EntryNormal", data: new Uint8Array([1, 2, 3, 0, 255]) } } },
  { name: "an entry with empty data", record: { type: "entry", entry: { term: 1, index: 1, type: "EntryNormal", data: new Uint8Array(0) } } },
  { name: "an entry at index 2^53-1", record: { type: "entry", entry: { term: 2 ** 40, index: Number.MAX_SAFE_INTEGER, type: "EntryNormal", data: new Uint8Array([9]) } } },
  { name: "a conf-change entry", record: { type: "entry", entry: { term: 2, index: 3, type: "EntryConfChange", data: new Uint8Array([0, 1, 2]) } } },
  { name: "a hard state voting for a member id above 2^63", record: { type: "hardState", hardState: { term: 3, vote: 0xfedcba9876543210n, commit: 9 } } },
  { name: "a hard state", record: { type: "hardState", hardState: { term: 3, vote: 2n, commit: Number.MAX_SAFE_INTEGER } } },
  { name: "a snapshot marker", record: { type: "snapshot", snapshot: { index: 2 ** 33 + 5, term: 4 } } },
  { name: "a crc record", record: { type: "crc", prevCrc: 0xdeadbeef } },
  { name: "a metadata record", record: { type: "metadata", metadata: { version: 1, seq: 12, firstIndex: 2 ** 50 } } },
];
for (const c of payloadCases) {
  test(`readPayload: ${c.name} reads back as written`, () => {
    const size = recordBytes(c.record) - RECORD_HEADER_BYTES;
    const bytes = new Uint8Array(size);
    writePayload(bytes, 0, c.record);
    assert.deepEqual(readPayload(recordTypeByte(c.record), bytes), { record: c.record });
  });
}

test("readPayload: an integer at or above 2^53 is refused, not rounded", () => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(12, 0x200000, true); // index hi half = 2^21 → index = 2^53
  assert.deepEqual(readPayload(RECORD_TYPE.entry, bytes), { reason: "holds an integer at or above 2^53" });
});

test("readPayload: a hard state of the wrong size and an unknown type are refused with a reason", () => {
  assert.deepEqual(readPayload(RECORD_TYPE.hardState, new Uint8Array(23)), { reason: "is a hardState record of 23 payload bytes, want 24" });
  assert.deepEqual(readPayload(99, new Uint8Array(0)), { reason: "has unknown type 99" });
});
