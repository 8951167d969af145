import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import {
  ClientFrameRewriter,
  EMPTY_SETTINGS_FRAME,
  HUFFMAN_CODES,
  HeaderBlockRewriter,
  HpackError,
  decideH2Path,
  decodeInteger,
  encodeHeaderFrames,
  encodeInteger,
  guardH2Authority,
  huffmanDecode,
  isValidAuthority,
  type ClientStreamFacts,
  type HeaderField,
} from "./h2_authority_guard.js";
import { listenSniffing } from "./sniffing_listener.js";

// --- Builders: HTTP/2 frames and HPACK representations, written from the RFCs rather than from the code under test ---

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const ACK = 0x1;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Splits a byte stream into frames; `skipPreface` for the client→server direction. */
class FrameReader {
  #buf = Buffer.alloc(0);
  #prefaceLeft: number;

  constructor(options: { skipPreface: boolean }) {
    this.#prefaceLeft = options.skipPreface ? PREFACE.length : 0;
  }

  push(chunk: Buffer): Frame[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (this.#prefaceLeft > 0) {
      const skip = Math.min(this.#prefaceLeft, this.#buf.length);
      this.#buf = this.#buf.subarray(skip);
      this.#prefaceLeft -= skip;
    }
    const frames: Frame[] = [];
    while (this.#buf.length >= 9) {
      const length = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + length) break;
      frames.push({
        type: this.#buf[3]!,
        flags: this.#buf[4]!,
        streamId: this.#buf.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buf.subarray(9, 9 + length),
      });
      this.#buf = this.#buf.subarray(9 + length);
    }
    return frames;
  }
}

/** The header block fragment of a HEADERS frame: padding and priority fields removed. */
function headersFragment(f: Frame): Buffer {
  let start = 0;
  let end = f.payload.length;
  if ((f.flags & PADDED) !== 0) end -= f.payload[start++]!;
  if ((f.flags & PRIORITY) !== 0) start += 5;
  return f.payload.subarray(start, end);
}

/** RFC 7541 §5.2 Huffman encoding from the Appendix B table, padded with ones. */
function huffmanEncode(bytes: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0n;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << BigInt(HUFFMAN_CODES[2 * b + 1]!)) | BigInt(HUFFMAN_CODES[2 * b]!);
    bits += HUFFMAN_CODES[2 * b + 1]!;
    while (bits >= 8) {
      bits -= 8;
      out.push(Number((acc >> BigInt(bits)) & 0xffn));
    }
    acc &= (1n << BigInt(bits)) - 1n;
  }
  if (bits > 0) out.push(Number(((acc << BigInt(8 - bits)) | ((1n << BigInt(8 - bits)) - 1n)) & 0xffn));
  return Buffer.from(out);
}

function hpackString(value: string, huffman: boolean): Buffer {
  const raw = Buffer.from(value, "latin1");
  const data = huffman ? huffmanEncode(raw) : raw;
  return Buffer.concat([encodeInteger(data.length, 7, huffman ? 0x80 : 0x00), data]);
}

const indexed = (index: number): Buffer => encodeInteger(index, 7, 0x80);
const sizeUpdate = (bytes: number): Buffer => encodeInteger(bytes, 5, 0x20);

type LiteralKind = "incremental" | "without" | "never";

/** A literal field; `name` is a table index or a literal name. */
function literal(kind: LiteralKind, name: number | string, value: string, huffman = false): Buffer {
  const [prefixBits, flags] = kind === "incremental" ? [6, 0x40] : kind === "without" ? [4, 0x00] : [4, 0x10];
  const head = typeof name === "number" ? encodeInteger(name, prefixBits, flags) : Buffer.concat([Buffer.from([flags]), hpackString(name, huffman)]);
  return Buffer.concat([head, hpackString(value, huffman)]);
}

const GET = [indexed(2), indexed(6), indexed(4)]; // :method GET, :scheme http, :path /
const block = (...reps: Buffer[]): Buffer => Buffer.concat(reps);
const pairs = (fields: readonly HeaderField[]): string[][] => fields.map((f) => [f.name, f.value]);
const GET_PAIRS = [[":method", "GET"], [":scheme", "http"], [":path", "/"]];

// --- Huffman ---

