/**
 * The history of one key, as etcd's keyIndex: a list of generations, each a run of revisions from the
 * key's creation up to and including its deletion (the tombstone). The last generation is the live one
 * (empty if the key is currently deleted).
 *
 * Example: put@1.0, put@2.0, tombstone@3.0, put@4.0, tombstone@5.0 gives
 *
 *   generations: [ {1.0, 2.0, 3.0(t)}, {4.0, 5.0(t)}, {} ]
 *
 * compact(2) keeps 2.0 (the newest revision <= 2 is still needed to read at 2):
 *   generations: [ {2.0, 3.0(t)}, {4.0, 5.0(t)}, {} ]
 * compact(4) drops the first generation whole (a tombstone <= 4 ends it) and keeps 4.0:
 *   generations: [ {4.0, 5.0(t)}, {} ]
 * compact(5) leaves only the tombstone of the second generation, which nothing needs, so:
 *   generations: [ {} ]   → the key index is empty and is removed from the tree.
 */
import { assert } from "../../util/assert.js";
import { formatRevision, revisionAfter, revisionId, type Revision } from "./revision.js";

export interface Generation {
  /** Number of changes in this generation (put increments it; the tombstone does too). */
  ver: number;
  /** Revision at which the generation was created (its first put). */
  created: Revision;
  revs: Revision[];
}

export interface KeyIndexGetResult {
  readonly modified: Revision;
  readonly created: Revision;
  readonly version: number;
}

/** Thrown when the key has no revision visible at the requested point (etcd's ErrRevisionNotFound). */
export class RevisionNotFoundError extends Error {
  override readonly name = "RevisionNotFoundError";
  constructor() {
    super("mvcc: revision not found");
  }
}

function newGeneration(): Generation {
  return { ver: 0, created: { main: 0, sub: 0 }, revs: [] };
}

export class KeyIndex {
  readonly key: string;
  modified: Revision = { main: 0, sub: 0 };
  generations: Generation[] = [newGeneration()];

  constructor(key: string) {
    this.key = key;
  }

  /** Records a put at `rev`. */
  put(rev: Revision): void {
    assert(revisionAfter(rev, this.modified), `put ${this.key} at ${formatRevision(rev)} is not after ${formatRevision(this.modified)}`);
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) {
      g.created = rev;
      // An exact one-slot array: push() on an empty array reserves 17 slots, and most keys keep one revision.
      g.revs = [rev];
    } else {
      g.revs.push(rev);
    }
    g.ver++;
    this.modified = rev;
  }

  /** Restores a live generation from the backend (used on start-up). */
  restore(created: Revision, modified: Revision, ver: number): void {
    assert(this.generations.length === 1 && this.generations[0]!.revs.length === 0, `restore of ${this.key} into a non-empty index`);
    this.modified = modified;
    this.generations = [{ created, ver, revs: [modified] }];
  }

  /** Records a deletion at `rev`: it ends the live generation and starts an empty one. */
  tombstone(rev: Revision): void {
    assert(!this.isEmpty(), `tombstone of ${this.key} whose index is empty`);
    assert(this.generations[this.generations.length - 1]!.revs.length > 0, `tombstone of ${this.key} which is already deleted`);
    this.put(rev);
    this.generations.push(newGeneration());
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /** The newest change visible at `atRev`, or RevisionNotFoundError. */
  get(atRev: number): KeyIndexGetResult {
    const g = this.#findGeneration(atRev);
    if (g === null) throw new RevisionNotFoundError();
    for (let n = g.revs.length - 1; n >= 0; n--) {
      const r = g.revs[n]!;
      if (r.main <= atRev) return { modified: r, created: g.created, version: g.ver - (g.revs.length - n - 1) };
    }
    throw new RevisionNotFoundError();
  }

  /** Revisions of this key newer than `rev` (at most one per main revision: the last change in each txn). */
  since(rev: number): Revision[] {
    const out: Revision[] = [];
    let lastMain = -1;
    for (const g of this.generations) {
      for (const r of g.revs) {
        if (r.main < rev) continue;
        if (r.main === lastMain) out[out.length - 1] = r;
        else out.push(r);
        lastMain = r.main;
      }
    }
    return out;
  }

  /**
   * Drops every revision older than the newest one <= `atRev` of each generation, and generations
   * ended by a tombstone <= `atRev`. Revisions that must stay in the backend are added to `available`.
   */
  compact(atRev: number, available: Set<string>): void {
    assert(!this.isEmpty(), `compact of ${this.key} whose index is empty`);
    let genIdx = 0;
    // The first generation that contains atRev, or was created after it.
    while (genIdx < this.generations.length - 1) {
      const g = this.generations[genIdx]!;
      const tomb = g.revs[g.revs.length - 1]!;
      if (tomb.main > atRev) break;
      genIdx++;
    }
    const g = this.generations[genIdx]!;
    let revIndex = -1;
    for (let i = g.revs.length - 1; i >= 0; i--) {
      if (g.revs[i]!.main <= atRev) {
        available.add(revisionId(g.revs[i]!));
        revIndex = i;
        break;
      }
    }
    if (g.revs.length > 0) {
      if (revIndex !== -1) g.revs = g.revs.slice(revIndex);
      // A generation left holding only its tombstone serves no read: drop it.
      if (g.revs.length === 1 && genIdx !== this.generations.length - 1) {
        available.delete(revisionId(g.revs[0]!));
        genIdx++;
      }
    }
    this.generations = this.generations.slice(genIdx);
  }

  /** What compact(atRev) would keep, without changing anything (for hashKV at a revision). */
  keep(atRev: number, available: Set<string>): void {
    if (this.isEmpty()) return;
    let genIdx = 0;
    while (genIdx < this.generations.length - 1) {
      const g = this.generations[genIdx]!;
      if (g.revs[g.revs.length - 1]!.main > atRev) break;
      genIdx++;
    }
    const g = this.generations[genIdx]!;
    for (let i = g.revs.length - 1; i >= 0; i--) {
      if (g.revs[i]!.main <= atRev) {
        if (!(i === g.revs.length - 1 && genIdx !== this.generations.length - 1)) available.add(revisionId(g.revs[i]!));
        break;
      }
    }
  }

  #findGeneration(rev: number): Generation | null {
    const lastg = this.generations.length - 1;
    for (let cg = lastg; cg >= 0; cg--) {
      const g = this.generations[cg]!;
      if (g.revs.length === 0) continue;
      // A finished generation whose tombstone is at or before rev: the key was deleted at rev.
      if (cg !== lastg && g.revs[g.revs.length - 1]!.main <= rev) return null;
      if (g.revs[0]!.main <= rev) return g;
    }
    return null;
  }
}
