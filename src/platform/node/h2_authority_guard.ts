/**
 * Lets HTTP/2 clients whose `:authority` is not a valid URI authority reach our gRPC server.
 *
 * etcdctl 3.4 dials its maintenance RPCs (`endpoint status`, `endpoint hashkv`, `defrag`, `move-leader`)
 * through a gRPC-Go `passthrough:///http://127.0.0.1:2379` target, so its requests carry
 * `:authority: http://127.0.0.1:2379`. nghttp2, inside Node's http2, allows only RFC 3986 authority
 * characters there and resets such a stream with PROTOCOL_ERROR; etcd (Go) accepts it. Node has no switch
 * for that check, so this guard reads the client's first request before nghttp2 does:
 *
 *   client ── preface, SETTINGS ─────────▶ guard ── SETTINGS (empty: all defaults) ──▶ client
 *            (gRPC-Go sends no request before the server's SETTINGS, so the guard sends one itself)
 *   client ── SETTINGS ACK, HEADERS … ───▶ guard: drops that ACK (it answers our SETTINGS, which Node never
 *                                          sent) and reads the first header block
 *     every `:authority` valid   → the bytes are unshifted and the raw socket goes to http2: the native path,
 *                                  as fast as before (the normal case; it costs one round trip at connect)
 *     some `:authority` invalid  → a Duplex between socket and http2 rewrites each invalid `:authority`
 *                                  (and `host`) literal of every header block, for the whole connection
 *
 * A rewritten value has the same length as the original ("http://h:1" → "http:xxh:1"): both HPACK
 * contexts size dynamic-table entries by octets, so entries keep their sizes, evictions happen in step, and
 * a later indexed reference (0xbe, index 62) still names the same entry, whose value is the rewritten one.
 * Node later sends its own SETTINGS; a server may send several, and the client acknowledges that one to Node.
 *
 * Anything the guard cannot read (not HTTP/2, malformed HPACK) goes to the native path unchanged, where
 * Node answers it exactly as it did before the guard existed; a connection that would have worked never
 * fails here.
 */
import type * as net from "node:net";
import { Duplex } from "node:stream";
import { assert, rethrowIfAssertion } from "../../util/assert.js";

// --- Limits ---

/** Larger header blocks are forwarded unread, and the connection is rewritten no further (its HPACK context is
 * lost then). Node's default SETTINGS_MAX_HEADER_LIST_SIZE is 64 KiB of decoded headers; real requests are far smaller. */
export const HEADER_BLOCK_BYTES_MAX = 256 * 1024;
/** Client bytes held while the first request is classified: a preface, SETTINGS, a header block and a whole
 * initial flow-control window of DATA (64 KiB) fit several times. Past it the guard decides without waiting. */
export const GUARD_BUFFERED_BYTES_MAX = 512 * 1024;
/** How long the guard waits for the first header block (and the ACK of its SETTINGS) before it decides anyway. */
export const GUARD_TIMEOUT_MS = 10_000;

// --- HTTP/2 framing (RFC 9113 §3.4, §4.1, §6) ---

const CLIENT_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const FRAME_HEADER_BYTES = 9;
const FRAME_HEADERS = 0x1;
const FRAME_PRIORITY = 0x2;
const FRAME_SETTINGS = 0x4;
const FRAME_WINDOW_UPDATE = 0x8;
const FRAME_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** HEADERS' PRIORITY fields: exclusive bit + 31-bit stream dependency, then an 8-bit weight. */
const PRIORITY_FIELDS_BYTES = 5;
/** SETTINGS_MAX_FRAME_SIZE's initial value: every peer accepts frames this large, so rewritten blocks are cut to it. */
const FRAME_PAYLOAD_BYTES_MAX = 16_384;
/** The guard's SETTINGS: no parameters, so the client keeps every initial value until Node's SETTINGS arrive. */
export const EMPTY_SETTINGS_FRAME: Buffer = Buffer.from([0, 0, 0, FRAME_SETTINGS, 0, 0, 0, 0, 0]);
const EMPTY = Buffer.alloc(0);

// --- HPACK (RFC 7541) ---

/** SETTINGS_HEADER_TABLE_SIZE's initial value, which Node keeps: the largest dynamic table a client may use. */
const HEADER_TABLE_BYTES_DEFAULT = 4096;
/** RFC 7541 §4.1: an entry's size is its name and value octets plus 32. */
const HEADER_ENTRY_OVERHEAD_BYTES = 32;
/** Integers past this come from no real encoder: HPACK integers are indexes, lengths and table sizes. */
const HPACK_INTEGER_MAX = 2 ** 31 - 1;
/** Continuation octets of an integer carry 7 bits each; 5 of them already exceed HPACK_INTEGER_MAX. */
const HPACK_INTEGER_SHIFT_MAX = 28;

/** A header block the guard cannot decode. Node's decoder fails on it as well (COMPRESSION_ERROR). */
export class HpackError extends Error {
  override readonly name = "HpackError";
}

