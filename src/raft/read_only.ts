/**
 * Linearizable reads without a log write (etcd raft's read_only.go, ReadOnlySafe). The leader notes its
 * commit index when a read arrives, then sends a heartbeat carrying the read's context; once a quorum
 * acks that heartbeat it knows it was still leader when the read arrived, so any state applied up to the
 * noted index is fresh. A deposed leader never gets the quorum of acks, so it never answers.
 *
 *   read A (commit 7), read B (commit 9) queued; quorum acks B's heartbeat → A and B both released
 *   (an ack for a later heartbeat proves leadership for every earlier request too)
 */
import type { Message } from "./types.js";

/** A read the host may serve once it has applied up to `index`. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

export interface ReadIndexStatus {
  readonly req: Message;
  readonly index: number;
  readonly acks: Set<bigint>;
}

/** Bounds the reads a leader holds while confirming leadership; beyond it new reads are dropped. */
export const READ_INDEX_PENDING_MAX = 4096;

export class ReadOnly {
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  get pendingCount(): number {
    return this.#queue.length;
  }

  /** Registers a read at commit index `index`. Returns false if the queue is full or the context is a duplicate. */
  addRequest(index: number, m: Message): boolean {
    const key = ctxKey(m.entries[0]!.data);
    if (this.#pending.has(key)) return false;
    if (this.#queue.length >= READ_INDEX_PENDING_MAX) return false;
    this.#pending.set(key, { index, req: m, acks: new Set() });
    this.#queue.push(key);
    return true;
  }

  /** Records a heartbeat ack for the read with context `ctx`; returns who has acked it (null if unknown). */
  recvAck(id: bigint, ctx: Uint8Array): ReadonlySet<bigint> | null {
    const rs = this.#pending.get(ctxKey(ctx));
    if (rs === undefined) return null;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases the read with context `ctx` and every read queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const released = this.#queue.slice(0, at + 1);
    this.#queue = this.#queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of released) {
      out.push(this.#pending.get(k)!);
      this.#pending.delete(k);
    }
    return out;
  }

  /** The context of the newest pending read: heartbeats carry it so their acks confirm every read. */
  lastPendingRequestCtx(): Uint8Array | null {
    if (this.#queue.length === 0) return null;
    return this.#pending.get(this.#queue[this.#queue.length - 1]!)!.req.entries[0]!.data;
  }
}

function ctxKey(ctx: Uint8Array): string {
  let s = "";
  for (const b of ctx) s += b.toString(16).padStart(2, "0");
  return s;
}