const huffmanVectors = [
  { text: "www.example.com", code: "f1e3 c2e5 f23a 6ba0 ab90 f4ff" },
  { text: "no-cache", code: "a8eb 1064 9cbf" },
  { text: "custom-key", code: "25a8 49e9 5ba9 7d7f" },
  { text: "custom-value", code: "25a8 49e9 5bb8 e8b4 bf" },
  { text: "302", code: "6402" },
  { text: "private", code: "aec3 771a 4b" },
  { text: "Mon, 21 Oct 2013 20:13:21 GMT", code: "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff" },
  { text: "https://www.example.com", code: "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3" },
  { text: "", code: "" },
];
for (const v of huffmanVectors) {
  test(`huffmanDecode decodes RFC 7541 Appendix C's "${v.text}"`, () => {
    assert.equal(huffmanDecode(hex(v.code)).toString("latin1"), v.text);
  });
}

test("huffmanDecode inverts the Appendix B code for every octet, alone and all together", () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
  for (const octet of all) assert.deepEqual(huffmanDecode(huffmanEncode(Buffer.from([octet]))), Buffer.from([octet]), `octet ${octet}`);
});

const huffmanErrors = [
  { name: "a string containing EOS", code: "ffff ffff", message: /contains EOS/ },
  { name: "padding of 8 bits or more", code: "1fff", message: /padding must be under 8 bits/ }, // 'a' (00011) + 11 ones
  { name: "padding that is not all ones", code: "18", message: /not all ones/ }, // 'a' + 000
];
for (const c of huffmanErrors) {
  test(`huffmanDecode rejects ${c.name}`, () => {
    assert.throws(() => huffmanDecode(hex(c.code)), (err: unknown) => err instanceof HpackError && c.message.test(err.message));
  });
}

// --- Integers (RFC 7541 C.1) ---

const integerVectors = [
  { name: "10 fits a 5-bit prefix", value: 10, prefixBits: 5, encoded: "0a" },
  { name: "1337 spills out of a 5-bit prefix", value: 1337, prefixBits: 5, encoded: "1f9a0a" },
  { name: "42 at an octet boundary", value: 42, prefixBits: 8, encoded: "2a" },
  { name: "the prefix maximum needs a zero continuation", value: 31, prefixBits: 5, encoded: "1f00" },
];
for (const c of integerVectors) {
  test(`HPACK integers: ${c.name}`, () => {
    assert.deepEqual(encodeInteger(c.value, c.prefixBits, 0), hex(c.encoded));
    assert.deepEqual(decodeInteger(hex(c.encoded), 0, c.prefixBits), { value: c.value, next: hex(c.encoded).length });
  });
}

test("decodeInteger rejects integers past 2^31 - 1 and integers cut off by the block's end", () => {
  assert.throws(() => decodeInteger(hex("ff ff ff ff ff 0f"), 0, 7), HpackError);
  assert.throws(() => decodeInteger(hex("ff 80 80 80 80 80 80 80 00"), 0, 7), HpackError);
  assert.throws(() => decodeInteger(hex("ff"), 0, 7), HpackError);
});

// --- Authority validity (nghttp2's check) ---

const authorities = [
  { value: "127.0.0.1:2379", valid: true },
  { value: "[::1]:2379", valid: true },
  { value: "etcd-0.etcd.svc_x~y:2379", valid: true },
  { value: "a%20b!$&'()*+,;=", valid: true },
  { value: "", valid: true },
  { value: "http://127.0.0.1:2379", valid: false },
  { value: "host/path", valid: false },
  { value: "a b", valid: false },
  { value: "user@host", valid: false },
  { value: "h\u00e9", valid: false },
];
for (const c of authorities) {
  test(`isValidAuthority(${JSON.stringify(c.value)}) is ${c.valid}`, () => assert.equal(isValidAuthority(c.value), c.valid));
}

// --- HeaderBlockRewriter ---

