/**
 * A deterministic in-memory cluster for tests (etcd raft's `network` in raft_test.go, driven through
 * RawNode like a real host): each member has a MemoryStorage and a tiny state machine (the list of
 * applied payloads); messages queue in one FIFO and are delivered unless a rule cuts their link.
 */
import { SeededRng } from "../env/seeded_rng.js";
import { RawNode, StepPeerNotFoundError, type Ready } from "./raw_node.js";
import { MemoryStorage } from "./storage.js";
import { ProposalDroppedError, decodeConfChange, type ConfState, type Entry, type Message, type MessageType, type Snapshot } from "./types.js";
import type { Config } from "./raft.js";

export type NodeOptions = Partial<Omit<Config, "id" | "storage" | "rng">>;

/** One member as its host sees it. */
export class Peer {
  readonly id: bigint;
  readonly storage = new MemoryStorage();
  node: RawNode;
  /** The state machine: payloads of applied normal entries, in order. */
  kv: string[] = [];
  appliedIndex = 0;
  /** Every entry this member applied, by index (for the log-matching checks). */
  readonly appliedEntries = new Map<number, Entry>();
  confState: ConfState = { voters: [], learners: [] };
  /**
   * Members this one has seen removed. As etcd server, the host drops their messages: a removed member that
   * never learnt it was removed would otherwise keep campaigning at ever higher terms and depose leaders.
   */
  readonly removed = new Set<bigint>();
  readonly readStates: { index: number; ctx: string }[] = [];

  constructor(id: bigint, options: NodeOptions, seed: number) {
    this.id = id;
    this.node = new RawNode({ id, storage: this.storage, rng: new SeededRng(seed), electionTick: 10, heartbeatTick: 1, ...options });
  }

  /** Runs one Ready as a host would: persist, collect messages, apply, advance. */
  handleReady(out: Message[]): boolean {
    if (!this.node.hasReady()) return false;
    const rd: Ready = this.node.ready();
    if (rd.snapshot !== null) {
      this.storage.applySnapshot(rd.snapshot);
      this.kv = JSON.parse(new TextDecoder().decode(rd.snapshot.data)) as string[];
      this.appliedIndex = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
    }
    this.storage.append(rd.entries);
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
    // As etcd server's createMergedSnapshotMessage: a snapshot goes out as of the sender's current applied
    // state and config, not the stored one, which may predate the recipient's membership.
    for (const m of rd.messages) out.push(m.type === "MsgSnap" ? { ...m, snapshot: this.#mergedSnapshot() } : m);
    for (const e of rd.committed) {
      if (e.index <= this.appliedIndex) continue;
      if (e.index !== this.appliedIndex + 1) throw new Error(`${this.id} applies ${e.index} after ${this.appliedIndex}`);
      this.appliedIndex = e.index;
      this.appliedEntries.set(e.index, e);
      if (e.type === "EntryConfChange") {
        const cc = decodeConfChange(e.data);
        // As etcd server: a removed id is never reused; re-adding it is refused at apply time (on every
        // member alike, since each decides from the same log prefix) and the entry applies as a no-op.
        if (cc.type === "ConfChangeRemoveNode" || !this.removed.has(cc.nodeId)) {
          this.confState = this.node.applyConfChange(cc);
          if (cc.type === "ConfChangeRemoveNode") this.removed.add(cc.nodeId);
        }
      }
      else if (e.data.length > 0) this.kv.push(new TextDecoder().decode(e.data));
    }
    for (const rs of rd.readStates) this.readStates.push({ index: rs.index, ctx: new TextDecoder().decode(rs.requestCtx) });
    this.node.advance(rd);
    return true;
  }

  #mergedSnapshot(): Snapshot {
    return {
      metadata: { index: this.appliedIndex, term: this.storage.term(this.appliedIndex), confState: this.confState },
      data: new TextEncoder().encode(JSON.stringify(this.kv)),
    };
  }

  /** Snapshots the state machine at its applied index and drops the log before it. */
  compact(): void {
    const data = new TextEncoder().encode(JSON.stringify(this.kv));
    this.storage.createSnapshot(this.appliedIndex, this.confState, data);
    this.storage.compact(this.appliedIndex);
  }
}

/** Bounds how long stabilize() may run; a livelock fails the test instead of hanging it. */
const STABILIZE_ROUNDS_MAX = 10_000;

export class Network {
  readonly peers = new Map<bigint, Peer>();
  readonly #cut = new Set<string>();
  /** Extra rule: return true to drop a message. */
  dropIf: ((m: Message) => boolean) | null = null;
  /** Every message delivered or dropped, for tests that look at the traffic. */
  readonly sent: Message[] = [];
  queue: Message[] = [];
  readonly options: NodeOptions;
  #seed: number;

