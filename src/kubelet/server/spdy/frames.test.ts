import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameReader, RstStatus, SpdyProtocolError, decodeFrame, decodeHeaderBlock, encodeFrame, encodeHeaderBlock,
  headerBlockOffset, headersOf, type Frame, type RawFrame,
} from "./frames.js";

const headers = headersOf({ streamtype: "error", port: "8080", requestid: "0" });

/** Reads frames back the way the session does, with header blocks left uncompressed. */
function roundTrip(frame: Frame): Frame | null {
  const block = "headers" in frame ? encodeHeaderBlock(frame.headers) : undefined;
  const raws = new FrameReader(1 << 20).push(encodeFrame(frame, block));
  assert.equal(raws.length, 1);
  const raw = raws[0]!;
  const offset = raw.kind === "control" ? headerBlockOffset(raw.type) : null;
  return decodeFrame(raw, offset === null ? undefined : raw.payload.subarray(offset));
}

const frames: readonly Frame[] = [
  { type: "DATA", streamId: 1, fin: false, data: Buffer.from("hello") },
  { type: "DATA", streamId: 0x7fffffff, fin: true, data: Buffer.alloc(0) },
  { type: "SYN_STREAM", streamId: 3, associatedToStreamId: 0, priority: 7, slot: 0, fin: false, unidirectional: false, headers },
  { type: "SYN_STREAM", streamId: 5, associatedToStreamId: 1, priority: 0, slot: 2, fin: true, unidirectional: true, headers: new Map() },
  { type: "SYN_REPLY", streamId: 3, fin: false, headers: new Map() },
  { type: "SYN_REPLY", streamId: 7, fin: true, headers: headersOf({ a: ["1", "2"] }) },
  { type: "RST_STREAM", streamId: 9, status: RstStatus.CANCEL },
  { type: "SETTINGS", clear: false, settings: [{ flags: 1, id: 7, value: 65536 }, { flags: 0, id: 4, value: 100 }] },
  { type: "SETTINGS", clear: true, settings: [] },
  { type: "PING", id: 0xfffffffe },
  { type: "GOAWAY", lastGoodStreamId: 11, status: 1 },
  { type: "HEADERS", streamId: 13, fin: true, headers },
  { type: "WINDOW_UPDATE", streamId: 0, deltaWindowSize: 0x7fffffff },
];

for (const frame of frames) {
  test(`a ${frame.type} frame reads back as it was written (${JSON.stringify(frame, (_k, v) => (v instanceof Map ? [...v] : v)).slice(0, 80)})`, () => {
    assert.deepEqual(roundTrip(frame), frame);
  });
}

test("frames split at every byte boundary come out whole and in order", () => {
  const wire = Buffer.concat(frames.map((f) => encodeFrame(f, "headers" in f ? encodeHeaderBlock(f.headers) : undefined)));
  const reader = new FrameReader(1 << 20);
  const out: RawFrame[] = [];
  for (let i = 0; i < wire.length; i++) out.push(...reader.push(wire.subarray(i, i + 1)));
  assert.equal(out.length, frames.length);
  assert.equal(reader.bufferedBytes, 0);
  assert.deepEqual(out.map((r) => (r.kind === "data" ? "DATA" : r.type)), frames.map((f) => (f.type === "DATA" ? "DATA" : encodeFrame(f, Buffer.alloc(4)).readUInt16BE(2))));
});

test("the wire format is SPDY/3's: control bit, version 3, type, flags and a 24-bit length", () => {
  const ping = encodeFrame({ type: "PING", id: 1 });
  assert.deepEqual([...ping], [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
  const data = encodeFrame({ type: "DATA", streamId: 5, fin: true, data: Buffer.from("ab") });
  assert.deepEqual([...data], [0, 0, 0, 5, 0x01, 0, 0, 2, 0x61, 0x62]);
});

test("a frame longer than the limit is a protocol error before its payload arrives", () => {
  const reader = new FrameReader(1024);
  const head = encodeFrame({ type: "DATA", streamId: 1, fin: false, data: Buffer.alloc(2048) }).subarray(0, 8);
  assert.throws(() => reader.push(head), SpdyProtocolError);
});

test("malformed frames are protocol errors; an unknown control type is ignored", () => {
  const cases: { name: string; raw: RawFrame; block?: Buffer }[] = [
    { name: "data on stream 0", raw: { kind: "data", streamId: 0, flags: 0, payload: Buffer.alloc(0) } },
    { name: "SPDY/2", raw: { kind: "control", version: 2, type: 6, flags: 0, payload: Buffer.alloc(4) } },
    { name: "short PING", raw: { kind: "control", version: 3, type: 6, flags: 0, payload: Buffer.alloc(2) } },
    { name: "SETTINGS count mismatch", raw: { kind: "control", version: 3, type: 4, flags: 0, payload: Buffer.from([0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 1]) } },
    { name: "SYN_STREAM on stream 0", raw: { kind: "control", version: 3, type: 1, flags: 0, payload: Buffer.alloc(10) }, block: encodeHeaderBlock(new Map()) },
  ];
  for (const c of cases) assert.throws(() => decodeFrame(c.raw, c.block), SpdyProtocolError, c.name);
  assert.equal(decodeFrame({ kind: "control", version: 3, type: 10, flags: 0, payload: Buffer.alloc(4) }), null);
});

test("header blocks carry lowercase names and NUL-joined values, and reject malformed input", () => {
  const block = encodeHeaderBlock(new Map([["StreamType", ["data"]], ["x", ["1", "2"]]]));
  assert.ok(block.includes(Buffer.from("streamtype")));
  assert.ok(block.includes(Buffer.from("1\u00002")));
  assert.deepEqual(decodeHeaderBlock(block), new Map([["streamtype", ["data"]], ["x", ["1", "2"]]]));
  const bad: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["truncated", block.subarray(0, block.length - 1)],
    ["trailing bytes", Buffer.concat([block, Buffer.from([0])])],
    ["duplicate", Buffer.concat([Buffer.from([0, 0, 0, 2]), encodeHeaderBlock(headersOf({ a: "1" })).subarray(4), encodeHeaderBlock(headersOf({ a: "2" })).subarray(4)])],
  ];
  for (const [name, b] of bad) assert.throws(() => decodeHeaderBlock(b), SpdyProtocolError, name);
  assert.throws(() => decodeHeaderBlock(block, { pairsMax: 1 }), /over the limit/);
});
