import { test } from "node:test";
import assert from "node:assert/strict";
import { message } from "../../raft/types.js";
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, encodeFrame, encodeMessageFrame } from "./frame.js";

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

test("frame: a frame is an 8-byte big-endian length then the payload", () => {
  const f = encodeFrame(new Uint8Array([7, 8, 9]));
  assert.deepEqual([...f], [0, 0, 0, 0, 0, 0, 0, 3, 7, 8, 9]);
});

const splits: { name: string; chunkBytes: number }[] = [
  { name: "one chunk", chunkBytes: 1 << 20 },
  { name: "one byte at a time", chunkBytes: 1 },
  { name: "chunks that cut headers in half", chunkBytes: 5 },
  { name: "chunks of 13 bytes", chunkBytes: 13 },
];
for (const s of splits) {
  test(`frame: the decoder returns every frame in order when the stream arrives in ${s.name}`, () => {
    const payloads = [new Uint8Array(0), new Uint8Array([1]), new Uint8Array(300).fill(2), new Uint8Array([3, 4])];
    const stream = concat(payloads.map(encodeFrame));
    const d = new FrameDecoder(1024);
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += s.chunkBytes) got.push(...d.push(stream.subarray(i, i + s.chunkBytes)));
    assert.deepEqual(got.map((g) => [...g]), payloads.map((p) => [...p]));
    assert.equal(d.bufferedBytes, 0);
  });
}

test("frame: messages decode back from a stream of message frames", () => {
  const ms = [message({ type: "MsgApp", to: 2n, from: 1n, index: 5 }), message({ type: "MsgHeartbeat", to: 2n, from: 1n })];
  const d = new FrameDecoder();
  assert.deepEqual(d.pushMessages(concat(ms.map(encodeMessageFrame))), ms);
});

test("frame: a header declaring more than the limit is refused before its body arrives", () => {
  const d = new FrameDecoder(100);
  const header = encodeFrame(new Uint8Array(101)).subarray(0, FRAME_HEADER_BYTES);
  assert.throws(
    () => d.push(header),
    (err: unknown) => err instanceof FrameTooLargeError && err.frameBytes === 101 && /exceeds the frame limit of 100 bytes/.test(err.message),
  );
});

test("frame: a garbage header claiming 2^64-1 bytes is refused, not allocated", () => {
  const d = new FrameDecoder(100);
  assert.throws(() => d.push(new Uint8Array(8).fill(0xff)), FrameTooLargeError);
});

test("frame: a frame of exactly the limit is accepted", () => {
  const d = new FrameDecoder(100);
  assert.equal(d.push(encodeFrame(new Uint8Array(100)))[0]?.length, 100);
});
