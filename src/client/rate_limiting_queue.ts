/**
 * The queue controllers use (client-go's RateLimitingInterface): a delaying work queue plus a rate
 * limiter. On error a worker calls addRateLimited(key) (the key comes back after its backoff); on
 * success forget(key) (its backoff resets). Always done(key) after processing, either way.
 */
import type { Clock } from "../env/env.js";
import { DelayingQueue } from "./delaying_queue.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate_limiter.js";
import type { WorkQueueOptions } from "./workqueue.js";

export interface RateLimitingQueueOptions<K> extends WorkQueueOptions {
  /** Defaults to defaultControllerRateLimiter (5 ms…1000 s per item, max'ed with 10 qps / burst 100). */
  readonly rateLimiter?: RateLimiter<K>;
}

export class RateLimitingQueue<K> extends DelayingQueue<K> {
  readonly rateLimiter: RateLimiter<K>;
  constructor(clock: Clock, options: RateLimitingQueueOptions<K> = {}) {
    super(clock, options);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>(clock);
  }
  /** Adds `item` after the rate limiter says it may be retried. */
  addRateLimited(item: K): void {
    if (this.shuttingDown()) return;
    this.counters.retries++;
    this.addAfter(item, this.rateLimiter.when(item));
  }
  /** Stops tracking the item's failures (call after it succeeded). */
  forget(item: K): void {
    this.rateLimiter.forget(item);
  }
  numRequeues(item: K): number {
    return this.rateLimiter.numRequeues(item);
  }
}

/** The queue a controller makes: `newRateLimitingQueue(env.clock, { name: "replicaset" })`. */
export function newRateLimitingQueue<K = string>(clock: Clock, options: RateLimitingQueueOptions<K> = {}): RateLimitingQueue<K> {
  return new RateLimitingQueue<K>(clock, options);
}
