/**
 * One datastore member (etcd's EtcdServer): opens the WAL, snapshot and backend, replays, joins its Raft
 * group and runs the ready loop — the only loop that touches the disk:
 *
 *   persist (snapshot, entries, hard state; one fsync) → send messages → apply committed → serve reads → advance
 *
 * Nothing leaves this member before what it promises is durable here, so a vote or an acknowledgement
 * survives a crash; a write is acknowledged only once it is committed by a quorum and applied. Reads
 * are linearizable through ReadIndex (linearizable_reads.ts) unless the client asks for a serializable one.
 *
 * The edges are injected: the clock, randomness and file system through `Env`, the backend store and the
 * Raft transport through `MemberEdges`, so the simulator (test/sim/) runs real members in virtual time.
 */
import * as http from "node:http";
import type { Env, Timer } from "../env/env.js";
import { MemoryStorage } from "../raft/storage.js";
import { RawNode } from "../raft/raw_node.js";
import type { SoftState } from "../raft/raft.js";
import {
  NONE,
  ProposalDroppedError,
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot as RaftSnapshot,
} from "../raft/types.js";
import { Backend, type BackendStore } from "../storage/backend/backend.js";
import { KVStore } from "../storage/mvcc/kvstore.js";
import { WatchableStore } from "../storage/mvcc/watchable_store.js";
import { Snapshotter } from "../storage/snap/snapshotter.js";
import { Wal } from "../storage/wal/wal.js";
import { assert } from "../util/assert.js";
import { applyReadOnlyTxn, applyRange, applyRequest, type Alarms, type ApplyResult } from "./apply.js";
import { encodeBackendImage, restoreBackendImage } from "./backend_image.js";
import { COMMIT_NOTICE_DELAY_MS, CommitNoticeDeferral } from "./commit_notice.js";
import { checkRaftTiming, parseRetentionMs, QUOTA_BACKEND_BYTES_DEFAULT, requestTimeoutMs, type DatastoreConfig } from "./config.js";
import {
  ErrBadLeaderTransferee,
  ErrLearnerNotReady,
  ErrMemberNotFound,
  ErrMemberNotLearner,
  ErrMemberBadURLs,
  ErrNoLeader,
  ErrNoSpace,
  ErrNotLeader,
  ErrRequestTooLarge,
  ErrStopped,
  ErrTimeout,
  ErrTooManyRequests,
  EtcdError,
} from "./errors.js";
import { LEASE_REVOKES_PER_CHECK_MAX, Lessor } from "./lessor.js";
import { LinearizableReads, PENDING_READS_MAX } from "./linearizable_reads.js";
import { fetchClusterFromPeers, idFromHash, loadOrCreateIdentity } from "./identity.js";
import { decodeMemberContext, encodeMemberContext, memberToJson, Membership, type Member } from "./membership.js";
import { DatastoreMetrics } from "./metrics.js";
import { AlarmType, type ResponseHeader, type RangeRequest, type RangeResponse, type TxnRequest, type TxnResponse } from "./pb.js";
import { PeerTransport } from "./peer/transport.js";
import { NoPeerTransport, type RaftTransport } from "./raft_transport.js";
import { decodeRequest, encodeRequest, requestIdOf, type InternalRequest, type MemberAttrRequest } from "./request.js";

/** Proposals waiting to be applied; beyond this a proposal fails fast with "too many requests". */
export const PROPOSALS_PENDING_MAX = 8192;
/** How often expired leases are looked for (etcd checks every 500 ms). */
export const LEASE_CHECK_INTERVAL_MS = 500;
/** How stale the backend size used for the quota check may be; a quota is a soft bound in etcd too. */
export const DB_SIZE_REFRESH_MS = 100;
/** Revision-mode auto compaction checks this often (etcd: 5 minutes). */
export const REVISION_COMPACTION_INTERVAL_MS = 5 * 60_000;
/** etcd's version this member reports; the wire API matches 3.5 (a superset of 3.4). */
export const ETCD_VERSION = "3.5.0";
export const ETCD_CLUSTER_VERSION = "3.5.0";
/** Raft's message and flow-control limits, as etcd sets them. */
const MAX_SIZE_PER_MSG = 1024 * 1024;
const MAX_INFLIGHT_MSGS = 4096 / 8;
/** A learner may be promoted once it holds this share of the leader's log (etcd's readyPercent). */
const LEARNER_READY_PERCENT = 0.9;
/** How long a lease request forwarded to the leader may take. */
const LEADER_REQUEST_TIMEOUT_MS = 2000;
/** The largest body the peer URL's small JSON endpoints accept. */
const PEER_REQUEST_BYTES_MAX = 64 * 1024;
/** Proposals refused by Raft (no leader yet) that wait for one; beyond this they fail fast. */
const HELD_PROPOSALS_MAX = 4096;

export type MemberInfo = Member;
export { memberIdFor } from "./identity.js";

/** Hooks for the simulator's Raft checkers; called synchronously by the member. */
export interface MemberObserver {
  persisted(memberId: bigint, hardState: HardState | null, entries: readonly Entry[]): void;
  applied(memberId: bigint, entry: Entry): void;
  leader(memberId: bigint, term: number, leaderId: bigint): void;
  snapshotInstalled?(memberId: bigint, index: number, term: number): void;
}

export interface MemberEdges {
  /** Opens the MVCC backend in `dir` (default: LMDB). */
  openBackend?: (dir: string) => Promise<BackendStore>;
  /** The transport to the other members (default: PeerTransport on --listen-peer-urls). */
  transport?: RaftTransport;
  observer?: MemberObserver;
  /**
   * How a member joining with --initial-cluster-state existing asks running members for the membership
   * (default: GET <peer URL>/members over HTTP, as etcd). The simulator answers from its own members.
   */
  fetchCluster?: (peerUrls: readonly string[]) => Promise<{ clusterId: bigint; members: Member[] }>;
  /**
   * How a follower asks the leader to act for it — lease keep-alives and TTLs, learner promotion (default:
   * POST <leader's peer URL><path> over HTTP, as etcd). The simulator delivers it to the leader's
   * `answerLeaderRequest` directly.
   */
  leaderRequest?: (leaderPeerUrl: string, path: string, request: LeaderRequest) => Promise<LeaderReply>;
}

/** A request a follower sends the leader over the peer URL. */
export interface LeaderRequest {
  readonly clusterIdHex: string;
  readonly body: string;
}

export interface LeaderReply {
  readonly status: number;
  readonly text: string;
}

