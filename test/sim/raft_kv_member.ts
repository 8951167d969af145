/**
 * A member built directly on the pure Raft core (RawNode) with `KvStateMachine`: the simulator's
 * stand-in until `EtcdServer` is a Raft member, and a second, independent host of the same core.
 *
 * Its "disk" is a MemoryStorage kept in `ctx.disk` (it survives crashes) that is only updated after the
 * Ready's bytes were appended and fsynced through `ctx.fs`, so a disk that returns EIO stops the member
 * before anything it promised is visible, exactly as etcd panics on a failed WAL fsync. The state
 * machine is rebuilt on restart from the stored snapshot plus the committed log (as etcd replays its WAL).
 *
 * The host loop, as etcd's raftNode: persist entries + hard state (+ snapshot) → report to the
 * observer → send messages → apply committed entries → serve confirmed reads → advance. A leader sends
 * its appends and heartbeats before its own fsync (Raft thesis 10.2.1, as etcd and EtcdServer do) and
 * counts its own copy only once persisted (`leaderAcksOnPersist`); responses that promise something is
 * durable (append acks, votes) always wait for the fsync, even in a Ready where the member leads.
 */
import type { AppendFile, Timer } from "../../src/env/env.js";
import { RawNode, StepPeerNotFoundError, type Ready } from "../../src/raft/raw_node.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import { NONE, ProposalDroppedError, decodeConfChange, encodeConfChange, type ConfChange, type ConfState, type Message, type Snapshot } from "../../src/raft/types.js";
import { KvStateMachine, type KvCommand, type KvWriteInput } from "./kv_state_machine.js";
import type { KvOutput } from "./kv_model.js";
import { SimRequestError, type SimAdmin, type SimMember, type SimMemberContext, type SimMemberFactory, type SimWatch, type SimWatchEvent } from "./sim_member.js";

/** Requests waiting on one member; beyond it a request fails at once (etcd's "too many requests"). */
export const PENDING_REQUESTS_MAX = 4096;
/** Entries kept in the log behind a snapshot so a slightly slow follower catches up without one (etcd keeps 5000). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 16;
/** The fault-carrier file is cut back once it reaches this size (its contents are never read back). */
const WAL_CARRIER_BYTES_MAX = 1 << 20;

/**
 * Deliberate bugs, so tests can show the checkers catch what they claim to (mutation testing).
 * Never set outside tests.
 */
export interface RaftKvBugs {
  /** Serve gets from the local state at once, without ReadIndex: a deposed leader or a lagging follower answers stale. */
  readonly staleReads?: boolean;
  /** Never store the hard state: a restarted member forgets its term and its vote, and may vote twice in a term. */
  readonly volatileHardState?: boolean;
  /**
   * The leader counts its own copy of an entry when appended, before its fsync (Raft's
   * `leaderAcksOnPersist` off) while it sends before persisting: with its copy alone a quorum (one
   * voter), learners hear of a commit a crash then takes back.
   */
  readonly leaderAcksOnAppend?: boolean;
  /** Revoking a lease deletes the key it was put with even after a later put detached it. */
  readonly revokeIgnoresAttachment?: boolean;
}

/** How the member is set up (not bugs). */
export interface RaftKvOptions {
  /**
   * Voters among the initial peers (the first ones); the others join as learners. Default: all voters.
   * One voter with learners is the configuration where a leader's own copy alone commits an entry.
   */
  readonly voters?: number;
}

/** Messages a leader may send before its own fsync: they ask for something and promise nothing about its disk. */
const SENDABLE_BEFORE_PERSIST = new Set<Message["type"]>(["MsgApp", "MsgHeartbeat", "MsgSnap", "MsgTimeoutNow", "MsgReadIndexResp"]);

interface RaftDisk {
  readonly storage: MemoryStorage;
}

interface Waiter {
  resolve(o: KvOutput): void;
  reject(e: SimRequestError): void;
  timer: Timer;
}

interface PendingRead {
  readonly key: string;
  index: number;
  readonly waiter: Waiter;
}

interface WatchState {
  next: number;
  readonly onEvent: (e: SimWatchEvent) => void;
  readonly onEnd: () => void;
  cancelled: boolean;
}

