/**
 * The API server's watch cache for one resource prefix (upstream's cacher): one datastore watch feeds
 * every client watcher, so N watchers cost one datastore watch. It keeps the current objects (for lists
 * served from the cache) and a bounded window of recent events (for watches that start at a recent
 * resourceVersion). A watch from before the window is refused with 410 "too old resource version", as
 * upstream, and the client relists.
 */
import type { Env } from "../../env/env.js";
import { tooOldResourceVersion } from "../../api/status.js";
import { StorageCompactedError, type Storage, type StorageEvent, type StoredItem, type WatchHandle } from "../storage/contract.js";

/**
 * A datastore watch that breaks (its member stopped, a leader changed) is opened again from the cache's
 * revision, this many times in a row at most, a little later each time; clients keep watching meanwhile.
 */
export const UPSTREAM_RESUMES_MAX = 20;
const UPSTREAM_RESUME_DELAY_MS = 100;
const UPSTREAM_RESUME_DELAY_MAX_MS = 2000;

/** Events kept for watches that start in the past (upstream sizes its window similarly, per resource). */
export const WATCH_CACHE_EVENTS_MAX = 10_000;

export interface CacheWatcher {
  stop(): void;
}

interface Subscriber {
  readonly fromRevision: number;
  readonly onEvent: (e: StorageEvent) => void;
  readonly onClose: (reason: string) => void;
}

/**
 * A copy of exactly these bytes. Values arrive as views into larger buffers (a decoded gRPC message,
 * a datastore batch, a pooled slab); a cache that kept the view would pin the whole buffer for as long
 * as the object lives.
 */
function ownBytes(v: Uint8Array): Uint8Array {
  // `new Uint8Array(view)` copies into an ArrayBuffer of exactly this size (Buffer.from would take a
  // slice of Node's shared 8 KiB pool, and Buffer#slice is only another view).
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : new Uint8Array(v);
}

export class WatchCache {
  readonly #storage: Storage;
  readonly #prefix: string;
  readonly #env: Pick<Env, "log">;
  readonly #objects = new Map<string, StoredItem>();
  /** Recent events, oldest first; bounded by WATCH_CACHE_EVENTS_MAX. */
  #window: StorageEvent[] = [];
  /** The cache reflects the datastore up to this revision. */
  #revision = 0;
  /** The oldest revision a watch may start after and still miss nothing. */
  #oldestRevision = 0;
  readonly #subscribers = new Set<Subscriber>();
  /** The objects in key order, until the next change (callers must not modify the array). */
  #sorted: StoredItem[] | null = null;
  #upstream: WatchHandle | null = null;
  #ready: Promise<void> | null = null;
  /** Resumes of the datastore watch since it last delivered an event. */
  #resumes = 0;
  #resumeTimer: NodeJS.Timeout | null = null;
  #stopped = false;

  readonly #eventsMax: number;

  constructor(env: Pick<Env, "log">, storage: Storage, prefix: string, options: { eventsMax?: number } = {}) {
    this.#env = env;
    this.#storage = storage;
    this.#prefix = prefix;
    this.#eventsMax = options.eventsMax ?? WATCH_CACHE_EVENTS_MAX;
  }

