/**
 * The work queue controllers feed keys into (client-go util/workqueue queue.go). Three sets make it
 * safe to run several workers:
 *
 *   queue      keys waiting, in order, each once           add("a"); add("a") → queue [a]
 *   dirty      keys that need processing (queued or not)   get() → "a": queue [], processing {a}
 *   processing keys a worker holds                         add("a") while held → dirty {a}, not queued
 *                                                          done("a") → queue [a] again
 *
 * So a key is never handed to two workers at once, and a change that arrives while it is being
 * processed is not lost: it is processed once more after done(). The queue is bounded: adding a new key
 * when ITEMS_MAX keys are dirty throws WorkQueueFullError (counted in metrics.dropped).
 */
import { assert } from "../util/assert.js";

/** Distinct keys a queue holds before add() refuses new ones. */
export const WORK_QUEUE_ITEMS_MAX = 100_000;

/** add() at the bound: the caller should retry later (or resync will bring the key back). */
export class WorkQueueFullError extends Error {
  override readonly name = "WorkQueueFullError";
}

export interface WorkQueueOptions {
  /** Names the queue in errors and metrics (upstream's workqueue "name"). */
  readonly name?: string;
  readonly itemsMax?: number;
}

/** Counters in the spirit of workqueue's Prometheus metrics. */
export interface WorkQueueMetrics {
  readonly depth: number;
  readonly adds: number;
  readonly retries: number;
  readonly dropped: number;
}

export class WorkQueue<K> {
  readonly name: string;
  readonly itemsMax: number;
  #queue: K[] = [];
  #head = 0;
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  #shuttingDown = false;
  #drain = false;
  readonly #waiters: ((item: K | undefined) => void)[] = [];
  readonly #drained: (() => void)[] = [];
  protected counters = { adds: 0, retries: 0, dropped: 0 };

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? "";
    this.itemsMax = options.itemsMax ?? WORK_QUEUE_ITEMS_MAX;
  }

  /** Marks `item` as needing processing. No-op after shutDown or while it is already dirty. */
  add(item: K): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(item)) return;
    if (this.#dirty.size + this.#processing.size >= this.itemsMax && !this.#processing.has(item)) {
      this.counters.dropped++;
      throw new WorkQueueFullError(`Cannot add to work queue "${this.name}": it holds ${this.#dirty.size + this.#processing.size} items, the maximum`);
    }
    this.counters.adds++;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#dirty.delete(item);
      this.#processing.add(item);
      waiter(item);
      return;
    }
    this.#queue.push(item);
  }

  /** Keys waiting to be handed out. */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * The next key, once one is available; undefined when the queue is shut down (and, for
   * shutDownWithDrain, empty). The caller must call done(key) when it has finished.
   */
  get(): Promise<K | undefined> {
    const item = this.#take();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A key if one is waiting now, without blocking. */
  tryGet(): K | undefined {
    return this.#take();
  }

  #take(): K | undefined {
    if (this.#head === this.#queue.length) return undefined;
    const item = this.#queue[this.#head]!;
    this.#queue[this.#head] = undefined as K;
    this.#head++;
    // Compact once the consumed prefix dominates, so the array never grows without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    assert(this.#dirty.has(item), "a queued work item is not dirty");
    this.#dirty.delete(item);
    this.#processing.add(item);
    return item;
  }

  /** The worker has finished `item`; if it was added meanwhile it is queued again. */
  done(item: K): void {
    if (!this.#processing.delete(item)) return;
    if (this.#dirty.has(item)) {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        this.#dirty.delete(item);
        this.#processing.add(item);
        waiter(item);
      } else {
        this.#queue.push(item);
      }
    }
    if (this.#processing.size === 0) for (const d of this.#drained.splice(0)) d();
  }

  /** Stops handing out work: blocked get() calls resolve with undefined; add() is ignored. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
    this.onShutDown();
  }

  /** shutDown, then waits until every key handed out has been marked done. */
  async shutDownWithDrain(): Promise<void> {
    this.#drain = true;
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drained.push(resolve));
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** True while shutDownWithDrain waits for workers. */
  draining(): boolean {
    return this.#drain && this.#processing.size > 0;
  }

  metrics(): WorkQueueMetrics {
    return { depth: this.len(), ...this.counters };
  }

  /** For subclasses that hold timers. */
  protected onShutDown(): void {}
}
