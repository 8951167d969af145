/**
 * The reflector keeps a store in step with one resource on the API server (client-go tools/cache
 * reflector.go):
 *
 *   list   paged, from resourceVersion "0" the first time (the server's cache, cheap; as client-go), then
 *          from the last resourceVersion seen; if that is too old (410), once more as a consistent list
 *          → store.replace(items, list resourceVersion)
 *   watch  from the list's resourceVersion with bookmarks; each event goes to the store and advances
 *          the last resourceVersion seen (bookmarks only advance it)
 *   closed the server ended the watch (its timeout): watch again from the last resourceVersion
 *   410    an ERROR event "too old resource version": relist, from the last resourceVersion first
 *   error  anything else ends this list-and-watch; the next starts after an exponential backoff
 *          (800 ms doubling to 30 s, reset after 2 min without trouble), timed by the injected clock.
 */
import type { Env } from "../env/env.js";
import { ApiError } from "../api/status.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { apiErrorFromStatus, type KubeObject, type ListOptions, type ObjectList, type WatchOptions } from "./rest_client.js";
import type { WatchStream } from "./watch.js";

/** Items per list page (client-go's pager default). */
export const LIST_PAGE_SIZE = 500;
/** Pages one list may take: bounds a list that would never end (500 × 10 000 = 5 M objects). */
export const LIST_PAGES_MAX = 10_000;
export const BACKOFF_INITIAL_MS = 800;
export const BACKOFF_MAX_MS = 30_000;
/** A backoff older than this starts again from the initial delay. */
export const BACKOFF_RESET_MS = 120_000;
/** Watches ask the server to end them after 5–10 minutes, so that load rebalances (client-go's minWatchTimeout). */
export const WATCH_TIMEOUT_MIN_S = 300;

/** What a reflector lists and watches: a ResourceClient is one. */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<ObjectList<T>>;
  watch(options: WatchOptions): Promise<WatchStream<T>>;
}

/** What a reflector writes to: an informer (which also tells its handlers). */
export interface ReflectorStore<T> {
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

export interface ReflectorOptions {
  /** For logs: `pods`, `deployments.apps`. */
  readonly name?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly pageSize?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Overrides the 5–10 minute watch timeout (tests make watches end quickly). */
  readonly watchTimeoutSeconds?: number;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Watches ended by 410 Expired (each followed by a relist). */
  expired: number;
  /** Lists that retried as a consistent list because the resourceVersion asked for was too old. */
  consistentRelists: number;
  errors: number;
}

function isExpired(err: unknown): boolean {
  return err instanceof ApiError && (err.reason === "Expired" || err.reason === "Gone" || err.code === 410);
}

function isTooLargeResourceVersion(err: unknown): boolean {
  return err instanceof ApiError && err.message.includes("Too large resource version");
}

function resourceVersionOf(obj: unknown): string | undefined {
  return (obj as KubeObject | undefined)?.metadata?.resourceVersion;
}

/** Network failures where the server may just be restarting: retry the watch after a backoff. */
function isRetriableWatchError(err: unknown): boolean {
  if (err instanceof ApiError) return err.reason === "TooManyRequests";
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET";
}

/** Thrown inside listAndWatch to end it without treating it as an error. */
class Stopped extends Error {}

export class Reflector<T extends KubeObject> {
  readonly name: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, expired: 0, consistentRelists: 0, errors: 0 };
  readonly #env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>;
  readonly #lw: ListerWatcher<T>;
  readonly #store: ReflectorStore<T>;
  readonly #o: Required<Omit<ReflectorOptions, "labelSelector" | "fieldSelector" | "name" | "watchTimeoutSeconds">> &
    Pick<ReflectorOptions, "labelSelector" | "fieldSelector" | "watchTimeoutSeconds">;
  #lastSyncResourceVersion = "";
  #lastSyncResourceVersionUnavailable = false;
  #stopped = false;
  #running: Promise<void> | null = null;
  #watch: WatchStream<T> | null = null;
  #wakeSleep: (() => void) | null = null;
  #backoffMs = 0;
  #lastBackoffAtMs = -Infinity;