test("HeaderBlockRewriter decodes RFC 7541 C.4's three Huffman requests and their dynamic table", () => {
  const r = new HeaderBlockRewriter();
  const first = hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
  const one = r.rewrite(first);
  assert.deepEqual(pairs(one.fields), [...GET_PAIRS, [":authority", "www.example.com"]]);
  assert.equal(one.block, first, "a block with nothing to replace is forwarded as the same buffer");
  const two = r.rewrite(hex("8286 84be 5886 a8eb 1064 9cbf"));
  assert.deepEqual(pairs(two.fields), [...GET_PAIRS, [":authority", "www.example.com"], ["cache-control", "no-cache"]]);
  const three = r.rewrite(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
  assert.deepEqual(pairs(three.fields), [
    [":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"],
  ]);
});

const rewriteCases: { name: string; blocks: Buffer[]; want: string[][][]; replaced: number[] }[] = [
  {
    name: "an invalid :authority with incremental indexing is replaced, and index 62 later names the replacement",
    blocks: [block(...GET, literal("incremental", 1, "http://127.0.0.1:2379", true)), block(...GET, indexed(62))],
    want: [[...GET_PAIRS, [":authority", "http:xx127.0.0.1:2379"]], [...GET_PAIRS, [":authority", "http:xx127.0.0.1:2379"]]],
    replaced: [1, 0],
  },
  {
    name: "a valid :authority is left alone, raw or Huffman",
    blocks: [block(...GET, literal("incremental", 1, "127.0.0.1:2379")), block(...GET, literal("without", 1, "127.0.0.1:2379", true))],
    want: [[...GET_PAIRS, [":authority", "127.0.0.1:2379"]], [...GET_PAIRS, [":authority", "127.0.0.1:2379"]]],
    replaced: [0, 0],
  },
  {
    name: "literals without indexing and never indexed are replaced and stay out of the table",
    blocks: [
      block(...GET, literal("without", 1, "http://a:1", true), literal("incremental", "x-k", "v")),
      block(...GET, literal("never", 1, "http://b:2"), indexed(62)),
    ],
    want: [[...GET_PAIRS, [":authority", "http:xxa:1"], ["x-k", "v"]], [...GET_PAIRS, [":authority", "http:xxb:2"], ["x-k", "v"]]],
    replaced: [1, 1],
  },
  {
    name: "a literal name ':authority', Huffman-coded, counts as :authority",
    blocks: [block(...GET, literal("incremental", ":authority", "http://c:3", true)), block(indexed(62))],
    want: [[...GET_PAIRS, [":authority", "http:xxc:3"]], [[":authority", "http:xxc:3"]]],
    replaced: [1, 0],
  },
  {
    name: "host (static index 38) is checked like :authority",
    blocks: [block(...GET, literal("without", 38, "http://d:4"))],
    want: [[...GET_PAIRS, ["host", "http:xxd:4"]]],
    replaced: [1],
  },
  {
    name: "a name taken from the dynamic table is recognized as :authority",
    blocks: [block(...GET, literal("incremental", 1, "127.0.0.1:1")), block(...GET, literal("without", 62, "http://e:5", true))],
    want: [[...GET_PAIRS, [":authority", "127.0.0.1:1"]], [...GET_PAIRS, [":authority", "http:xxe:5"]]],
    replaced: [0, 1],
  },
  {
    name: "other headers keep their slashes and spaces",
    blocks: [block(indexed(2), indexed(6), literal("without", 4, "/a/b", true), literal("incremental", "x-url", "http://a/b c", true))],
    want: [[[":method", "GET"], [":scheme", "http"], [":path", "/a/b"], ["x-url", "http://a/b c"]]],
    replaced: [0],
  },
  {
    name: "non-ASCII octets are replaced one for one",
    blocks: [block(...GET, literal("incremental", 1, "h\u00e9\u00ff:1"))],
    want: [[...GET_PAIRS, [":authority", "hxx:1"]]],
    replaced: [1],
  },
  {
    name: "a size update to 0 empties the table; entries added after it are found again",
    blocks: [
      block(...GET, literal("incremental", 1, "http://a:1", true), literal("incremental", "x-old", "1")),
      block(sizeUpdate(0), sizeUpdate(4096), literal("incremental", 1, "http://b:2", true), indexed(62)),
    ],
    want: [[...GET_PAIRS, [":authority", "http:xxa:1"], ["x-old", "1"]], [[":authority", "http:xxb:2"], [":authority", "http:xxb:2"]]],
    replaced: [1, 1],
  },
  {
    // Table of 100 bytes: ":authority"+"http://a:1" is 52, "x-k"+"v" 36, ":authority"+"http://b:22" 53; the last evicts the first.
    name: "eviction drops the oldest entry, so 62 is the newest and 63 the one before",
    blocks: [
      block(sizeUpdate(100), literal("incremental", 1, "http://a:1"), literal("incremental", "x-k", "v"), literal("incremental", 1, "http://b:22", true)),
      block(indexed(62), indexed(63)),
    ],
    want: [[[":authority", "http:xxa:1"], ["x-k", "v"], [":authority", "http:xxb:22"]], [[":authority", "http:xxb:22"], ["x-k", "v"]]],
    replaced: [2, 0],
  },
  {
    name: "an entry larger than the table empties it and is not added",
    blocks: [block(sizeUpdate(60), literal("incremental", "x-k", "v"), literal("incremental", 1, "http://long-authority:1")), block(indexed(2))],
    want: [[["x-k", "v"], [":authority", "http:xxlong-authority:1"]], [[":method", "GET"]]],
    replaced: [1, 0],
  },
];
for (const c of rewriteCases) {
  test(`HeaderBlockRewriter: ${c.name}`, () => {
    const client = new HeaderBlockRewriter();
    const server = new HeaderBlockRewriter(); // decodes what we forward, with its own table, as Node would
    c.blocks.forEach((input, i) => {
      const out = client.rewrite(input);
      assert.deepEqual(pairs(out.fields), c.want[i], `block ${i}`);
      assert.equal(out.replaced, c.replaced[i], `block ${i} replacements`);
      if (out.replaced === 0) assert.equal(out.block, input, `block ${i} is forwarded as it came`);
      const seen = server.rewrite(out.block);
      assert.deepEqual(seen.fields, out.fields, `block ${i}: the server decodes the fields we report`);
      assert.equal(seen.replaced, 0, `block ${i}: the server sees only valid authorities`);
    });
  });
}

test("HeaderBlockRewriter writes a replaced value as a raw string of the same decoded length", () => {
  const out = new HeaderBlockRewriter().rewrite(literal("incremental", 1, "http://127.0.0.1:2379", true));
  assert.deepEqual(out.block, Buffer.concat([Buffer.from([0x41, 21]), Buffer.from("http:xx127.0.0.1:2379")]));
});

const hpackErrors = [
  { name: "index 0", block: hex("80") },
  { name: "an index past the table", block: hex("be") },
  { name: "a size update above SETTINGS_HEADER_TABLE_SIZE", block: sizeUpdate(4097) },
  { name: "a string cut off by the block's end", block: hex("41 05 61") },
  { name: "an integer cut off by the block's end", block: hex("ff") },
  { name: "a bad Huffman string", block: hex("41 81 00") },
];
for (const c of hpackErrors) {
  test(`HeaderBlockRewriter rejects ${c.name} with HpackError`, () => {
    assert.throws(() => new HeaderBlockRewriter().rewrite(c.block), HpackError);
  });
}

// --- Framing ---

test("encodeHeaderFrames cuts a block into HEADERS and CONTINUATIONs of at most 16384 bytes, keeping END_STREAM and priority", () => {
  const body = Buffer.alloc(40_000, 7);
  const priority = hex("80000003 0f");
  const frames = new FrameReader({ skipPreface: false }).push(Buffer.concat(encodeHeaderFrames(body, { streamId: 5, flags: END_STREAM | PADDED | END_HEADERS, priority })));
  assert.deepEqual(frames.map((f) => [f.type, f.flags, f.streamId, f.payload.length]), [
    [HEADERS, END_STREAM | PRIORITY, 5, 16384],
    [CONTINUATION, 0, 5, 16384],
    [CONTINUATION, END_HEADERS, 5, 40_000 - (16384 - 5) - 16384],
  ]);
  assert.deepEqual(frames[0]!.payload.subarray(0, 5), priority);
  assert.deepEqual(Buffer.concat([frames[0]!.payload.subarray(5), frames[1]!.payload, frames[2]!.payload]), body);
});

function runRewriter(input: Buffer, chunkBytes: number): { out: Buffer; rewriter: ClientFrameRewriter } {
  const rewriter = new ClientFrameRewriter();
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkBytes) out.push(...rewriter.push(input.subarray(i, i + chunkBytes)));
  out.push(rewriter.pending());
  return { out: Buffer.concat(out), rewriter };
}

