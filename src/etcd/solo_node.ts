/**
 * The consensus core for a group of one member, in the shape the Raft issue will fill in:
 * propose → Ready (entries to persist) → advance → Ready (committed entries to apply) → advance.
 * Pure: no IO, no clock. With one voter, an entry is committed as soon as it is durable on that voter,
 * so the quorum is the local WAL fsync.
 */
import { assert } from "../util/assert.js";
import type { Entry, HardState } from "../storage/wal/wal.js";

/** Bounds the bytes one Ready hands to the WAL, and so the latency of its fsync. */
export const READY_ENTRIES_BYTES_MAX = 4 << 20;

export interface Ready {
  /** Persist before anything else (null: unchanged). `mustSync` says whether it needs an fsync on its own. */
  readonly hardState: HardState | null;
  readonly mustSync: boolean;
  /** Append to the WAL, then one fsync for all of them. */
  readonly entries: readonly Entry[];
  /** Apply in index order. */
  readonly committed: readonly Entry[];
}

export interface SoloNodeState {
  readonly id: bigint;
  readonly hardState: HardState;
  /** Index of the last entry already in the WAL. */
  readonly lastIndex: number;
}

export class SoloNode {
  readonly id: bigint;
  #term: number;
  #vote: number;
  #commit: number;
  #lastIndex: number;
  #persistedHardState: HardState;
  #unstable: Entry[] = [];
  /** Durable but not yet handed out for applying. */
  #toApply: Entry[] = [];
  #outstanding: Ready | null = null;

  constructor(state: SoloNodeState) {
    this.id = state.id;
    this.#persistedHardState = state.hardState;
    // Every start is a new election that this member wins alone: a new term. A new member counts its
    // bootstrap as term 1 and so first leads in term 2, as a new etcd member does.
    this.#term = Math.max(state.hardState.term, 1) + 1;
    this.#vote = 1;
    this.#commit = Math.max(state.hardState.commit, state.lastIndex);
    this.#lastIndex = state.lastIndex;
  }

  get term(): number {
    return this.#term;
  }
  get lastIndex(): number {
    return this.#lastIndex;
  }
  get commitIndex(): number {
    return this.#commit;
  }
  get leaderId(): bigint {
    return this.id;
  }
  get unstableCount(): number {
    return this.#unstable.length;
  }

  /** Appends a proposal to the log; returns its index. */
  propose(data: Uint8Array): number {
    const index = ++this.#lastIndex;
    this.#unstable.push({ term: this.#term, index, data });
    return index;
  }

  hasReady(): boolean {
    return this.#unstable.length > 0 || this.#toApply.length > 0 || this.#hardStateChanged();
  }

  ready(): Ready {
    assert(this.#outstanding === null, "ready() called again before advance()");
    let bytes = 0;
    let n = 0;
    while (n < this.#unstable.length && (n === 0 || bytes + this.#unstable[n]!.data.length <= READY_ENTRIES_BYTES_MAX)) {
      bytes += this.#unstable[n]!.data.length;
      n++;
    }
    const entries = this.#unstable.slice(0, n);
    const hs = this.#currentHardState();
    const changed = !sameHardState(hs, this.#persistedHardState);
    const rd: Ready = {
      hardState: changed ? hs : null,
      mustSync: entries.length > 0 || hs.term !== this.#persistedHardState.term || hs.vote !== this.#persistedHardState.vote,
      entries,
      committed: this.#toApply,
    };
    this.#outstanding = rd;
    return rd;
  }

  /** The caller has persisted `rd.entries` and applied `rd.committed`. */
  advance(rd: Ready): void {
    assert(this.#outstanding === rd, "advance() with a Ready that was not the last one handed out");
    this.#outstanding = null;
    if (rd.hardState !== null) this.#persistedHardState = rd.hardState;
    this.#unstable = this.#unstable.slice(rd.entries.length);
    this.#toApply = this.#toApply.slice(rd.committed.length);
    if (rd.entries.length > 0) {
      // Durable on the only voter: committed.
      this.#commit = rd.entries[rd.entries.length - 1]!.index;
      this.#toApply.push(...rd.entries);
    }
  }

  #currentHardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#commit };
  }

  #hardStateChanged(): boolean {
    return !sameHardState(this.#currentHardState(), this.#persistedHardState);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
