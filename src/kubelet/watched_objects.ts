/**
 * The kubelet's ConfigMap and Secret reads for volumes (upstream's watch-based manager,
 * pkg/kubelet/util/manager/watch_based_manager.go): the first read of an object starts a watch of just
 * that object (`fieldSelector=metadata.name=<name>` in its namespace) and later reads come from its
 * cache, so a hundred pods mounting `kube-root-ca.crt` cost one list and one watch instead of a hundred
 * GETs, and a changed object reaches the pods' volumes without polling. A watch nobody read for
 * `idleMs` is stopped; at most `itemsMax` watches run (the least recently read goes first).
 */
import type { Env, Timer } from "../env/env.js";
import type { KubeObject, ResourceClient } from "../client/rest_client.js";
import { SharedIndexInformer } from "../client/shared_informer.js";

/** upstream's maxIdleTime for an unused object's watch. */
export const WATCHED_OBJECT_IDLE_MS = 5 * 60_000;
/** Bounds the watches one kubelet holds open. */
export const WATCHED_OBJECTS_MAX = 1000;
/** How long a first read waits for its watch's list before answering from a plain GET. */
const SYNC_WAIT_MS = 5_000;

interface Item<T extends KubeObject> {
  readonly informer: SharedIndexInformer<T>;
  lastReadMs: number;
}

export interface WatchedObjectsOptions {
  readonly idleMs?: number;
  readonly itemsMax?: number;
}

export class WatchedObjects<T extends KubeObject> {
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #resource: (namespace: string) => ResourceClient<T>;
  readonly #idleMs: number;
  readonly #itemsMax: number;
  readonly #items = new Map<string, Item<T>>();
  #sweep: Timer | null = null;
  #stopped = false;

  constructor(env: Pick<Env, "clock" | "log">, resource: (namespace: string) => ResourceClient<T>, options: WatchedObjectsOptions = {}) {
    this.#env = env;
    this.#resource = resource;
    this.#idleMs = options.idleMs ?? WATCHED_OBJECT_IDLE_MS;
    this.#itemsMax = options.itemsMax ?? WATCHED_OBJECTS_MAX;
  }

  /** Open watches (tests, metrics). */
  get size(): number {
    return this.#items.size;
  }

  /** The object, or null when it does not exist. */
  async get(namespace: string, name: string): Promise<T | null> {
    const key = `${namespace}/${name}`;
    let item = this.#items.get(key);
    if (item === undefined || this.#stopped) {
      if (this.#stopped) return this.#direct(namespace, name);
      item = this.#start(namespace, name);
    }
    item.lastReadMs = this.#env.clock.nowMs();
    if (!item.informer.hasSynced()) {
      let timer: Timer | undefined;
      const synced = await Promise.race([
        item.informer.whenSynced().then(() => true),
        new Promise<boolean>((resolve) => (timer = this.#env.clock.setTimer(SYNC_WAIT_MS, () => resolve(false)))),
      ]);
      timer?.cancel();
      if (!synced) return this.#direct(namespace, name);
    }
    return item.informer.indexer.getByKey(key) ?? null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sweep?.cancel();
    const items = [...this.#items.values()];
    this.#items.clear();
    await Promise.all(items.map((i) => i.informer.stop()));
  }

  #start(namespace: string, name: string): Item<T> {
    if (this.#items.size >= this.#itemsMax) {
      const oldest = [...this.#items.entries()].reduce((a, b) => (b[1].lastReadMs < a[1].lastReadMs ? b : a));
      this.#drop(oldest[0]);
    }
    const informer = new SharedIndexInformer<T>(this.#env, this.#resource(namespace), { name: `watched ${namespace}/${name}`, fieldSelector: `metadata.name=${name}` });
    const item: Item<T> = { informer, lastReadMs: this.#env.clock.nowMs() };
    this.#items.set(`${namespace}/${name}`, item);
    informer.run();
    this.#sweep ??= this.#env.clock.setTimer(this.#idleMs, () => this.#sweepIdle());
    return item;
  }

  #drop(key: string): void {
    const item = this.#items.get(key);
    if (item === undefined) return;
    this.#items.delete(key);
    void item.informer.stop();
  }

  #sweepIdle(): void {
    this.#sweep = null;
    if (this.#stopped) return;
    const now = this.#env.clock.nowMs();
    for (const [key, item] of this.#items) if (now - item.lastReadMs >= this.#idleMs) this.#drop(key);
    if (this.#items.size > 0) this.#sweep = this.#env.clock.setTimer(this.#idleMs, () => this.#sweepIdle());
  }

  async #direct(namespace: string, name: string): Promise<T | null> {
    try {
      return await this.#resource(namespace).get(name);
    } catch (err) {
      if ((err as { reason?: string }).reason === "NotFound") return null;
      throw err;
    }
  }
}
