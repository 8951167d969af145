/**
 * raftLog: the log as raft sees it, stable part in Storage, recent part in Unstable (etcd raft's log.go).
 *
 *   snapshot/compacted | storage (persisted)      | unstable (not yet persisted)
 *   ... firstIndex-1   | firstIndex .. offset-1   | offset .. lastIndex
 *                       applied <= committed <= lastIndex
 */
import { assert } from "../util/assert.js";
import { Unstable } from "./log_unstable.js";
import { CompactedError, UnavailableError, type Storage } from "./storage.js";
import { limitSize, type Entry, type Snapshot } from "./types.js";

/** No limit on a slice's bytes. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the host has applied. */
  applied: number;
  /** Bounds the bytes of committed entries handed out in one Ready. */
  readonly maxNextEntsSize: number;

  constructor(storage: Storage, maxNextEntsSize = NO_LIMIT) {
    this.storage = storage;
    this.maxNextEntsSize = maxNextEntsSize;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // A new log starts committed and applied up to its snapshot.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /**
   * Appends `ents` after (index, logTerm) if the log has that entry (the §5.3 consistency check), cutting
   * off a conflicting suffix. Returns the index of the last new entry, or null if the check fails.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry in `ents` whose term differs from ours (or that we do not have), or 0
   * if all of them are already in the log.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: the leader can skip every
   * entry of a term the follower cannot have, instead of probing one index per round trip.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      const t = termOrNull(() => this.term(index));
      if (t === null) return [index, 0];
      if (t <= term) return [index, t];
    }
    return [0, 0];
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet applied, up to index `hiMax` (what is or will be durable with this Ready). */
  nextEnts(hiMax: number = NO_LIMIT): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, hiMax) + 1;
    if (hi <= off) return [];
    return this.slice(off, hi, this.maxNextEntsSize);
  }

  hasNextEnts(hiMax: number = NO_LIMIT): boolean {
    const off = Math.max(this.applied + 1, this.firstIndex());
    return Math.min(this.committed, hiMax) + 1 > off;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null && this.unstable.snapshot.metadata.index !== 0;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    // Never decrease commit: a stale leader's message may carry a lower one.
    if (this.committed < toCommit) {
      assert(this.lastIndex() >= toCommit, `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
      this.committed = toCommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(this.committed >= i && i >= this.applied, `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of entry i. 0 outside [firstIndex-1, lastIndex]; throws CompactedError if storage dropped it. */
  term(i: number): number {
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(i);
    if (t !== null) return t;
    return this.storage.term(i);
  }

  /** Entries from i on, at most maxBytes (at least one). */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), NO_LIMIT);
  }

  /** Whether a candidate with last entry (lasti, term) is at least as up to date as us (§5.4.1). */
  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    return termOrNull(() => this.term(i)) === term;
  }

  /** Commits up to maxIndex only if that entry is of `term` (the leader's own term: §5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && zeroTermOnErr(() => this.term(maxIndex)) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries [lo, hi), at most maxBytes (at least one). Throws CompactedError below firstIndex. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    this.#mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    if (lo < this.unstable.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxBytes);
      // Storage returned fewer than asked for: the size limit cut it; do not add unstable ones.
      if (stored.length < Math.min(hi, this.unstable.offset) - lo) return stored;
      ents = stored;
    }
    if (hi > this.unstable.offset) {
      const unstable = this.unstable.slice(Math.max(lo, this.unstable.offset), hi);
      ents = ents.length > 0 ? [...ents, ...unstable] : unstable;
    }
    return limitSize(ents, maxBytes);
  }

  #mustCheckOutOfBounds(lo: number, hi: number): void {
    assert(lo <= hi, `invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const length = this.lastIndex() + 1 - fi;
    assert(hi <= fi + length, `slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
  }
}

function zeroTermOnErr(f: () => number): number {
  return termOrNull(f) ?? 0;
}

/** The term, or null if storage no longer (or does not yet) hold the entry. */
function termOrNull(f: () => number): number | null {
  try {
    return f();
  } catch (err) {
    if (err instanceof CompactedError || err instanceof UnavailableError) return null;
    throw err;
  }
}