const CHUNK_SIZES = [1, 2, 3, 7, 9, 100, 1 << 20];

test("ClientFrameRewriter forwards a valid connection unchanged except for the first SETTINGS ACK, however the bytes are cut", () => {
  const validHeaders = frame(HEADERS, END_HEADERS, 1, block(...GET, literal("incremental", 1, "127.0.0.1:2379", true)));
  const before = Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, hex("0003 00000064")), frame(WINDOW_UPDATE, 0, 0, hex("00100000"))]);
  const firstAck = frame(SETTINGS, ACK, 0);
  const after = Buffer.concat([validHeaders, frame(DATA, END_STREAM, 1, Buffer.from("hello")), frame(PING, 0, 0, Buffer.alloc(8)), frame(SETTINGS, ACK, 0)]);
  for (const size of CHUNK_SIZES) {
    const { out, rewriter } = runRewriter(Buffer.concat([before, firstAck, after]), size);
    assert.deepEqual(out, Buffer.concat([before, after]), `chunks of ${size}`);
    assert.equal(rewriter.settingsAckDropped, true);
    assert.equal(rewriter.headerBlocks, 1);
    assert.equal(rewriter.headerBlocksRewritten, 0);
    assert.equal(rewriter.otherFrames, 2, "DATA and PING");
  }
});

