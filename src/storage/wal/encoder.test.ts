import { test } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../../util/assert.js";
import { decodeSegment } from "./decoder.js";
import { Encoder } from "./encoder.js";
import { WalRecordTooLargeError } from "./errors.js";
import { WAL_RECORD_BYTES_MAX, type WalRecord } from "./record.js";

const header: WalRecord[] = [
  { type: "crc", prevCrc: 0 },
  { type: "metadata", metadata: { version: 1, seq: 0, firstIndex: 1 } },
];
const entry = (index: number, text: string): WalRecord => ({ type: "entry", entry: { term: 1, index, type: "EntryNormal", data: new TextEncoder().encode(text) } });

test("Encoder: framed records decode back in order, 8-byte aligned", () => {
  const enc = new Encoder(0);
  const records = [...header, entry(1, "a"), entry(2, "hello world"), { type: "hardState", hardState: { term: 1, vote: 1n, commit: 2 } } as WalRecord];
  const bytes = enc.encode(records);
  assert.equal(bytes.length % 8, 0);
  const decoded = decodeSegment(bytes, null);
  assert.equal(decoded.bad, null);
  assert.deepEqual(decoded.records.map((r) => r.record), records);
  assert.equal(decoded.crc, enc.crc);
});

test("Encoder: two batches chain their CRC exactly as one batch of the same records", () => {
  const one = new Encoder(0);
  const whole = one.encode([...header, entry(1, "x"), entry(2, "y")]);
  const two = new Encoder(0);
  const parts = [two.encode(header), two.encode([entry(1, "x")]), two.encode([entry(2, "y")])];
  assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  assert.equal(two.crc, one.crc);
});

test("Encoder: a crc record must carry the running CRC it continues", () => {
  const enc = new Encoder(0x1234);
  assert.throws(() => enc.encode([{ type: "crc", prevCrc: 0 }]), AssertionError);
});

test("Encoder: a record above WAL_RECORD_BYTES_MAX throws WalRecordTooLargeError and leaves the CRC alone", () => {
  const enc = new Encoder(0);
  enc.encode(header);
  const before = enc.crc;
  const big: WalRecord = { type: "entry", entry: { term: 1, index: 1, type: "EntryNormal", data: new Uint8Array(WAL_RECORD_BYTES_MAX) } };
  assert.throws(() => enc.encode([entry(1, "fine"), big]), WalRecordTooLargeError);
  assert.equal(enc.crc, before);
});