/** One header field; strings are latin1, one character per octet, so `.length` is the octet count. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** RFC 7541 Appendix A: index 1 is `:authority`, index 38 is `host`. */
const STATIC_TABLE: readonly HeaderField[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
].map(([name, value]) => ({ name: name!, value: value! }));

/**
 * RFC 7541 Appendix B, as (code, bit length) pairs for symbols 0-255 and then EOS (256). The code is
 * canonical and complete: its Kraft sum is exactly 1, which buildHuffmanTrie checks.
 */
export const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 13, 0x7fffd8, 23, 0xfffffe2, 28, 0xfffffe3, 28, 0xfffffe4, 28, 0xfffffe5, 28, 0xfffffe6, 28, 0xfffffe7, 28, // 0-7
  0xfffffe8, 28, 0xffffea, 24, 0x3ffffffc, 30, 0xfffffe9, 28, 0xfffffea, 28, 0x3ffffffd, 30, 0xfffffeb, 28, 0xfffffec, 28, // 8-15
  0xfffffed, 28, 0xfffffee, 28, 0xfffffef, 28, 0xffffff0, 28, 0xffffff1, 28, 0xffffff2, 28, 0x3ffffffe, 30, 0xffffff3, 28, // 16-23
  0xffffff4, 28, 0xffffff5, 28, 0xffffff6, 28, 0xffffff7, 28, 0xffffff8, 28, 0xffffff9, 28, 0xffffffa, 28, 0xffffffb, 28, // 24-31
  0x14, 6, 0x3f8, 10, 0x3f9, 10, 0xffa, 12, 0x1ff9, 13, 0x15, 6, 0xf8, 8, 0x7fa, 11, // 32-39
  0x3fa, 10, 0x3fb, 10, 0xf9, 8, 0x7fb, 11, 0xfa, 8, 0x16, 6, 0x17, 6, 0x18, 6, // 40-47
  0x0, 5, 0x1, 5, 0x2, 5, 0x19, 6, 0x1a, 6, 0x1b, 6, 0x1c, 6, 0x1d, 6, // 48-55
  0x1e, 6, 0x1f, 6, 0x5c, 7, 0xfb, 8, 0x7ffc, 15, 0x20, 6, 0xffb, 12, 0x3fc, 10, // 56-63
  0x1ffa, 13, 0x21, 6, 0x5d, 7, 0x5e, 7, 0x5f, 7, 0x60, 7, 0x61, 7, 0x62, 7, // 64-71
  0x63, 7, 0x64, 7, 0x65, 7, 0x66, 7, 0x67, 7, 0x68, 7, 0x69, 7, 0x6a, 7, // 72-79
  0x6b, 7, 0x6c, 7, 0x6d, 7, 0x6e, 7, 0x6f, 7, 0x70, 7, 0x71, 7, 0x72, 7, // 80-87
  0xfc, 8, 0x73, 7, 0xfd, 8, 0x1ffb, 13, 0x7fff0, 19, 0x1ffc, 13, 0x3ffc, 14, 0x22, 6, // 88-95
  0x7ffd, 15, 0x3, 5, 0x23, 6, 0x4, 5, 0x24, 6, 0x5, 5, 0x25, 6, 0x26, 6, // 96-103
  0x27, 6, 0x6, 5, 0x74, 7, 0x75, 7, 0x28, 6, 0x29, 6, 0x2a, 6, 0x7, 5, // 104-111
  0x2b, 6, 0x76, 7, 0x2c, 6, 0x8, 5, 0x9, 5, 0x2d, 6, 0x77, 7, 0x78, 7, // 112-119
  0x79, 7, 0x7a, 7, 0x7b, 7, 0x7ffe, 15, 0x7fc, 11, 0x3ffd, 14, 0x1ffd, 13, 0xffffffc, 28, // 120-127
  0xfffe6, 20, 0x3fffd2, 22, 0xfffe7, 20, 0xfffe8, 20, 0x3fffd3, 22, 0x3fffd4, 22, 0x3fffd5, 22, 0x7fffd9, 23, // 128-135
  0x3fffd6, 22, 0x7fffda, 23, 0x7fffdb, 23, 0x7fffdc, 23, 0x7fffdd, 23, 0x7fffde, 23, 0xffffeb, 24, 0x7fffdf, 23, // 136-143
  0xffffec, 24, 0xffffed, 24, 0x3fffd7, 22, 0x7fffe0, 23, 0xffffee, 24, 0x7fffe1, 23, 0x7fffe2, 23, 0x7fffe3, 23, // 144-151
  0x7fffe4, 23, 0x1fffdc, 21, 0x3fffd8, 22, 0x7fffe5, 23, 0x3fffd9, 22, 0x7fffe6, 23, 0x7fffe7, 23, 0xffffef, 24, // 152-159
  0x3fffda, 22, 0x1fffdd, 21, 0xfffe9, 20, 0x3fffdb, 22, 0x3fffdc, 22, 0x7fffe8, 23, 0x7fffe9, 23, 0x1fffde, 21, // 160-167
  0x7fffea, 23, 0x3fffdd, 22, 0x3fffde, 22, 0xfffff0, 24, 0x1fffdf, 21, 0x3fffdf, 22, 0x7fffeb, 23, 0x7fffec, 23, // 168-175
  0x1fffe0, 21, 0x1fffe1, 21, 0x3fffe0, 22, 0x1fffe2, 21, 0x7fffed, 23, 0x3fffe1, 22, 0x7fffee, 23, 0x7fffef, 23, // 176-183
  0xfffea, 20, 0x3fffe2, 22, 0x3fffe3, 22, 0x3fffe4, 22, 0x7ffff0, 23, 0x3fffe5, 22, 0x3fffe6, 22, 0x7ffff1, 23, // 184-191
  0x3ffffe0, 26, 0x3ffffe1, 26, 0xfffeb, 20, 0x7fff1, 19, 0x3fffe7, 22, 0x7ffff2, 23, 0x3fffe8, 22, 0x1ffffec, 25, // 192-199
  0x3ffffe2, 26, 0x3ffffe3, 26, 0x3ffffe4, 26, 0x7ffffde, 27, 0x7ffffdf, 27, 0x3ffffe5, 26, 0xfffff1, 24, 0x1ffffed, 25, // 200-207
  0x7fff2, 19, 0x1fffe3, 21, 0x3ffffe6, 26, 0x7ffffe0, 27, 0x7ffffe1, 27, 0x3ffffe7, 26, 0x7ffffe2, 27, 0xfffff2, 24, // 208-215
  0x1fffe4, 21, 0x1fffe5, 21, 0x3ffffe8, 26, 0x3ffffe9, 26, 0xffffffd, 28, 0x7ffffe3, 27, 0x7ffffe4, 27, 0x7ffffe5, 27, // 216-223
  0xfffec, 20, 0xfffff3, 24, 0xfffed, 20, 0x1fffe6, 21, 0x3fffe9, 22, 0x1fffe7, 21, 0x1fffe8, 21, 0x7ffff3, 23, // 224-231
  0x3fffea, 22, 0x3fffeb, 22, 0x1ffffee, 25, 0x1ffffef, 25, 0xfffff4, 24, 0xfffff5, 24, 0x3ffffea, 26, 0x7ffff4, 23, // 232-239
  0x3ffffeb, 26, 0x7ffffe6, 27, 0x3ffffec, 26, 0x3ffffed, 26, 0x7ffffe7, 27, 0x7ffffe8, 27, 0x7ffffe9, 27, 0x7ffffea, 27, // 240-247
  0x7ffffeb, 27, 0xffffffe, 28, 0x7ffffec, 27, 0x7ffffed, 27, 0x7ffffee, 27, 0x7ffffef, 27, 0x7fffff0, 27, 0x3ffffee, 26, // 248-255
  0x3fffffff, 30, // 256-256
];
const HUFFMAN_EOS = 256;

