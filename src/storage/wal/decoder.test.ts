import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSegment } from "./decoder.js";
import { Encoder } from "./encoder.js";
import type { WalRecord } from "./record.js";

const header: WalRecord[] = [
  { type: "crc", prevCrc: 0 },
  { type: "metadata", metadata: { version: 1, seq: 0, firstIndex: 1 } },
];
const entry = (index: number): WalRecord => ({ type: "entry", entry: { term: 1, index, type: "EntryNormal", data: new Uint8Array([index, 0xaa, 0xbb, 0xcc]) } });

/** A segment of header + 3 entries, and the offset where the last entry's frame starts. */
function segment(): { bytes: Uint8Array; lastAt: number } {
  const enc = new Encoder(0);
  const head = enc.encode([...header, entry(1), entry(2)]);
  const last = enc.encode([entry(3)]);
  return { bytes: Buffer.concat([head, last]), lastAt: head.length };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const cases = [
  {
    name: "a clean segment has no bad record",
    make: (s: Uint8Array, _at: number) => s,
    want: null,
  },
  {
    name: "a record cut short at EOF is torn",
    make: (s: Uint8Array, at: number) => s.subarray(0, at + 12),
    want: { reason: "is incomplete: it needs 40 bytes but the file ends 12 bytes after it starts", torn: true, tornKind: true },
  },
  {
    name: "a length word cut short at EOF is torn",
    make: (s: Uint8Array, at: number) => s.subarray(0, at + 3),
    want: { reason: "has an incomplete length word at the end of the file", torn: true, tornKind: true },
  },
  {
    name: "zeros after the last record are torn",
    make: (s: Uint8Array, _at: number) => concat(s, new Uint8Array(512)),
    want: { reason: "has a zero length word", torn: true, tornKind: true, atEnd: true },
  },
  {
    name: "a record whose second half reads as zeros fails its CRC and is torn",
    make: (s: Uint8Array, at: number) => { const b = s.slice(); b.fill(0, at + 24); return b; },
    want: { reason: "failed its CRC check", torn: true, tornKind: true },
  },
  {
    name: "a zero length word followed by data is not torn",
    make: (s: Uint8Array, at: number) => { const b = s.slice(); b.fill(0, at, at + 8); return b; },
    want: { reason: "has a zero length word", torn: false, tornKind: true },
  },
  {
    name: "a CRC failure followed by non-zero data is not torn",
    make: (s: Uint8Array, at: number) => { const b = concat(s, new Uint8Array([0, 0, 7])); b[at + 20]! ^= 1; return b; },
    want: { reason: "failed its CRC check", torn: false, tornKind: true },
  },
  {
    name: "a malformed length word is never torn, even at the end",
    make: (s: Uint8Array, at: number) => { const b = s.slice(0, at + 8); b[at + 1]! ^= 4; return b; },
    want: { reason: "has a length word that fails its check", torn: false, tornKind: false },
  },
  {
    name: "non-zero padding is never torn",
    make: (s: Uint8Array, _at: number) => { const b = s.slice(); b[b.length - 1] = 1; return b; },
    want: { reason: "has non-zero padding", torn: false, tornKind: false },
  },
];
for (const c of cases) {
  test(`decodeSegment: ${c.name}`, () => {
    const { bytes, lastAt } = segment();
    const decoded = decodeSegment(c.make(bytes, lastAt), null);
    if (c.want === null) {
      assert.equal(decoded.bad, null);
      assert.equal(decoded.records.length, 5);
      return;
    }
    const at = "atEnd" in c.want ? bytes.length : lastAt;
    assert.deepEqual(decoded.bad, { offset: at, reason: c.want.reason, torn: c.want.torn, tornKind: c.want.tornKind });
    assert.equal(decoded.validBytes, at);
  });
}

test("decodeSegment: a segment must start with a crc record", () => {
  const enc = new Encoder(0);
  enc.encode([{ type: "crc", prevCrc: 0 }]);
  const bytes = enc.encode([entry(1)]);
  assert.equal(decodeSegment(bytes, null).bad?.reason, "is not the CRC record a segment must start with");
});

test("decodeSegment: a crc record must continue the previous segment's CRC", () => {
  const bytes = new Encoder(7).encode([{ type: "crc", prevCrc: 7 }]);
  assert.equal(decodeSegment(bytes, 7).bad, null);
  assert.equal(decodeSegment(bytes, 8).bad?.reason, "continues CRC 0x00000007 but the previous segment ended at 0x00000008");
});
