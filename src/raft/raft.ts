/**
 * The Raft state machine (etcd raft's raft.go), single-step membership only. Pure: it changes state on
 * `tick` and `step` and queues messages in `msgs`; RawNode turns that into Readys for the host.
 *
 * Roles and how they change:
 *
 *   follower --election timeout--> pre-candidate --pre-vote quorum--> candidate --vote quorum--> leader
 *      ^                                |  (no term bump: a partitioned node    |                     |
 *      +---- higher term / lost --------+   cannot inflate the cluster's term)  +---------------------+
 *      +---- check-quorum fails, or the leader is removed from the config <-----------------------------+
 *
 * Entries the leader appends count toward its own match at once (as etcd 3.4): the host persists a Ready's
 * entries before it applies its committed entries, so nothing is applied before it is durable locally.
 */
import { assert } from "../util/assert.js";
import type { Rng } from "../env/env.js";
import { RaftLog, NO_LIMIT } from "./log.js";
import { voteResult, type VoteResult } from "./quorum.js";
import { READ_INDEX_PENDING_MAX, ReadOnly, type ReadState } from "./read_only.js";
import { SnapshotTemporarilyUnavailableError, CompactedError, UnavailableError, type Storage } from "./storage.js";
import { ProgressTracker, sortIds } from "./tracker.js";
import {
  NONE,
  ProposalDroppedError,
  bytesEqual,
  decodeConfChange,
  entriesSize,
  isVoteMessage,
  message,
  voteRespMsgType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type Snapshot,
} from "./types.js";

export type StateType = "StateFollower" | "StateCandidate" | "StateLeader" | "StatePreCandidate";

type CampaignType = "CampaignPreElection" | "CampaignElection" | "CampaignTransfer";

/** Marks a vote request that comes from a leader transfer: it may break a follower's lease. */
const CAMPAIGN_TRANSFER = new TextEncoder().encode("CampaignTransfer");

/** Default bound on MsgApp entries per message (etcd's default in etcd server is 1 MiB). */
export const MAX_SIZE_PER_MSG_DEFAULT = 1024 * 1024;
/** Default bound on MsgApps in flight per follower (etcd server's default). */
export const MAX_INFLIGHT_MSGS_DEFAULT = 256;
/** Default bound on uncommitted bytes the leader accepts before dropping proposals (etcd server: 1 GiB; we hold them in memory). */
export const MAX_UNCOMMITTED_ENTRIES_SIZE_DEFAULT = 64 * 1024 * 1024;

/** How a node is configured (etcd raft's Config). */
export interface Config {
  readonly id: bigint;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomised up to 2x). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. Must be < electionTick. */
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** The last index the host has applied (on restart). */
  readonly applied?: number;
  /** Bytes of entries per MsgApp (at least one entry is always sent). */
  readonly maxSizePerMsg?: number;
  /** Bytes of committed entries per Ready. */
  readonly maxCommittedSizePerReady?: number;
  /** Bytes of proposed but uncommitted entries the leader holds before dropping proposals. */
  readonly maxUncommittedEntriesSize?: number;
  /** MsgApps in flight per follower in StateReplicate. */
  readonly maxInflightMsgs?: number;
  /** Bytes in flight per follower (0: no byte limit). */
  readonly maxInflightBytes?: number;
  /** A leader steps down if it does not hear from a quorum within an election timeout; enables vote leases. */
  readonly checkQuorum?: boolean;
  /** Campaign with a pre-vote round first, so a rejoining node does not disrupt the term. */
  readonly preVote?: boolean;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /** Randomises the election timeout. Injected: the core has no randomness of its own. */
  readonly rng: Rng;
  /**
   * The leader counts its own copy of new entries only once the host has persisted them (RawNode.advance),
   * so the host may send the leader's appends before its own fsync (Raft thesis 10.2.1) without an entry
   * ever counting as committed on a copy a crash could lose. Off: the leader counts them when appended.
   */
  readonly leaderAcksOnPersist?: boolean;
}

/** Volatile state the host may want to see change (leader and role). */
export interface SoftState {
  readonly lead: bigint;
  readonly raftState: StateType;
}