/**
 * The Huffman code as a binary trie. Node n's children are TRIE[2n] (bit 0) and TRIE[2n + 1] (bit 1); a child
 * c > 0 is another node, c < 0 is the leaf of symbol -c - 1. 257 leaves need 256 inner nodes, root = 0.
 * Example: 'a' is 00011, so the path 0,0,0,1,1 from the root ends in the leaf -98.
 */
const HUFFMAN_TRIE = buildHuffmanTrie();

function buildHuffmanTrie(): Int16Array {
  const trie = new Int16Array(2 * HUFFMAN_EOS);
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[2 * sym];
    const bits = HUFFMAN_CODES[2 * sym + 1];
    assert(code !== undefined && bits !== undefined && code < 2 ** bits, `Huffman code of symbol ${sym} is malformed`);
    let node = 0;
    for (let i = bits - 1; i >= 0; i--) {
      const slot = 2 * node + (Math.floor(code / 2 ** i) % 2);
      if (i === 0) {
        assert(trie[slot] === 0, `Huffman code of symbol ${sym} is a prefix of another code`);
        trie[slot] = -sym - 1;
      } else {
        if (trie[slot] === 0) trie[slot] = nodes++;
        assert(trie[slot]! > 0, `Huffman code of symbol ${sym} extends another code`);
        node = trie[slot]!;
      }
    }
  }
  assert(nodes === HUFFMAN_EOS, `Huffman trie has ${nodes} inner nodes; a complete code of 257 symbols has 256`);
  assert(trie.every((child) => child !== 0), "Huffman code is not complete");
  return trie;
}