/** Raft-core members are named m1, m2, …: the number is the id, so any member derives any other's. */
export function raftKvMemberId(name: string): bigint {
  return BigInt(name.slice(1));
}

export class RaftKvMember implements SimMember {
  readonly id: bigint;
  readonly admin: SimAdmin;
  /** Conf changes proposed here, by "type/node", waiting to be applied (one pending at a time in Raft). */
  readonly #confWaiters = new Map<string, { resolve(): void; reject(e: SimRequestError): void; timer: Timer }>();
  readonly #ctx: SimMemberContext;
  readonly #storage: MemoryStorage;
  readonly #node: RawNode;
  #sm: KvStateMachine;
  #applied: number;
  #confState: ConfState;
  #dead = false;
  #looping = false;
  #again = false;
  #tickTimer: Timer | null = null;
  #wal: AppendFile | null = null;
  /**
   * Request ids must not repeat across restarts: an entry proposed before a crash may be applied after
   * it and would wake an unrelated request with the same id. As etcd's idutil, the start time prefixes them.
   */
  #seq = 0;
  readonly #idPrefix: string;
  readonly #waiters = new Map<string, Waiter>();
  readonly #reads = new Map<string, PendingRead>();
  readonly #watches = new Set<WatchState>();
  #lastLeader = -1n;
  #lastTerm = -1;

  readonly #bugs: RaftKvBugs;

  private constructor(bugs: RaftKvBugs, ctx: SimMemberContext, storage: MemoryStorage, node: RawNode, sm: KvStateMachine, applied: number, confState: ConfState) {
    this.id = ctx.id;
    this.#bugs = bugs;
    this.#ctx = ctx;
    this.#storage = storage;
    this.#node = node;
    this.#sm = sm;
    this.#applied = applied;
    this.#confState = confState;
    this.#idPrefix = `${ctx.id}.${ctx.clock.nowMs()}`;
    this.admin = {
      addMember: async (name, learner) => {
        const id = raftKvMemberId(name);
        await this.#confChange({ type: learner ? "ConfChangeAddLearnerNode" : "ConfChangeAddNode", nodeId: id, context: new Uint8Array(0) });
        return id;
      },
      removeMember: (id) => this.#confChange({ type: "ConfChangeRemoveNode", nodeId: id, context: new Uint8Array(0) }),
      promoteMember: (id) => this.#confChange({ type: "ConfChangeAddNode", nodeId: id, context: new Uint8Array(0) }),
      moveLeader: (target) => this.#moveLeader(target),
      // The state machine keeps every revision (watches start anywhere): compaction is not modelled.
      compact: async () => {
        throw new SimRequestError("fail", "the raft-core member does not compact");
      },
      members: () => [
        ...this.#confState.voters.map((id) => ({ id, learner: false, peerName: `m${id}` })),
        ...this.#confState.learners.map((id) => ({ id, learner: true, peerName: `m${id}` })),
      ],
    };
  }

