/**
 * Raft's safety properties (the Raft paper, figure 3), checked as members report what they do through
 * the `MemberObserver` hooks:
 * - election safety: at most one leader per term (and every member that names a leader for a term
 *   names the same one);
 * - log matching: two logs holding an entry with the same index and term hold the same entry and agree
 *   on everything before it. Checked by induction: each (index, term) pair is bound, the first time any
 *   member persists it, to its data and to the term of the entry before it; a later copy must match both;
 * - leader completeness: when a member becomes leader, its log holds every entry any member has applied
 *   so far (those were committed in earlier terms), unless compacted into its snapshot;
 * - state-machine safety: no two members apply different entries at the same index;
 * plus what each member's disk must show: terms and commit indexes never go back, a member votes at most
 * once per term, entry terms never decrease along a log, and no member truncates an entry it applied.
 *
 * A member's log as the checker models it survives the member's crashes: `persisted` means durable
 * (except a commit-only hard state, see `crashed`).
 */
import type { Entry, HardState } from "../../src/raft/types.js";
import { crc32cUpdate } from "../../src/util/crc32c.js";

/** The hooks a member calls, synchronously, as it persists, applies and learns of leaders. */
export interface MemberObserver {
  persisted(memberId: bigint, hardState: HardState | null, entries: readonly Entry[]): void;
  applied(memberId: bigint, entry: Entry): void;
  leader(memberId: bigint, term: number, leaderId: bigint): void;
  /** Optional: the member installed a snapshot at (index, term) and its log now starts after it. */
  snapshotInstalled?(memberId: bigint, index: number, term: number): void;
}

/** Stops one broken run from collecting thousands of violations. */
export const RAFT_VIOLATIONS_MAX = 50;

export interface RaftViolation {
  readonly property: "election-safety" | "log-matching" | "leader-completeness" | "state-machine-safety" | "durable-state";
  readonly message: string;
}

interface LogModel {
  /** Index of the entry before entries[0] (snapshot index); its term may be unknown (-1). */
  base: number;
  baseTerm: number;
  /** terms[i] is the term of index base+1+i; hashes likewise. */
  terms: number[];
  hashes: number[];
  hardState: HardState | null;
  appliedIndex: number;
  /** Set by a crash: the commit index may go back once (a commit-only hard state is written without fsync). */
  commitMayRegress: boolean;
}

function hashOf(e: Entry): number {
  return crc32cUpdate(crc32cUpdate(0, Uint8Array.of(e.type === "EntryConfChange" ? 1 : 0)), e.data);
}

export class RaftChecker implements MemberObserver {
  readonly violations: RaftViolation[] = [];
  readonly #leaderOfTerm = new Map<number, bigint>();
  /** (index/term) → the entry's hash and the term before it (-1: unknown when first seen). */
  readonly #bound = new Map<string, { hash: number; prevTerm: number }>();
  /** index → the committed entry every member must apply there. */
  readonly #applied = new Map<number, { term: number; hash: number; by: bigint }>();
  readonly #logs = new Map<bigint, LogModel>();
  #elections = 0;

  /** Leaders elected so far (distinct terms with a leader). */
  get elections(): number {
    return this.#elections;
  }

  /** Entries applied by at least one member. */
  get committedEntries(): number {
    return this.#applied.size;
  }

  persisted(memberId: bigint, hardState: HardState | null, entries: readonly Entry[]): void {
    const log = this.#log(memberId);
    if (hardState !== null) this.#checkHardState(memberId, log, hardState);
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = log.base + log.terms.length;
    if (first > last + 1) {
      // A gap: the member must have installed a snapshot we were not told of; start the log after it.
      this.#resetTo(log, first - 1, -1);
    } else if (first <= log.base) {
      this.#violate("durable-state", `member ${hex(memberId)} persisted entries from ${first}, at or before its snapshot index ${log.base}`);
      return;
    } else if (first <= last) {
      const cut = first - log.base - 1;
      // Raft may hand the same entries out again: a conflicting append that arrives while a Ready is being
      // persisted truncates the unstable log behind it, and the next Ready carries the whole unstable tail
      // (etcd raft does the same; stableTo refuses the old term). Rewriting an applied entry with the same
      // term and content is harmless; changing one is the violation.
      for (const e of entries) {
        if (e.index > log.appliedIndex) break;
        const at = e.index - log.base - 1;
        if (log.terms[at] !== e.term || log.hashes[at] !== hashOf(e)) {
          this.#violate("state-machine-safety", `member ${hex(memberId)} overwrote applied entry ${e.index} (term ${log.terms[at]} → ${e.term}); it has applied through ${log.appliedIndex}`);
          break;
        }
      }
      log.terms.length = cut;
      log.hashes.length = cut;
    }
    for (const e of entries) {
      const i = e.index;
      const expected = log.base + log.terms.length + 1;
      if (i !== expected) {
        this.#violate("durable-state", `member ${hex(memberId)} persisted index ${i} where ${expected} was next`);
        return;
      }
      const prevTerm = log.terms.length > 0 ? log.terms[log.terms.length - 1]! : log.baseTerm;
      if (prevTerm >= 0 && e.term < prevTerm) {
        this.#violate("log-matching", `member ${hex(memberId)} persisted index ${i} at term ${e.term} after an entry of term ${prevTerm}`);
      }
      const h = hashOf(e);
      const key = `${i}/${e.term}`;
      const bound = this.#bound.get(key);
      if (bound === undefined) this.#bound.set(key, { hash: h, prevTerm });
      else {
        if (bound.hash !== h) this.#violate("log-matching", `member ${hex(memberId)} holds another entry at index ${i} term ${e.term} than a member before it`);
        if (bound.prevTerm >= 0 && prevTerm >= 0 && bound.prevTerm !== prevTerm) {
          this.#violate("log-matching", `member ${hex(memberId)} has term ${prevTerm} at index ${i - 1} before (index ${i}, term ${e.term}); another member had term ${bound.prevTerm}`);
        }
        if (bound.prevTerm < 0 && prevTerm >= 0) bound.prevTerm = prevTerm;
      }
      log.terms.push(e.term);
      log.hashes.push(h);
    }
  }