/** Decodes a Huffman-coded string (RFC 7541 §5.2): padding must be under 8 bits, all ones (EOS's prefix). */
export function huffmanDecode(src: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil((src.length * 8) / 5)); // the shortest code has 5 bits
  let n = 0;
  let node = 0;
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (const byte of src) {
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (byte >> shift) & 1;
      const child = HUFFMAN_TRIE[2 * node + bit]!;
      if (child > 0) {
        node = child;
        pendingBits++;
        pendingAllOnes &&= bit === 1;
        continue;
      }
      const sym = -child - 1;
      if (sym === HUFFMAN_EOS) throw new HpackError("Cannot decode a Huffman string: it contains EOS");
      out[n++] = sym;
      node = 0;
      pendingBits = 0;
      pendingAllOnes = true;
    }
  }
  if (pendingBits > 7) throw new HpackError(`Cannot decode a Huffman string: its padding must be under 8 bits: current value is ${pendingBits}`);
  if (!pendingAllOnes) throw new HpackError("Cannot decode a Huffman string: its padding is not all ones");
  return out.subarray(0, n);
}

/** Reads an integer with a `prefixBits`-bit prefix starting at block[pos] (RFC 7541 §5.1). */
export function decodeInteger(block: Uint8Array, pos: number, prefixBits: number): { value: number; next: number } {
  if (pos >= block.length) throw new HpackError("Cannot decode an integer: the header block ends");
  const mask = (1 << prefixBits) - 1;
  let value = block[pos]! & mask;
  let next = pos + 1;
  if (value < mask) return { value, next };
  for (let shift = 0; shift <= HPACK_INTEGER_SHIFT_MAX; shift += 7) {
    if (next >= block.length) throw new HpackError("Cannot decode an integer: the header block ends");
    const octet = block[next++]!;
    value += (octet & 0x7f) * 2 ** shift;
    if (value > HPACK_INTEGER_MAX) break;
    if ((octet & 0x80) === 0) return { value, next };
  }
  throw new HpackError(`Cannot decode an integer: it must be at most ${HPACK_INTEGER_MAX}`);
}

/** Writes `value` with a `prefixBits`-bit prefix; `firstOctetFlags` are the representation's bits above the prefix. */
export function encodeInteger(value: number, prefixBits: number, firstOctetFlags: number): Buffer {
  assert(Number.isSafeInteger(value) && value >= 0 && value <= HPACK_INTEGER_MAX, `cannot encode HPACK integer ${value}`);
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return Buffer.from([firstOctetFlags | value]);
  const octets = [firstOctetFlags | mask];
  let rest = value - mask;
  while (rest >= 0x80) {
    octets.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  octets.push(rest);
  return Buffer.from(octets);
}

/** Reads a string literal (RFC 7541 §5.2) starting at block[pos], Huffman-coded or raw. */
function decodeString(block: Buffer, pos: number): { value: string; next: number } {
  if (pos >= block.length) throw new HpackError("Cannot decode a string: the header block ends");
  const huffman = (block[pos]! & 0x80) !== 0;
  const { value: length, next } = decodeInteger(block, pos, 7);
  if (length > block.length - next) {
    throw new HpackError(`Cannot decode a string: it has ${length} octets but the block only ${block.length - next} left`);
  }
  const raw = block.subarray(next, next + length);
  return { value: (huffman ? huffmanDecode(raw) : raw).toString("latin1"), next: next + length };
}

/**
 * The octets nghttp2 accepts in `:authority` and `host` (RFC 3986 §3.2 reg-name/IP-literal/port): unreserved,
 * pct-encoded ('%'), sub-delims, ':', '[', ']'. Newer nghttp2 also rejects '@' (userinfo), so we do too.
 */
const AUTHORITY_OCTETS: Uint8Array = (() => {
  const ok = new Uint8Array(256);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:[]") ok[c.charCodeAt(0)] = 1;
  return ok;
})();

/** Whether nghttp2 accepts `value` (latin1) as an `:authority`. The empty string passes, as in nghttp2. */
export function isValidAuthority(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (AUTHORITY_OCTETS[value.charCodeAt(i)] !== 1) return false;
  return true;
}

/** The same value with each octet nghttp2 rejects replaced by 'x': "http://h:1" → "http:xxh:1". Same length on purpose. */
export function validAuthorityOfSameLength(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) out += AUTHORITY_OCTETS[value.charCodeAt(i)] === 1 ? value[i] : "x";
  return out;
}

function isAuthorityName(name: string): boolean {
  return name === ":authority" || name === "host";
}

/**
 * The client encoder's dynamic table as its peer's decoder keeps it (RFC 7541 §2.3, §4.3, §4.4): newest entry
 * first. HPACK index 62 is entries[0]. Adding evicts from the end until the new entry fits; an entry larger than
 * the whole table empties it and is not added.
 */
class DynamicTable {
  readonly #entries: HeaderField[] = [];
  #bytes = 0;
  #bytesMax: number;
  readonly #bytesLimit: number;

  constructor(bytesLimit: number) {
    this.#bytesLimit = bytesLimit;
    this.#bytesMax = bytesLimit;
  }

  get length(): number {
    return this.#entries.length;
  }

  /** `i` counts from the newest entry, 0-based. */
  at(i: number): HeaderField | undefined {
    return this.#entries[i];
  }