async function httpLeaderRequest(leaderPeerUrl: string, path: string, request: LeaderRequest): Promise<LeaderReply> {
  const res = await fetch(new URL(path, leaderPeerUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Etcd-Cluster-ID": request.clusterIdHex },
    body: request.body,
    signal: AbortSignal.timeout(LEADER_REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, text: await res.text() };
}

interface Waiter {
  resolve(r: ApplyResult): void;
  reject(e: unknown): void;
  readonly deadline: Timer;
}

interface ConfWaiter {
  resolve(members: Member[]): void;
  reject(e: unknown): void;
  readonly deadline: Timer;
}

/** A promote the leader refuses, and the status its peer endpoint answers with (etcd's peer promote handler). */
const PROMOTE_REFUSALS: readonly { readonly error: () => Error; readonly status: number }[] = [
  { error: ErrMemberNotFound, status: 404 },
  { error: ErrLearnerNotReady, status: 412 },
  { error: ErrMemberNotLearner, status: 412 },
];

/** The membership as the peer URL's /members answers it (ids in hex, as etcd's). */
function peerMembersJson(members: readonly Member[]): string {
  return JSON.stringify(members.map((m) => ({ ...memberToJson(m), id: m.id.toString(16) })));
}

function confKey(cc: ConfChange): string {
  return `${cc.type}/${cc.nodeId}`;
}

const EMPTY = new Uint8Array(0);

export class EtcdServer {
  readonly config: DatastoreConfig;
  readonly metrics = new DatastoreMetrics();
  readonly member: MemberInfo;
  readonly clusterId: bigint;
  readonly #env: Env;
  readonly #backend: BackendStore;
  readonly #kv: KVStore;
  readonly #watchable: WatchableStore;
  readonly #lessor: Lessor;
  readonly #wal: Wal;
  readonly #snap: Snapshotter;
  readonly #storage: MemoryStorage;
  readonly #node: RawNode;
  readonly #transport: RaftTransport;
  readonly #commitNotices: CommitNoticeDeferral;
  readonly #observer: MemberObserver | null;
  readonly #leaderRequest: (leaderPeerUrl: string, path: string, request: LeaderRequest) => Promise<LeaderReply>;
  readonly #reads: LinearizableReads;
  readonly #requestTimeoutMs: number;
  #membership: Membership;
  readonly #waiters = new Map<bigint, Waiter>();
  readonly #confWaiters = new Map<string, ConfWaiter>();
  /** Requests proposed by this member and not applied yet, by request ID (bounded by PROPOSALS_PENDING_MAX). */
  readonly #proposedHere = new Map<bigint, InternalRequest>();
  /** Proposals Raft refused for want of a leader: proposed again once one is known. */
  #held: Uint8Array[] = [];
  readonly #revoking = new Set<bigint>();
  readonly #alarms = new Map<string, { memberID: string; alarm: number }>();
  #nextRequestId: bigint;
  #appliedIndex: number;
  /** The last log index durable in this member's WAL (or snapshot). */
  #durableIndex: number;
  #snapshotIndex: number;
  #leaderId: bigint = NONE;
  #raftState: SoftState["raftState"] = "StateFollower";
  #leaderCheckedAtMs = -Infinity;
  #term = 0;
  #loopWake: (() => void) | null = null;
  #loopDone: Promise<void> = Promise.resolve();
  #stopped = false;
  #fatal: unknown = null;
  /** One pending timer per periodic job, so stopping cancels exactly what is scheduled. */
  readonly #timers = new Map<string, Timer>();
  #compactionSamples: { atMs: number; rev: number }[] = [];
  #snapshotting = false;
  /** Settles when the snapshot being written in the background (if any) is done. */
  #snapshotDone: Promise<void> = Promise.resolve();
  #attributesPublished = false;
  /** Set while maintenance waits for the ready loop to stop between Readys. */
  #pauseRequested: (() => void) | null = null;
  #resumeLoop: (() => void) | null = null;
  #dbSizeCachedBytes = 0;
  #dbSizeReadAtMs = -Infinity;
  #peerHttp: http.Server[] = [];
  #closed!: Promise<void>;
  #markClosed: () => void = () => {};

  private constructor(
    env: Env,
    config: DatastoreConfig,
    parts: {
      backend: BackendStore;
      kv: KVStore;
      lessor: Lessor;
      wal: Wal;
      snap: Snapshotter;
      storage: MemoryStorage;
      node: RawNode;
      transport: RaftTransport;
      observer: MemberObserver | null;
      leaderRequest: ((leaderPeerUrl: string, path: string, request: LeaderRequest) => Promise<LeaderReply>) | null;
      membership: Membership;
      member: MemberInfo;
      clusterId: bigint;
      appliedIndex: number;
      snapshotIndex: number;
    },
  ) {
    this.#env = env;
    this.config = config;
    this.#backend = parts.backend;
    this.#kv = parts.kv;
    this.#lessor = parts.lessor;
    this.#wal = parts.wal;
    this.#snap = parts.snap;
    this.#storage = parts.storage;
    this.#node = parts.node;
    this.#transport = parts.transport;
    this.#commitNotices = new CommitNoticeDeferral(env.clock, COMMIT_NOTICE_DELAY_MS, (messages) => this.#transport.send(messages));
    this.#observer = parts.observer;
    this.#leaderRequest = parts.leaderRequest ?? httpLeaderRequest;
    this.#membership = parts.membership;
    this.member = parts.member;
    this.clusterId = parts.clusterId;
    this.#appliedIndex = parts.appliedIndex;
    this.#durableIndex = parts.storage.lastIndex();
    this.#snapshotIndex = parts.snapshotIndex;
    this.#requestTimeoutMs = requestTimeoutMs(config);
    this.#watchable = new WatchableStore(env, this.#kv);
    // etcd's idutil: the member id's low 16 bits, then milliseconds, then a counter — unique across members.
    this.#nextRequestId = ((parts.member.id & 0xffffn) << 48n) | ((BigInt(env.clock.wallMs()) & 0xffffffffffn) << 8n);
    this.#reads = new LinearizableReads(
      {
        requestReadIndex: (ctx) => {
          try {
            this.#node.readIndex(ctx);
          } catch (err) {
            // No leader to ask yet: the request is sent again on the next retry or leader change.
            if (!(err instanceof ProposalDroppedError)) throw err;
          }
          this.#wake();
        },
        appliedIndex: () => this.#appliedIndex,
      },
      env.clock,
      { timeoutMs: this.#requestTimeoutMs },
    );
    this.#loadAlarms();
    this.#closed = new Promise<void>((r) => (this.#markClosed = r));
  }

  /** Resolves once the member has stopped, asked to (close) or on its own (removed from the cluster). */
  get done(): Promise<void> {
    return this.#closed;
  }

  /** Opens (or creates) the member in `config.dataDir`, recovers, joins its Raft group and starts serving. */
  static async open(env: Env, config: DatastoreConfig, edges: MemberEdges = {}): Promise<EtcdServer> {
    checkRaftTiming(config);
    const memberDir = `${config.dataDir}/member`;
    await env.fs.mkdirp(memberDir);
    const identity = await loadOrCreateIdentity(env, config, memberDir, edges.fetchCluster ?? ((urls) => fetchClusterFromPeers(urls, env)));
    const backend = await (edges.openBackend ?? ((dir: string) => Backend.open(env, dir)))(`${memberDir}/backend`);
    const lessor = new Lessor(env.clock, backend);
    lessor.restore();
    const kv = KVStore.restore(env, backend, lessor);

    const snap = new Snapshotter(env, `${memberDir}/snap`);
    await env.fs.mkdirp(`${memberDir}/snap`);
    const opened = await Wal.open(env, `${memberDir}/wal`);
    const wal = opened.wal;
    if (opened.repairedBytes > 0) env.log.warn("repaired torn WAL tail on start-up", { droppedBytes: opened.repairedBytes });
    // The WAL's marker says which snapshot is in effect; a newer file without a marker is not.
    const snapshotIndex = opened.snapshot?.index ?? 0;
    const snapshot = await snap.loadNewest({ atMostIndex: snapshotIndex });
    if (kv.consistentIndex < snapshotIndex) {
      // A snapshot from the leader was recorded but the backend was not replaced before a crash: the
      // image was kept for this (etcd keeps the received db file the same way).
      const image = `${memberDir}/snap/${receivedImageName(snapshotIndex)}`;
      if (await env.fs.exists(image)) {
        restoreBackendImage(backend, await env.fs.readFile(image));
        await backend.commit();
        lessor.reload();
        kv.reload(lessor);
        env.log.info("restored the backend from the snapshot received before a restart", { index: snapshotIndex, backendIndex: kv.consistentIndex });
      }
    }
    if (kv.consistentIndex < snapshotIndex) {
      throw new Error(
        `Cannot start: the backend holds log index ${kv.consistentIndex} but the newest snapshot is at ${snapshotIndex}; the backend in ${memberDir}/backend is older than the WAL says it must be`,
      );
    }
    const entries = opened.entries.filter((e) => e.index > snapshotIndex);
    const walLastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : Math.max(snapshotIndex, opened.hardState.commit);
    if (kv.consistentIndex > walLastIndex) {
      // Only entries already durable in the WAL are ever applied, so this means the WAL lost
      // acknowledged entries: refuse to continue rather than hand their indexes to new writes.
      throw new Error(
        `Cannot start: the backend has applied log index ${kv.consistentIndex} but the WAL in ${memberDir}/wal ends at ${walLastIndex}; the WAL has lost entries that were acknowledged`,
      );
    }

    // Raft's view of the log: the snapshot (with the membership as of it), then the WAL's entries.
    const storage = new MemoryStorage();
    let membership = Membership.load(backend);
    // A store written before replication has no membership anywhere in its log: no conf-change entry in
    // the WAL and none in the snapshot. Decided from the log, never from the backend, which may lag it.
    const legacy =
      (snapshot !== null ? snapshotConfState(snapshot.data) === null : snapshotIndex === 0) &&
      (kv.consistentIndex > 0 || entries.length > 0) &&
      !entries.some((e) => e.type === "EntryConfChange");
    if (snapshotIndex > 0) {
      const snapTerm = opened.snapshot!.term;
      storage.applySnapshot({ metadata: { index: snapshotIndex, term: snapTerm, confState: snapshotConfState(snapshot?.data) ?? { voters: legacy ? [identity.member.id] : [], learners: [] } }, data: EMPTY });
    }
    const hs = opened.hardState;
    storage.append(entries);
    // The commit index rides unsynced in the WAL (Raft learns it again from the leader), so the last
    // durable one may trail the snapshot, which covers only committed entries: it is at least that.
    storage.setHardState({ ...hs, commit: Math.min(Math.max(hs.commit, snapshotIndex), storage.lastIndex()) });

    const node = new RawNode({
      id: identity.member.id,
      electionTick: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTick: 1,
      storage,
      // Raft redelivers everything committed after the snapshot; entries the backend already holds are skipped when applied.
      applied: snapshotIndex,
      maxSizePerMsg: MAX_SIZE_PER_MSG,
      maxInflightMsgs: MAX_INFLIGHT_MSGS,
      maxUncommittedEntriesSize: 1 << 30,
      checkQuorum: true,
      preVote: true,
      leaderAcksOnPersist: true,
      rng: env.rng,
    });
    const fresh = storage.lastIndex() === 0 && hs.term === 0;
    if (fresh && identity.bootstrap !== null) {
      node.bootstrap(identity.bootstrap.map((m) => ({ id: m.id, context: encodeMemberContext(m) })));
    }
    if (legacy) {
      // A store written before replication: one member, itself, with no membership in the log.
      env.log.info("upgrading a single-member store to a Raft group of one", { memberId: identity.member.id.toString(16) });
      membership ??= Membership.of([identity.member]);
      membership.save(backend);
      if (snapshotIndex === 0) node.applyConfChange({ type: "ConfChangeAddNode", nodeId: identity.member.id, context: EMPTY });
    }
    membership ??= Membership.of([]);

    const transport: RaftTransport =
      edges.transport ??
      (config.listenPeerUrls.length === 0
        ? new NoPeerTransport()
        : new PeerTransport({
        localId: identity.member.id,
        clusterId: identity.clusterId,
        listenUrl: config.listenPeerUrls[0] ?? "http://localhost:2380",
        clock: env.clock,
        log: env.log,
        otherRequests: (req, res) => server.#servePeerHttp(req, res),
        isRemoved: (id) => server.#membership.isRemoved(id),
        localUrls: identity.member.peerUrls,
      }));
    const server: EtcdServer = new EtcdServer(env, config, {
      backend,
      kv,
      lessor,
      wal,
      snap,
      storage,
      node,
      transport,
      observer: edges.observer ?? null,
      leaderRequest: edges.leaderRequest ?? null,
      membership,
      member: identity.member,
      clusterId: identity.clusterId,
      appliedIndex: snapshotIndex,
      snapshotIndex,
    });
    for (const m of [...(identity.bootstrap ?? []), ...(identity.existing ?? []), ...membership.members()]) {
      if (m.id !== identity.member.id && !membership.isRemoved(m.id)) transport.addPeer(m.id, m.peerUrls);
    }
    transport.onMessage((m) => server.#receive(m));
    transport.onUnreachable((id) => {
      server.#node.reportUnreachable(id);
      server.#wake();
    });
    transport.onSnapshotStatus((id, failed) => {
      server.#node.reportSnapshot(id, failed);
      server.#wake();
    });
    transport.onPeerDown?.((id) => server.#onPeerDown(id));
    transport.onRemoved?.(() => {
      if (server.#stopped) return;
      server.#env.log.warn("this member has been permanently removed from the cluster; stopping", { memberId: server.member.id.toString(16) });
      void server.close().catch((err: unknown) => server.#env.log.error("stopping after removal failed", { error: String(err) }));
    });
    await transport.start();
    // More peer URLs than the transport listens on answer /members and /version (etcd binds all of them).
    if (edges.transport === undefined) server.#peerHttp = await listenPeerExtras(server, config.listenPeerUrls.slice(1), env);

    env.log.info("datastore member started", {
      name: config.name,
      memberId: identity.member.id.toString(16),
      clusterId: identity.clusterId.toString(16),
      members: membership.members().length || (identity.bootstrap?.length ?? 0),
      snapshotIndex,
      appliedIndexInBackend: kv.consistentIndex,
      walEntries: entries.length,
      revision: kv.currentRevision,
      compactRevision: kv.compactRevision,
    });
    server.metrics.quotaBytes.set(server.quotaBytes);
    server.#loopDone = server.#readyLoop();
    server.#startTimers();
    server.#campaignIfAlone();
    server.#wake();
    return server;
  }

  get kv(): KVStore {
    return this.#kv;
  }
  get watchable(): WatchableStore {
    return this.#watchable;
  }
  get lessor(): Lessor {
    return this.#lessor;
  }
  get term(): number {
    return this.#term;
  }
  /** The leader this member knows of (0n: none). */
  get leaderId(): bigint {
    return this.#leaderId;
  }
  get isLeader(): boolean {
    return this.#leaderId === this.member.id;
  }
  get appliedIndex(): number {
    return this.#appliedIndex;
  }
  get commitIndex(): number {
    return this.#node.commitIndex;
  }
  get isLearner(): boolean {
    return this.#membership.member(this.member.id)?.isLearner ?? false;
  }
  get quotaBytes(): number {
    return this.config.quotaBackendBytes > 0 ? this.config.quotaBackendBytes : QUOTA_BACKEND_BYTES_DEFAULT;
  }
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The members as this member last applied them, ordered by id. */
  members(): Member[] {
    return this.#membership.members();
  }

  /** Raft's status (term, commit, leader, progress of each follower when leading). */
  raftStatus(): ReturnType<RawNode["status"]> {
    return this.#node.status();
  }

  alarmList(): { memberID: string; alarm: number }[] {
    return [...this.#alarms.values()];
  }

  /** Problems an operator must see in `endpoint status` and /health. */
  errors(): string[] {
    return this.alarmList().map((a) => `memberID:${a.memberID} alarm:${a.alarm === AlarmType.NoSpace ? "NOSPACE" : a.alarm === AlarmType.Corrupt ? "CORRUPT" : "NONE"} `);
  }

  /**
   * A range. Linearizable (the default) waits for a ReadIndex round, so it reflects every write
   * acknowledged before it arrived; serializable reads this member's applied state as it is.
   */
  async range(req: RangeRequest): Promise<RangeResponse> {
    this.metrics.rangeTotal.inc();
    this.#checkRunning();
    if (!req.serializable) await this.#linearizableRead();
    // The header is taken with the data: by the time the caller resumes, more may have been applied.
    return { ...applyRange({ range: (r, o) => this.#kv.range(r, o) }, req), header: this.#header() };
  }

  async readOnlyTxn(req: TxnRequest): Promise<TxnResponse> {
    this.metrics.txnTotal.inc();
    this.#checkRunning();
    if (!txnIsSerializable(req)) await this.#linearizableRead();
    return { ...applyReadOnlyTxn(this.#kv, req), header: this.#header() };
  }

  #header(): ResponseHeader {
    return { cluster_id: this.clusterId.toString(), member_id: this.member.id.toString(), revision: this.#kv.currentRevision, raft_term: this.#term };
  }

  async #linearizableRead(): Promise<void> {
    // The only voter, leading: nothing is acknowledged before it is applied here, and no other member
    // can commit anything, so the applied state already reflects every acknowledged write.
    if (this.isLeader && this.#membership.isSoleVoter(this.member.id)) return;
    if (this.#reads.size >= PENDING_READS_MAX) throw ErrTooManyRequests();
    await this.#reads.wait();
    this.#checkRunning();
  }

  /**
   * Proposes a request through the log and resolves once it is committed and applied. `wire` is the
   * request exactly as the client encoded it, when `request.req` is its decoding: the log stores those
   * bytes, and --max-request-bytes limits their size (or `sizeBytes`, for a request the server rebuilt).
   */
  async propose(request: InternalRequest, wire: Buffer | null, sizeBytes = wire?.length ?? 0): Promise<ApplyResult> {
    this.#checkRunning();
    if (sizeBytes > this.config.maxRequestBytes) throw ErrRequestTooLarge();
    if (this.#waiters.size >= PROPOSALS_PENDING_MAX) throw ErrTooManyRequests();
    if (needsQuota(request)) {
      if (this.#hasAlarm(AlarmType.NoSpace)) throw ErrNoSpace();
      if (this.#dbSizeBytes() + sizeBytes > this.quotaBytes) {
        this.#env.log.warn("backend quota exceeded; raising NOSPACE alarm", { quotaBytes: this.quotaBytes, sizeBytes: this.#dbSizeBytes() });
        // As etcd: the alarm is in place before the client hears "database space exceeded".
        await this.propose({ op: "alarm", req: { action: 1, memberID: this.member.id.toString(), alarm: AlarmType.NoSpace } }, null);
        throw ErrNoSpace();
      }
    }
    const id = this.#nextRequestId++;
    const data = encodeRequest(id, request, wire);
    // Applying a request proposed here needs no decoding of its log entry.
    this.#proposedHere.set(id, request);
    const p = new Promise<ApplyResult>((resolve, reject) => {
      const deadline = this.#env.clock.setTimer(this.#requestTimeoutMs, () => {
        // It may still commit later; the client cannot know (etcd answers the same).
        this.#waiters.delete(id);
        this.#proposedHere.delete(id);
        reject(ErrTimeout());
      });
      this.#waiters.set(id, { resolve, reject, deadline });
    });
    this.#proposeData(data);
    this.metrics.proposalsPending.set(this.#waiters.size);
    this.#wake();
    return p;
  }

  /** Hands data to Raft; if it has no leader to take it, holds it until one is known. */
  #proposeData(data: Uint8Array): void {
    try {
      this.#node.propose(data);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      // Never appended anywhere, so proposing it again cannot apply it twice.
      if (this.#held.length < HELD_PROPOSALS_MAX) this.#held.push(data);
      else this.#failWaiter(requestIdOf(data), ErrTooManyRequests());
    }
  }

  #failWaiter(id: bigint, err: unknown): void {
    const w = this.#waiters.get(id);
    if (w === undefined) return;
    this.#waiters.delete(id);
    this.#proposedHere.delete(id);
    w.deadline.cancel();
    w.reject(err);
  }

  // ---- leases: only the leader's clock decides expiry, so keep-alives and TTL queries go to it ----

  /** A keep-alive (etcd's LeaseRenew): the new TTL, or null if there is no such lease. */
  async renewLease(id: bigint): Promise<number | null> {
    this.#checkRunning();
    if (this.isLeader) return this.#lessor.renew(id);
    const r = await this.#askLeader<{ TTL: number | null }>("/leases", { ID: id.toString() });
    return r.TTL;
  }

  /** LeaseTimeToLive as the leader sees it (TTL -1 when there is no such lease, as etcd answers). */
  async leaseTimeToLive(id: bigint): Promise<{ ttl: number; grantedTtl: number; keys: string[] }> {
    this.#checkRunning();
    if (this.isLeader) {
      const lease = this.#lessor.get(id);
      if (lease === undefined) return { ttl: -1, grantedTtl: 0, keys: [] };
      return { ttl: this.#lessor.remainingSeconds(lease), grantedTtl: lease.ttlSeconds, keys: [...lease.keys] };
    }
    return this.#askLeader("/leases/internal", { ID: id.toString() });
  }

  /** Forwards a lease request to the leader's peer URL (etcd's /leases endpoints). */
  async #askLeader<T>(path: string, body: object): Promise<T> {
    const reply = await this.#postToLeader(path, body, "lease");
    if (reply.status !== 200) {
      this.#env.log.warn("the leader refused a lease request", { path, leader: this.#leaderId.toString(16), status: reply.status });
      throw ErrNoLeader();
    }
    return JSON.parse(reply.text) as T;
  }

  /** Asks the leader to act for this member; ErrNoLeader when there is none or it cannot be reached. */
  async #postToLeader(path: string, body: object, what: string): Promise<LeaderReply> {
    const leader = this.#membership.member(this.#leaderId);
    if (this.#leaderId === NONE || leader === undefined || leader.peerUrls.length === 0) throw ErrNoLeader();
    try {
      return await this.#leaderRequest(leader.peerUrls[0]!, path, { clusterIdHex: this.clusterId.toString(16), body: JSON.stringify(body) });
    } catch (err) {
      this.#env.log.warn(`could not reach the leader for a ${what} request`, { path, leader: this.#leaderId.toString(16), error: err instanceof Error ? err.message : String(err) });
      throw ErrNoLeader();
    }
  }

  /**
   * The leader's side of a follower's request (etcd's peer endpoints /leases, /leases/internal and
   * /members/promote/<id>): 412 when this member is not the leader of that cluster.
   */
  async answerLeaderRequest(path: string, request: LeaderRequest): Promise<LeaderReply> {
    if (!this.isLeader || request.clusterIdHex !== this.clusterId.toString(16)) return { status: 412, text: "not the leader of this cluster\n" };
    if (path === "/leases" || path === "/leases/internal") {
      let id: bigint;
      try {
        id = BigInt((JSON.parse(request.body) as { ID: string }).ID);
      } catch {
        return { status: 400, text: "bad lease request\n" };
      }
      try {
        const out = path === "/leases" ? { TTL: await this.renewLease(id) } : await this.leaseTimeToLive(id);
        return { status: 200, text: JSON.stringify(out) };
      } catch {
        return { status: 503, text: "unavailable\n" };
      }
    }
    if (path.startsWith("/members/promote/")) {
      const idHex = path.slice("/members/promote/".length);
      if (!/^[0-9a-f]{1,16}$/.test(idHex)) return { status: 400, text: "bad member id\n" };
      try {
        const members = await this.promoteMember(BigInt(`0x${idHex}`));
        return { status: 200, text: peerMembersJson(members) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const refusal = PROMOTE_REFUSALS.find((r) => r.error().message === message);
        return { status: refusal?.status ?? 503, text: `${message}\n` };
      }
    }
    return { status: 404, text: "404 page not found\n" };
  }

  // ---- membership (etcdctl member add/remove/promote/update/list, move-leader) ----

  /** etcdctl member add: the new member's id comes from its URLs and the time, so a re-add gets a new one. */
  async addMember(peerUrls: readonly string[], isLearner: boolean): Promise<{ member: Member; members: Member[] }> {
    this.#checkRunning();
    if (peerUrls.length === 0 || peerUrls.some((u) => !isUrl(u))) throw ErrMemberBadURLs();
    const id = idFromHash([...peerUrls].sort().concat(this.clusterId.toString(), String(this.#env.clock.wallMs())));
    const member: Member = { id, name: "", peerUrls: [...peerUrls], clientUrls: [], isLearner };
    const members = await this.#proposeConfChange({ type: isLearner ? "ConfChangeAddLearnerNode" : "ConfChangeAddNode", nodeId: id, context: encodeMemberContext(member) }, member);
    return { member, members };
  }

  async removeMember(id: bigint): Promise<Member[]> {
    this.#checkRunning();
    return this.#proposeConfChange({ type: "ConfChangeRemoveNode", nodeId: id, context: EMPTY }, null);
  }

  async promoteMember(id: bigint): Promise<Member[]> {
    this.#checkRunning();
    const bad = this.#membership.checkPromote(id);
    if (bad !== null) throw bad;
    // Only the leader knows how far the learner has got: a follower asks it to promote (etcd's
    // /members/promote peer endpoint), so the readiness check is never skipped.
    if (!this.isLeader) return this.#promoteThroughLeader(id);
    // Promote only a learner that has caught up, or the quorum would wait on it.
    const st = this.#node.status();
    const pr = st.progress.get(id);
    if (pr === undefined || pr.match < st.commit * LEARNER_READY_PERCENT) throw ErrLearnerNotReady();
    const m = this.#membership.member(id)!;
    return this.#proposeConfChange({ type: "ConfChangeAddNode", nodeId: id, context: encodeMemberContext({ ...m, isLearner: false }) }, { ...m, isLearner: false });
  }

  async #promoteThroughLeader(id: bigint): Promise<Member[]> {
    const reply = await this.#postToLeader(`/members/promote/${id.toString(16)}`, {}, "promote");
    if (reply.status === 200) return this.members();
    // The leader's refusal, in etcd's words.
    const refusal = PROMOTE_REFUSALS.find((r) => r.status === reply.status && r.error().message === reply.text.trim());
    throw refusal === undefined ? ErrNoLeader() : refusal.error();
  }

  async updateMember(id: bigint, peerUrls: readonly string[]): Promise<Member[]> {
    this.#checkRunning();
    if (peerUrls.length === 0 || peerUrls.some((u) => !isUrl(u))) throw ErrMemberBadURLs();
    const r = await this.propose({ op: "memberAttr", req: { id: id.toString(), peerUrls: [...peerUrls] } }, null);
    if (r.error !== undefined) throw r.error;
    return this.members();
  }

  async #proposeConfChange(cc: ConfChange, member: Member | null): Promise<Member[]> {
    const bad = this.#membership.check(cc, member);
    if (bad !== null) throw bad;
    const key = confKey(cc);
    if (this.#confWaiters.has(key)) throw ErrTooManyRequests();
    const p = new Promise<Member[]>((resolve, reject) => {
      const deadline = this.#env.clock.setTimer(this.#requestTimeoutMs, () => {
        this.#confWaiters.delete(key);
        reject(ErrTimeout());
      });
      this.#confWaiters.set(key, { resolve, reject, deadline });
    });
    try {
      this.#node.proposeConfChange(cc);
    } catch (err) {
      const w = this.#confWaiters.get(key);
      this.#confWaiters.delete(key);
      w?.deadline.cancel();
      // No leader, or another change still pending: etcd's client retries on this code.
      throw err instanceof ProposalDroppedError ? new EtcdError(14, `etcdserver: ${err.message}`) : err;
    }
    this.#wake();
    return p;
  }

  /** etcdctl move-leader: only the leader can hand leadership over, and only to a voting member. */
  async moveLeader(target: bigint): Promise<void> {
    this.#checkRunning();
    if (!this.isLeader) throw ErrNotLeader();
    const m = this.#membership.member(target);
    if (m === undefined || m.isLearner) throw ErrBadLeaderTransferee();
    if (target === this.member.id) return;
    this.#node.transferLeader(target);
    this.#wake();
    const deadlineMs = this.#env.clock.nowMs() + this.#requestTimeoutMs;
    while (this.#leaderId !== target) {
      this.#checkRunning();
      if (this.#env.clock.nowMs() >= deadlineMs) throw new EtcdError(14, "etcdserver: request timed out, leader transfer took too long");
      await new Promise<void>((r) => this.#env.clock.setTimer(this.config.heartbeatIntervalMs, r));
    }
  }

  /**
   * Rewrites the backend without its free pages (etcd's defrag). Writes wait meanwhile: the ready loop is
   * held between Readys, so nothing is applied while the file is copied and swapped.
   */
  async defragment(): Promise<{ beforeBytes: number; afterBytes: number }> {
    this.#checkRunning();
    await new Promise<void>((paused) => {
      this.#pauseRequested = paused;
      this.#wake();
    });
    const started = this.#env.clock.nowMs();
    try {
      // A compaction still removing revisions would write to the old file after the copy.
      await this.#kv.compactionsDone();
      const sizes = await this.#backend.defragment();
      this.#dbSizeReadAtMs = -Infinity;
      this.#env.log.info("finished defragmenting the backend", { ...sizes, tookMs: Math.round(this.#env.clock.nowMs() - started) });
      return sizes;
    } finally {
      const resume = this.#resumeLoop;
      this.#resumeLoop = null;
      resume?.();
    }
  }

  /** Waits until every write issued so far is durable in the backend (used before snapshots and on stop). */
  async flushBackend(): Promise<void> {
    await this.#backend.commit();
  }

  backendSizeBytes(): number {
    return this.#backend.sizeBytes();
  }
  backendSizeInUseBytes(): number {
    return this.#backend.sizeInUseBytes();
  }

  /** etcd's Hash: CRC-32C over every bucket of the backend, once everything applied is in it. */
  async hashAll(): Promise<number> {
    await this.#backend.commit();
    return this.#backend.hashAll();
  }

  /** A consistent image of the backend, as the Snapshot RPC streams it (backend_image.ts). */
  snapshotImage(): Buffer[] {
    return encodeBackendImage(this.#backend, this.#kv.consistentIndex);
  }

  /** Stops serving: fails pending requests, stops the loop and the transport, closes the WAL and backend. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#halt();
    await this.#loopDone.catch(() => {});
    await this.#transport.stop();
    for (const h of this.#peerHttp) await new Promise<void>((r) => h.close(() => r()));
    await this.#wal.close();
    await this.#kv.compactionsDone();
    await this.#backend.close();
    this.#env.log.info("datastore member stopped", { name: this.config.name, appliedIndex: this.#appliedIndex });
    this.#markClosed();
  }

  /**
   * Stops at once, as a killed process would: nothing more is written, sent or flushed. For the
   * simulator, which then crashes this member's file system and backend to drop what was not synced.
   */
  crash(): void {
    if (this.#stopped) return;
    this.#halt();
    void this.#transport.stop().catch(() => {});
  }

  #halt(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#commitNotices.clear();
    this.#watchable.close();
    this.#reads.stop();
    this.#resumeLoop?.();
    this.#wake();
    for (const id of [...this.#waiters.keys()]) this.#failWaiter(id, ErrStopped());
    for (const [k, w] of this.#confWaiters) {
      this.#confWaiters.delete(k);
      w.deadline.cancel();
      w.reject(ErrStopped());
    }
    this.#held = [];
  }

  /** The backend's size, re-read at most every DB_SIZE_REFRESH_MS: reading LMDB's stats on every write is costly. */
  #dbSizeBytes(): number {
    const now = this.#env.clock.nowMs();
    if (now - this.#dbSizeReadAtMs >= DB_SIZE_REFRESH_MS) {
      this.#dbSizeCachedBytes = this.#backend.sizeBytes();
      this.#dbSizeReadAtMs = now;
    }
    return this.#dbSizeCachedBytes;
  }

  #checkRunning(): void {
    if (this.#stopped || this.#fatal !== null) throw ErrStopped();
  }

  #hasAlarm(alarm: number): boolean {
    for (const a of this.#alarms.values()) if (a.alarm === alarm) return true;
    return false;
  }

  #wake(): void {
    const w = this.#loopWake;
    this.#loopWake = null;
    w?.();
  }

  /** A message from another member. Removed members are not heard (etcd drops their traffic). */
  #receive(m: Message): void {
    if (this.#stopped || this.#membership.isRemoved(m.from)) return;
    // Another member campaigns while this one still follows a leader: perhaps it saw the leader die
    // first. Look, so this member does not refuse its pre-vote for a whole election timeout.
    if (m.type === "MsgPreVote" && this.#leaderId !== NONE && this.#leaderId !== this.member.id) this.#checkLeaderGone();
    try {
      this.#node.step(m);
    } catch (err) {
      // A response from a member no longer in the configuration, or a proposal or read forwarded to a
      // member that has no leader to pass it to: dropped, as etcd drops them; the sender times out.
      if (!(err instanceof ProposalDroppedError || (err instanceof Error && err.name === "StepPeerNotFoundError"))) throw err;
    }
    this.#wake();
  }

  /** The ready loop: persist → send → apply → advance. It never ends while the member runs. */
  async #readyLoop(): Promise<void> {
    while (!this.#stopped) {
      if (this.#pauseRequested !== null) {
        const paused = this.#pauseRequested;
        this.#pauseRequested = null;
        await new Promise<void>((resume) => {
          this.#resumeLoop = resume;
          paused();
        });
        continue;
      }
      if (!this.#node.hasReady()) {
        await new Promise<void>((resolve) => (this.#loopWake = resolve));
        continue;
      }
      const rd = this.#node.ready();
      if (rd.softState !== null) this.#onSoftState(rd.softState);
      // A leader's messages (appends, heartbeats) promise nothing about its own disk, and it counts its own
      // copy only once persisted (leaderAcksOnPersist): it sends first and fsyncs while they travel.
      // Everyone else's messages (votes, acknowledgements) wait for the fsync.
      const sendFirst = this.#raftState === "StateLeader";
      if (sendFirst) this.#send(rd.messages);
      let early = 0;
      try {
        if (rd.snapshot !== null) await this.#installSnapshot(rd.snapshot);
        if (this.#stopped) return;
        // Committed entries already durable here are applied (and answered) while this Ready's own
        // entries are being written, so a client waits for one fsync, not two.
        // An entry this Ready rewrites is not the durable one at its index, whatever the index says.
        const durableUpTo = rd.entries.length > 0 ? Math.min(this.#durableIndex, rd.entries[0]!.index - 1) : this.#durableIndex;
        while (early < rd.committed.length && rd.committed[early]!.index <= durableUpTo) early++;
        this.#applyCommitted(rd.committed.slice(0, early));
        if (rd.entries.length > 0 || rd.hardState !== null) {
          const started = this.#env.clock.nowMs();
          // Entries and votes reach the disk before anyone hears of them.
          await this.#wal.save(rd.hardState, rd.entries, { sync: rd.mustSync });
          if (rd.mustSync) this.metrics.walFsync.observe((this.#env.clock.nowMs() - started) / 1000);
          if (rd.entries.length > 0) this.#durableIndex = rd.entries[rd.entries.length - 1]!.index;
        }
      } catch (err) {
        if (this.#stopped) return;
        this.#fatal = err;
        this.#env.log.error("WAL write failed; refusing further requests", { error: err instanceof Error ? err.message : String(err) });
        this.#halt();
        // Silent to its peers from now on, so they elect someone else instead of waiting on a member that cannot persist.
        void this.#transport.stop().catch(() => {});
        return;
      }
      if (this.#stopped) return;
      this.#storage.append(rd.entries);
      if (rd.hardState !== null) {
        this.#storage.setHardState(rd.hardState);
        this.#term = rd.hardState.term;
      }
      this.#observer?.persisted(this.member.id, rd.hardState, rd.entries);
      if (!sendFirst) this.#send(rd.messages);
      this.#applyCommitted(rd.committed.slice(early));
      if (rd.readStates.length > 0) this.#reads.onReadStates(rd.readStates);
      this.#node.advance(rd);
      this.metrics.proposalsCommitted.set(this.#node.commitIndex);
      this.metrics.proposalsApplied.set(this.#appliedIndex);
      this.metrics.proposalsPending.set(this.#waiters.size);
      this.#campaignIfAlone();
      this.#maybePublishAttributes();
      this.#maybeSnapshot();
    }
  }

  /**
   * The only voter need not wait out an election timeout: it campaigns as soon as its configuration is
   * applied (etcd fast-forwards its ticks). Raft refuses to campaign while conf changes are unapplied.
   */
  #campaignIfAlone(): void {
    if (this.#leaderId !== NONE || this.#stopped) return;
    const st = this.#node.status();
    if (st.raftState !== "StateFollower" || st.applied < st.commit) return;
    const voters = st.confState.voters;
    if (voters.length === 1 && voters[0] === this.member.id) this.#node.campaign();
  }

  #send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const out = messages.map((m) => {
      if (m.type !== "MsgSnap" || m.snapshot === null) return m;
      // As etcd: the snapshot Raft kept has no data; the follower gets the whole backend as it is now,
      // which already holds the snapshot's entries and perhaps more (those it then skips).
      // Its metadata must describe that image (etcd's createMergedSnapshotMessage): the applied index,
      // its term and the membership now, or a member added since the stored snapshot would refuse it.
      const image = Buffer.concat(this.snapshotImage());
      const metadata = { index: this.#appliedIndex, term: this.#storage.term(this.#appliedIndex), confState: this.#node.status().confState };
      return { ...m, snapshot: { metadata, data: image } };
    });
    this.#commitNotices.send(out);
  }

  /**
   * The leader's process is gone (its peer URL refuses connections): campaign now rather than after an
   * election timeout. Safe as any campaign is; pre-vote keeps it from disturbing a leader others still hear.
   * Not in etcd, which waits the timeout out; it is what brings fail-over under one election timeout.
   */
  #onPeerDown(id: bigint): void {
    if (this.#stopped || id !== this.#leaderId || this.isLearner) return;
    // At once: stop vouching for the old leader, so whoever campaigns first gets this member's pre-vote.
    this.#node.forgetLeader();
    // Every follower sees the leader go at once; campaigning together would split the vote. Each waits
    // its turn — two heartbeats per voter before it in id order, plus a random part of one — and one
    // that hears of a new election meanwhile stands down.
    const voters = this.#node.status().confState.voters.filter((v) => v !== id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rank = Math.max(0, voters.indexOf(this.member.id));
    const delayMs = (2 * rank + this.#env.rng.nextU32() / 0x1_0000_0000) * this.config.heartbeatIntervalMs;
    this.#env.clock.setTimer(delayMs, () => {
      const st = this.#node.status();
      if (this.#stopped || st.lead !== NONE || st.raftState !== "StateFollower") return;
      this.#env.log.info("the leader's process is gone; campaigning without waiting for the election timeout", { leader: id.toString(16), afterMs: Math.round(delayMs) });
      this.#node.campaign();
      this.#wake();
    });
  }

  #checkLeaderGone(): void {
    const now = this.#env.clock.nowMs();
    if (now - this.#leaderCheckedAtMs < this.config.heartbeatIntervalMs) return;
    this.#leaderCheckedAtMs = now;
    this.#transport.checkPeerDown?.(this.#leaderId);
  }

  #onSoftState(ss: SoftState): void {
    const previous = this.#leaderId;
    if (ss.raftState !== "StateLeader") this.#commitNotices.clear();
    this.#raftState = ss.raftState;
    this.#leaderId = ss.lead;
    this.#term = this.#node.status().term;
    this.metrics.hasLeader.set(ss.lead === NONE ? 0 : 1);
    this.metrics.isLeader.set(ss.lead === this.member.id ? 1 : 0);
    if (ss.lead !== previous) {
      if (ss.lead !== NONE) this.metrics.leaderChanges.inc();
      this.#env.log.info(ss.lead === NONE ? "lost the leader" : "leader elected", { leader: ss.lead.toString(16), term: this.#term, state: ss.raftState });
      this.#observer?.leader(this.member.id, this.#term, ss.lead);
      if (ss.lead === this.member.id) this.#lessor.promote(this.config.electionTimeoutMs);
      this.#reads.onLeaderChange();
    }
    if (ss.lead !== NONE && this.#held.length > 0) {
      const held = this.#held;
      this.#held = [];
      for (const d of held) this.#proposeData(d);
    }
  }

  #applyCommitted(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.#applyEntry(e);
    this.#kv.persistMeta();
    this.#reads.onApplied();
  }

  #applyEntry(e: Entry): void {
    assert(e.index === this.#appliedIndex + 1, `applying entry ${e.index} after ${this.#appliedIndex}`);
    // Entries at or below the backend's consistent index are in it already (restart, or a snapshot that was newer).
    const fresh = e.index > this.#kv.consistentIndex;
    if (e.type === "EntryConfChange") this.#applyConfChange(e, fresh);
    else if (fresh && e.data.length > 0) this.#applyNormal(e);
    if (fresh) this.#kv.setConsistentIndex(e.index, e.term);
    this.#appliedIndex = e.index;
    this.#observer?.applied(this.member.id, e);
  }

  #applyNormal(e: Entry): void {
    const id = requestIdOf(e.data);
    const request = this.#proposedHere.get(id) ?? decodeRequest(e.data).request;
    this.#proposedHere.delete(id);
    let result: ApplyResult;
    if (request.op === "memberAttr") {
      result = { response: {}, revision: this.#kv.currentRevision, events: [] };
      this.#applyMemberAttr(request.req);
    } else {
      result = applyRequest(this.#kv, this.#lessor, this.#alarmsApi(), request);
      this.#countOp(request);
      if (request.op === "leaseRevoke") this.#revoking.delete(BigInt(request.req.ID));
    }
    if (result.events.length > 0) this.#watchable.notify(result.events, result.revision);
    const w = this.#waiters.get(id);
    if (w !== undefined) {
      this.#waiters.delete(id);
      w.deadline.cancel();
      w.resolve(result);
    }
  }

  #applyMemberAttr(req: MemberAttrRequest): void {
    const id = BigInt(req.id);
    if (req.name !== undefined) this.#membership.setAttributes(id, req.name, req.clientUrls ?? []);
    if (req.peerUrls !== undefined && this.#membership.setPeerUrls(id, req.peerUrls) && id !== this.member.id) this.#transport.addPeer(id, req.peerUrls);
    this.#membership.save(this.#backend);
  }

  #applyConfChange(e: Entry, fresh: boolean): void {
    const cc = decodeConfChange(e.data);
    const member = decodeMemberContext(cc.context);
    const waiter = this.#confWaiters.get(confKey(cc));
    if (waiter !== undefined) {
      this.#confWaiters.delete(confKey(cc));
      waiter.deadline.cancel();
    }
    if (fresh) {
      // Checked again here, where every member sees the same membership: a change that lost a race is refused by all alike.
      const bad = this.#membership.check(cc, member);
      if (bad !== null) {
        this.#env.log.warn("refused a membership change", { type: cc.type, memberId: cc.nodeId.toString(16), reason: bad.message });
        waiter?.reject(bad);
        return;
      }
      this.#membership.apply(cc, member);
      this.#membership.save(this.#backend);
      this.#env.log.info("applied a membership change", { type: cc.type, memberId: cc.nodeId.toString(16), members: this.#membership.members().length });
    }
    // Raft's configuration follows the membership, also for changes the backend already held.
    const inMembership = this.#membership.member(cc.nodeId);
    if (cc.type === "ConfChangeRemoveNode" ? inMembership === undefined : inMembership !== undefined) {
      this.#node.applyConfChange(cc.type === "ConfChangeRemoveNode" ? cc : { ...cc, type: inMembership!.isLearner ? "ConfChangeAddLearnerNode" : "ConfChangeAddNode" });
    }
    if (cc.nodeId !== this.member.id) {
      if (cc.type === "ConfChangeRemoveNode") this.#transport.removePeer(cc.nodeId);
      else if (inMembership !== undefined) this.#transport.addPeer(cc.nodeId, inMembership.peerUrls);
    } else if (cc.type === "ConfChangeRemoveNode" && fresh) {
      this.#env.log.warn("this member has been permanently removed from the cluster; stopping", { memberId: this.member.id.toString(16) });
      // After the current Ready: the removal must be persisted and applied like any entry.
      this.#env.clock.setTimer(0, () => void this.close().catch((err: unknown) => this.#env.log.error("stopping after removal failed", { error: String(err) })));
    }
    waiter?.resolve(this.#membership.members());
  }

  /**
   * Installs a snapshot the leader sent: the backend's contents are replaced by its image, and the
   * store, leases, membership and watchers are rebuilt from it. Then the snapshot is recorded like one
   * made here, so a restart starts from it.
   */
  async #installSnapshot(snapshot: RaftSnapshot): Promise<void> {
    const started = this.#env.clock.nowMs();
    // A snapshot of our own still being written would record its (older) marker after this one's.
    await this.#snapshotDone;
    const previousRevision = this.#kv.currentRevision;
    const { index, term, confState } = snapshot.metadata;
    const snapDir = `${this.config.dataDir}/member/snap`;
    // Durable first, in this order: the image, the snapshot file, the WAL's marker. A crash after the
    // marker finds the image and restores the backend from it; before it, the old state is whole.
    await this.#env.fs.writeFileAtomic(`${snapDir}/${receivedImageName(index)}`, snapshot.data);
    await this.#snap.save({ index, term, data: snapshotMetaData(confState, 0) });
    await this.#wal.saveSnapshot({ index, term });
    await this.#kv.compactionsDone();
    const { consistentIndex } = restoreBackendImage(this.#backend, snapshot.data);
    await this.#backend.commit();
    for (const name of await this.#env.fs.list(snapDir)) {
      if (name.endsWith(RECEIVED_IMAGE_SUFFIX) && name !== receivedImageName(index)) await this.#env.fs.remove(`${snapDir}/${name}`);
    }
    this.#lessor.reload();
    this.#kv.reload(this.#lessor);
    const membership = Membership.load(this.#backend) ?? Membership.of([]);
    for (const m of this.#membership.members()) if (membership.member(m.id) === undefined && m.id !== this.member.id) this.#transport.removePeer(m.id);
    for (const m of membership.members()) if (m.id !== this.member.id) this.#transport.addPeer(m.id, m.peerUrls);
    this.#membership = membership;
    this.#loadAlarms();
    this.#watchable.restored(previousRevision);
    this.#storage.applySnapshot({ metadata: snapshot.metadata, data: EMPTY });
    this.#appliedIndex = index;
    this.#snapshotIndex = index;
    this.#durableIndex = index;
    this.#observer?.snapshotInstalled?.(this.member.id, index, term);
    this.#env.log.info("installed a snapshot from the leader", {
      index,
      term,
      backendIndex: consistentIndex,
      revision: this.#kv.currentRevision,
      bytes: snapshot.data.length,
      tookMs: Math.round(this.#env.clock.nowMs() - started),
    });
  }

  /** Once a leader is known, a member makes sure the membership carries its name and client URLs (etcd's publish). */
  #maybePublishAttributes(): void {
    if (this.#attributesPublished || this.#leaderId === NONE) return;
    const me = this.#membership.member(this.member.id);
    if (me === undefined) return;
    this.#attributesPublished = true;
    if (me.name === this.member.name && sameUrls(me.clientUrls, this.member.clientUrls)) return;
    this.propose({ op: "memberAttr", req: { id: this.member.id.toString(), name: this.member.name, clientUrls: [...this.member.clientUrls] } }, null).catch((err: unknown) => {
      this.#attributesPublished = false;
      this.#env.log.warn("failed to publish this member's attributes; will retry", { error: err instanceof Error ? err.message : String(err) });
    });
  }

  #countOp(r: InternalRequest): void {
    if (r.op === "put") this.metrics.putTotal.inc();
    else if (r.op === "deleteRange") this.metrics.deleteTotal.inc();
    else if (r.op === "txn") this.metrics.txnTotal.inc();
  }

  #loadAlarms(): void {
    this.#alarms.clear();
    const alarmJson = this.#backend.getMeta("alarms");
    if (alarmJson !== undefined) for (const a of JSON.parse(alarmJson) as { memberID: string; alarm: number }[]) this.#alarms.set(`${a.memberID}/${a.alarm}`, a);
  }
  #alarmsApi(): Alarms {
    const persist = () => this.#backend.putMeta("alarms", JSON.stringify([...this.#alarms.values()]));
    return {
      activate: (memberID, alarm) => {
        const a = { memberID, alarm };
        this.#alarms.set(`${memberID}/${alarm}`, a);
        persist();
        this.#env.log.warn("alarm raised", { memberID, alarm: alarm === AlarmType.NoSpace ? "NOSPACE" : alarm });
        return [a];
      },
      deactivate: (memberID, alarm) => {
        const cleared: { memberID: string; alarm: number }[] = [];
        for (const [k, a] of this.#alarms) {
          if ((memberID === "0" || a.memberID === memberID) && (alarm === 0 || a.alarm === alarm)) {
            this.#alarms.delete(k);
            cleared.push(a);
          }
        }
        persist();
        this.#env.log.info("alarm cleared", { memberID, alarm, cleared: cleared.length });
        return cleared;
      },
      list: () => this.alarmList(),
    };
  }

  /**
   * Every --snapshot-count applied entries: once the backend holds them durably, record a snapshot, drop
   * the WAL segments it covers and all but --experimental-snapshot-catchup-entries of Raft's in-memory log, so the WAL,
   * the memory and the replay time stay bounded. A follower further behind gets the backend image instead.
   */
  #maybeSnapshot(): void {
    if (this.#snapshotting || this.#appliedIndex - this.#snapshotIndex < this.config.snapshotCount) return;
    this.#snapshotting = true;
    let done: () => void = () => {};
    this.#snapshotDone = new Promise<void>((r) => (done = r));
    const index = this.#appliedIndex;
    const term = this.#storage.term(index);
    const confState = this.#node.status().confState;
    const started = this.#env.clock.nowMs();
    void (async () => {
      try {
        await this.#backend.commit();
        if (this.#stopped || index <= this.#snapshotIndex) return;
        await this.#snap.save({ index, term, data: snapshotMetaData(confState, this.#kv.currentRevision) });
        await this.#wal.saveSnapshot({ index, term });
        await this.#wal.releaseBefore(index);
        await this.#snap.purge(5);
        if (this.#stopped || index <= this.#storage.snapshot().metadata.index) return;
        this.#storage.createSnapshot(index, confState, EMPTY);
        const compactTo = index - this.config.snapshotCatchUpEntries;
        if (compactTo >= this.#storage.firstIndex()) this.#storage.compact(compactTo);
        this.#snapshotIndex = index;
        this.metrics.snapshotSave.observe((this.#env.clock.nowMs() - started) / 1000);
        this.#env.log.info("saved snapshot", { index, term, tookMs: Math.round(this.#env.clock.nowMs() - started) });
      } catch (err) {
        if (this.#stopped) return;
        this.#env.log.error("snapshot failed", { index, error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.#snapshotting = false;
        done();
      }
    })();
  }

  /** The peer URL's endpoints besides Raft's: etcd's /members (how a new member finds the cluster) and /version. */
  #servePeerHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/members") {
      res.writeHead(200, { "Content-Type": "application/json", "X-Etcd-Cluster-ID": this.clusterId.toString(16) });
      res.end(peerMembersJson(this.members()));
      return;
    }
    if (req.method === "POST" && path !== undefined && (path === "/leases" || path === "/leases/internal" || path.startsWith("/members/promote/"))) {
      readSmallBody(req, (body) => {
        const answer = body === null ? Promise.resolve({ status: 413, text: "request too large\n" }) : this.answerLeaderRequest(path, { clusterIdHex: String(req.headers["x-etcd-cluster-id"] ?? ""), body });
        void answer.then((reply) => {
          res.writeHead(reply.status, { "Content-Type": reply.status === 200 ? "application/json" : "text/plain" });
          res.end(reply.text);
        });
      });
      return;
    }
    if (req.method === "GET" && path === "/version") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ etcdserver: ETCD_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }));
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("404 page not found\n");
  }

  /** For listenPeerExtras. */
  static servePeerHttp(server: EtcdServer, req: http.IncomingMessage, res: http.ServerResponse): void {
    server.#servePeerHttp(req, res);
  }

  #schedule(job: string, delayMs: number, fn: () => void): void {
    if (this.#stopped) return;
    // A running member keeps its process alive (it may be embedded in one with nothing else to do)
    // until close() cancels these.
    this.#timers.set(job, this.#env.clock.setTimer(delayMs, fn, { keepProcessAlive: true }));
  }

  #startTimers(): void {
    const leaseCheck = (): void => {
      if (this.#stopped) return;
      // Only the leader's clock decides expiry; it proposes the revokes everyone applies.
      const expired = this.isLeader ? this.#lessor.expired(LEASE_REVOKES_PER_CHECK_MAX) : [];
      for (const id of expired) {
        if (this.#revoking.has(id)) continue;
        this.#revoking.add(id);
        this.propose({ op: "leaseRevoke", req: { ID: id.toString() } }, null).then(
          () => this.#revoking.delete(id),
          () => this.#revoking.delete(id),
        );
      }
      this.refreshGauges();
      this.#schedule("leases", LEASE_CHECK_INTERVAL_MS, leaseCheck);
    };
    this.#schedule("leases", LEASE_CHECK_INTERVAL_MS, leaseCheck);
    const tick = (): void => {
      if (this.#stopped) return;
      this.#node.tick();
      this.#wake();
      this.#schedule("tick", this.config.heartbeatIntervalMs, tick);
    };
    this.#schedule("tick", this.config.heartbeatIntervalMs, tick);
    this.#startAutoCompaction();
  }

  /** Brings the gauges that are sampled (sizes, counts) up to date; called on each /metrics scrape too. */
  refreshGauges(): void {
    this.metrics.dbTotalSize.set(this.#backend.sizeBytes());
    this.metrics.dbInUseSize.set(this.#backend.sizeInUseBytes());
    this.metrics.keysTotal.set(this.#kv.keyCount);
    this.metrics.currentRevision.set(this.#kv.currentRevision);
    this.metrics.compactRevision.set(this.#kv.compactRevision);
    this.metrics.watchersTotal.set(this.#watchable.watcherCount);
    this.metrics.slowWatchers.set(this.#watchable.unsyncedCount);
  }

  /**
   * --auto-compaction-retention as etcd: periodic mode keeps the given window of history, checking every
   * tenth of it (at most hourly); revision mode keeps the last N revisions, checking every 5 minutes.
   */
  #startAutoCompaction(): void {
    const retention = this.config.autoCompactionRetention;
    if (retention === "0" || retention === "") return;
    const compactTo = (rev: number): void => {
      if (!this.isLeader || rev <= this.#kv.compactRevision || rev > this.#kv.currentRevision) return;
      this.#env.log.info("starting auto compaction", { revision: rev, mode: this.config.autoCompactionMode, retention });
      this.propose({ op: "compact", req: { revision: String(rev), physical: false } }, null).catch(() => {});
    };
    if (this.config.autoCompactionMode === "revision") {
      const keep = Number(retention);
      const tick = (): void => {
        if (this.#stopped) return;
        compactTo(this.#kv.currentRevision - keep);
        this.#schedule("compaction", REVISION_COMPACTION_INTERVAL_MS, tick);
      };
      this.#schedule("compaction", REVISION_COMPACTION_INTERVAL_MS, tick);
      return;
    }
    const retentionMs = parseRetentionMs(retention);
    const intervalMs = Math.max(1000, Math.min(retentionMs / 10, 3600_000));
    const tick = (): void => {
      if (this.#stopped) return;
      const now = this.#env.clock.nowMs();
      this.#compactionSamples.push({ atMs: now, rev: this.#kv.currentRevision });
      // Compact to the newest revision observed at least `retention` ago.
      let target = -1;
      while (this.#compactionSamples.length > 0 && now - this.#compactionSamples[0]!.atMs >= retentionMs) target = this.#compactionSamples.shift()!.rev;
      if (target > 0) compactTo(target);
      this.#schedule("compaction", intervalMs, tick);
    };
    this.#schedule("compaction", intervalMs, tick);
  }
}
function needsQuota(r: InternalRequest): boolean {
  if (r.op === "put" || r.op === "leaseGrant") return true;
  if (r.op === "txn") {
    const hasPut = (ops: TxnRequest["success"]): boolean => ops.some((o) => o.request_put || (o.request_txn && (hasPut(o.request_txn.success) || hasPut(o.request_txn.failure))));
    return hasPut(r.req.success) || hasPut(r.req.failure);
  }
  return false;
}

/** Reads a request body of at most PEER_REQUEST_BYTES_MAX bytes; null if it is larger. */
function readSmallBody(req: http.IncomingMessage, done: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let finished = false;
  req.on("data", (c: Buffer) => {
    bytes += c.length;
    if (bytes > PEER_REQUEST_BYTES_MAX) {
      if (!finished) done(null);
      finished = true;
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on("end", () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString("utf8"));
  });
  req.on("error", () => {});
}

function txnIsSerializable(req: TxnRequest): boolean {
  const all = [...req.success, ...req.failure];
  // A read-only txn is serializable only if every range in it asks to be (etcd's isTxnSerializable).
  return all.length > 0 && all.every((o) => o.request_range?.serializable === true);
}

function isUrl(u: string): boolean {
  try {
    const p = new URL(u);
    return (p.protocol === "http:" || p.protocol === "https:") && p.port !== "";
  } catch {
    return false;
  }
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}

const RECEIVED_IMAGE_SUFFIX = ".snap.db";

/** The file a backend image received from the leader is kept in until the next one replaces it. */
function receivedImageName(index: number): string {
  return `${index.toString(16).padStart(16, "0")}${RECEIVED_IMAGE_SUFFIX}`;
}

/** What a snapshot file holds besides its index and term: Raft's membership as of it (for restarts) and the revision. */
function snapshotMetaData(confState: ConfState, revision: number): Uint8Array {
  return Buffer.from(JSON.stringify({ voters: confState.voters.map(String), learners: confState.learners.map(String), revision }));
}

function snapshotConfState(data: Uint8Array | undefined): ConfState | null {
  if (data === undefined || data.length === 0) return null;
  const j = JSON.parse(Buffer.from(data).toString("utf8")) as { voters?: string[]; learners?: string[] };
  // Snapshots written before replication hold no membership.
  if (j.voters === undefined) return null;
  return { voters: j.voters.map((v) => BigInt(v)), learners: (j.learners ?? []).map((v) => BigInt(v)) };
}

/** Binds the peer URLs past the first (the transport serves the first) for /members and /version. */
async function listenPeerExtras(server: EtcdServer, urls: readonly string[], env: Env): Promise<http.Server[]> {
  const out: http.Server[] = [];
  for (const raw of urls) {
    const u = new URL(raw);
    const h = http.createServer((req, res) => EtcdServer.servePeerHttp(server, req, res));
    await new Promise<void>((resolve, reject) => {
      h.once("error", reject);
      h.listen(Number(u.port || 2380), u.hostname.replace(/^\[|\]$/g, ""), () => resolve());
    });
    env.log.info("listening for peers", { url: raw });
    out.push(h);
  }
  return out;
}