test("ClientFrameRewriter rewrites a padded, prioritized HEADERS with a CONTINUATION into one valid frame", () => {
  const hpack = block(...GET, literal("incremental", 1, "http://127.0.0.1:2379", true), literal("incremental", "x-k", "v"));
  const cut = 5;
  const headers = frame(HEADERS, END_STREAM | PADDED | PRIORITY, 3, Buffer.concat([Buffer.from([3]), hex("00000001 10"), hpack.subarray(0, cut), Buffer.alloc(3)]));
  const continuation = frame(CONTINUATION, END_HEADERS, 3, hpack.subarray(cut));
  const input = Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), headers, continuation, frame(DATA, END_STREAM, 3, Buffer.from("x"))]);
  for (const size of CHUNK_SIZES) {
    const { out, rewriter } = runRewriter(input, size);
    const frames = new FrameReader({ skipPreface: true }).push(out);
    assert.deepEqual(frames.map((f) => [f.type, f.flags, f.streamId]), [[SETTINGS, 0, 0], [HEADERS, END_STREAM | PRIORITY | END_HEADERS, 3], [DATA, END_STREAM, 3]], `chunks of ${size}`);
    assert.deepEqual(frames[1]!.payload.subarray(0, 5), hex("00000001 10"));
    const fields = new HeaderBlockRewriter().rewrite(headersFragment(frames[1]!)).fields;
    assert.deepEqual(pairs(fields), [...GET_PAIRS, [":authority", "http:xx127.0.0.1:2379"], ["x-k", "v"]]);
    assert.equal(rewriter.headerBlocksRewritten, 1);
  }
});

test("ClientFrameRewriter splits a header block that outgrows 16384 bytes once rewritten", () => {
  const authority = "/".repeat(20_000); // Huffman: 6 bits each, 15000 bytes; raw after rewriting: 20000
  const input = Buffer.concat([PREFACE, frame(HEADERS, END_HEADERS | END_STREAM, 1, block(...GET, literal("without", 1, authority, true)))]);
  const { out } = runRewriter(input, 4096);
  const frames = new FrameReader({ skipPreface: true }).push(out);
  assert.deepEqual(frames.map((f) => [f.type, f.flags]), [[HEADERS, END_STREAM], [CONTINUATION, END_HEADERS]]);
  assert.ok(frames.every((f) => f.payload.length <= 16384));
  const fields = new HeaderBlockRewriter().rewrite(Buffer.concat(frames.map((f) => f.payload))).fields;
  assert.deepEqual(pairs(fields), [...GET_PAIRS, [":authority", "x".repeat(20_000)]]);
});

test("ClientFrameRewriter passes bytes that are not HTTP/2 through untouched", () => {
  const input = Buffer.from("PRI * HTTP/1.1\r\n\r\nhello, SETTINGS+ACK: \x00\x00\x00\x04\x01\x00\x00\x00\x00");
  for (const size of CHUNK_SIZES) {
    const { out, rewriter } = runRewriter(input, size);
    assert.deepEqual(out, input);
    assert.equal(rewriter.framingLost, true);
    assert.equal(rewriter.prefaceOk, false);
  }
});

test("ClientFrameRewriter stops rewriting after a header block it cannot decode, and forwards it as it came", () => {
  const bad = frame(HEADERS, END_HEADERS, 1, hex("80"));
  const invalid = frame(HEADERS, END_HEADERS, 3, block(...GET, literal("without", 1, "http://x:1")));
  const input = Buffer.concat([PREFACE, bad, invalid]);
  const { out, rewriter } = runRewriter(input, 5);
  assert.deepEqual(out, input);
  assert.equal(rewriter.hpackLost, true);
  assert.equal(rewriter.headerBlocksRewritten, 0);
});

