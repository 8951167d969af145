/**
 * Linearizable reads through Raft's ReadIndex (etcd's linearizableReadLoop). A read may be served from
 * the local state only once this member has applied everything the cluster had committed when the read
 * arrived; the leader finds that index and confirms with a quorum of heartbeats that it still leads, so a
 * deposed leader or a member cut off from the quorum never answers from stale state — its reads time out.
 *
 * Reads are batched: every read that arrives while a ReadIndex request is in flight waits for the next one,
 * so a burst of reads costs one round of heartbeats. A request that gets no answer (leader changing, its
 * messages lost) is sent again every `retryMs`; each read fails with etcd's timeout after `timeoutMs`.
 */
import type { Clock, Timer } from "../env/env.js";
import type { ReadState } from "../raft/read_only.js";
import { bytesEqual } from "../raft/types.js";
import { ErrStopped, ErrTimeout } from "./errors.js";

/** etcd's readIndexRetryTime. */
export const READ_INDEX_RETRY_MS = 500;
/** Reads waiting at once; beyond this a read fails fast with "too many requests" (the caller checks `size`). */
export const PENDING_READS_MAX = 16_384;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  readonly deadline: Timer;
  done: boolean;
}

export interface ReadIndexHost {
  /** Steps a ReadIndex request with this context into the Raft node (and wakes the ready loop). */
  requestReadIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
}

export class LinearizableReads {
  readonly #host: ReadIndexHost;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retryMs: number;
  /** Reads that arrived since the request in flight was sent; they go with the next one. */
  #next: Waiter[] = [];
  /** The request in flight and the reads it covers. */
  #inflight: { ctx: Uint8Array; waiters: Waiter[]; retry: Timer } | null = null;
  /** Confirmed read points not yet applied locally, in index order. */
  #confirmed: { index: number; waiters: Waiter[] }[] = [];
  #seq = 0n;
  #stopped = false;

  constructor(host: ReadIndexHost, clock: Clock, options: { timeoutMs: number; retryMs?: number }) {
    this.#host = host;
    this.#clock = clock;
    this.#timeoutMs = options.timeoutMs;
    this.#retryMs = options.retryMs ?? READ_INDEX_RETRY_MS;
  }

  get size(): number {
    return this.#next.length + (this.#inflight?.waiters.length ?? 0) + this.#confirmed.reduce((n, c) => n + c.waiters.length, 0);
  }

  /** Resolves once the local state may serve a linearizable read. */
  wait(): Promise<void> {
    if (this.#stopped) return Promise.reject(ErrStopped());
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        done: false,
        deadline: this.#clock.setTimer(this.#timeoutMs, () => this.#settle(w, ErrTimeout())),
      };
      this.#next.push(w);
      if (this.#inflight === null) this.#send();
    });
  }

  /** Feeds the ReadStates of a Ready. */
  onReadStates(states: readonly ReadState[]): void {
    const inflight = this.#inflight;
    if (inflight === null) return;
    for (const rs of states) {
      if (!bytesEqual(rs.requestCtx, inflight.ctx)) continue; // an answer to a request we gave up on
      inflight.retry.cancel();
      this.#inflight = null;
      const waiters = inflight.waiters.filter((w) => !w.done);
      if (waiters.length > 0) {
        this.#confirmed.push({ index: rs.index, waiters });
        this.#confirmed.sort((a, b) => a.index - b.index);
      }
      this.onApplied();
      if (this.#next.length > 0) this.#send();
      return;
    }
  }

  /** Serves every confirmed read point the local state has reached. */
  onApplied(): void {
    const applied = this.#host.appliedIndex();
    while (this.#confirmed.length > 0 && this.#confirmed[0]!.index <= applied) {
      for (const w of this.#confirmed.shift()!.waiters) this.#settle(w, null);
    }
  }

  /** A new leader: the request in flight may have been lost with the old one; ask again now. */
  onLeaderChange(): void {
    if (this.#inflight !== null) this.#resend();
  }

  stop(): void {
    this.#stopped = true;
    this.#inflight?.retry.cancel();
    const all = [...this.#next, ...(this.#inflight?.waiters ?? []), ...this.#confirmed.flatMap((c) => c.waiters)];
    this.#next = [];
    this.#inflight = null;
    this.#confirmed = [];
    for (const w of all) this.#settle(w, ErrStopped());
  }

  #send(): void {
    const waiters = this.#next;
    this.#next = [];
    const ctx = this.#newCtx();
    this.#inflight = { ctx, waiters, retry: this.#clock.setTimer(this.#retryMs, () => this.#resend()) };
    this.#host.requestReadIndex(ctx);
  }

  /** Sends the request in flight again under a new context, with the reads that arrived meanwhile. */
  #resend(): void {
    const inflight = this.#inflight;
    if (inflight === null || this.#stopped) return;
    inflight.retry.cancel();
    this.#next = [...inflight.waiters.filter((w) => !w.done), ...this.#next];
    this.#inflight = null;
    if (this.#next.length > 0) this.#send();
  }

  #newCtx(): Uint8Array {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(++this.#seq);
    return b;
  }

  #settle(w: Waiter, err: unknown): void {
    if (w.done) return;
    w.done = true;
    w.deadline.cancel();
    if (err === null) w.resolve();
    else w.reject(err);
  }
}
