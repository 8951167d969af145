/**
 * Rate limiters for requeues (client-go util/workqueue default_rate_limiters.go): how long an item waits
 * before it is retried. The controller default is the max of a per-item exponential backoff (5 ms,
 * doubling, capped at 1000 s) and an overall token bucket (10 qps, burst 100): one failing key backs off
 * on its own, and many failing keys together cannot retry faster than the bucket allows.
 */
import type { Clock } from "../env/env.js";

export interface RateLimiter<K> {
  /** How long `item` should wait (ms) before its next retry; counts one failure. */
  when(item: K): number;
  /** Forgets the item's failures (it succeeded). */
  forget(item: K): void;
  /** Failures counted for the item since the last forget. */
  numRequeues(item: K): number;
}

export const ITEM_BACKOFF_BASE_MS = 5;
export const ITEM_BACKOFF_MAX_MS = 1000 * 1000;
export const BUCKET_QPS = 10;
export const BUCKET_BURST = 100;
/** Items whose failures one per-item limiter remembers; beyond it new items start from the base delay. */
export const ITEM_FAILURES_TRACKED_MAX = 100_000;

/** base × 2^failures, capped: 5 ms, 10 ms, 20 ms … 1000 s. */
export class ItemExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  constructor(
    readonly baseDelayMs = ITEM_BACKOFF_BASE_MS,
    readonly maxDelayMs = ITEM_BACKOFF_MAX_MS,
  ) {}
  when(item: K): number {
    const n = this.#failures.get(item) ?? 0;
    if (this.#failures.has(item) || this.#failures.size < ITEM_FAILURES_TRACKED_MAX) this.#failures.set(item, n + 1);
    // 2^n overflows to Infinity long before it matters; the cap keeps the result finite.
    const delay = this.baseDelayMs * Math.pow(2, n);
    return Number.isFinite(delay) ? Math.min(delay, this.maxDelayMs) : this.maxDelayMs;
  }
  forget(item: K): void {
    this.#failures.delete(item);
  }
  numRequeues(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate's Reserve): `burst` tokens refill at `qps`; a retry
 * that finds none reserves a future token and waits for it, so the bucket never goes below what the
 * waiting retries have already claimed.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #clock: Clock;
  #tokens: number;
  #lastMs: number;
  constructor(
    clock: Clock,
    readonly qps = BUCKET_QPS,
    readonly burst = BUCKET_BURST,
  ) {
    this.#clock = clock;
    this.#tokens = burst;
    this.#lastMs = clock.nowMs();
  }
  when(_item: K): number {
    const now = this.#clock.nowMs();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#lastMs) / 1000) * this.qps);
    this.#lastMs = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.qps) * 1000;
  }
  forget(_item: K): void {}
  numRequeues(_item: K): number {
    return 0;
  }
}

/** The longest wait any of its limiters asks for. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }
  when(item: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: K): void {
    for (const l of this.#limiters) l.forget(item);
  }
  numRequeues(item: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter (DefaultTypedControllerRateLimiter). */
export function defaultControllerRateLimiter<K>(clock: Clock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialFailureRateLimiter<K>(), new BucketRateLimiter<K>(clock));
}