test("ClientFrameRewriter.pending returns an unfinished header block exactly as it arrived", () => {
  const headers = frame(HEADERS, 0, 1, block(...GET));
  const partialContinuation = frame(CONTINUATION, END_HEADERS, 1, literal("without", 1, "h:1")).subarray(0, 6);
  const rewriter = new ClientFrameRewriter();
  const out = rewriter.push(Buffer.concat([PREFACE, frame(SETTINGS, ACK, 0), headers, partialContinuation]));
  assert.deepEqual(Buffer.concat([...out, rewriter.pending()]), Buffer.concat([PREFACE, headers, partialContinuation]));
});

// --- decideH2Path ---

const facts = (f: Partial<ClientStreamFacts>): ClientStreamFacts => ({
  prefaceOk: true, framingLost: false, hpackLost: false, settingsAckDropped: false,
  headerBlocks: 0, headerBlocksRewritten: 0, otherFrames: 0, inputBytes: 100, ...f,
});
const pathCases = [
  { name: "waits while only the preface and SETTINGS have come", f: facts({}), timedOut: false, want: "wait" },
  { name: "waits for the ACK after a valid first request", f: facts({ headerBlocks: 1 }), timedOut: false, want: "wait" },
  { name: "goes native after a valid request and the ACK", f: facts({ headerBlocks: 1, settingsAckDropped: true }), timedOut: false, want: "native" },
  { name: "goes native on a PING before any request once the ACK is gone", f: facts({ otherFrames: 1, settingsAckDropped: true }), timedOut: false, want: "native" },
  { name: "rewrites once any header block was rewritten, ACK or not", f: facts({ headerBlocks: 1, headerBlocksRewritten: 1 }), timedOut: false, want: "rewrite" },
  { name: "goes native for bytes that are not HTTP/2", f: facts({ prefaceOk: false, framingLost: true }), timedOut: false, want: "native" },
  { name: "goes native for undecodable HPACK once the ACK is gone", f: facts({ hpackLost: true, settingsAckDropped: true }), timedOut: false, want: "native" },
  { name: "goes native at the deadline when the ACK is gone", f: facts({ settingsAckDropped: true }), timedOut: true, want: "native" },
  { name: "rewrites at the deadline while the ACK is outstanding (it must still be dropped)", f: facts({ headerBlocks: 1 }), timedOut: true, want: "rewrite" },
  { name: "goes native at the deadline before the preface completed (no SETTINGS was sent)", f: facts({ prefaceOk: false }), timedOut: true, want: "native" },
  { name: "decides without waiting once too many bytes are buffered", f: facts({ inputBytes: 10 << 20 }), timedOut: false, want: "rewrite" },
];
for (const c of pathCases) test(`decideH2Path ${c.name}`, () => assert.equal(decideH2Path(c.f, { timedOut: c.timedOut }), c.want));

// --- Against Node's nghttp2 ---

test("a Node http2 client's header blocks (nghttp2's Huffman and dynamic table) decode to the headers it sent", async () => {
  const received: Buffer[] = [];
  const capture = net.createServer((socket) => {
    socket.write(EMPTY_SETTINGS_FRAME);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
  });
  capture.listen(0, "127.0.0.1");
  await once(capture, "listening");
  const port = (capture.address() as net.AddressInfo).port;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on("error", () => {});
  const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");
  for (let i = 0; i < 3; i++) client.request({ ":path": `/r/${i}`, "x-printable": printable, "x-words": "the quick brown fox", "x-n": String(i) }).on("error", () => {});
  const frames: Frame[] = [];
  const reader = new FrameReader({ skipPreface: true });
  for (let waitedMs = 0; frames.filter((f) => f.type === HEADERS).length < 3; waitedMs += 10) {
    assert.ok(waitedMs < 5000, "the client sent three requests");
    await new Promise((resolve) => setTimeout(resolve, 10));
    frames.push(...reader.push(Buffer.concat(received.splice(0))));
  }
  client.destroy();
  capture.close();
  const decoder = new HeaderBlockRewriter();
  const requests = frames.filter((f) => f.type === HEADERS).map((f) => new Map(pairs(decoder.rewrite(headersFragment(f)).fields).map(([n, v]) => [n!, v!])));
  requests.forEach((headers, i) => {
    assert.equal(headers.get(":path"), `/r/${i}`);
    assert.equal(headers.get(":authority"), `127.0.0.1:${port}`);
    assert.equal(headers.get("x-printable"), printable);
    assert.equal(headers.get("x-words"), "the quick brown fox");
    assert.equal(headers.get("x-n"), String(i));
  });
});

