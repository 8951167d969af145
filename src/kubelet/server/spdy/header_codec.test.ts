import { test } from "node:test";
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { SPDY3_DICTIONARY, SPDY3_DICTIONARY_ID } from "./dictionary.js";
import { decodeHeaderBlock, encodeHeaderBlock, headersOf } from "./frames.js";
import { HeaderCompressor, HeaderDecompressor } from "./header_codec.js";

const blocks = [0, 1, 2, 3].map((i) => encodeHeaderBlock(headersOf({ streamtype: i % 2 === 0 ? "error" : "data", port: "8080", requestid: String(i >> 1) })));

test("the dictionary is the spec's 1423 bytes and the first block names it by its Adler-32", async () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.ok(SPDY3_DICTIONARY.toString("latin1").endsWith(",*,enq=0."));
  const c = new HeaderCompressor();
  const first = await c.compress(blocks[0]!);
  c.close();
  // zlib header: CMF, FLG with FDICT (0x20), then DICTID.
  assert.equal(first[1]! & 0x20, 0x20);
  assert.equal(first.readUInt32BE(2), SPDY3_DICTIONARY_ID);
});

test("header blocks share one compression context per direction: later blocks lean on earlier ones", async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor(64 * 1024);
  const compressed: Buffer[] = [];
  for (const b of blocks) compressed.push(await c.compress(b));
  for (let i = 0; i < blocks.length; i++) assert.deepEqual(await d.decompress(compressed[i]!), blocks[i]);
  // The repeat of a block is mostly back-references into the shared window.
  assert.ok(compressed[2]!.length < compressed[0]!.length, `${compressed[2]!.length} < ${compressed[0]!.length}`);
  // A fresh inflater cannot read a later block on its own: the context is the session's.
  const fresh = new HeaderDecompressor(64 * 1024);
  await assert.rejects(fresh.decompress(compressed[2]!));
  c.close();
  d.close();
  fresh.close();
});

test("blocks compressed by another zlib (as Go's compress/zlib with the dictionary and a sync flush) decompress in order", async () => {
  const deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: 9 });
  const chunks: Buffer[] = [];
  deflate.on("data", (b: Buffer) => chunks.push(b));
  const pieces: Buffer[] = [];
  for (const b of blocks) {
    deflate.write(b);
    await new Promise<void>((r) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    pieces.push(Buffer.concat(chunks.splice(0)));
  }
  deflate.destroy();
  const d = new HeaderDecompressor(64 * 1024);
  const out = await Promise.all(pieces.map((p) => d.decompress(p)));
  assert.deepEqual(out.map((b) => decodeHeaderBlock(b).get("requestid")), [["0"], ["0"], ["1"], ["1"]]);
  d.close();
});

test("concurrent compress calls come out in call order", async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor(64 * 1024);
  const compressed = await Promise.all(blocks.map((b) => c.compress(b)));
  for (let i = 0; i < blocks.length; i++) assert.deepEqual(await d.decompress(compressed[i]!), blocks[i]);
  c.close();
  d.close();
});

test("a block that inflates past the limit is refused", async () => {
  const c = new HeaderCompressor();
  const huge = encodeHeaderBlock(headersOf({ x: "a".repeat(200_000) }));
  const compressed = await c.compress(huge);
  assert.ok(compressed.length < 2000);
  const d = new HeaderDecompressor(64 * 1024);
  await assert.rejects(d.decompress(compressed), /over the limit/);
  c.close();
  d.close();
});
