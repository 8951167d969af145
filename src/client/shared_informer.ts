/**
 * A shared informer (client-go tools/cache shared_informer.go): one reflector and one indexed cache per
 * resource, any number of event handlers. It is the reflector's store: each list and watch event
 * updates the cache first and then tells every handler, synchronously and in order, so a handler that
 * reads the cache sees at least the state it was told about. Handlers should only enqueue keys; one
 * that throws is logged and the others still run.
 *
 * After a relist, objects the cache has and the list lacks were deleted while the watch was down:
 * handlers get onDelete with a DeletedFinalStateUnknown tombstone carrying the last known state.
 */
import type { Env, Timer } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc, type Indexers } from "./indexer.js";
import { Reflector, type ListerWatcher, type ReflectorOptions, type ReflectorStore } from "./reflector.js";
import type { KubeObject } from "./rest_client.js";
import { DeletedFinalStateUnknown } from "./store.js";

export interface ResourceEventHandler<T> {
  /** `isInInitialList`: the object came with the informer's first list (or was replayed to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called on resync and relist with an unchanged object: compare resourceVersions to tell. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  /** Stops delivering to this handler. */
  remove(): void;
  /** True once the handler has been told about the informer's initial list. */
  hasSynced(): boolean;
}

export interface SharedInformerOptions<T> extends ReflectorOptions {
  /** Every period, handlers get onUpdate(obj, obj) for each cached object; 0: never. */
  readonly resyncPeriodMs?: number;
  readonly indexers?: Indexers<T>;
}

interface Listener<T> {
  readonly handler: ResourceEventHandler<T>;
  readonly resyncPeriodMs: number;
  timer: Timer | null;
  synced: boolean;
  removed: boolean;
}

export class SharedIndexInformer<T extends KubeObject> implements ReflectorStore<T> {
  readonly indexer: Indexer<T>;
  readonly reflector: Reflector<T>;
  readonly name: string;
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #resyncPeriodMs: number;
  readonly #listeners: Listener<T>[] = [];
  #synced = false;
  #started = false;
  #stopped = false;
  readonly #syncWaiters: (() => void)[] = [];

  constructor(env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>, lw: ListerWatcher<T>, options: SharedInformerOptions<T> = {}) {
    this.#env = env;
    this.name = options.name ?? "informer";
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.indexer = new Indexer<T>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...options.indexers });
    this.reflector = new Reflector<T>(env, lw, this, options);
  }

  /** Registers a handler; if the informer already has objects they are replayed to it as adds. */
  addEventHandler(handler: ResourceEventHandler<T>, options: { resyncPeriodMs?: number } = {}): HandlerRegistration {
    const l: Listener<T> = { handler, resyncPeriodMs: options.resyncPeriodMs ?? this.#resyncPeriodMs, timer: null, synced: false, removed: false };
    this.#listeners.push(l);
    if (this.#synced) {
      for (const obj of this.indexer.list()) this.#call(l, "onAdd", () => handler.onAdd?.(obj, true));
      l.synced = true;
    }
    if (this.#started) this.#armResync(l);
    return {
      remove: () => {
        l.removed = true;
        l.timer?.cancel();
        const i = this.#listeners.indexOf(l);
        if (i >= 0) this.#listeners.splice(i, 1);
      },
      hasSynced: () => l.synced,
    };
  }

  /** Adds indices (e.g. pods by spec.nodeName); an index of the same name already there is kept. */
  addIndexers(indexers: Indexers<T>): void {
    const fresh: Record<string, Indexers<T>[string]> = {};
    for (const [name, fn] of Object.entries(indexers)) if (!this.indexer.hasIndex(name)) fresh[name] = fn;
    this.indexer.addIndexers(fresh);
  }

  /** Starts the reflector (once). */
  run(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const l of this.#listeners) this.#armResync(l);
    void this.reflector.run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const l of this.#listeners) l.timer?.cancel();
    await this.reflector.stop();
  }

  /** True once the first list is in the cache and every handler has been told. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when hasSynced() becomes true. */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion();
  }

  // --- ReflectorStore: the cache first, then the handlers. ---

  replace(items: T[], _resourceVersion: string): void {
    const initial = !this.#synced;
    const seen = new Set<string>();
    for (const obj of items) {
      const key = this.indexer.keyOf(obj);
      seen.add(key);
      const old = this.indexer.upsert(obj);
      if (old === undefined) this.#notify("onAdd", (h) => h.onAdd?.(obj, initial));
      else this.#notify("onUpdate", (h) => h.onUpdate?.(old, obj));
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.deleteByKey(key)!;
      const tombstone = new DeletedFinalStateUnknown<T>(key, old);
      this.#notify("onDelete", (h) => h.onDelete?.(tombstone));
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const l of this.#listeners) l.synced = true;
      this.#env.log.info("caches populated", { informer: this.name, items: items.length });
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  add(obj: T): void {
    const old = this.indexer.upsert(obj);
    if (old === undefined) this.#notify("onAdd", (h) => h.onAdd?.(obj, false));
    else this.#notify("onUpdate", (h) => h.onUpdate?.(old, obj));
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.indexer.deleteByKey(this.indexer.keyOf(obj));
    this.#notify("onDelete", (h) => h.onDelete?.(obj));
  }

  #notify(what: string, fn: (h: ResourceEventHandler<T>) => void): void {
    for (const l of this.#listeners) this.#call(l, what, () => fn(l.handler));
  }

  #call(l: Listener<T>, what: string, fn: () => void): void {
    if (l.removed) return;
    try {
      fn();
    } catch (err) {
      rethrowIfAssertion(err);
      this.#env.log.warn("event handler failed", { informer: this.name, handler: what, error: (err as Error).message });
    }
  }

  #armResync(l: Listener<T>): void {
    if (l.resyncPeriodMs <= 0 || l.removed || this.#stopped) return;
    l.timer = this.#env.clock.setTimer(l.resyncPeriodMs, () => {
      l.timer = null;
      if (l.removed || this.#stopped) return;
      // A resync re-delivers what the cache holds (not a relist): handlers get a chance to retry
      // work whose failure they did not requeue.
      if (this.#synced) for (const obj of this.indexer.list()) this.#call(l, "onUpdate", () => l.handler.onUpdate?.(obj, obj));
      this.#armResync(l);
    });
  }
}

/**
 * Waits until every informer has synced; false if `timeoutMs` (on the given clock) passes first or
 * `signal` aborts. Controllers call it before starting workers, so they never act on an empty cache.
 */
export function waitForCacheSync(
  informers: readonly { hasSynced(): boolean; whenSynced(): Promise<void> }[],
  options: { clock?: Env["clock"]; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  if (informers.every((i) => i.hasSynced())) return Promise.resolve(true);
  return new Promise((resolve) => {
    let settled = false;
    let timer: Timer | null = null;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      timer?.cancel();
      options.signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => finish(false);
    if (options.signal?.aborted === true) return finish(false);
    options.signal?.addEventListener("abort", onAbort);
    if (options.clock !== undefined && options.timeoutMs !== undefined) timer = options.clock.setTimer(options.timeoutMs, () => finish(false));
    void Promise.all(informers.map((i) => i.whenSynced())).then(() => finish(true));
  });
}