  /** Lists the prefix once and starts the one datastore watch; resolves when the cache is current. */
  start(): Promise<void> {
    if (this.#ready !== null) return this.#ready;
    this.#ready = (async () => {
      const listed = await this.#storage.list(this.#prefix);
      for (const item of listed.items) this.#objects.set(item.key, { ...item, value: ownBytes(item.value) });
      this.#sorted = null;
      this.#revision = listed.revision;
      this.#oldestRevision = listed.revision;
      this.#upstream = this.#storage.watch(this.#prefix, listed.revision, (e) => this.#apply(e), (err) => this.#fail(err));
    })();
    return this.#ready;
  }

  get revision(): number {
    return this.#revision;
  }

  get watcherCount(): number {
    return this.#subscribers.size;
  }

  /** One cached object by key (as of `revision`), or undefined. */
  get(key: string): StoredItem | undefined {
    return this.#objects.get(key);
  }

  /** The cached objects, in key order, as of `revision`. */
  list(): { items: StoredItem[]; revision: number } {
    // Sorted once per change, not once per list: informers list the same unchanged cache again and again.
    this.#sorted ??= [...this.#objects.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items: this.#sorted, revision: this.#revision };
  }

  /**
   * Every change after `fromRevision` (0: from now), in order, once. Throws ApiError 410 when
   * `fromRevision` is older than the cache's window.
   */
  watch(fromRevision: number, onEvent: (e: StorageEvent) => void, onClose: (reason: string) => void): CacheWatcher {
    if (fromRevision !== 0 && fromRevision < this.#oldestRevision) throw tooOldResourceVersion(fromRevision, this.#oldestRevision);
    const from = fromRevision === 0 ? this.#revision : fromRevision;
    const sub: Subscriber = { fromRevision: from, onEvent, onClose };
    for (const e of this.#window) if (e.revision > from) onEvent(e);
    this.#subscribers.add(sub);
    return { stop: () => void this.#subscribers.delete(sub) };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#resumeTimer !== null) clearTimeout(this.#resumeTimer);
    this.#resumeTimer = null;
    this.#upstream?.stop();
    this.#upstream = null;
    for (const s of this.#subscribers) s.onClose("watch cache stopped");
    this.#subscribers.clear();
  }

  #apply(raw: StorageEvent): void {
    this.#resumes = 0;
    // Keep the previous value beside the event: a filtered watch (a label selector) turns a change that
    // moves an object out of its selection into a DELETED, and needs the old value to know.
    const prev = this.#objects.get(raw.key);
    const e: StorageEvent = prev === undefined ? raw : { ...raw, prevValue: prev.value };
    this.#sorted = null;
    if (e.type === "DELETED") this.#objects.delete(e.key);
    else this.#objects.set(e.key, { key: e.key, value: ownBytes(e.value), revision: e.revision });
    this.#revision = Math.max(this.#revision, e.revision);
    this.#window.push(e);
    if (this.#window.length > this.#eventsMax) {
      // Drop the oldest tenth at once (O(1) per event on average), ending on a whole revision so that a
      // watch never starts in the middle of one.
      let cut = Math.ceil(this.#eventsMax / 10);
      const boundary = this.#window[cut - 1]!.revision;
      while (cut < this.#window.length && this.#window[cut]!.revision === boundary) cut++;
      this.#window = this.#window.slice(cut);
      this.#oldestRevision = boundary;
    }
    for (const s of this.#subscribers) if (e.revision > s.fromRevision) s.onEvent(e);
  }

  #fail(err: Error): void {
    if (this.#stopped) return;
    // Compacted past the cache's revision: events are lost, so the watchers must relist (410), as upstream.
    if (err instanceof StorageCompactedError || this.#resumes >= UPSTREAM_RESUMES_MAX) {
      this.#env.log.warn("watch cache lost its datastore watch; closing its watchers", { prefix: this.#prefix, error: err.message, resumes: this.#resumes });
      this.stop();
      return;
    }
    // Anything else (the member went away, no leader for a moment): watch again from where the cache is,
    // so no event is missed or repeated and the clients' watches carry on (upstream's reflector re-watches).
    this.#resumes++;
    const delayMs = Math.min(UPSTREAM_RESUME_DELAY_MS * this.#resumes, UPSTREAM_RESUME_DELAY_MAX_MS);
    this.#env.log.info("watch cache's datastore watch broke; watching again", { prefix: this.#prefix, fromRevision: this.#revision, error: err.message, inMs: delayMs });
    this.#upstream = null;
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = null;
      if (this.#stopped) return;
      this.#upstream = this.#storage.watch(this.#prefix, this.#revision, (e) => this.#apply(e), (e) => this.#fail(e));
    }, delayMs);
    this.#resumeTimer.unref();
  }
}
