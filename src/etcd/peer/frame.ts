/**
 * Length-prefixed frames on a peer stream, as etcd rafthttp's messageEncoder: an 8-byte big-endian
 * length, then that many bytes of one encoded raftpb.Message.
 *
 * The decoder holds at most one frame (plus its header) in memory and refuses a length above its limit
 * before reading the body, so a broken or hostile peer cannot make it buffer without bound.
 */
import { decodeMessage, encodeMessage } from "./codec.js";
import type { Message } from "../../raft/types.js";

export const FRAME_HEADER_BYTES = 8;

/**
 * The largest frame a stream accepts: above etcd's default --max-request-bytes (1.5 MiB) times the
 * entries one MsgApp may batch (raft's MaxSizePerMsg, 1 MiB by default), with room to spare.
 * Snapshots do not use the stream, so this need not cover them.
 */
export const STREAM_FRAME_BYTES_MAX = 16 * 1024 * 1024;

/** A frame's declared length is above the limit: the connection must be dropped (its framing is lost). */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`Cannot read a frame: it exceeds the frame limit of ${frameBytesMax} bytes: current value is ${frameBytes}`);
  }
}

/** One frame: header plus payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(payload.length));
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function encodeMessageFrame(m: Message): Uint8Array {
  return encodeFrame(encodeMessage(m));
}

/** Cuts a byte stream, arriving in arbitrary chunks, into frame payloads. */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  constructor(private readonly frameBytesMax: number = STREAM_FRAME_BYTES_MAX) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns every frame payload now complete, in order. Throws FrameTooLargeError as
   * soon as a header declares more than the limit; the decoder is then unusable.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    // Each pass consumes one frame or stops, so the loop ends within (buffered / header) passes.
    for (;;) {
      if (this.#buffered < FRAME_HEADER_BYTES) break;
      const header = this.#peek(FRAME_HEADER_BYTES);
      const declared = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getBigUint64(0);
      if (declared > BigInt(this.frameBytesMax)) {
        throw new FrameTooLargeError(declared > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(declared), this.frameBytesMax);
      }
      const length = Number(declared);
      if (this.#buffered < FRAME_HEADER_BYTES + length) break;
      this.#take(FRAME_HEADER_BYTES);
      frames.push(this.#take(length));
    }
    return frames;
  }

  /** Like push, decoding each payload as a raftpb.Message (CodecError on a malformed one). */
  pushMessages(chunk: Uint8Array): Message[] {
    return this.push(chunk).map(decodeMessage);
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.#chunks) {
      const part = c.subarray(0, Math.min(c.length, n - at));
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      // Common case: the whole frame is inside one chunk: no copy.
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const want = n - at;
      if (c.length <= want) {
        out.set(c, at);
        at += c.length;
        this.#chunks.shift();
      } else {
        out.set(c.subarray(0, want), at);
        this.#chunks[0] = c.subarray(want);
        at += want;
      }
    }
    this.#buffered -= n;
    return out;
  }
}
