/** All keys' indexes in key order, with etcd's range semantics. */
import { OrderedMap } from "../../util/btree.js";
import { KeyIndex, RevisionNotFoundError, type KeyIndexGetResult } from "./key_index.js";
import type { Revision } from "./revision.js";

/**
 * A key range as etcd's API expresses it: `end === null` is the single key; `end === "\0"` is every key
 * >= key; otherwise [key, end).
 */
export interface KeyRange {
  readonly key: string;
  readonly end: string | null;
}

export function rangeHigh(r: KeyRange): string | null {
  return r.end === "\0" ? null : r.end;
}

export function keyInRange(key: string, r: KeyRange): boolean {
  if (r.end === null) return key === r.key;
  if (key < r.key) return false;
  const high = rangeHigh(r);
  return high === null || key < high;
}

export interface IndexedRevision extends KeyIndexGetResult {
  readonly key: string;
}

export class TreeIndex {
  readonly #tree = new OrderedMap<KeyIndex>();

  get size(): number {
    return this.#tree.size;
  }

  put(key: string, rev: Revision): void {
    let ki = this.#tree.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key);
      this.#tree.set(key, ki);
    }
    ki.put(rev);
  }

  restore(key: string, created: Revision, modified: Revision, version: number): void {
    let ki = this.#tree.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key);
      ki.restore(created, modified, version);
      this.#tree.set(key, ki);
      return;
    }
    ki.put(modified);
  }

  tombstone(key: string, rev: Revision): void {
    const ki = this.#tree.get(key);
    if (ki === undefined) throw new RevisionNotFoundError();
    ki.tombstone(rev);
  }

  keyIndex(key: string): KeyIndex | undefined {
    return this.#tree.get(key);
  }

  /** The visible revision of each key in the range at `atRev`, in key order; stops after `limit` (0: none). */
  range(r: KeyRange, atRev: number, limit = 0): IndexedRevision[] {
    const out: IndexedRevision[] = [];
    this.#visit(r, (key, ki) => {
      try {
        out.push({ key, ...ki.get(atRev) });
      } catch (err) {
        if (!(err instanceof RevisionNotFoundError)) throw err;
      }
      return limit > 0 && out.length >= limit;
    });
    return out;
  }

  /** How many keys in the range are visible at `atRev`. */
  count(r: KeyRange, atRev: number): number {
    let n = 0;
    this.#visit(r, (_key, ki) => {
      try {
        ki.get(atRev);
        n++;
      } catch (err) {
        if (!(err instanceof RevisionNotFoundError)) throw err;
      }
    });
    return n;
  }

  /** Compacts every key index at `rev`; returns the revisions the backend must keep. */
  compact(rev: number): Set<string> {
    const available = new Set<string>();
    const emptied: string[] = [];
    this.#tree.forRange("", null, (key, ki) => {
      ki.compact(rev, available);
      if (ki.isEmpty()) emptied.push(key);
    });
    for (const key of emptied) this.#tree.delete(key);
    return available;
  }

  /** The revisions compact(rev) would keep. */
  keep(rev: number): Set<string> {
    const available = new Set<string>();
    this.#tree.forRange("", null, (_key, ki) => ki.keep(rev, available));
    return available;
  }

  #visit(r: KeyRange, visit: (key: string, ki: KeyIndex) => boolean | void): void {
    if (r.end === null) {
      const ki = this.#tree.get(r.key);
      if (ki !== undefined) visit(r.key, ki);
      return;
    }
    this.#tree.forRange(r.key, rangeHigh(r), visit);
  }
}