  constructor(env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>, lw: ListerWatcher<T>, store: ReflectorStore<T>, options: ReflectorOptions = {}) {
    this.#env = env;
    this.#lw = lw;
    this.#store = store;
    this.name = options.name ?? "reflector";
    this.#o = {
      pageSize: options.pageSize ?? LIST_PAGE_SIZE,
      backoffInitialMs: options.backoffInitialMs ?? BACKOFF_INITIAL_MS,
      backoffMaxMs: options.backoffMaxMs ?? BACKOFF_MAX_MS,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
    };
  }

  /** The resourceVersion the store reflects (the last event, bookmark or list seen). */
  lastSyncResourceVersion(): string {
    return this.#lastSyncResourceVersion;
  }

  /** Starts the list-and-watch loop; the promise resolves after stop(). Calling it again returns the same promise. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Ends the loop and the open watch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    this.#wakeSleep?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    // Runs until stop(): each turn is one list followed by watches; a turn ends on an error or a 410.
    while (!this.#stopped) {
      try {
        await this.#listAndWatch();
      } catch (err) {
        rethrowIfAssertion(err);
        if (err instanceof Stopped || this.#stopped) break;
        this.stats.errors++;
        this.#env.log.warn("failed to list and watch; retrying after backoff", { reflector: this.name, error: (err as Error).message });
      }
      if (this.#stopped) break;
      await this.#sleep(this.#nextBackoffMs());
    }
  }

  /** Exponential, doubling to the max; reset when the previous backoff is long past (things went well since). */
  #nextBackoffMs(): number {
    const now = this.#env.clock.nowMs();
    if (now - this.#lastBackoffAtMs > BACKOFF_RESET_MS) this.#backoffMs = 0;
    this.#backoffMs = this.#backoffMs === 0 ? this.#o.backoffInitialMs : Math.min(this.#backoffMs * 2, this.#o.backoffMaxMs);
    this.#lastBackoffAtMs = now;
    const rng = this.#env.rng;
    // Jitter (client-go's factor 1.0) spreads the relists of many clients after a server restart.
    return rng === undefined ? this.#backoffMs : this.#backoffMs * (1 + rng.nextU32() / 2 ** 32);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#env.clock.setTimer(ms, () => {
        this.#wakeSleep = null;
        resolve();
      });
      this.#wakeSleep = () => {
        timer.cancel();
        this.#wakeSleep = null;
        resolve();
      };
    });
  }

  #checkStopped(): void {
    if (this.#stopped) throw new Stopped();
  }

  async #listAndWatch(): Promise<void> {
    await this.#list();
    await this.#watchLoop();
  }

  /** client-go's relistResourceVersion. */
  #relistResourceVersion(): string {
    if (this.#lastSyncResourceVersionUnavailable) return "";
    return this.#lastSyncResourceVersion === "" ? "0" : this.#lastSyncResourceVersion;
  }

  async #list(): Promise<void> {
    const rv = this.#relistResourceVersion();
    let list: { items: T[]; resourceVersion: string };
    try {
      list = await this.#pagedList(rv);
    } catch (err) {
      this.#checkStopped();
      if (!isExpired(err) && !isTooLargeResourceVersion(err)) throw err;
      // The resourceVersion we asked for is gone from the server's history: only a consistent list
      // (the latest state, read through the datastore) can bring the store back.
      this.stats.consistentRelists++;
      this.#lastSyncResourceVersionUnavailable = true;
      list = await this.#pagedList("");
    }
    this.#checkStopped();
    this.#lastSyncResourceVersionUnavailable = false;
    this.stats.lists++;
    this.#store.replace(list.items, list.resourceVersion);
    this.#lastSyncResourceVersion = list.resourceVersion;
    this.#env.log.debug("listed", { reflector: this.name, items: list.items.length, resourceVersion: list.resourceVersion });
  }

  async #pagedList(resourceVersion: string): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    const base = { labelSelector: this.#o.labelSelector, fieldSelector: this.#o.fieldSelector };
    let page = await this.#lw.list({ ...base, limit: this.#o.pageSize, resourceVersion });
    const listRv = page.metadata.resourceVersion ?? "";
    for (let pages = 1; ; pages++) {
      this.#checkStopped();
      for (const item of page.items) items.push(item);
      const token = page.metadata.continue;
      if (token === undefined || token === "") break;
      if (pages >= LIST_PAGES_MAX) throw new Error(`Cannot list ${this.name}: more than ${LIST_PAGES_MAX} pages`);
      try {
        page = await this.#lw.list({ ...base, limit: this.#o.pageSize, continue: token });
      } catch (err) {
        if (!isExpired(err)) throw err;
        // The continue token outlived the server's history (a slow, huge list): take it in one piece.
        this.#checkStopped();
        const full = await this.#lw.list({ ...base, resourceVersion: "" });
        return { items: full.items, resourceVersion: full.metadata.resourceVersion ?? "" };
      }
    }
    return { items, resourceVersion: listRv };
  }

  async #watchLoop(): Promise<void> {
    // Each turn is one watch; it ends on stop(), a 410 (relist) or an error (backoff, relist).
    for (;;) {
      this.#checkStopped();
      const timeoutSeconds = this.#o.watchTimeoutSeconds ?? Math.floor(WATCH_TIMEOUT_MIN_S * (1 + (this.#env.rng === undefined ? 0.5 : this.#env.rng.nextU32() / 2 ** 32)));
      let stream: WatchStream<T>;
      try {
        stream = await this.#lw.watch({
          labelSelector: this.#o.labelSelector,
          fieldSelector: this.#o.fieldSelector,
          resourceVersion: this.#lastSyncResourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
        });
      } catch (err) {
        this.#checkStopped();
        if (isRetriableWatchError(err)) {
          this.#env.log.info("watch failed; retrying after backoff", { reflector: this.name, error: (err as Error).message });
          await this.#sleep(this.#nextBackoffMs());
          continue;
        }
        if (isExpired(err)) {
          this.stats.expired++;
          return;
        }
        throw err;
      }
      this.#watch = stream;
      if (this.#stopped) stream.stop();
      this.stats.watches++;
      const startMs = this.#env.clock.nowMs();
      let events = 0;
      try {
        for await (const event of stream) {
          if (event.type === "ERROR") throw apiErrorFromStatus(event.object, event.object.code ?? 500);
          const rv = resourceVersionOf(event.object);
          switch (event.type) {
            case "ADDED":
              this.#store.add(event.object);
              break;
            case "MODIFIED":
              this.#store.update(event.object);
              break;
            case "DELETED":
              this.#store.delete(event.object);
              break;
            case "BOOKMARK":
              break;
            default:
              this.#env.log.warn("unknown watch event type", { reflector: this.name, type: (event as { type: string }).type });
              continue;
          }
          if (rv !== undefined && rv !== "") this.#lastSyncResourceVersion = rv;
          events++;
        }
      } catch (err) {
        rethrowIfAssertion(err);
        this.#checkStopped();
        if (isExpired(err)) {
          // Don't mark the resourceVersion unavailable: a list from it means "at least as new as", and
          // the server may still serve that; #list falls back to a consistent list if not.
          this.stats.expired++;
          this.#env.log.info("watch closed; relisting", { reflector: this.name, error: (err as Error).message });
          return;
        }
        if (err instanceof ApiError && err.reason === "TooManyRequests") {
          await this.#sleep(this.#nextBackoffMs());
          continue;
        }
        if (err instanceof ApiError) throw err;
        // A broken connection mid-stream is a closed watch: resume from the last resourceVersion.
        this.#env.log.info("watch connection failed; watching again", { reflector: this.name, error: (err as Error).message });
      } finally {
        this.#watch = null;
      }
      this.#checkStopped();
      if (events === 0 && this.#env.clock.nowMs() - startMs < 1000) {
        throw new Error(`very short watch: ${this.name}: Unexpected watch close - watch lasted less than a second and no items received`);
      }
    }
  }
}
