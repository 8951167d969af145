/**
 * Watchers over the KV store, as etcd's watchableStore: a watcher is *synced* when it has seen every
 * revision up to the current one (new events are pushed to it as txns end) and *unsynced* while it
 * catches up from history in the backend. A watcher whose sink refuses events (its stream buffer is
 * full) becomes unsynced at the first revision it missed and is caught up from the backend later, so a
 * slow reader never grows memory without bound and never loses an event.
 */
import type { Env, Timer } from "../../env/env.js";
import { CompactedError } from "./errors.js";
import { keyToIndex, type MvccEvent } from "./kv.js";
import type { KVStore } from "./kvstore.js";
import { keyInRange, type KeyRange } from "./tree_index.js";

/** Revisions read from the backend per catch-up pass (etcd syncs in bounded chunks as well). */
export const WATCH_SYNC_REVISIONS_MAX = 1000;
/** How often unsynced watchers are caught up (etcd: 100 ms). */
export const WATCH_SYNC_INTERVAL_MS = 100;
/** How soon a watcher refused by its full stream is retried (etcd retries victims every 10 ms). */
export const WATCH_VICTIM_RETRY_MS = 10;

export interface WatchSink {
  /** Delivers events of one or more revisions, all <= `revision`; returns false to refuse (buffer full). */
  deliver(events: MvccEvent[], revision: number): boolean;
  /** The watcher's start revision has been compacted; it is cancelled. */
  compacted(compactRevision: number): void;
}

export interface Watcher {
  readonly id: number;
  readonly range: KeyRange;
  /** The next revision this watcher needs (while unsynced, or before a future start revision). */
  minRev: number;
  readonly sink: WatchSink;
}

export class WatchableStore {
  readonly #kv: KVStore;
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #synced = new Map<number, Watcher>();
  readonly #unsynced = new Map<number, Watcher>();
  /** Single-key synced watchers by key, so a put notifies only the watchers of its key plus range watchers. */
  readonly #byKey = new Map<string, Set<Watcher>>();
  readonly #rangeWatchers = new Set<Watcher>();
  #nextId = 1;
  #timer: Timer | null = null;
  #timerDueMs = 0;
  #closed = false;

  constructor(env: Pick<Env, "clock" | "log">, kv: KVStore) {
    this.#env = env;
    this.#kv = kv;
  }

  get kv(): KVStore {
    return this.#kv;
  }

  get watcherCount(): number {
    return this.#synced.size + this.#unsynced.size;
  }
  get unsyncedCount(): number {
    return this.#unsynced.size;
  }

