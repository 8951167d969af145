/**
 * RawNode: the host's handle on a Raft (etcd raft's rawnode.go). The host ticks it, steps messages
 * into it, proposes, and runs the Ready loop:
 *
 *   const rd = node.ready();
 *   storage: applySnapshot(rd.snapshot); append(rd.entries); setHardState(rd.hardState)  (one fsync if rd.mustSync)
 *   send(rd.messages)          — only now: a vote or an ack must not leave before what it promises is durable
 *   apply(rd.committed); serve rd.readStates once applied >= their index
 *   node.advance(rd)
 *
 * A second ready() before advance() is a programmer error (asserted).
 */
import { assert } from "../util/assert.js";
import { Raft, type Config, type SoftState, type StateType } from "./raft.js";
import type { ReadState } from "./read_only.js";
import type { ProgressState } from "./progress.js";
import {
  NONE,
  encodeConfChange,
  isLocalMessage,
  isResponseMessage,
  message,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from "./types.js";

/** All the work the host must do, in order (see the module comment). */
export interface Ready {
  /** Leader or role changed (null: unchanged). Not persisted. */
  readonly softState: SoftState | null;
  /** Persist before sending messages (null: unchanged). */
  readonly hardState: HardState | null;
  /** Whether the entries/hard state need an fsync before messages go out (a commit-only change does not). */
  readonly mustSync: boolean;
  /** Append to stable storage (they may overwrite a suffix written earlier). */
  readonly entries: readonly Entry[];
  /** Install into stable storage and the state machine (null: none). */
  readonly snapshot: Snapshot | null;
  /** Apply in index order (etcd's CommittedEntries). Never beyond what this Ready makes durable. */
  readonly committed: readonly Entry[];
  /** Send after persisting. */
  readonly messages: readonly Message[];
  /** Linearizable reads confirmed: serve each once the applied index reaches it. */
  readonly readStates: readonly ReadState[];
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly inflight: number;
}

export interface Status {
  readonly id: bigint;
  readonly term: number;
  readonly vote: bigint;
  readonly commit: number;
  readonly applied: number;
  readonly lead: bigint;
  readonly raftState: StateType;
  readonly leadTransferee: bigint;
  readonly confState: ConfState;
  /** Per member; only on the leader (empty elsewhere). */
  readonly progress: ReadonlyMap<bigint, ProgressStatus>;
}

/** A message from a member not in the configuration (etcd's ErrStepPeerNotFound). */
export class StepPeerNotFoundError extends Error {
  override readonly name = "StepPeerNotFoundError";
  constructor(from: bigint) {
    super(`raft: cannot step as peer not found: ${from}`);
  }
}

export class RawNode {
  /** The state machine. Exposed for tests and status; the host drives it only through RawNode. */
  readonly raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  #outstanding: Ready | null = null;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.#prevSoftState = this.raft.softState();
    this.#prevHardState = this.raft.hardState();
  }

  /**
   * Starts a brand-new cluster's log: one committed AddNode entry per peer at term 1, as etcd's
   * Bootstrap. The host persists and applies them like any others (applying again is idempotent).
   * A member joining an existing cluster does not bootstrap: it learns the config from the leader.
   */
  bootstrap(peers: readonly (bigint | { readonly id: bigint; readonly context: Uint8Array })[]): void {
    assert(peers.length > 0, "must provide at least one peer to bootstrap");
    assert(this.raft.raftLog.lastIndex() === 0, "can't bootstrap a nonempty storage");
    this.raft.becomeFollower(1, NONE);
    // etcd puts each member (its URLs) in the context, so applying the entry tells the host who it is.
    const changes: ConfChange[] = peers.map((p) =>
      typeof p === "bigint" ? { type: "ConfChangeAddNode", nodeId: p, context: new Uint8Array(0) } : { type: "ConfChangeAddNode", nodeId: p.id, context: p.context },
    );
    const ents: Entry[] = changes.map((cc, i) => ({ term: 1, index: i + 1, type: "EntryConfChange", data: encodeConfChange(cc) }));
    this.raft.raftLog.append(ents);
    // Committed by definition: every member of a new cluster starts with the same entries.
    this.raft.raftLog.committed = ents.length;
    for (const cc of changes) this.raft.applyConfChange(cc);
  }

  /** Advances time by one tick (the host calls it every tick interval, e.g. 100 ms as etcd). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with pre-vote if configured). */
  campaign(): void {
    this.raft.step(message({ type: "MsgHup", from: this.raft.id }));
  }

  /** Proposes data to be appended. Throws ProposalDroppedError if it cannot be taken now. */
  propose(data: Uint8Array): void {
    this.raft.step(message({ type: "MsgProp", from: this.raft.id, entries: [{ term: 0, index: 0, type: "EntryNormal", data }] }));
  }

  /** Proposes a membership change; it takes effect when its entry is applied (call applyConfChange then). */
  proposeConfChange(cc: ConfChange): void {
    const data = encodeConfChange(cc);
    this.raft.step(message({ type: "MsgProp", from: this.raft.id, entries: [{ term: 0, index: 0, type: "EntryConfChange", data }] }));
  }

  /** Applies a committed conf change (the host calls it while applying its entry); returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Feeds a message received from a peer. */
  step(m: Message): void {
    // Local messages come only through the methods above; a peer must not be able to inject them.
    if (isLocalMessage(m.type)) throw new Error(`raft: cannot step raft local message ${m.type}`);
    if (isResponseMessage(m.type) && !this.raft.prs.progress.has(m.from)) throw new StepPeerNotFoundError(m.from);
    this.raft.step(m);
  }

  /**
   * Asks for a linearizable read point; `rctx` identifies the request (unique per request). The answer
   * comes as a ReadState in a later Ready, or never if leadership is lost (the caller times out).
   */
  readIndex(rctx: Uint8Array): void {
    this.raft.step(message({ type: "MsgReadIndex", entries: [{ term: 0, index: 0, type: "EntryNormal", data: rctx }] }));
  }

  /** A follower forgets its leader so it grants pre-votes at once (see Raft.forgetLeader). */
  forgetLeader(): void {
    this.raft.forgetLeader();
  }

  /** Asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: bigint): void {
    this.raft.step(message({ type: "MsgTransferLeader", from: transferee }));
  }

  /** The transport could not reach `id`: stop streaming to it optimistically. */
  reportUnreachable(id: bigint): void {
    this.raft.step(message({ type: "MsgUnreachable", from: id }));
  }

  /** A snapshot send to `id` finished (failed: the leader must retry it later). */
  reportSnapshot(id: bigint, failed: boolean): void {
    this.raft.step(message({ type: "MsgSnapStatus", from: id, reject: failed }));
  }

  /** Whether ready() has work (false while a Ready is outstanding). */
  hasReady(): boolean {
    if (this.#outstanding !== null) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.#prevSoftState.lead || ss.raftState !== this.#prevSoftState.raftState) return true;
    if (!sameHardState(r.hardState(), this.#prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.readStates.length > 0) return true;
    return r.raftLog.hasNextEnts();
  }

  ready(): Ready {
    assert(this.#outstanding === null, "ready() called again before advance()");
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const prevHs = this.#prevHardState;
    const entries = [...r.raftLog.unstableEntries()];
    const rd: Ready = {
      softState: ss.lead !== this.#prevSoftState.lead || ss.raftState !== this.#prevSoftState.raftState ? ss : null,
      hardState: sameHardState(hs, prevHs) ? null : hs,
      mustSync: entries.length > 0 || hs.term !== prevHs.term || hs.vote !== prevHs.vote,
      entries,
      snapshot: r.raftLog.hasPendingSnapshot() ? r.raftLog.unstable.snapshot : null,
      // Every unstable entry is in this Ready, so nothing handed out to apply is not durable once it is persisted.
      committed: r.raftLog.nextEnts(),
      messages: r.msgs,
      readStates: r.readStates,
    };
    r.msgs = [];
    r.readStates = [];
    this.#prevSoftState = ss;
    this.#prevHardState = hs;
    this.#outstanding = rd;
    return rd;
  }

  /** The host has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    assert(this.#outstanding === rd, "advance() with a Ready that was not the last one handed out");
    this.#outstanding = null;
    const log = this.raft.raftLog;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      log.stableTo(last.index, last.term);
      this.raft.persistedTo(last.index);
    }
    let applied = 0;
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      applied = rd.snapshot.metadata.index;
    }
    if (rd.committed.length > 0) {
      applied = Math.max(applied, rd.committed[rd.committed.length - 1]!.index);
      this.raft.reduceUncommittedSize(rd.committed);
    }
    if (applied > log.applied) log.appliedTo(applied);
  }

  /** The commit index (status() has it too, but builds every follower's progress on a leader). */
  get commitIndex(): number {
    return this.raft.raftLog.committed;
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<bigint, ProgressStatus>();
    if (r.state === "StateLeader") {
      for (const id of r.prs.ids()) {
        const pr = r.prs.progress.get(id)!;
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count,
        });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      raftState: r.state,
      leadTransferee: r.leadTransferee,
      confState: r.prs.confState(),
      progress,
    };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