  /** Proposes a conf change and resolves once applied here; Raft refuses a second one while one is pending. */
  #confChange(cc: ConfChange): Promise<void> {
    if (this.#dead) return Promise.reject(new SimRequestError("fail", "member stopped"));
    const key = `${cc.type}/${cc.nodeId}`;
    if (this.#confWaiters.has(key)) return Promise.reject(new SimRequestError("fail", "the same change is pending"));
    const p = new Promise<void>((resolve, reject) => {
      const timer = this.#ctx.clock.setTimer(this.#ctx.requestTimeoutMs, () => {
        this.#confWaiters.delete(key);
        reject(new SimRequestError("unknown", "conf change timed out"));
      });
      this.#confWaiters.set(key, { resolve, reject, timer });
    });
    try {
      this.#node.proposeConfChange(cc);
    } catch (err) {
      const w = this.#confWaiters.get(key)!;
      this.#confWaiters.delete(key);
      w.timer.cancel();
      if (!(err instanceof ProposalDroppedError)) throw err;
      return Promise.reject(new SimRequestError("fail", err.message));
    }
    this.#kick();
    return p;
  }

  async #moveLeader(target: bigint): Promise<void> {
    if (this.#dead || this.#node.raft.lead !== this.id) throw new SimRequestError("fail", "not the leader");
    this.#node.transferLeader(target);
    this.#kick();
    const deadline = this.#ctx.clock.nowMs() + this.#ctx.requestTimeoutMs;
    // Bounded by the request timeout.
    while (this.#node.raft.lead !== target) {
      if (this.#dead || this.#ctx.clock.nowMs() >= deadline) throw new SimRequestError("unknown", "leader transfer took too long");
      await new Promise<void>((r) => void this.#ctx.clock.setTimer(this.#ctx.heartbeatMs, r));
    }
  }

  /** The transport follows the configuration: peers added, learners promoted, members removed. */
  #followConfState(cs: ConfState): void {
    for (const id of [...cs.voters, ...cs.learners]) if (id !== this.id) this.#ctx.transport.addPeer(id, [`http://m${id}:2380`]);
  }

  static async start(ctx: SimMemberContext, bugs: RaftKvBugs = {}, options: RaftKvOptions = {}): Promise<RaftKvMember> {
    let disk = ctx.disk.get("raft") as RaftDisk | undefined;
    const fresh = disk === undefined || disk.storage.lastIndex() === 0;
    if (disk === undefined) {
      disk = { storage: new MemoryStorage() };
      ctx.disk.set("raft", disk);
    }
    const storage = disk.storage;
    const snap = storage.snapshot();
    const electionTick = Math.max(2, Math.round(ctx.electionMs / ctx.heartbeatMs));
    const node = new RawNode({
      id: ctx.id,
      storage,
      rng: ctx.rng,
      electionTick,
      heartbeatTick: 1,
      applied: snap.metadata.index,
      checkQuorum: true,
      preVote: true,
      maxInflightMsgs: 64,
      maxSizePerMsg: 64 * 1024,
      leaderAcksOnPersist: bugs.leaderAcksOnAppend !== true,
    });
    // A member whose bootstrap never reached its disk bootstraps again: nothing of it was promised.
    // One that joins a running cluster learns the configuration from the leader instead.
    if (fresh && !ctx.joining) bootstrap(node, ctx.peers.map((p) => p.id), options.voters ?? ctx.peers.length);
    const sm = KvStateMachine.restore(snap.data);
    const m = new RaftKvMember(bugs, ctx, storage, node, sm, snap.metadata.index, snap.metadata.confState);
    await ctx.fs.mkdirp(`/${ctx.name}`);
    m.#wal = await ctx.fs.openAppend(`/${ctx.name}/wal`);
    for (const p of ctx.peers) if (p.id !== ctx.id) ctx.transport.addPeer(p.id, [`http://${p.name}:2380`]);
    // Members added later are in the snapshot's configuration (or in log entries applied again below).
    m.#followConfState(snap.metadata.confState);
    ctx.transport.onMessage((msg) => m.#receive(msg));
    ctx.transport.onUnreachable((id) => m.#safely(() => m.#node.reportUnreachable(id)));
    ctx.transport.onSnapshotStatus((id, failed) => m.#safely(() => m.#node.reportSnapshot(id, failed)));
    await ctx.transport.start();
    m.#scheduleTick();
    m.#kick();
    return m;
  }

  /** The RawNode, for tests and debugging (drive it only through this member). */
  get rawNode(): RawNode {
    return this.#node;
  }

  leaderId(): bigint {
    return this.#dead ? 0n : this.#node.raft.lead;
  }

  term(): number {
    return this.#node.raft.term;
  }

  appliedIndex(): number {
    return this.#applied;
  }

  revision(): number {
    return this.#sm.revision;
  }

  write(input: KvWriteInput): Promise<KvOutput> {
    if (this.#dead) return Promise.reject(new SimRequestError("fail", "member stopped"));
    if (this.#waiters.size + this.#reads.size >= PENDING_REQUESTS_MAX) return Promise.reject(new SimRequestError("fail", "too many requests"));
    const id = `${this.#idPrefix}-${this.#seq++}`;
    const cmd: KvCommand = { id, input };
    try {
      this.#node.propose(new TextEncoder().encode(JSON.stringify(cmd)));
    } catch (err) {
      if (err instanceof ProposalDroppedError) return Promise.reject(new SimRequestError("fail", err.message));
      throw err;
    }
    const p = this.#wait(id, this.#waiters);
    this.#kick();
    return p;
  }

  read(key: string): Promise<KvOutput> {
    if (this.#dead) return Promise.reject(new SimRequestError("fail", "member stopped"));
    if (this.#waiters.size + this.#reads.size >= PENDING_REQUESTS_MAX) return Promise.reject(new SimRequestError("fail", "too many requests"));
    if (this.#bugs.staleReads === true) return Promise.resolve(this.#sm.get(key));
    const ctxId = `r${this.#idPrefix}-${this.#seq++}`;
    const p = new Promise<KvOutput>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.#ctx.clock.setTimer(this.#ctx.requestTimeoutMs, () => {
          this.#reads.delete(ctxId);
          reject(new SimRequestError("unknown", "read timed out"));
        }),
      };
      this.#reads.set(ctxId, { key, index: -1, waiter });
    });
    try {
      this.#node.readIndex(new TextEncoder().encode(ctxId));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      const r = this.#reads.get(ctxId)!;
      this.#reads.delete(ctxId);
      r.waiter.timer.cancel();
      r.waiter.reject(new SimRequestError("fail", err.message));
    }
    this.#kick();
    return p;
  }

  watch(startRevision: number, onEvent: (e: SimWatchEvent) => void, onEnd: () => void = () => {}): SimWatch {
    const w: WatchState = { next: startRevision, onEvent, onEnd, cancelled: false };
    if (this.#dead) {
      this.#ctx.clock.setTimer(0, onEnd);
      return { cancel: () => void (w.cancelled = true) };
    }
    this.#watches.add(w);
    // Events already applied go out on a later turn, as a watch stream's first response does.
    this.#ctx.clock.setTimer(0, () => this.#feedWatches());
    return { cancel: () => { w.cancelled = true; this.#watches.delete(w); } };
  }

  async hash(): Promise<number> {
    return this.#sm.hash();
  }

  crash(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#tickTimer?.cancel();
    this.#ctx.transport.detach();
    for (const [, w] of this.#waiters) (w.timer.cancel(), w.reject(new SimRequestError("unknown", "member crashed")));
    for (const [, r] of this.#reads) (r.waiter.timer.cancel(), r.waiter.reject(new SimRequestError("unknown", "member crashed")));
    this.#waiters.clear();
    this.#reads.clear();
    for (const [, w] of this.#confWaiters) (w.timer.cancel(), w.reject(new SimRequestError("unknown", "member crashed")));
    this.#confWaiters.clear();
    const watches = [...this.#watches];
    this.#watches.clear();
    for (const w of watches) if (!w.cancelled) this.#ctx.clock.setTimer(0, w.onEnd);
  }

  async close(): Promise<void> {
    this.crash();
  }

  #wait(id: string, into: Map<string, Waiter>): Promise<KvOutput> {
    return new Promise<KvOutput>((resolve, reject) => {
      into.set(id, {
        resolve,
        reject,
        timer: this.#ctx.clock.setTimer(this.#ctx.requestTimeoutMs, () => {
          into.delete(id);
          reject(new SimRequestError("unknown", "request timed out"));
        }),
      });
    });
  }

  #scheduleTick(): void {
    this.#tickTimer = this.#ctx.clock.setTimer(this.#ctx.heartbeatMs, () => {
      if (this.#dead) return;
      this.#node.tick();
      this.#kick();
      this.#scheduleTick();
    });
  }

  #receive(m: Message): void {
    if (this.#dead) return;
    this.#safely(() => this.#node.step(m));
  }

  /** Steps that a real host logs and drops: a proposal with no leader, a message from an unknown peer. */
  #safely(fn: () => void): void {
    if (this.#dead) return;
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ProposalDroppedError || err instanceof StepPeerNotFoundError)) throw err;
    }
    this.#kick();
  }

  /** Runs the Ready loop unless it is already running; it re-checks for work before it stops. */
  #kick(): void {
    if (this.#dead) return;
    if (this.#looping) {
      this.#again = true;
      return;
    }
    this.#looping = true;
    void this.#loop().catch((err: unknown) => {
      this.#looping = false;
      if (this.#dead) return;
      this.crash();
      this.#ctx.onFatal(err);
    });
  }

  async #loop(): Promise<void> {
    // Ends when the node has no more work; bounded by the work the cluster feeds it.
    for (;;) {
      this.#again = false;
      if (this.#dead) return;
      if (!this.#node.hasReady()) {
        this.#looping = false;
        if (this.#again && !this.#dead) return this.#kick();
        return;
      }
      await this.#handle(this.#node.ready());
    }
  }

  async #handle(rd: Ready): Promise<void> {
    const ctx = this.#ctx;
    const node = this.#node;
    if (rd.softState !== null || (rd.hardState !== null && rd.hardState.term !== this.#lastTerm)) this.#reportLeader();
    // A leader's appends go out while it fsyncs; the rest of the Ready's messages wait for the fsync.
    const leading = node.raft.state === "StateLeader";
    const early = leading ? rd.messages.filter((m) => SENDABLE_BEFORE_PERSIST.has(m.type)) : [];
    const late = early.length === 0 ? rd.messages : rd.messages.filter((m) => !early.includes(m));
    this.#send(early);
    if (rd.entries.length > 0 || rd.hardState !== null || rd.snapshot !== null) {
      await this.#persist(rd);
      if (this.#dead) return;
    }
    if (rd.snapshot !== null) {
      this.#storage.applySnapshot(rd.snapshot);
      this.#sm = KvStateMachine.restore(rd.snapshot.data);
      this.#applied = rd.snapshot.metadata.index;
      this.#confState = rd.snapshot.metadata.confState;
      this.#followConfState(this.#confState);
      ctx.observer.snapshotInstalled?.(this.id, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    this.#storage.append(rd.entries);
    if (rd.hardState !== null && this.#bugs.volatileHardState !== true) this.#storage.setHardState(rd.hardState);
    ctx.observer.persisted(this.id, rd.hardState, rd.entries);
    // Messages leave only now: a vote or an append ack promises what is durable.
    this.#send(late);
    for (const e of rd.committed) {
      if (e.index <= this.#applied) continue;
      if (e.index !== this.#applied + 1) throw new Error(`member ${this.id} applies ${e.index} after ${this.#applied}`);
      this.#applied = e.index;
      ctx.observer.applied(this.id, e);
      if (e.type === "EntryConfChange") {
        const cc = decodeConfChange(e.data);
        this.#confState = node.applyConfChange(cc);
        if (cc.type === "ConfChangeRemoveNode" && cc.nodeId !== this.id) ctx.transport.removePeer(cc.nodeId);
        else this.#followConfState(this.#confState);
        const w = this.#confWaiters.get(`${cc.type}/${cc.nodeId}`);
        if (w !== undefined) {
          this.#confWaiters.delete(`${cc.type}/${cc.nodeId}`);
          w.timer.cancel();
          w.resolve();
        }
        continue;
      }
      if (e.data.length === 0) continue; // a new leader's empty entry
      const cmd = JSON.parse(new TextDecoder().decode(e.data)) as KvCommand;
      const out =
        this.#bugs.revokeIgnoresAttachment === true && cmd.input.kind === "revoke"
          ? (this.#sm.apply({ id: cmd.id, input: { kind: "delete", key: cmd.input.key } }), { kind: "revoke" as const, revision: this.#sm.revision })
          : this.#sm.apply(cmd);
      const w = this.#waiters.get(cmd.id);
      if (w !== undefined) {
        this.#waiters.delete(cmd.id);
        w.timer.cancel();
        w.resolve(out);
      }
    }
    for (const rs of rd.readStates) {
      const r = this.#reads.get(new TextDecoder().decode(rs.requestCtx));
      if (r !== undefined) r.index = rs.index;
    }
    this.#serveReads();
    node.advance(rd);
    this.#feedWatches();
    this.#maybeSnapshot();
    this.#reportLeader();
  }

  async #persist(rd: Ready): Promise<void> {
    const wal = this.#wal!;
    const bytes = new TextEncoder().encode(`${rd.hardState?.term ?? "-"} ${rd.entries.length} ${rd.snapshot?.metadata.index ?? "-"}\n`);
    if (wal.size() > WAL_CARRIER_BYTES_MAX) {
      await wal.truncate(0);
      await wal.sync();
    }
    await wal.append(bytes);
    if (rd.mustSync || rd.snapshot !== null) await wal.sync();
  }

  #send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    this.#ctx.transport.send(messages.map((m) => (m.type === "MsgSnap" ? { ...m, snapshot: this.#mergedSnapshot() } : m)));
  }

  #serveReads(): void {
    for (const [ctxId, r] of this.#reads) {
      if (r.index < 0 || r.index > this.#applied) continue;
      this.#reads.delete(ctxId);
      r.waiter.timer.cancel();
      r.waiter.resolve(this.#sm.get(r.key));
    }
  }

  #feedWatches(): void {
    if (this.#dead) return;
    for (const w of this.#watches) {
      if (w.cancelled) continue;
      for (const e of this.#sm.eventsFrom(w.next)) {
        w.next = e.modRevision + 1;
        w.onEvent(e);
      }
    }
  }

  #maybeSnapshot(): void {
    const snapIndex = this.#storage.snapshot().metadata.index;
    if (this.#applied - snapIndex < this.#ctx.snapshotCount || this.#applied > this.#storage.lastIndex()) return;
    this.#storage.createSnapshot(this.#applied, this.#confState, this.#sm.snapshot());
    const compactTo = this.#applied - SNAPSHOT_CATCH_UP_ENTRIES;
    if (compactTo > this.#storage.firstIndex()) this.#storage.compact(compactTo);
  }

  /** As etcd's createMergedSnapshotMessage: a snapshot goes out as of the applied state, not the stored one. */
  #mergedSnapshot(): Snapshot {
    return {
      metadata: { index: this.#applied, term: this.#storage.term(this.#applied), confState: this.#confState },
      data: this.#sm.snapshot(),
    };
  }

  #reportLeader(): void {
    const r = this.#node.raft;
    if (r.lead === this.#lastLeader && r.term === this.#lastTerm) return;
    this.#lastLeader = r.lead;
    this.#lastTerm = r.term;
    this.#ctx.observer.leader(this.id, r.term, r.lead);
  }
}

/**
 * A new cluster's log, as `RawNode.bootstrap` writes it, but with the peers after the first `voters`
 * added as learners (bootstrap adds voters only): the same committed entries on every member.
 */
function bootstrap(node: RawNode, peers: readonly bigint[], voters: number): void {
  if (voters >= peers.length) return node.bootstrap(peers);
  const r = node.raft;
  r.becomeFollower(1, NONE);
  const changes: ConfChange[] = peers.map((id, i) => ({ type: i < voters ? "ConfChangeAddNode" : "ConfChangeAddLearnerNode", nodeId: id, context: new Uint8Array(0) }));
  r.raftLog.append(changes.map((cc, i) => ({ term: 1, index: i + 1, type: "EntryConfChange", data: encodeConfChange(cc) })));
  r.raftLog.committed = changes.length;
  for (const cc of changes) r.applyConfChange(cc);
}

export const raftKvMemberFactory: SimMemberFactory = {
  name: "raft-core",
  start: (ctx) => RaftKvMember.start(ctx),
};

/** The raft-core member set up otherwise (e.g. one voter and learners). */
export function makeRaftKvMemberFactory(options: RaftKvOptions, bugs: RaftKvBugs = {}): SimMemberFactory {
  const tags = [...(options.voters === undefined ? [] : [`voters=${options.voters}`]), ...Object.keys(bugs)];
  return { name: `raft-core(${tags.join(",")})`, start: (ctx) => RaftKvMember.start(ctx, bugs, options) };
}

/** The same member with deliberate bugs (tests only). */
export function buggyRaftKvMemberFactory(bugs: RaftKvBugs): SimMemberFactory {
  return { name: `raft-core-buggy(${Object.keys(bugs).join(",")})`, start: (ctx) => RaftKvMember.start(ctx, bugs) };
}