  /** Starts a watcher at `startRev` (0: from the next revision). */
  watch(range: KeyRange, startRev: number, sink: WatchSink): Watcher {
    const w: Watcher = { id: this.#nextId++, range, minRev: startRev, sink };
    const cur = this.#kv.currentRevision;
    if (startRev === 0 || startRev > cur) {
      if (startRev === 0) w.minRev = cur + 1;
      this.#addSynced(w);
    } else {
      this.#unsynced.set(w.id, w);
      this.#scheduleSync(0);
    }
    return w;
  }

  /** True when the watcher has been sent everything up to the current revision (it gets new events as they come). */
  isSynced(w: Watcher): boolean {
    return this.#synced.has(w.id);
  }

  cancel(w: Watcher): void {
    this.#removeSynced(w);
    this.#unsynced.delete(w.id);
  }

  /** Called after each write txn with its events (all at `rev`). */
  notify(events: MvccEvent[], rev: number): void {
    if (events.length === 0 || this.#synced.size === 0) return;
    const perWatcher = new Map<Watcher, MvccEvent[]>();
    const add = (w: Watcher, ev: MvccEvent): void => {
      if (w.minRev > rev) return;
      let list = perWatcher.get(w);
      if (list === undefined) perWatcher.set(w, (list = []));
      list.push(ev);
    };
    for (const ev of events) {
      const key = keyToIndex(ev.kv.key);
      const direct = this.#byKey.get(key);
      if (direct !== undefined) for (const w of direct) add(w, ev);
      for (const w of this.#rangeWatchers) if (keyInRange(key, w.range)) add(w, ev);
    }
    for (const [w, evs] of perWatcher) {
      if (w.sink.deliver(evs, rev)) {
        w.minRev = rev + 1;
      } else {
        // The sink is full: catch this watcher up from the backend once it drains.
        this.#removeSynced(w);
        w.minRev = rev;
        this.#unsynced.set(w.id, w);
        this.#scheduleSync(WATCH_VICTIM_RETRY_MS);
      }
    }
  }

  /**
   * The store's contents were replaced (a snapshot from the leader, at `previousRevision` before): every
   * watcher catches up from the new contents, from the revision after the last one it could have seen.
   */
  restored(previousRevision: number): void {
    for (const w of [...this.#synced.values()]) {
      this.#removeSynced(w);
      w.minRev = Math.max(w.minRev, previousRevision + 1);
      this.#unsynced.set(w.id, w);
    }
    if (this.#unsynced.size > 0) this.#scheduleSync(0);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** One catch-up pass over unsynced watchers; reschedules itself while any remain. */
  syncWatchers(): void {
    this.#timer = null;
    if (this.#closed || this.#unsynced.size === 0) return;
    const cur = this.#kv.currentRevision;
    const compactRev = this.#kv.compactRevision;
    let minRev = Infinity;
    for (const w of [...this.#unsynced.values()]) {
      if (w.minRev < compactRev) {
        this.#unsynced.delete(w.id);
        w.sink.compacted(compactRev);
        continue;
      }
      minRev = Math.min(minRev, w.minRev);
    }
    if (this.#unsynced.size === 0) return;
    const watchers = [...this.#unsynced.values()];
    let result: { events: MvccEvent[]; lastRev: number };
    try {
      result = this.#kv.eventsBetween(minRev, cur, (key) => watchers.some((w) => keyInRange(key, w.range)), WATCH_SYNC_REVISIONS_MAX);
    } catch (err) {
      if (!(err instanceof CompactedError)) throw err;
      this.#scheduleSync(0);
      return;
    }
    let stillBehind = false;
    let refused = false;
    for (const w of watchers) {
      const evs = result.events.filter((ev) => ev.kv.modRevision >= w.minRev && keyInRange(keyToIndex(ev.kv.key), w.range));
      if (evs.length > 0 && !w.sink.deliver(evs, result.lastRev)) {
        refused = true;
        continue;
      }
      w.minRev = Math.max(w.minRev, result.lastRev + 1);
      if (w.minRev > this.#kv.currentRevision) {
        this.#unsynced.delete(w.id);
        this.#addSynced(w);
      } else {
        stillBehind = true;
      }
    }
    if (this.#unsynced.size > 0) this.#scheduleSync(stillBehind && result.lastRev < cur ? 0 : refused ? WATCH_VICTIM_RETRY_MS : WATCH_SYNC_INTERVAL_MS);
  }

  #scheduleSync(delayMs: number): void {
    if (this.#closed) return;
    const dueMs = this.#env.clock.nowMs() + delayMs;
    if (this.#timer !== null) {
      if (this.#timerDueMs <= dueMs) return;
      this.#timer.cancel();
    }
    this.#timerDueMs = dueMs;
    this.#timer = this.#env.clock.setTimer(delayMs, () => this.syncWatchers());
  }

  #addSynced(w: Watcher): void {
    this.#synced.set(w.id, w);
    if (w.range.end === null) {
      let set = this.#byKey.get(w.range.key);
      if (set === undefined) this.#byKey.set(w.range.key, (set = new Set()));
      set.add(w);
    } else {
      this.#rangeWatchers.add(w);
    }
  }

  #removeSynced(w: Watcher): void {
    if (!this.#synced.delete(w.id)) return;
    if (w.range.end === null) {
      const set = this.#byKey.get(w.range.key);
      set?.delete(w);
      if (set?.size === 0) this.#byKey.delete(w.range.key);
    } else {
      this.#rangeWatchers.delete(w);
    }
  }
}