  /** A new cluster of `ids`, bootstrapped with all of them as voters. */
  constructor(ids: readonly bigint[], options: NodeOptions = {}, seed = 1) {
    this.options = options;
    this.#seed = seed;
    for (const id of ids) {
      const p = new Peer(id, options, seed * 1000 + Number(id));
      p.node.bootstrap(ids);
      this.peers.set(id, p);
    }
  }

  peer(id: bigint): Peer {
    const p = this.peers.get(id);
    if (p === undefined) throw new Error(`no peer ${id}`);
    return p;
  }

  /** Adds a member with an empty log (it joins; the cluster must add it by conf change). */
  addEmptyPeer(id: bigint, options: NodeOptions = this.options): Peer {
    const p = new Peer(id, options, this.#seed * 1000 + Number(id));
    this.peers.set(id, p);
    return p;
  }

  /**
   * Restarts a member from its storage (losing nothing: MemoryStorage is what was persisted). As an etcd
   * member, it starts from its snapshot's state and config and re-applies the committed entries after it,
   * conf changes included (the config after the snapshot lives only in those entries).
   */
  restart(id: bigint): void {
    const p = this.peer(id);
    const snap = p.storage.snapshot();
    p.kv = snap.metadata.index === 0 ? [] : (JSON.parse(new TextDecoder().decode(snap.data)) as string[]);
    p.appliedIndex = snap.metadata.index;
    p.confState = snap.metadata.confState;
    p.node = new RawNode({ id, storage: p.storage, rng: new SeededRng(this.#seed * 7919 + Number(id)), electionTick: 10, heartbeatTick: 1, ...this.options });
    this.stabilize();
  }

  cut(a: bigint, b: bigint): void {
    this.#cut.add(`${a}>${b}`);
    this.#cut.add(`${b}>${a}`);
  }

  isolate(id: bigint): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  partition(a: readonly bigint[], b: readonly bigint[]): void {
    for (const x of a) for (const y of b) this.cut(x, y);
  }

  heal(): void {
    this.#cut.clear();
  }

  #dropped(m: Message): boolean {
    if (this.#cut.has(`${m.from}>${m.to}`)) return true;
    if (!this.peers.has(m.to)) return true;
    if (this.peers.get(m.to)!.removed.has(m.from)) return true;
    return this.dropIf !== null && this.dropIf(m);
  }

  /** Delivers one message to its member (swallowing errors a real host would log and drop). */
  deliver(m: Message): void {
    this.sent.push(m);
    if (this.#dropped(m)) {
      this.lose(m);
      return;
    }
    try {
      this.peer(m.to).node.step(m);
    } catch (err) {
      if (err instanceof ProposalDroppedError || err instanceof StepPeerNotFoundError) return;
      throw err;
    }
    // As etcd's transport: the sender learns how a snapshot send ended.
    if (m.type === "MsgSnap") this.peers.get(m.from)?.node.reportSnapshot(m.to, false);
  }

  /** A message the network lost. A real transport notices a failed snapshot stream and says so. */
  lose(m: Message): void {
    if (m.type === "MsgSnap") this.peers.get(m.from)?.node.reportSnapshot(m.to, true);
  }

  /** Runs every member's Ready, then delivers every queued message, until nothing is left. */
  stabilize(): void {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      for (const p of this.peers.values()) while (p.handleReady(this.queue)) { /* until no more work */ }
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error("network did not stabilize");
  }

  /** Ticks `id` n times, stabilizing after each tick. */
  tick(id: bigint, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.peer(id).node.tick();
      this.stabilize();
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.peers.values()) p.node.tick();
      this.stabilize();
    }
  }

  campaign(id: bigint): void {
    this.peer(id).node.campaign();
    this.stabilize();
  }

  propose(id: bigint, data: string): void {
    this.peer(id).node.propose(new TextEncoder().encode(data));
    this.stabilize();
  }

  /** Members that think they lead, with their terms. */
  leaders(): { id: bigint; term: number }[] {
    const out: { id: bigint; term: number }[] = [];
    for (const p of this.peers.values()) {
      const s = p.node.status();
      if (s.raftState === "StateLeader") out.push({ id: p.id, term: s.term });
    }
    return out;
  }

  /** The single leader of the highest term (throws if none). */
  leader(): bigint {
    const ls = this.leaders().sort((a, b) => b.term - a.term);
    if (ls.length === 0) throw new Error("no leader");
    return ls[0]!.id;
  }

  /** Messages of `type` seen so far. */
  sentOfType(type: MessageType): Message[] {
    return this.sent.filter((m) => m.type === type);
  }
}
