/**
 * A work queue whose items can be added after a delay (client-go delaying_queue.go). Waiting items sit
 * in a min-heap by ready time; one clock timer is armed for the earliest, so N waiting items cost one
 * timer. Adding an item that already waits keeps the earlier of the two ready times, as upstream.
 */
import type { Clock, Timer } from "../env/env.js";
import { WorkQueue, WorkQueueFullError, type WorkQueueOptions } from "./workqueue.js";

/** Items that may wait for their delay at once. */
export const DELAYING_ITEMS_MAX = 100_000;

interface Waiting<K> {
  readonly item: K;
  readyAtMs: number;
  index: number;
}

export class DelayingQueue<K> extends WorkQueue<K> {
  readonly #clock: Clock;
  readonly #heap: Waiting<K>[] = [];
  readonly #byItem = new Map<K, Waiting<K>>();
  #timer: Timer | null = null;
  #timerAtMs = Infinity;

  constructor(clock: Clock, options: WorkQueueOptions = {}) {
    super(options);
    this.#clock = clock;
  }

  /** Adds `item` once `delayMs` has passed (now when delayMs <= 0). */
  addAfter(item: K, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAtMs = this.#clock.nowMs() + delayMs;
    const existing = this.#byItem.get(item);
    if (existing !== undefined) {
      if (readyAtMs < existing.readyAtMs) {
        existing.readyAtMs = readyAtMs;
        this.#up(existing.index);
      }
    } else {
      if (this.#heap.length >= DELAYING_ITEMS_MAX) {
        this.counters.dropped++;
        throw new WorkQueueFullError(`Cannot add to work queue "${this.name}" after a delay: ${this.#heap.length} items wait, the maximum`);
      }
      const w: Waiting<K> = { item, readyAtMs, index: this.#heap.length };
      this.#heap.push(w);
      this.#byItem.set(item, w);
      this.#up(w.index);
    }
    this.#arm();
  }

  /** Items waiting for their delay. */
  waiting(): number {
    return this.#heap.length;
  }

  protected override onShutDown(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAtMs = Infinity;
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined || this.shuttingDown()) return;
    if (this.#timer !== null && this.#timerAtMs <= first.readyAtMs) return;
    this.#timer?.cancel();
    this.#timerAtMs = first.readyAtMs;
    this.#timer = this.#clock.setTimer(first.readyAtMs - this.#clock.nowMs(), () => this.#fire());
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAtMs = Infinity;
    const now = this.#clock.nowMs();
    // Bounded by the heap's size: each turn removes one item.
    while (this.#heap.length > 0 && this.#heap[0]!.readyAtMs <= now) {
      const w = this.#pop();
      this.#byItem.delete(w.item);
      try {
        this.add(w.item);
      } catch (err) {
        if (!(err instanceof WorkQueueFullError)) throw err;
        // Counted in dropped by add(); the item's owner resyncs it later.
      }
    }
    this.#arm();
  }

  #pop(): Waiting<K> {
    const top = this.#heap[0]!;
    const last = this.#heap.pop()!;
    if (last !== top) {
      this.#heap[0] = last;
      last.index = 0;
      this.#down(0);
    }
    return top;
  }

  #less(a: number, b: number): boolean {
    return this.#heap[a]!.readyAtMs < this.#heap[b]!.readyAtMs;
  }

  #swap(a: number, b: number): void {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    this.#heap[a] = y;
    this.#heap[b] = x;
    x.index = b;
    y.index = a;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
  }
}
