/**
 * The shape every controller in this folder shares (client-go's controller pattern, as in upstream's
 * ReplicaSet controller): informer event handlers only enqueue `namespace/name` keys; workers take a
 * key, run `sync(key)` — which reads the listers, compares desired with actual and acts through the
 * API — and on an error requeue it with per-item exponential backoff; success forgets its failures.
 * The queue hands a key to one worker at a time, so a key's syncs never overlap.
 */
import type { Env } from "../env/env.js";
import type { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import { newRateLimitingQueue, type RateLimitingQueue } from "../client/rate_limiting_queue.js";

/** What a controller is given: the process's Env, an API client, and the shared informers. */
export interface ControllerContext {
  readonly env: Env;
  readonly client: RestClient;
  readonly informers: InformerFactory;
}

export interface Controller {
  /** upstream's controller name, e.g. "replicaset", "deployment". */
  readonly name: string;
  /** Registers its informers' handlers; call before the informer factory starts. */
  init(): void;
  /** Starts `workers` workers; resolves when stop() has drained them. */
  run(workers: number): Promise<void>;
  stop(): void;
}

/** Bounds a controller's queue (upstream's are unbounded; an overfull queue is a bug worth an error). */
export const CONTROLLER_QUEUE_ITEMS_MAX = 1_000_000;

/** A controller whose work is keyed: `sync(key)` does one reconcile and throws to retry with backoff. */
export abstract class QueueController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  protected readonly ctx: ControllerContext;
  #running: Promise<void>[] = [];

  constructor(ctx: ControllerContext, readonly name: string) {
    this.ctx = ctx;
    this.queue = newRateLimitingQueue<string>(ctx.env.clock, { name, itemsMax: CONTROLLER_QUEUE_ITEMS_MAX });
  }

  abstract init(): void;

  /** One reconcile of `key`; idempotent; throws to be retried later. */
  protected abstract sync(key: string): Promise<void>;

  async run(workers: number): Promise<void> {
    this.ctx.env.log.info("starting controller", { controller: this.name, workers });
    for (let i = 0; i < workers; i++) this.#running.push(this.#worker());
    await Promise.all(this.#running);
    this.ctx.env.log.info("controller stopped", { controller: this.name });
  }

  stop(): void {
    this.queue.shutDown();
  }

  /** Processes keys until the queue shuts down (the loop ends only then). */
  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        this.ctx.env.log.warn("sync failed; will retry", {
          controller: this.name,
          key,
          requeues: this.queue.numRequeues(key),
          error: err instanceof Error ? err.message : String(err),
        });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