interface Served {
  readonly port: number;
  /** "native" for each connection handed over as the socket itself, "rewrite" for the slow path. */
  readonly paths: string[];
  close(): Promise<void>;
}

/** An http2 server answering 200 with the request's :authority as body, behind listenSniffing or a bare guard. */
async function serve(options: { guardTimeoutMs?: number } = {}): Promise<Served> {
  const h2 = http2.createServer();
  h2.on("stream", (stream, headers) => {
    stream.respond({ ":status": 200 });
    stream.end(String(headers[":authority"]));
  });
  const h1 = http.createServer((_req, res) => res.end("http1 ok"));
  const paths: string[] = [];
  const toH2 = (stream: Duplex): void => {
    paths.push(stream instanceof net.Socket ? "native" : "rewrite");
    h2.emit("connection", stream);
  };
  let server: net.Server;
  if (options.guardTimeoutMs === undefined) {
    server = await listenSniffing("127.0.0.1", 0, { http2: toH2, http1: (socket) => h1.emit("connection", socket) });
  } else {
    server = net.createServer((socket) => guardH2Authority(socket, toH2, { timeoutMs: options.guardTimeoutMs }));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
  }
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    paths,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      h2.close();
      h1.close();
    },
  };
}

interface RawResponse {
  status: string | undefined;
  body: string;
}

interface RawExchange {
  readonly responses: RawResponse[];
  /** For each SETTINGS frame the server sent (not the ACKs), in order: what `options.observe` returned on its arrival. */
  readonly serverSettings: unknown[];
}

/**
 * A hand-driven HTTP/2 client: sends the preface and an empty SETTINGS, ACKs every server SETTINGS, and sends each
 * header block as a GET on streams 1, 3, 5… Like gRPC-Go it waits for the server's SETTINGS first, unless `eager`.
 */
async function rawExchange(port: number, blocks: Buffer[], options: { eager?: boolean; delayMs?: number; observe?: () => unknown } = {}): Promise<RawExchange> {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  const reader = new FrameReader({ skipPreface: false });
  const responseDecoder = new HeaderBlockRewriter();
  const responses: RawResponse[] = blocks.map(() => ({ status: undefined, body: "" }));
  const serverSettings: unknown[] = [];
  let open = blocks.length;
  let sent = false;
  const sendRequests = (): void => {
    if (sent) return;
    sent = true;
    const write = (): void => {
      socket.write(Buffer.concat(blocks.map((b, i) => frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, b))));
    };
    if (options.delayMs === undefined) write();
    else setTimeout(write, options.delayMs);
  };
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
  if (options.eager === true) sendRequests();
  try {
    return await new Promise<RawExchange>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("close", () => reject(new Error("connection closed before all responses")));
      socket.on("data", (chunk: Buffer) => {
        for (const f of reader.push(chunk)) {
          const response = responses[(f.streamId - 1) / 2];
          if (f.type === SETTINGS && (f.flags & ACK) === 0) {
            serverSettings.push(options.observe?.());
            socket.write(frame(SETTINGS, ACK, 0));
            sendRequests();
          } else if (f.type === HEADERS && response !== undefined) {
            const fields = responseDecoder.rewrite(headersFragment(f)).fields;
            response.status = fields.find((field) => field.name === ":status")?.value;
          } else if (f.type === DATA && response !== undefined) {
            response.body += f.payload.toString("latin1");
          } else if (f.type === RST_STREAM || f.type === GOAWAY) {
            reject(new Error(`server sent frame type ${f.type} on stream ${f.streamId}: ${f.payload.toString("hex")}`));
          }
          if ((f.type === HEADERS || f.type === DATA) && (f.flags & END_STREAM) !== 0 && response !== undefined && --open === 0) resolve({ responses, serverSettings });
        }
      });
    });
  } finally {
    socket.destroy();
  }
}

test("a Node http2 client is served on the native path", async () => {
  const s = await serve();
  try {
    const client = http2.connect(`http://127.0.0.1:${s.port}`);
    const bodies = await Promise.all([0, 1, 2].map(() => new Promise<string>((resolve, reject) => {
      const req = client.request({ ":path": "/" });
      let body = "";
      req.on("response", (headers) => assert.equal(headers[":status"], 200));
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => resolve(body));
      req.on("error", reject);
    })));
    client.close();
    assert.deepEqual(bodies, [0, 1, 2].map(() => `127.0.0.1:${s.port}`));
    assert.deepEqual(s.paths, ["native"]);
  } finally {
    await s.close();
  }
});

