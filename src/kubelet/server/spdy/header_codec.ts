/**
 * SPDY/3 header compression: each direction of a session is ONE zlib stream primed with the SPDY
 * dictionary, and every header block is cut from it with a sync flush. A block therefore depends on all
 * the blocks before it (the second SYN_STREAM's "streamtype" is a back-reference into the first), so
 * both ends keep a streaming deflater/inflater for the session's life; one-shot calls would fail from
 * the second block on. Calls are queued so blocks come out in the order they were asked for.
 */
import * as zlib from "node:zlib";
import { SPDY3_DICTIONARY } from "./dictionary.js";

/** Compressed blocks come out of zlib in pieces; these wait for the flush that ends the block. */
class ZlibBlocks {
  readonly #z: zlib.Deflate | zlib.Inflate;
  readonly #outputBytesMax: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #failed: Error | null = null;
  #rejectInFlight: ((err: Error) => void) | null = null;

  constructor(z: zlib.Deflate | zlib.Inflate, outputBytesMax: number) {
    this.#z = z;
    this.#outputBytesMax = outputBytesMax;
    z.on("data", (d: Buffer) => {
      if (this.#failed !== null) return;
      this.#bytes += d.length;
      if (this.#bytes > this.#outputBytesMax) {
        // The session ends on this error; the rest of the block is not kept.
        this.#failed = new RangeError(`header block of more than ${this.#outputBytesMax} bytes is over the limit`);
        this.#chunks = [];
        return;
      }
      this.#chunks.push(d);
    });
    // A corrupt block makes zlib emit 'error' and never call the flush back: the waiting call fails here.
    z.on("error", (err: Error) => {
      this.#failed = err;
      this.#rejectInFlight?.(err);
    });
  }

  /** Feeds `input` and resolves with everything zlib produced for it, up to the sync flush. */
  run(input: Buffer): Promise<Buffer> {
    const next = this.#queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.#failed !== null) return reject(this.#failed);
          this.#rejectInFlight = reject;
          this.#z.write(input);
          this.#z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.#rejectInFlight = null;
            if (this.#failed !== null) return reject(this.#failed);
            const out = Buffer.concat(this.#chunks, this.#bytes);
            this.#chunks = [];
            this.#bytes = 0;
            resolve(out);
          });
        }),
    );
    this.#queue = next.catch(() => {});
    return next;
  }

  close(): void {
    this.#z.destroy();
  }
}

/** Compresses outgoing header blocks for one session. */
export class HeaderCompressor {
  readonly #blocks = new ZlibBlocks(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY }), Number.MAX_SAFE_INTEGER);

  compress(block: Buffer): Promise<Buffer> {
    return this.#blocks.run(block);
  }

  close(): void {
    this.#blocks.close();
  }
}

/**
 * Decompresses incoming header blocks for one session. `blockBytesMax` bounds one decompressed block
 * (a small frame can inflate a
 * thousandfold; output is dropped, and the session fails, as soon as it passes the bound).
 */
export class HeaderDecompressor {
  readonly #blocks: ZlibBlocks;

  constructor(blockBytesMax: number) {
    this.#blocks = new ZlibBlocks(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }), blockBytesMax);
  }

  decompress(compressed: Buffer): Promise<Buffer> {
    return this.#blocks.run(compressed);
  }

  close(): void {
    this.#blocks.close();
  }
}
