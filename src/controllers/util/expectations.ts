/**
 * ControllerExpectations (pkg/controller/controller_utils.go): a controller that has just asked for N
 * creations or deletions must not act again on the same key until its informers have seen them —
 * the cache lags the API, and acting on the stale cache would create or delete twice. Each key
 * records how many adds and deletes are still expected and when that was set; the key is satisfied
 * when both reach zero or the record is older than 5 minutes (a lost watch event must not block the
 * controller forever).
 *
 *   expectCreations("ns/web", 3)      add=3 del=0   satisfied? no
 *   creationObserved("ns/web") x3     add=0 del=0   satisfied? yes
 */
import type { Clock } from "../../env/env.js";

/** As upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

export interface Expectation {
  add: number;
  del: number;
  timestampMs: number;
}

export class ControllerExpectations {
  readonly #clock: Pick<Clock, "nowMs">;
  readonly #m = new Map<string, Expectation>();

  constructor(clock: Pick<Clock, "nowMs">) {
    this.#clock = clock;
  }

  get(key: string): Readonly<Expectation> | undefined {
    return this.#m.get(key);
  }

  /** True when the controller may act on `key`: nothing expected, all seen, or the record expired. */
  satisfiedExpectations(key: string): boolean {
    const e = this.#m.get(key);
    if (e === undefined) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.#clock.nowMs() - e.timestampMs > EXPECTATIONS_TIMEOUT_MS;
  }

  setExpectations(key: string, add: number, del: number): void {
    this.#m.set(key, { add, del, timestampMs: this.#clock.nowMs() });
  }

  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  /** Lowers the counts (e.g. a create that failed will never be observed). */
  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.#m.get(key);
    if (e === undefined) return;
    e.add -= add;
    e.del -= del;
  }

  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.#m.get(key);
    if (e === undefined) return;
    e.add += add;
    e.del += del;
  }

  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  deleteExpectations(key: string): void {
    this.#m.delete(key);
  }

  get size(): number {
    return this.#m.size;
  }
}

/**
 * UIDTrackingControllerExpectations: deletions are tracked by the deleted pods' keys, so a pod whose
 * delete is observed twice (an update with deletionTimestamp, then the delete) lowers the count once.
 */
export class UIDTrackingControllerExpectations extends ControllerExpectations {
  readonly #uids = new Map<string, Set<string>>();

  /** Expects the deletion of exactly these pod keys (`namespace/name`). */
  expectDeletionsOf(key: string, deletedKeys: readonly string[]): void {
    const set = new Set(deletedKeys);
    this.#uids.set(key, set);
    this.expectDeletions(key, set.size);
  }

  /** Marks `deleteKey` as deleted for `key`, once. */
  deletionObservedOf(key: string, deleteKey: string): void {
    const set = this.#uids.get(key);
    if (set === undefined || !set.has(deleteKey)) return;
    set.delete(deleteKey);
    this.deletionObserved(key);
  }

  override deleteExpectations(key: string): void {
    this.#uids.delete(key);
    super.deleteExpectations(key);
  }

  getUIDs(key: string): ReadonlySet<string> | undefined {
    return this.#uids.get(key);
  }
}