test("a Node http2 client's large request body arrives whole on the native path", async () => {
  const h2 = http2.createServer();
  h2.on("stream", (stream) => {
    let bytes = 0;
    stream.on("data", (chunk: Buffer) => (bytes += chunk.length));
    stream.on("end", () => {
      stream.respond({ ":status": 200 });
      stream.end(String(bytes));
    });
  });
  const server = await listenSniffing("127.0.0.1", 0, { http2: (socket) => h2.emit("connection", socket), http1: (socket) => socket.destroy() });
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = client.request({ ":path": "/", ":method": "POST" });
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => resolve(text));
      req.on("error", reject);
      req.end(Buffer.alloc(1 << 20, 1));
    });
    assert.equal(body, String(1 << 20));
  } finally {
    client.destroy();
    server.close();
    h2.close();
  }
});

test("a gRPC-Go-like client sending ':authority: http://127.0.0.1:PORT' gets 200 twice, the second by index 62", async () => {
  const s = await serve();
  try {
    const authority = `http://127.0.0.1:${s.port}`;
    const observe = (): number => s.paths.length;
    const { responses, serverSettings } = await rawExchange(s.port, [block(...GET, literal("incremental", 1, authority)), block(...GET, indexed(62))], { observe });
    const seen = authority.replace("//", "xx");
    assert.deepEqual(responses, [{ status: "200", body: seen }, { status: "200", body: seen }]);
    assert.deepEqual(s.paths, ["rewrite"]);
    assert.deepEqual(serverSettings, [0, 1], "the guard's SETTINGS before the hand-off (so gRPC-Go sends its request), then Node's");
  } finally {
    await s.close();
  }
});

test("a client that sends its invalid request before the server's SETTINGS is served too", async () => {
  const s = await serve();
  try {
    const { responses } = await rawExchange(s.port, [block(...GET, literal("incremental", 1, "http://h:1", true)), block(...GET, indexed(62))], { eager: true });
    assert.deepEqual(responses, [{ status: "200", body: "http:xxh:1" }, { status: "200", body: "http:xxh:1" }]);
    assert.deepEqual(s.paths, ["rewrite"]);
  } finally {
    await s.close();
  }
});

test("a valid hand-driven client goes native, and a gRPC-Go-like client without the guard gets RST_STREAM", async () => {
  const s = await serve();
  try {
    const observe = (): number => s.paths.length;
    const { responses, serverSettings } = await rawExchange(s.port, [block(...GET, literal("incremental", 1, `127.0.0.1:${s.port}`))], { observe });
    assert.deepEqual(responses, [{ status: "200", body: `127.0.0.1:${s.port}` }]);
    assert.deepEqual(s.paths, ["native"]);
    assert.deepEqual(serverSettings, [0, 1], "the guard's SETTINGS before the hand-off, then Node's");
  } finally {
    await s.close();
  }
  // The reason the guard exists: nghttp2 itself refuses the invalid authority.
  const bare = http2.createServer();
  bare.on("stream", (stream) => stream.respond({ ":status": 200 }, { endStream: true }));
  bare.listen(0, "127.0.0.1");
  await once(bare, "listening");
  try {
    const port = (bare.address() as net.AddressInfo).port;
    await assert.rejects(rawExchange(port, [block(...GET, literal("incremental", 1, `http://127.0.0.1:${port}`))]), /frame type 3 on stream 1: 00000001/);
  } finally {
    bare.close();
  }
});

test("a connection idle past the guard's deadline goes native and is still served", async () => {
  const s = await serve({ guardTimeoutMs: 50 });
  try {
    const { responses } = await rawExchange(s.port, [block(...GET, literal("incremental", 1, "h:1"))], { delayMs: 200 });
    assert.deepEqual(responses, [{ status: "200", body: "h:1" }]);
    assert.deepEqual(s.paths, ["native"]);
  } finally {
    await s.close();
  }
});

test("HTTP/1 requests on the same port never meet the guard", async () => {
  const s = await serve();
  try {
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${s.port}/health`, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });
    assert.equal(body, "http1 ok");
    assert.deepEqual(s.paths, []);
  } finally {
    await s.close();
  }
});
