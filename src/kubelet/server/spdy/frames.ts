/**
 * SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2, plus 3.1's session WINDOW_UPDATE on stream 0),
 * as moby/spdystream — the library kubectl and the kubelet use — reads and writes it. Pure: bytes in,
 * frames out. Header blocks travel compressed with one zlib context per direction for the whole
 * session, so this file splits frames and parses uncompressed blocks; `header_codec.ts` does the zlib.
 *
 * Control frame: `1 | version(15) | type(16)`, `flags(8) | length(24)`, payload.
 * Data frame:    `0 | streamId(31)`,          `flags(8) | length(24)`, payload.
 */

export const SPDY_VERSION = 3;

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

export const SETTINGS_MAX_CONCURRENT_STREAMS = 4;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** The frame header is 8 bytes for both kinds. */
export const FRAME_HEADER_BYTES = 8;
/** The 24-bit length field's ceiling. */
export const FRAME_PAYLOAD_BYTES_LIMIT = 0xffffff;

/** Header names are lowercase; a name may carry several values (NUL-separated on the wire). */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>;

export interface Setting {
  readonly flags: number;
  readonly id: number;
  readonly value: number;
}

/** A frame with its header block already decompressed and parsed. */
export type Frame =
  | { readonly type: "DATA"; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | {
      readonly type: "SYN_STREAM";
      readonly streamId: number;
      readonly associatedToStreamId: number;
      readonly priority: number;
      readonly slot: number;
      readonly fin: boolean;
      readonly unidirectional: boolean;
      readonly headers: SpdyHeaders;
    }
  | { readonly type: "SYN_REPLY"; readonly streamId: number; readonly fin: boolean; readonly headers: SpdyHeaders }
  | { readonly type: "RST_STREAM"; readonly streamId: number; readonly status: number }
  | { readonly type: "SETTINGS"; readonly clear: boolean; readonly settings: readonly Setting[] }
  | { readonly type: "PING"; readonly id: number }
  | { readonly type: "GOAWAY"; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly type: "HEADERS"; readonly streamId: number; readonly fin: boolean; readonly headers: SpdyHeaders }
  | { readonly type: "WINDOW_UPDATE"; readonly streamId: number; readonly deltaWindowSize: number };

/** A frame as split off the wire: a control frame's header block is still compressed. */
export type RawFrame =
  | { readonly kind: "data"; readonly streamId: number; readonly flags: number; readonly payload: Buffer }
  | { readonly kind: "control"; readonly version: number; readonly type: number; readonly flags: number; readonly payload: Buffer };

/** A session-level protocol violation: the session ends (GOAWAY PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override readonly name = "SpdyProtocolError";
}

/**
 * Splits a byte stream into frames. Bytes arrive in arbitrary pieces (TCP segments, WebSocket
 * messages); a frame is returned once all of it is here. A frame longer than `frameBytesMax` is a
 * protocol error before its payload is buffered, so a peer cannot make us hold 16 MiB per frame.
 */
export class FrameReader {
  readonly #frameBytesMax: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(frameBytesMax: number) {
    if (!(frameBytesMax > 0 && frameBytesMax <= FRAME_PAYLOAD_BYTES_LIMIT)) throw new RangeError(`Cannot read frames as 'frameBytesMax' must be in (0, ${FRAME_PAYLOAD_BYTES_LIMIT}]: current value is ${frameBytesMax}`);
    this.#frameBytesMax = frameBytesMax;
  }

  /** Bytes held for a frame not complete yet. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): RawFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: RawFrame[] = [];
    // Each pass consumes one whole frame or stops: bounded by the bytes buffered.
    while (this.#buffered >= FRAME_HEADER_BYTES) {
      const head = this.#peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (length > this.#frameBytesMax) throw new SpdyProtocolError(`frame of ${length} bytes is over the limit of ${this.#frameBytesMax}`);
      if (this.#buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.#take(FRAME_HEADER_BYTES + length);
      const first = whole.readUInt32BE(0);
      const flags = whole[4]!;
      const payload = whole.subarray(FRAME_HEADER_BYTES);
      if ((first & 0x80000000) !== 0) frames.push({ kind: "control", version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload });
      else frames.push({ kind: "data", streamId: first & 0x7fffffff, flags, payload });
    }
    return frames;
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length >= n) return this.#chunks[0]!.subarray(0, n);
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Buffer {
    let out: Buffer;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const joined = Buffer.concat(this.#chunks);
      out = joined.subarray(0, n);
      this.#chunks = joined.length > n ? [joined.subarray(n)] : [];
    }
    this.#buffered -= n;
    return out;
  }
}

/** Where the compressed header block starts in a control frame's payload; null when it has none. */
export function headerBlockOffset(type: number): number | null {
  if (type === SYN_STREAM) return 10;
  if (type === SYN_REPLY || type === HEADERS) return 4;
  return null;
}

function need(payload: Buffer, bytes: number, what: string): void {
  if (payload.length < bytes) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is shorter than ${bytes}`);
}

/**
 * Turns a raw frame into a Frame; `headerBlock` is the decompressed block of a SYN_STREAM, SYN_REPLY or
 * HEADERS. Returns null for a control frame type SPDY/3 does not define (the spec says ignore it).
 */
export function decodeFrame(raw: RawFrame, headerBlock?: Buffer, limits: HeaderBlockLimits = HEADER_BLOCK_LIMITS_DEFAULT): Frame | null {
  if (raw.kind === "data") {
    if (raw.streamId === 0) throw new SpdyProtocolError("data frame on stream 0");
    return { type: "DATA", streamId: raw.streamId, fin: (raw.flags & FLAG_FIN) !== 0, data: raw.payload };
  }
  if (raw.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${raw.version}`);
  const p = raw.payload;
  const headers = () => {
    if (headerBlock === undefined) throw new Error("decodeFrame: the frame's header block must be decompressed first");
    return decodeHeaderBlock(headerBlock, limits);
  };
  switch (raw.type) {
    case SYN_STREAM: {
      need(p, 10, "SYN_STREAM");
      const streamId = p.readUInt32BE(0) & 0x7fffffff;
      if (streamId === 0) throw new SpdyProtocolError("SYN_STREAM on stream 0");
      return {
        type: "SYN_STREAM",
        streamId,
        associatedToStreamId: p.readUInt32BE(4) & 0x7fffffff,
        priority: p[8]! >>> 5,
        slot: p[9]!,
        fin: (raw.flags & FLAG_FIN) !== 0,
        unidirectional: (raw.flags & FLAG_UNIDIRECTIONAL) !== 0,
        headers: headers(),
      };
    }
    case SYN_REPLY:
    case HEADERS: {
      need(p, 4, raw.type === SYN_REPLY ? "SYN_REPLY" : "HEADERS");
      const streamId = p.readUInt32BE(0) & 0x7fffffff;
      if (streamId === 0) throw new SpdyProtocolError("header frame on stream 0");
      return { type: raw.type === SYN_REPLY ? "SYN_REPLY" : "HEADERS", streamId, fin: (raw.flags & FLAG_FIN) !== 0, headers: headers() };
    }
    case RST_STREAM:
      need(p, 8, "RST_STREAM");
      return { type: "RST_STREAM", streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
    case SETTINGS: {
      need(p, 4, "SETTINGS");
      const count = p.readUInt32BE(0);
      if (p.length !== 4 + count * 8) throw new SpdyProtocolError(`SETTINGS frame of ${p.length} bytes does not hold ${count} entries`);
      const settings: Setting[] = [];
      for (let i = 0; i < count; i++) {
        const word = p.readUInt32BE(4 + i * 8);
        settings.push({ flags: word >>> 24, id: word & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: "SETTINGS", clear: (raw.flags & FLAG_SETTINGS_CLEAR) !== 0, settings };
    }
    case PING:
      need(p, 4, "PING");
      return { type: "PING", id: p.readUInt32BE(0) };
    case GOAWAY:
      need(p, 4, "GOAWAY");
      return { type: "GOAWAY", lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : GoAwayStatus.OK };
    case WINDOW_UPDATE:
      need(p, 8, "WINDOW_UPDATE");
      return { type: "WINDOW_UPDATE", streamId: p.readUInt32BE(0) & 0x7fffffff, deltaWindowSize: p.readUInt32BE(4) & 0x7fffffff };
    default:
      return null;
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > FRAME_PAYLOAD_BYTES_LIMIT) throw new RangeError(`control frame payload of ${payload.length} bytes does not fit in 24 bits`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  out.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

function words(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/**
 * Serializes a frame. Frames with headers take the already compressed block (`compressedHeaders`),
 * since compression must follow the session's send order.
 */
export function encodeFrame(frame: Frame, compressedHeaders?: Buffer): Buffer {
  const block = () => {
    if (compressedHeaders === undefined) throw new Error(`encodeFrame: ${frame.type} needs its compressed header block`);
    return compressedHeaders;
  };
  switch (frame.type) {
    case "DATA": {
      if (frame.data.length > FRAME_PAYLOAD_BYTES_LIMIT) throw new RangeError(`data frame payload of ${frame.data.length} bytes does not fit in 24 bits`);
      const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + frame.data.length);
      out.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      out.writeUInt32BE((((frame.fin ? FLAG_FIN : 0) << 24) | frame.data.length) >>> 0, 4);
      frame.data.copy(out, FRAME_HEADER_BYTES);
      return out;
    }
    case "SYN_STREAM": {
      const fixed = Buffer.allocUnsafe(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedToStreamId & 0x7fffffff, 4);
      fixed[8] = (frame.priority & 0x7) << 5;
      fixed[9] = frame.slot & 0xff;
      return control(SYN_STREAM, (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0), Buffer.concat([fixed, block()]));
    }
    case "SYN_REPLY":
    case "HEADERS":
      return control(frame.type === "SYN_REPLY" ? SYN_REPLY : HEADERS, frame.fin ? FLAG_FIN : 0, Buffer.concat([words(frame.streamId & 0x7fffffff), block()]));
    case "RST_STREAM":
      return control(RST_STREAM, 0, words(frame.streamId & 0x7fffffff, frame.status));
    case "SETTINGS":
      return control(SETTINGS, frame.clear ? FLAG_SETTINGS_CLEAR : 0, words(frame.settings.length, ...frame.settings.flatMap((s) => [((s.flags << 24) | (s.id & 0xffffff)) >>> 0, s.value])));
    case "PING":
      return control(PING, 0, words(frame.id));
    case "GOAWAY":
      return control(GOAWAY, 0, words(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case "WINDOW_UPDATE":
      return control(WINDOW_UPDATE, 0, words(frame.streamId & 0x7fffffff, frame.deltaWindowSize & 0x7fffffff));
  }
}

export interface HeaderBlockLimits {
  /** Name/value pairs in one block. */
  readonly pairsMax: number;
}
export const HEADER_BLOCK_LIMITS_DEFAULT: HeaderBlockLimits = { pairsMax: 256 };

/**
 * A header block before compression: `count(32)`, then per header `nameLength(32) name valueLength(32)
 * value`, values of one name joined with NUL. Names go out lowercase: spdystream refuses others.
 */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [words(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(values.join("\0"), "utf8");
    parts.push(words(n.length), n, words(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; names are lowercased (as Go's http.Header.Get is case-blind). */
export function decodeHeaderBlock(block: Buffer, limits: HeaderBlockLimits = HEADER_BLOCK_LIMITS_DEFAULT): Map<string, string[]> {
  const fail = (why: string) => new SpdyProtocolError(`malformed header block: ${why}`);
  if (block.length < 4) throw fail("no pair count");
  const count = block.readUInt32BE(0);
  if (count > limits.pairsMax) throw fail(`${count} pairs is over the limit of ${limits.pairsMax}`);
  const out = new Map<string, string[]>();
  let at = 4;
  const field = (): string => {
    if (at + 4 > block.length) throw fail("truncated length");
    const len = block.readUInt32BE(at);
    at += 4;
    if (at + len > block.length) throw fail("truncated field");
    const s = block.toString("utf8", at, at + len);
    at += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = field().toLowerCase();
    const value = field();
    if (name === "") throw fail("empty header name");
    if (out.has(name)) throw fail(`duplicate header ${name}`);
    out.set(name, value.split("\0"));
  }
  if (at !== block.length) throw fail(`${block.length - at} bytes after the last pair`);
  return out;
}

/** Builds headers from plain pairs: `headersOf({ streamtype: "data", port: "80" })`. */
export function headersOf(pairs: Record<string, string | readonly string[]>): SpdyHeaders {
  return new Map(Object.entries(pairs).map(([k, v]) => [k.toLowerCase(), typeof v === "string" ? [v] : [...v]]));
}

/** The first value of a header, or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}
