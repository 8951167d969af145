/**
 * The stable part of the log as raft reads it (etcd raft's storage.go). The host writes to it after
 * persisting a Ready; raft only reads. `MemoryStorage` keeps it in memory, as etcd's does, in front of the WAL.
 *
 * MemoryStorage layout: ents[0] is a dummy entry standing for the snapshot (its index and term), so
 *
 *   snapshot at 10 (term 2), then entries 11..13:   ents = [ {10,t2 dummy}, {11}, {12}, {13} ]
 *   firstIndex() = 11, lastIndex() = 13, term(10) = 2, term(9) → CompactedError, term(14) → UnavailableError
 */
import { assert } from "../util/assert.js";
import { EMPTY_HARD_STATE, EMPTY_SNAPSHOT } from "./types.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

/** The requested index is older than the last snapshot: the entry is gone (etcd's ErrCompacted). */
export class CompactedError extends Error {
  override readonly name = "CompactedError";
  constructor() {
    super("requested index is unavailable due to compaction");
  }
}

/** The requested index is beyond the last entry (etcd's ErrUnavailable). */
export class UnavailableError extends Error {
  override readonly name = "UnavailableError";
  constructor() {
    super("requested entry at index is unavailable");
  }
}

/** A snapshot older than the current one was offered (etcd's ErrSnapOutOfDate). */
export class SnapOutOfDateError extends Error {
  override readonly name = "SnapOutOfDateError";
  constructor() {
    super("requested index is older than the existing snapshot");
  }
}

/** The snapshot is being made; try later (etcd's ErrSnapshotTemporarilyUnavailable). */
export class SnapshotTemporarilyUnavailableError extends Error {
  override readonly name = "SnapshotTemporarilyUnavailableError";
  constructor() {
    super("snapshot is temporarily unavailable");
  }
}

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/** What raft reads of the persisted log. */
export interface Storage {
  initialState(): InitialState;
  /** Entries [lo, hi), at most maxBytes (but at least one). Throws CompactedError / UnavailableError. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. Throws CompactedError / UnavailableError. */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry still held (the snapshot's index + 1). */
  firstIndex(): number;
  /** The newest snapshot (throws SnapshotTemporarilyUnavailableError if one is being made). */
  snapshot(): Snapshot;
}

interface DummyEntry {
  readonly term: number;
  readonly index: number;
}

/** An in-memory Storage, filled by the host after each Ready is persisted. */
export class MemoryStorage implements Storage {
  #hardState: HardState = EMPTY_HARD_STATE;
  #snapshot: Snapshot = EMPTY_SNAPSHOT;
  /** ents[0] is the dummy for the snapshot; the rest are real entries. */
  #ents: (Entry | DummyEntry)[] = [{ term: 0, index: 0 }];

  initialState(): InitialState {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.#hardState = hs;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.#ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    assert(hi <= this.lastIndex() + 1, `entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    if (this.#ents.length === 1) throw new UnavailableError();
    // Stop at the byte limit while copying: a follower far behind must not cost a copy of the whole log.
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo - offset; i < hi - offset; i++) {
      const e = this.#ents[i] as Entry;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    const offset = this.#ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.#ents.length) throw new UnavailableError();
    return this.#ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.#ents[0]!.index + this.#ents.length - 1;
  }

  firstIndex(): number {
    return this.#ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Replaces the contents with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.#snapshot.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.#snapshot = snap;
    this.#ents = [{ term: snap.metadata.term, index: snap.metadata.index }];
  }

  /**
   * Records a snapshot of the state machine as of applied index i (the host made `data`). Entries
   * stay until `compact`, so slow followers can still be caught up from the log.
   */
  createSnapshot(i: number, confState: ConfState | null, data: Uint8Array): Snapshot {
    if (i <= this.#snapshot.metadata.index) throw new SnapOutOfDateError();
    const offset = this.#ents[0]!.index;
    assert(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.#snapshot = {
      metadata: { index: i, term: this.#ents[i - offset]!.term, confState: confState ?? this.#snapshot.metadata.confState },
      data,
    };
    return this.#snapshot;
  }

  /** Drops entries before compactIndex; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.#ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const kept = this.#ents[i]!;
    this.#ents = [{ term: kept.term, index: kept.index }, ...this.#ents.slice(i + 1)];
  }

  /** Appends persisted entries; entries that overlap the log replace it from their first index on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const offset = ents[0]!.index - this.#ents[0]!.index;
    assert(offset <= this.#ents.length, `missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`);
    // In place: copying the whole log on every append made appends cost O(log length).
    this.#ents.length = offset;
    for (const e of ents) this.#ents.push(e);
  }
}