  add(field: HeaderField): void {
    const size = entryBytes(field);
    this.#evictTo(this.#bytesMax - size);
    if (size > this.#bytesMax) return;
    this.#entries.unshift(field);
    this.#bytes += size;
    assert(this.#bytes <= this.#bytesMax, `dynamic table holds ${this.#bytes} bytes, over its maximum ${this.#bytesMax}`);
  }

  resize(bytesMax: number): void {
    if (bytesMax > this.#bytesLimit) {
      throw new HpackError(`Cannot resize the dynamic table: the size must be at most ${this.#bytesLimit}: current value is ${bytesMax}`);
    }
    this.#bytesMax = bytesMax;
    this.#evictTo(bytesMax);
  }

  #evictTo(bytesMax: number): void {
    while (this.#bytes > Math.max(bytesMax, 0)) this.#bytes -= entryBytes(this.#entries.pop()!);
    assert(this.#bytes >= 0, "dynamic table size went negative");
  }
}

function entryBytes(field: HeaderField): number {
  return field.name.length + field.value.length + HEADER_ENTRY_OVERHEAD_BYTES;
}

/** One header block after rewriting. */
export interface RewrittenHeaderBlock {
  /** The fields as the server decodes the forwarded block. */
  readonly fields: readonly HeaderField[];
  /** The block to forward: the input itself when nothing was replaced. */
  readonly block: Buffer;
  /** How many `:authority`/`host` literals were replaced. */
  readonly replaced: number;
}

/**
 * Decodes a client's header blocks in order, keeping its dynamic table, and replaces each invalid
 * `:authority`/`host` literal value by a valid one of the same length, written raw (not Huffman).
 * Everything else is copied octet for octet, including indexed fields and the representation kind.
 */
export class HeaderBlockRewriter {
  readonly #table: DynamicTable;

  constructor(options: { headerTableBytesMax?: number } = {}) {
    this.#table = new DynamicTable(options.headerTableBytesMax ?? HEADER_TABLE_BYTES_DEFAULT);
  }

  rewrite(block: Buffer): RewrittenHeaderBlock {
    const fields: HeaderField[] = [];
    const pieces: Buffer[] = [];
    let copiedTo = 0;
    let replaced = 0;
    let pos = 0;
    while (pos < block.length) { // bounded: each representation consumes at least one octet
      const first = block[pos]!;
      if ((first & 0x80) !== 0) { // 1xxxxxxx: indexed field
        const { value: index, next } = decodeInteger(block, pos, 7);
        fields.push(this.#field(index));
        pos = next;
        continue;
      }
      if ((first & 0xe0) === 0x20) { // 001xxxxx: dynamic table size update
        const { value: bytesMax, next } = decodeInteger(block, pos, 5);
        this.#table.resize(bytesMax);
        pos = next;
        continue;
      }
      // 01xxxxxx: literal with incremental indexing; 0000xxxx without indexing; 0001xxxx never indexed.
      const indexing = (first & 0x40) !== 0;
      const { value: nameIndex, next: afterName } = decodeInteger(block, pos, indexing ? 6 : 4);
      pos = afterName;
      let name: string;
      if (nameIndex === 0) {
        const literal = decodeString(block, pos);
        name = literal.value;
        pos = literal.next;
      } else {
        name = this.#field(nameIndex).name;
      }
      const valueAt = pos;
      const literal = decodeString(block, pos);
      pos = literal.next;
      let value = literal.value;
      if (isAuthorityName(name) && !isValidAuthority(value)) {
        value = validAuthorityOfSameLength(value);
        assert(value.length === literal.value.length, "a rewritten authority must keep its length");
        pieces.push(block.subarray(copiedTo, valueAt), encodeInteger(value.length, 7, 0x00), Buffer.from(value, "latin1"));
        copiedTo = pos;
        replaced++;
      }
      const field = { name, value };
      if (indexing) this.#table.add(field);
      fields.push(field);
    }
    if (replaced === 0) return { fields, block, replaced };
    pieces.push(block.subarray(copiedTo));
    return { fields, block: Buffer.concat(pieces), replaced };
  }

  #field(index: number): HeaderField {
    if (index === 0) throw new HpackError("Cannot decode a header block: index 0 is not a field");
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const field = this.#table.at(index - STATIC_TABLE.length - 1);
    if (field === undefined) {
      throw new HpackError(`Cannot decode a header block: index ${index} is past the table's ${STATIC_TABLE.length + this.#table.length} entries`);
    }
    return field;
  }
}

/**
 * Frames a header block as one HEADERS and as many CONTINUATION frames as needed, each payload at most
 * FRAME_PAYLOAD_BYTES_MAX. Keeps END_STREAM and the PRIORITY fields; drops padding (it carries nothing).
 */
export function encodeHeaderFrames(block: Buffer, frame: { streamId: number; flags: number; priority: Buffer | null }): Buffer[] {
  const { streamId, flags, priority } = frame;
  assert(priority === null || priority.length === PRIORITY_FIELDS_BYTES, "PRIORITY fields are 5 bytes");
  const frames: Buffer[] = [];
  let pos = 0;
  let first = true;
  do { // bounded: each pass takes at least FRAME_PAYLOAD_BYTES_MAX - 5 octets of the block
    const prefix = first && priority !== null ? priority : EMPTY;
    const fragment = block.subarray(pos, pos + FRAME_PAYLOAD_BYTES_MAX - prefix.length);
    pos += fragment.length;
    const last = pos >= block.length;
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUIntBE(prefix.length + fragment.length, 0, 3);
    header[3] = first ? FRAME_HEADERS : FRAME_CONTINUATION;
    header[4] = (first ? (flags & FLAG_END_STREAM) | (priority !== null ? FLAG_PRIORITY : 0) : 0) | (last ? FLAG_END_HEADERS : 0);
    header.writeUInt32BE(streamId & 0x7fffffff, 5);
    frames.push(header);
    if (prefix.length > 0) frames.push(prefix);
    frames.push(fragment);
    first = false;
  } while (pos < block.length);
  return frames;
}

/** A header block being collected: its HEADERS frame, then CONTINUATIONs until END_HEADERS. */
interface OpenHeaderBlock {
  readonly streamId: number;
  readonly flags: number;
  readonly priority: Buffer | null;
  readonly frames: Buffer[];
  readonly fragments: Buffer[];
  bytes: number;
}

/** What the client has sent so far; decideH2Path chooses the connection's path from it. */
export interface ClientStreamFacts {
  /** The 24-octet client preface arrived intact; the guard answers it with EMPTY_SETTINGS_FRAME. */
  readonly prefaceOk: boolean;
  /** The bytes stopped being HTTP/2 as we parse it; they are all forwarded as they are from there on. */
  readonly framingLost: boolean;
  /** A header block could not be read; header blocks are forwarded unread from there on. */
  readonly hpackLost: boolean;
  /** The client's first SETTINGS ACK, which answers the guard's SETTINGS, was removed from the stream. */
  readonly settingsAckDropped: boolean;
  readonly headerBlocks: number;
  readonly headerBlocksRewritten: number;
  /** Frames other than SETTINGS, WINDOW_UPDATE, PRIORITY, HEADERS and CONTINUATION (PING, DATA, …). */
  readonly otherFrames: number;
  readonly inputBytes: number;
}

type RewriterState = "preface" | "frameHeader" | "payload" | "raw";

/**
 * The client→server half of a connection as a pure transform: push() takes the bytes the client sent and
 * returns the bytes for the server, in order. It drops the client's first SETTINGS ACK after the preface and
 * rewrites header blocks with HeaderBlockRewriter; every other frame passes unchanged, DATA streamed through
 * without buffering. While nothing was rewritten, the output is the input minus that ACK (9 octets).
 *
 *   in:  PRI…  SETTINGS  WINDOW_UPDATE  SETTINGS+ACK  HEADERS(:authority http://h:1)  DATA
 *   out: PRI…  SETTINGS  WINDOW_UPDATE                HEADERS(:authority http:xxh:1)  DATA
 */
export class ClientFrameRewriter implements ClientStreamFacts {
  readonly #hpack = new HeaderBlockRewriter();
  #state: RewriterState = "preface";
  #payloadBytesLeft = 0;
  #rest: Buffer = EMPTY;
  #block: OpenHeaderBlock | null = null;
  #prefaceOk = false;
  #framingLost = false;
  #hpackLost = false;
  #settingsAckDropped = false;
  #headerBlocks = 0;
  #headerBlocksRewritten = 0;
  #otherFrames = 0;
  #inputBytes = 0;

  get prefaceOk(): boolean { return this.#prefaceOk; }
  get framingLost(): boolean { return this.#framingLost; }
  get hpackLost(): boolean { return this.#hpackLost; }
  get settingsAckDropped(): boolean { return this.#settingsAckDropped; }
  get headerBlocks(): number { return this.#headerBlocks; }
  get headerBlocksRewritten(): number { return this.#headerBlocksRewritten; }
  get otherFrames(): number { return this.#otherFrames; }
  get inputBytes(): number { return this.#inputBytes; }

  /** Takes the next bytes from the client; returns the bytes to forward to the server, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#inputBytes += chunk.length;
    const out: Buffer[] = [];
    const buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    let pos = 0;
    while (pos < buf.length) { // bounded: each pass consumes input or breaks out to wait for more
      const available = buf.length - pos;
      if (this.#state === "raw") {
        out.push(buf.subarray(pos));
        pos = buf.length;
      } else if (this.#state === "payload") {
        const take = Math.min(available, this.#payloadBytesLeft);
        out.push(buf.subarray(pos, pos + take));
        pos += take;
        this.#payloadBytesLeft -= take;
        if (this.#payloadBytesLeft === 0) this.#state = "frameHeader";
      } else if (this.#state === "preface") {
        const seen = buf.subarray(pos, pos + CLIENT_PREFACE.length);
        if (!seen.equals(CLIENT_PREFACE.subarray(0, seen.length))) {
          this.#loseFraming();
          continue;
        }
        if (seen.length < CLIENT_PREFACE.length) break;
        out.push(seen);
        pos += seen.length;
        this.#prefaceOk = true;
        this.#state = "frameHeader";
      } else {
        if (available < FRAME_HEADER_BYTES) break;
        const consumed = this.#onFrame(buf, pos, out);
        if (consumed === 0) break;
        pos += consumed;
      }
    }
    this.#rest = pos < buf.length ? Buffer.from(buf.subarray(pos)) : EMPTY;
    return out;
  }

  /** The bytes taken but not yet returned (an incomplete frame or header block), exactly as the client sent them. */
  pending(): Buffer {
    const held = this.#block === null ? [] : this.#block.frames;
    return held.length === 0 ? this.#rest : Buffer.concat([...held, this.#rest]);
  }

  /** Handles the frame whose header starts at buf[pos]; returns the octets consumed, 0 to wait for more. */
  #onFrame(buf: Buffer, pos: number, out: Buffer[]): number {
    const length = buf.readUIntBE(pos, 3);
    const type = buf[pos + 3]!;
    const flags = buf[pos + 4]!;
    const isBlockFrame = type === FRAME_HEADERS || type === FRAME_CONTINUATION;
    if (!this.#hpackLost) {
      const blockBytes = this.#block === null ? 0 : this.#block.bytes;
      if (isBlockFrame && blockBytes + FRAME_HEADER_BYTES + length <= HEADER_BLOCK_BYTES_MAX) {
        if (buf.length - pos < FRAME_HEADER_BYTES + length) return 0;
        this.#onHeaderBlockFrame(buf.subarray(pos, pos + FRAME_HEADER_BYTES + length), out);
        return FRAME_HEADER_BYTES + length;
      }
      // A header block too large to hold, or a frame other than CONTINUATION inside one (RFC 9113 §6.10
      // forbids that; Node ends the connection): the rest of the connection's header blocks go unread.
      if (isBlockFrame || this.#block !== null) this.#loseHpack(out);
    }
    if (type === FRAME_SETTINGS && (flags & FLAG_ACK) !== 0 && length === 0 && !this.#settingsAckDropped) {
      this.#settingsAckDropped = true;
      return FRAME_HEADER_BYTES;
    }
    if (!isBlockFrame && type !== FRAME_SETTINGS && type !== FRAME_WINDOW_UPDATE && type !== FRAME_PRIORITY) this.#otherFrames++;
    out.push(buf.subarray(pos, pos + FRAME_HEADER_BYTES));
    this.#payloadBytesLeft = length;
    this.#state = length > 0 ? "payload" : "frameHeader";
    return FRAME_HEADER_BYTES;
  }

  #onHeaderBlockFrame(frame: Buffer, out: Buffer[]): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    if (type === FRAME_HEADERS) {
      let start = FRAME_HEADER_BYTES;
      let end = frame.length;
      if ((flags & FLAG_PADDED) !== 0) {
        const padLength = start < end ? frame[start]! : end; // no Pad Length octet: malformed below
        start += 1;
        end -= padLength;
      }
      let priority: Buffer | null = null;
      if ((flags & FLAG_PRIORITY) !== 0) {
        priority = frame.subarray(start, start + PRIORITY_FIELDS_BYTES);
        start += PRIORITY_FIELDS_BYTES;
      }
      if (this.#block !== null || start > end) { // HEADERS inside a block, or padding/priority longer than the frame
        this.#loseHpack(out);
        out.push(frame);
        return;
      }
      this.#block = { streamId, flags, priority, frames: [frame], fragments: [frame.subarray(start, end)], bytes: frame.length };
    } else {
      if (this.#block === null || this.#block.streamId !== streamId) {
        this.#loseHpack(out);
        out.push(frame);
        return;
      }
      this.#block.frames.push(frame);
      this.#block.fragments.push(frame.subarray(FRAME_HEADER_BYTES));
      this.#block.bytes += frame.length;
    }
    if ((flags & FLAG_END_HEADERS) === 0) return;
    const block = this.#block;
    this.#block = null;
    let result: RewrittenHeaderBlock;
    try {
      result = this.#hpack.rewrite(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
    } catch (err) {
      rethrowIfAssertion(err);
      if (!(err instanceof HpackError)) throw err;
      this.#hpackLost = true;
      out.push(...block.frames);
      return;
    }
    this.#headerBlocks++;
    if (result.replaced === 0) {
      out.push(...block.frames);
      return;
    }
    this.#headerBlocksRewritten++;
    out.push(...encodeHeaderFrames(result.block, block));
  }

  /** Forwards a held block as it came and stops reading header blocks: our HPACK context no longer matches the client's. */
  #loseHpack(out: Buffer[]): void {
    if (this.#block !== null) out.push(...this.#block.frames);
    this.#block = null;
    this.#hpackLost = true;
  }

  #loseFraming(): void {
    this.#state = "raw";
    this.#framingLost = true;
  }
}

/** Where a guarded connection goes: still reading, the raw socket to Node (fast), or through the rewriter (slow). */
export type H2Path = "wait" | "native" | "rewrite";

/**
 * Chooses the path. The native path needs the output to equal the input minus our ACK, so nothing may have been
 * rewritten and the ACK must be gone (a late ACK would reach Node, which never sent that SETTINGS, and nghttp2
 * ends the connection on an unexpected ACK). The rewriting path works for any connection, so it is the fallback
 * when the ACK is still outstanding at the deadline.
 */
export function decideH2Path(facts: ClientStreamFacts, options: { timedOut: boolean }): H2Path {
  if (facts.framingLost) return "native"; // not HTTP/2 as we read it: Node answers it as it did without the guard
  if (facts.headerBlocksRewritten > 0) return "rewrite";
  const ackOutstanding = facts.prefaceOk && !facts.settingsAckDropped;
  // A PING or DATA before any request means the client is not waiting on us; it may want its PING answered.
  const requestSeen = facts.headerBlocks > 0 || facts.otherFrames > 0 || facts.hpackLost;
  if (requestSeen && !ackOutstanding) return "native";
  if (options.timedOut || facts.inputBytes > GUARD_BUFFERED_BYTES_MAX) return ackOutstanding ? "rewrite" : "native";
  return "wait";
}

/** Options of guardH2Authority; the defaults are the limits above. */
export interface H2AuthorityGuardOptions {
  readonly timeoutMs?: number;
}

/**
 * Takes a connection that opened with "PRI" (its first bytes may have been unshifted back; the socket must be
 * paused, with no 'data' listener) and calls `handoff` once with the stream for Node's http2 server: the socket
 * itself on the native path, an AuthorityRewritingStream around it otherwise.
 */
export function guardH2Authority(socket: net.Socket, handoff: (stream: Duplex) => void, options: H2AuthorityGuardOptions = {}): void {
  const rewriter = new ClientFrameRewriter();
  const forward: Buffer[] = [];
  let settingsSent = false;
  let settled = false;
  const timer = setTimeout(() => decide(true), options.timeoutMs ?? GUARD_TIMEOUT_MS);

  const onReadable = (): void => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      for (const piece of rewriter.push(chunk)) forward.push(piece);
    }
    if (rewriter.prefaceOk && !settingsSent) {
      settingsSent = true;
      socket.write(EMPTY_SETTINGS_FRAME);
    }
    decide(false);
  };
  // The client closed before we chose: with allowHalfOpen off, Node would have closed it too.
  const onEnd = (): void => {
    stop();
    socket.destroy();
  };
  const stop = (): void => {
    settled = true;
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.off("end", onEnd);
    socket.off("error", stop);
    socket.off("close", stop);
  };
  function decide(timedOut: boolean): void {
    if (settled) return;
    const path = decideH2Path(rewriter, { timedOut });
    if (path === "wait") return;
    stop();
    if (path === "rewrite") {
      handoff(new AuthorityRewritingStream(socket, rewriter, forward));
      return;
    }
    const bytes = Buffer.concat([...forward, rewriter.pending()]);
    const droppedBytes = rewriter.settingsAckDropped ? FRAME_HEADER_BYTES : 0;
    assert(bytes.length === rewriter.inputBytes - droppedBytes, `native path would forward ${bytes.length} of ${rewriter.inputBytes} bytes`);
    // Paused mode and no 'data' listener: Node's session reads these back with socket.read(), then the handle.
    if (bytes.length > 0) socket.unshift(bytes);
    handoff(socket);
  }
  socket.on("readable", onReadable);
  socket.on("end", onEnd);
  socket.on("error", stop);
  socket.on("close", stop);
  onReadable();
}

/**
 * The slow path: client bytes go through the ClientFrameRewriter, server bytes to the socket unchanged. Node's
 * http2 wraps a Duplex that is not a net.Socket in its JS stream adapter, which costs throughput; only clients
 * that send an invalid `:authority` come here.
 */
class AuthorityRewritingStream extends Duplex {
  readonly #socket: net.Socket;

  constructor(socket: net.Socket, rewriter: ClientFrameRewriter, head: readonly Buffer[]) {
    super();
    this.#socket = socket;
    for (const piece of head) this.push(piece);
    socket.on("data", (chunk: Buffer) => {
      let more = true;
      for (const piece of rewriter.push(chunk)) more = this.push(piece);
      if (!more) socket.pause(); // _read resumes it
    });
    socket.on("end", () => {
      const rest = rewriter.pending();
      if (rest.length > 0) this.push(rest);
      this.push(null);
    });
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
    socket.resume();
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.write(chunk)) callback();
    else this.#socket.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
