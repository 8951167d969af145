/**
 * The MsgApps a leader has sent a follower in StateReplicate and not yet heard back about
 * (etcd raft's tracker/inflights.go): a sliding window bounded in count and in bytes. Each slot holds
 * the last index of one message; an ack for index i frees every message up to i.
 *
 *   size 3: add(5) add(9) add(12) → full; freeLE(9) → [12], two slots free
 */
import { assert } from "../util/assert.js";

interface Inflight {
  readonly index: number;
  readonly bytes: number;
}

export class Inflights {
  /** The most messages in flight. */
  readonly size: number;
  /** The most bytes in flight; 0 means no byte limit. */
  readonly maxBytes: number;
  #start = 0;
  #count = 0;
  #bytes = 0;
  readonly #buffer: (Inflight | undefined)[];

  constructor(size: number, maxBytes = 0) {
    assert(size > 0, `inflights size must be > 0: current value is ${size}`);
    this.size = size;
    this.maxBytes = maxBytes;
    this.#buffer = new Array<Inflight | undefined>(size);
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Records a message whose last entry is `index`. Indexes must increase. */
  add(index: number, bytes: number): void {
    assert(!this.full(), "cannot add into a full inflights");
    if (this.#count > 0) {
      const last = this.#buffer[(this.#start + this.#count - 1) % this.size]!;
      assert(index > last.index, `inflight index ${index} is not after ${last.index}`);
    }
    this.#buffer[(this.#start + this.#count) % this.size] = { index, bytes };
    this.#count++;
    this.#bytes += bytes;
  }

  /** Frees every message whose last index is <= to. */
  freeLE(to: number): void {
    while (this.#count > 0) {
      const f = this.#buffer[this.#start]!;
      if (f.index > to) break;
      this.#bytes -= f.bytes;
      this.#buffer[this.#start] = undefined;
      this.#start = (this.#start + 1) % this.size;
      this.#count--;
    }
    if (this.#count === 0) this.#start = 0;
  }

  /** Frees the oldest message (a heartbeat response proves the follower is alive, so let one more out). */
  freeFirstOne(): void {
    if (this.#count === 0) return;
    this.freeLE(this.#buffer[this.#start]!.index);
  }

  full(): boolean {
    return this.#count === this.size || (this.maxBytes !== 0 && this.#bytes >= this.maxBytes);
  }

  reset(): void {
    this.#buffer.fill(undefined);
    this.#start = 0;
    this.#count = 0;
    this.#bytes = 0;
  }
}