  snapshotInstalled(memberId: bigint, index: number, term: number): void {
    const log = this.#log(memberId);
    // An uncommitted entry of another term may sit at the snapshot's index: the snapshot replaces it.
    // Only a committed one must agree, which the applied entries say.
    const known = this.#termAt(log, index);
    const c = this.#applied.get(index);
    if (c !== undefined && c.term !== term) this.#violate("state-machine-safety", `member ${hex(memberId)} installed a snapshot at index ${index} term ${term}; index ${index} was applied at term ${c.term}`);
    if (index > log.base + log.terms.length || known !== term) this.#resetTo(log, index, term);
    else {
      // Entries after the snapshot that agree with it stay (etcd raft keeps a matching suffix).
      const drop = index - log.base;
      log.terms.splice(0, drop);
      log.hashes.splice(0, drop);
      log.base = index;
      log.baseTerm = term;
    }
    log.appliedIndex = Math.max(log.appliedIndex, index);
  }

  applied(memberId: bigint, entry: Entry): void {
    const log = this.#log(memberId);
    const h = hashOf(entry);
    const c = this.#applied.get(entry.index);
    if (c === undefined) this.#applied.set(entry.index, { term: entry.term, hash: h, by: memberId });
    else if (c.term !== entry.term || c.hash !== h) {
      this.#violate("state-machine-safety", `member ${hex(memberId)} applied index ${entry.index} term ${entry.term}; member ${hex(c.by)} applied term ${c.term}${c.hash !== h ? " with other data" : ""}`);
    }
    const own = this.#termAt(log, entry.index);
    if (own >= 0 && own !== entry.term) this.#violate("state-machine-safety", `member ${hex(memberId)} applied index ${entry.index} of term ${entry.term} but its log holds term ${own}`);
    // A restarted member re-applies from its backend's consistent index: going back is allowed.
    log.appliedIndex = Math.max(log.appliedIndex, entry.index);
  }

  leader(memberId: bigint, term: number, leaderId: bigint): void {
    if (leaderId === 0n) return;
    const known = this.#leaderOfTerm.get(term);
    if (known === undefined) {
      this.#leaderOfTerm.set(term, leaderId);
      this.#elections++;
    } else if (known !== leaderId) {
      this.#violate("election-safety", `term ${term} has two leaders: ${hex(known)} and ${hex(leaderId)} (reported by ${hex(memberId)})`);
    }
    if (memberId !== leaderId) return;
    const log = this.#log(memberId);
    for (const [i, c] of this.#applied) {
      if (i <= log.base) continue;
      const t = this.#termAt(log, i);
      if (t !== c.term) {
        this.#violate("leader-completeness", `member ${hex(memberId)} became leader of term ${term} without committed index ${i} (term ${c.term}); its log ${t < 0 ? `ends at ${log.base + log.terms.length}` : `has term ${t} there`}`);
        return;
      }
    }
  }

  /**
   * The member crashed. Raft writes a hard state whose only change is the commit index without an
   * fsync (etcd's MustSync), so after a restart the commit index may be lower than last reported;
   * terms, votes and entries are always synced and must survive.
   */
  crashed(memberId: bigint): void {
    this.#log(memberId).commitMayRegress = true;
  }

  /** The violations as text, one per line. */
  text(): string {
    return this.violations.map((v) => `${v.property}: ${v.message}`).join("\n");
  }

  #checkHardState(memberId: bigint, log: LogModel, hs: HardState): void {
    const prev = log.hardState;
    if (prev !== null) {
      if (hs.term < prev.term) this.#violate("durable-state", `member ${hex(memberId)} persisted term ${hs.term} after term ${prev.term}`);
      if (hs.term === prev.term && prev.vote !== 0n && hs.vote !== prev.vote) {
        this.#violate("election-safety", `member ${hex(memberId)} voted for ${hex(prev.vote)} and then ${hex(hs.vote)} in term ${hs.term}`);
      }
      if (hs.commit < prev.commit && !log.commitMayRegress) this.#violate("durable-state", `member ${hex(memberId)} persisted commit ${hs.commit} after commit ${prev.commit}`);
    }
    log.hardState = hs;
    log.commitMayRegress = false;
  }

  #termAt(log: LogModel, i: number): number {
    if (i === log.base) return log.baseTerm;
    const at = i - log.base - 1;
    return at >= 0 && at < log.terms.length ? log.terms[at]! : -1;
  }

  #resetTo(log: LogModel, index: number, term: number): void {
    log.base = index;
    log.baseTerm = term;
    log.terms = [];
    log.hashes = [];
  }

  #log(id: bigint): LogModel {
    let log = this.#logs.get(id);
    if (log === undefined) {
      log = { base: 0, baseTerm: 0, terms: [], hashes: [], hardState: null, appliedIndex: 0, commitMayRegress: false };
      this.#logs.set(id, log);
    }
    return log;
  }

  #violate(property: RaftViolation["property"], message: string): void {
    if (this.violations.length < RAFT_VIOLATIONS_MAX) this.violations.push({ property, message });
  }
}

function hex(id: bigint): string {
  return id.toString(16);
}