export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = NONE;
  readonly raftLog: RaftLog;
  readonly prs: ProgressTracker;
  state: StateType = "StateFollower";
  isLearner = false;
  lead: bigint = NONE;
  /** The member a leader transfer goes to (NONE if none is in progress). */
  leadTransferee: bigint = NONE;
  /** Index of the newest conf change the leader appended; another may not be proposed until it is applied. */
  pendingConfIndex = 0;
  /** Bytes of entries appended by this leader and not yet committed (bounded by maxUncommittedEntriesSize). */
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly disableProposalForwarding: boolean;
  readonly leaderAcksOnPersist: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  /** Leader: ticks since the last election timeout; others: since the last leader contact. */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly #rng: Rng;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.#rng = c.rng;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? NO_LIMIT);
    this.maxMsgSize = c.maxSizePerMsg ?? MAX_SIZE_PER_MSG_DEFAULT;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? MAX_UNCOMMITTED_ENTRIES_SIZE_DEFAULT;
    this.prs = new ProgressTracker(c.maxInflightMsgs ?? MAX_INFLIGHT_MSGS_DEFAULT, c.maxInflightBytes ?? 0);
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.leaderAcksOnPersist = c.leaderAcksOnPersist ?? false;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;

    const { hardState, confState } = c.storage.initialState();
    this.#applyConfState(confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  /**
   * A follower forgets its leader (etcd raft's ForgetLeader): it stays in its term without campaigning,
   * but no longer counts as hearing from a leader, so it grants pre-votes at once. For a host that knows
   * the leader is gone before the election timeout says so.
   */
  forgetLeader(): void {
    if (this.state === "StateFollower") this.lead = NONE;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---- sending ----

  #send(m: Message): void {
    let out = m.from === NONE ? { ...m, from: this.id } : m;
    if (isVoteMessage(m.type)) {
      // Votes carry the term they are for (a pre-vote's is the future term), never 0.
      assert(m.term !== 0, `term should be set when sending ${m.type}`);
    } else {
      assert(m.term === 0, `term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are local in meaning: no term.
      if (m.type !== "MsgProp" && m.type !== "MsgReadIndex") out = { ...out, term: this.term };
    }
    this.msgs.push(out);
  }

  /** Sends a MsgApp (or a MsgSnap if the needed entries are compacted) to `to`. */
  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends what `to` needs next, unless its progress is paused. With sendIfEmpty false an empty MsgApp is
   * not sent (it would only carry the commit index). Returns whether a message went out.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;

    const prevIndex = pr.next - 1;
    let prevTerm: number | null;
    let ents: Entry[] | null;
    try {
      prevTerm = this.raftLog.term(prevIndex);
    } catch (err) {
      if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
      prevTerm = null;
    }
    try {
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (err) {
      if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
      ents = null;
    }
    if (ents !== null && ents.length === 0 && !sendIfEmpty) return false;

    if (prevTerm === null || ents === null) {
      // The entries are compacted: send a snapshot, but only to a follower that is alive.
      if (!pr.recentActive) return false;
      let snapshot: Snapshot;
      try {
        snapshot = this.raftLog.snapshot();
      } catch (err) {
        if (err instanceof SnapshotTemporarilyUnavailableError) return false;
        throw err;
      }
      assert(snapshot.metadata.index !== 0, "need non-empty snapshot");
      this.#send(message({ type: "MsgSnap", to, snapshot }));
      pr.becomeSnapshot(snapshot.metadata.index);
      return true;
    }
    this.#send(message({ type: "MsgApp", to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed }));
    pr.sentEntries(ents.length, entriesSize(ents), ents.length > 0 ? ents[ents.length - 1]!.index : prevIndex);
    return true;
  }

  sendHeartbeat(to: bigint, ctx: Uint8Array | null): void {
    // Never tell a follower a commit index beyond what it is known to have: it could not commit it.
    const pr = this.prs.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.#send(message({ type: "MsgHeartbeat", to, commit, context: ctx }));
  }

  bcastAppend(): void {
    for (const id of this.prs.ids()) if (id !== this.id) this.sendAppend(id);
  }

  bcastHeartbeat(): void {
    this.#bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx());
  }

  #bcastHeartbeatWithCtx(ctx: Uint8Array | null): void {
    for (const id of this.prs.ids()) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  /** Commits what a quorum has, if it is of this term. Returns whether the commit index moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  // ---- role changes ----

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    for (const [id, pr] of this.prs.progress) {
      const fresh = this.prs.newProgress(0, lastIndex + 1, pr.isLearner);
      if (id === this.id) fresh.match = lastIndex;
      this.prs.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    // Reads pending under an old role are dropped: their callers time out and retry, never read stale.
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = "StateFollower";
  }

  becomeCandidate(): void {
    assert(this.state !== "StateLeader", "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = "StateCandidate";
  }

  becomePreCandidate(): void {
    assert(this.state !== "StateLeader", "invalid transition [leader -> pre-candidate]");
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    this.prs.resetVotes();
    this.lead = NONE;
    this.state = "StatePreCandidate";
  }

  becomeLeader(): void {
    assert(this.state !== "StateFollower", "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = "StateLeader";
    // The leader knows its own log; replicate to itself without probing.
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Conf changes in the uncommitted tail may be pending: allow no new one until they apply.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term: once it commits, so does everything before it (§5.4.2), and the
    // leader learns its commit index (needed before serving ReadIndex).
    const ok = this.#appendEntry([{ term: 0, index: 0, type: "EntryNormal", data: new Uint8Array(0) }]);
    assert(ok, "empty entry was dropped");
    // The empty entry is not counted against the uncommitted-size limit.
    this.uncommittedSize = 0;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + (this.#rng.nextU32() % this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Whether this member may campaign: it is a voter and not waiting on a snapshot. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- ticks ----

  tick(): void {
    if (this.state === "StateLeader") this.#tickHeartbeat();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(message({ type: "MsgHup", from: this.id }));
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: "MsgCheckQuorum", from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === "StateLeader" && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== "StateLeader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: "MsgBeat", from: this.id }));
    }
  }

  // ---- elections ----

  hup(t: CampaignType): void {
    if (this.state === "StateLeader") return;
    if (!this.promotable()) return;
    // A conf change committed but not applied may remove us or change the quorum: wait for it.
    if (this.raftLog.committed > this.raftLog.applied) {
      const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, NO_LIMIT);
      if (ents.some((e) => e.type === "EntryConfChange")) return;
    }
    this.campaign(t);
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) return;
    let voteMsg: MessageType;
    let term: number;
    if (t === "CampaignPreElection") {
      this.becomePreCandidate();
      voteMsg = "MsgPreVote";
      // A pre-vote asks about the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, true) === "VoteWon") {
      // A single voter wins on its own vote.
      if (t === "CampaignPreElection") this.campaign("CampaignElection");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of sortIds(this.prs.voters)) {
      if (id === this.id) continue;
      this.#send(
        message({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === "CampaignTransfer" ? CAMPAIGN_TRANSFER : null,
        }),
      );
    }
  }

  /** Records a vote (ours or a peer's answer) and returns the election's result so far. */
  poll(id: bigint, granted: boolean): VoteResult {
    this.prs.recordVote(id, granted);
    return this.prs.tallyVotes().result;
  }

  // ---- step ----

  /** Feeds one message in. Throws ProposalDroppedError for a proposal that cannot be taken. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === "MsgVote" || m.type === "MsgPreVote") {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // Under check-quorum a follower that heard from a leader within the election timeout ignores
        // votes: a member partitioned away and back cannot depose a healthy leader.
        if (!force && inLease) return;
      }
      if (m.type === "MsgPreVote") {
        // Never change our term for a pre-vote.
      } else if (m.type === "MsgPreVoteResp" && !m.reject) {
        // Granted pre-votes carry the future term; the term moves only when the real election starts.
      } else if (m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "MsgHeartbeat" || m.type === "MsgApp")) {
        // A stale leader (e.g. healed from a partition) would never learn the new term from us if we
        // ignored it, and with pre-vote/check-quorum the rest would not bump the term to depose it.
        this.#send(message({ type: "MsgAppResp", to: m.from }));
      } else if (m.type === "MsgPreVote") {
        // Tell the pre-candidate our term so it stops campaigning with an old log/term.
        this.#send(message({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case "MsgHup":
        this.hup(this.preVote ? "CampaignPreElection" : "CampaignElection");
        return;
      case "MsgVote":
      case "MsgPreVote": {
        // We can vote for the one we already voted for (a repeat), for anyone if we have no vote and no
        // leader, and in a pre-vote for anyone asking about a later term.
        const canVote =
          this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === "MsgPreVote" && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // Answer with the term of the request (a pre-vote's future term), so the candidate counts it.
          this.#send(message({ type: voteRespMsgType(m.type), to: m.from, term: m.term }));
          if (m.type === "MsgVote") {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.#send(message({ type: voteRespMsgType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case "StateLeader":
            this.#stepLeader(m);
            return;
          case "StateCandidate":
          case "StatePreCandidate":
            this.#stepCandidate(m);
            return;
          case "StateFollower":
            this.#stepFollower(m);
            return;
        }
    }
  }

  #stepLeader(m: Message): void {
    switch (m.type) {
      case "MsgBeat":
        this.bcastHeartbeat();
        return;
      case "MsgCheckQuorum": {
        // The leader always counts itself active (if it is still a member).
        const self = this.prs.progress.get(this.id);
        if (self !== undefined) self.recentActive = true;
        if (!this.prs.quorumActive()) this.becomeFollower(this.term, NONE);
        // Start the next round: everyone must be heard from again within the next election timeout.
        for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false;
        return;
      }
      case "MsgProp": {
        assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
        if (!this.prs.progress.has(this.id)) throw new ProposalDroppedError("this member was removed from the configuration");
        if (this.leadTransferee !== NONE) throw new ProposalDroppedError(`leader transfer to ${this.leadTransferee} in progress`);
        const ents = [...m.entries];
        const confAt = ents.flatMap((e, i) => (e.type === "EntryConfChange" ? [i] : []));
        if (confAt.length > 0) {
          // One membership change at a time: the next waits until the previous is applied.
          if (this.pendingConfIndex > this.raftLog.applied) {
            throw new ProposalDroppedError(
              `a conf change is pending (index ${this.pendingConfIndex}, applied ${this.raftLog.applied})`,
            );
          }
          if (confAt.length > 1) throw new ProposalDroppedError("more than one conf change in one proposal");
        }
        const lastBefore = this.raftLog.lastIndex();
        if (!this.#appendEntry(ents)) throw new ProposalDroppedError("too many uncommitted bytes");
        if (confAt.length > 0) this.pendingConfIndex = lastBefore + confAt[0]! + 1;
        this.bcastAppend();
        return;
      }
      case "MsgReadIndex":
        if (this.prs.isSingleton()) {
          // Alone, the leader is the quorum: the read is safe at the commit index now.
          this.#respondToReadIndex(m, this.raftLog.committed);
          return;
        }
        // Until an entry of its term commits, a new leader does not know the cluster's commit index.
        if (!this.#committedEntryInCurrentTerm()) {
          if (this.pendingReadIndexMessages.length >= READ_INDEX_PENDING_MAX) throw new ProposalDroppedError("too many pending reads");
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.#sendReadIndexRequest(m);
        return;
    }

    const pr = this.prs.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case "MsgAppResp": {
        pr.recentActive = true;
        if (m.reject) {
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) {
            // Skip past every entry of a term the follower cannot have (etcd's findConflictByTerm optimisation).
            nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          }
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === "StateReplicate") pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === "StateProbe") {
          pr.becomeReplicate();
        } else if (pr.state === "StateSnapshot" && pr.match + 1 >= this.raftLog.firstIndex()) {
          // The follower has caught up far enough to be fed from the log again.
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === "StateReplicate") {
          pr.inflights.freeLE(m.index);
        }
        if (this.maybeCommit()) {
          this.#releasePendingReadIndexMessages();
          this.bcastAppend();
        } else if (oldPaused) {
          // It was paused and is not now: it may be behind, send what it misses.
          this.sendAppend(m.from);
        }
        // Fill the window: keep sending while there is something and room for it (bounded by inflights).
        while (this.maybeSendAppend(m.from, false)) {
          /* each round adds an inflight; the loop ends when the window is full or the log is sent */
        }
        if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
          this.#sendTimeoutNow(m.from);
        }
        return;
      }
      case "MsgHeartbeatResp": {
        pr.recentActive = true;
        pr.probeSent = false;
        // A full window and a live follower: its acks may have been lost; free one slot to make progress.
        if (pr.state === "StateReplicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (m.context === null) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === null) return;
        const votes = new Map<bigint, boolean>();
        for (const id of acks) votes.set(id, true);
        if (voteResult(this.prs.voters, votes) !== "VoteWon") return;
        for (const rs of this.readOnly.advance(m.context)) this.#respondToReadIndex(rs.req, rs.index);
        return;
      }
      case "MsgSnapStatus":
        if (pr.state !== "StateSnapshot") return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a MsgAppResp or heartbeat response before sending again.
        pr.probeSent = true;
        return;
      case "MsgUnreachable":
        // Optimistic sends to an unreachable follower are probably lost: go back to probing.
        if (pr.state === "StateReplicate") pr.becomeProbe();
        return;
      case "MsgTransferLeader": {
        if (pr.isLearner) return;
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        // The transfer must finish within an election timeout.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.#sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return;
      }
    }
  }

  #stepCandidate(m: Message): void {
    // A pre-candidate counts pre-vote answers, a candidate vote answers; the other kind is stale.
    const myVoteRespType: MessageType = this.state === "StatePreCandidate" ? "MsgPreVoteResp" : "MsgVoteResp";
    switch (m.type) {
      case "MsgProp":
        throw new ProposalDroppedError("no leader");
      case "MsgApp":
        this.becomeFollower(m.term, m.from);
        this.#handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return;
      case "MsgTimeoutNow":
        return;
    }
    if (m.type !== myVoteRespType) return;
    const res = this.poll(m.from, !m.reject);
    if (res === "VoteWon") {
      if (this.state === "StatePreCandidate") {
        this.campaign("CampaignElection");
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (res === "VoteLost") {
      // A rejected pre-vote may carry a higher term; becomeFollower(term) keeps ours, Step already bumped it.
      this.becomeFollower(this.term, NONE);
    }
  }

  #stepFollower(m: Message): void {
    switch (m.type) {
      case "MsgProp":
        if (this.lead === NONE) throw new ProposalDroppedError("no leader");
        if (this.disableProposalForwarding) throw new ProposalDroppedError("proposal forwarding is disabled");
        this.#send({ ...m, to: this.lead });
        return;
      case "MsgApp":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleSnapshot(m);
        return;
      case "MsgTransferLeader":
        if (this.lead === NONE) return;
        this.#send({ ...m, to: this.lead });
        return;
      case "MsgTimeoutNow":
        // The leader handed over: campaign now, skipping pre-vote, with the lease-breaking flag.
        this.hup("CampaignTransfer");
        return;
      case "MsgReadIndex":
        if (this.lead === NONE) throw new ProposalDroppedError("no leader to serve a read index");
        this.#send({ ...m, to: this.lead });
        return;
      case "MsgReadIndexResp":
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  #handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Already committed here: tell the leader how far we are.
      this.#send(message({ type: "MsgAppResp", to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.#send(message({ type: "MsgAppResp", to: m.from, index: lastNew }));
      return;
    }
    // Reject, hinting the largest index <= m.index whose term is <= m.logTerm: the leader can jump there.
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const [index, term] = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.#send(message({ type: "MsgAppResp", to: m.from, index: m.index, reject: true, rejectHint: index, logTerm: term }));
  }

  #handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.#send(message({ type: "MsgHeartbeatResp", to: m.from, context: m.context }));
  }

  #handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    if (this.restore(s)) {
      this.#send(message({ type: "MsgAppResp", to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.#send(message({ type: "MsgAppResp", to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot from the leader. Returns false if it is old or our log already has it. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== "StateFollower") {
      // Only a leader of our term sends snapshots; we must be its follower. Defensive, as etcd.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    // A snapshot whose config does not include us is not meant for us.
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) return false;
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We have the snapshot's last entry: just commit up to it, keep the log.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.prs.voters.clear();
    this.prs.learners.clear();
    this.prs.progress.clear();
    this.#applyConfState(cs);
    return true;
  }

  // ---- appending ----

  #appendEntry(es: Entry[]): boolean {
    const li = this.raftLog.lastIndex();
    const ents = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    if (!this.#increaseUncommittedSize(ents)) return false;
    const last = this.raftLog.append(ents);
    if (!this.leaderAcksOnPersist) {
      this.prs.progress.get(this.id)?.maybeUpdate(last);
      this.maybeCommit();
    }
    return true;
  }

  /** The host persisted the log up to `index` (leaderAcksOnPersist): the leader's own copy now counts. */
  persistedTo(index: number): void {
    if (!this.leaderAcksOnPersist || this.state !== "StateLeader") return;
    const pr = this.prs.progress.get(this.id);
    if (pr === undefined || !pr.maybeUpdate(Math.min(index, this.raftLog.lastIndex()))) return;
    if (this.maybeCommit()) this.bcastAppend();
  }

  #increaseUncommittedSize(ents: readonly Entry[]): boolean {
    const s = entriesSize(ents);
    // Always accept into an empty budget, so one large entry is not refused forever.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Committed entries were handed to the host: they no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.state !== "StateLeader") return;
    const s = entriesSize(ents);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  #sendTimeoutNow(to: bigint): void {
    this.#send(message({ type: "MsgTimeoutNow", to }));
  }

  // ---- reads ----

  #committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  #releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.#committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.#sendReadIndexRequest(m);
  }

  #sendReadIndexRequest(m: Message): void {
    const ctx = m.entries[0]!.data;
    // A repeated context is already being confirmed (as etcd); a full queue drops the read, whose caller times out.
    if (!this.readOnly.addRequest(this.raftLog.committed, m)) return;
    this.readOnly.recvAck(this.id, ctx);
    this.#bcastHeartbeatWithCtx(ctx);
  }

  #respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.entries[0]!.data });
      return;
    }
    this.#send(message({ type: "MsgReadIndexResp", to: req.from, index, entries: req.entries }));
  }

  // ---- membership ----

  /**
   * Applies a single-step conf change (when its entry is applied) and returns the new ConfState. Adding
   * an existing learner as a voter promotes it; adding a voter as a learner demotes it.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const id = cc.nodeId;
    const lastIndex = this.raftLog.lastIndex();
    switch (cc.type) {
      case "ConfChangeAddNode": {
        this.prs.learners.delete(id);
        this.prs.voters.add(id);
        const pr = this.prs.progress.get(id);
        if (pr === undefined) this.#initProgress(id, false, lastIndex);
        else pr.isLearner = false;
        break;
      }
      case "ConfChangeAddLearnerNode": {
        this.prs.voters.delete(id);
        this.prs.learners.add(id);
        const pr = this.prs.progress.get(id);
        if (pr === undefined) this.#initProgress(id, true, lastIndex);
        else pr.isLearner = true;
        break;
      }
      case "ConfChangeRemoveNode":
        this.prs.voters.delete(id);
        this.prs.learners.delete(id);
        this.prs.progress.delete(id);
        break;
    }
    return this.#switchToConfig();
  }

  #initProgress(id: bigint, isLearner: boolean, lastIndex: number): void {
    // Probe from the end of the log; recentActive so check-quorum does not count it against us at once
    // and so it can be sent a snapshot.
    const pr = this.prs.newProgress(0, Math.max(lastIndex, 1), isLearner);
    pr.recentActive = true;
    this.prs.progress.set(id, pr);
  }

  #applyConfState(cs: ConfState): void {
    const lastIndex = this.raftLog.lastIndex();
    for (const id of cs.voters) {
      this.prs.voters.add(id);
      this.#initProgress(id, false, lastIndex);
    }
    for (const id of cs.learners) {
      this.prs.learners.add(id);
      this.#initProgress(id, true, lastIndex);
    }
    this.#switchToConfig();
  }

  #switchToConfig(): ConfState {
    const cs = this.prs.confState();
    const pr = this.prs.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === "StateLeader") {
      // Removed (or demoted) leader: step down so the rest elect a leader among themselves.
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== "StateLeader" || cs.voters.length === 0) return cs;
    // The quorum changed: the commit index may move, and new members need entries.
    if (this.maybeCommit()) this.bcastAppend();
    else for (const id of this.prs.ids()) if (id !== this.id) this.maybeSendAppend(id, false);
    if (this.leadTransferee !== NONE && !this.prs.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /** Applies a conf-change entry's data (as RawNode.applyConfChange does for the host). */
  applyConfChangeEntry(e: Entry): ConfState {
    return this.applyConfChange(decodeConfChange(e.data));
  }
}

function validateConfig(c: Config): void {
  if (c.id === NONE) throw new Error("Cannot start raft: id must not be 0 (None)");
  if (c.heartbeatTick <= 0) throw new Error(`Cannot start raft: heartbeatTick must be > 0: current value is ${c.heartbeatTick}`);
  if (c.electionTick <= c.heartbeatTick) {
    throw new Error(`Cannot start raft: electionTick must be > heartbeatTick (${c.heartbeatTick}): current value is ${c.electionTick}`);
  }
  if ((c.maxInflightMsgs ?? MAX_INFLIGHT_MSGS_DEFAULT) <= 0) {
    throw new Error(`Cannot start raft: maxInflightMsgs must be > 0: current value is ${c.maxInflightMsgs}`);
  }
}
