/**
 * The real datastore member (`EtcdServer`) as a simulated member: the thin adapter that turns the
 * simulator's KV operations into etcd requests (put, deleteRange, txn If(value|mod_revision) Then(Put),
 * linearizable range, a watch on every key) and its answers and errors back.
 *
 * Each member runs on its own MemoryFileSystem (WAL and snapshots; crashing it drops unsynced bytes) and
 * its own MemoryBackendMedium (the MVCC backend; crashing it drops what no commit covered), the
 * simulated network as its RaftTransport, and the cluster's RaftChecker as its MemberObserver.
 *
 * Errors: only those etcd returns before a request is proposed (too many requests, request too large)
 * are `fail`; everything else after the call may have been proposed, so the client records `unknown`.
 */
import { EtcdServer, memberIdFor, type LeaderReply, type LeaderRequest } from "../../src/etcd/server.js";
import type { Member } from "../../src/etcd/membership.js";
import { defaultConfig } from "../../src/etcd/config.js";
import { toKeyRange, type ApplyResult } from "../../src/etcd/apply.js";
import { EtcdError } from "../../src/etcd/errors.js";
import type { RaftTransport } from "../../src/etcd/raft_transport.js";
import type { Message } from "../../src/raft/types.js";
import { CompareResult, CompareTarget, type Compare, type DeleteRangeResponse, type PutRequest, type TxnResponse } from "../../src/etcd/pb.js";
import { MemoryBackendMedium } from "../../src/storage/backend/memory_backend.js";
import { BACKEND_BATCH_INTERVAL_MS } from "../../src/storage/backend/backend.js";
import { EventType, type MvccEvent } from "../../src/storage/mvcc/kv.js";
import type { KvOutput } from "./kv_model.js";
import type { KvWriteInput } from "./kv_state_machine.js";
import type { MemberObserver } from "./raft_checker.js";
import { SimRequestError, SimStartRetryError, type SimAdmin, type SimMember, type SimMemberContext, type SimMemberFactory, type SimWatch, type SimWatchEvent } from "./sim_member.js";

const CLUSTER_TOKEN = "sim-cluster";
/** Snapshots received and not yet reported as installed, per member (older ones are dropped). */
const SNAPSHOTS_TRACKED_MAX = 16;

/**
 * The member's transport, with one guard: an exception thrown by the member's message handler (which a
 * real transport would see escape from its socket callback and crash the process) is reported as a
 * bug with the seed, and the run goes on so it can find more.
 */
class GuardedTransport implements RaftTransport {
  constructor(private readonly ctx: SimMemberContext, private readonly seen: (m: Message) => void) {}
  start(): Promise<void> {
    return this.ctx.transport.start();
  }
  stop(): Promise<void> {
    return this.ctx.transport.stop();
  }
  addPeer(id: bigint, urls: readonly string[]): void {
    this.ctx.transport.addPeer(id, urls);
  }
  removePeer(id: bigint): void {
    this.ctx.transport.removePeer(id);
  }
  send(messages: readonly Message[]): void {
    this.ctx.transport.send(messages);
  }
  onMessage(handler: (m: Message) => void): void {
    this.ctx.transport.onMessage((m) => {
      this.seen(m);
      try {
        handler(m);
      } catch (err) {
        if (err instanceof Error && err.name === "AssertionError") throw err;
        this.ctx.reportError(`handling a ${m.type} from ${m.from.toString(16)} threw (a real transport would crash the process): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
    });
  }
  onUnreachable(handler: (id: bigint) => void): void {
    this.ctx.transport.onUnreachable(handler);
  }
  onSnapshotStatus(handler: (id: bigint, failed: boolean) => void): void {
    this.ctx.transport.onSnapshotStatus(handler);
  }
}
/** etcd's answers that mean "refused before proposing": the request certainly did not happen. */
const REFUSED_BEFORE_PROPOSING = new Set(["etcdserver: too many requests", "etcdserver: request is too large"]);

function peerUrl(name: string): string {
  return `http://${name}:2380`;
}

function nameOfPeerUrl(url: string | undefined): string | null {
  const m = url === undefined ? null : /^http:\/\/(m\d+):2380$/.exec(url);
  return m === null ? null : m[1]!;
}

/** The member id EtcdServer derives for a member of a new cluster (checked against the server's own after open). */
export function etcdMemberId(name: string): bigint {
  return memberIdFor([peerUrl(name)], CLUSTER_TOKEN);
}

/**
 * A joining member asks a running one for the membership (EtcdServer's `fetchCluster` edge; over HTTP
 * /members in a real cluster): here the simulated members answer from their servers, in the order the
 * joining member lists them; one that is down refuses, as a closed port does.
 */
function simulatedFetchCluster(directory: Map<string, unknown>): (peerUrls: readonly string[]) => Promise<{ clusterId: bigint; members: Member[] }> {
  return async (peerUrls) => {
    const errors: string[] = [];
    for (const url of peerUrls) {
      const server = directory.get(new URL(url).hostname);
      if (!(server instanceof EtcdServer) || server.stopped) {
        errors.push(`${url}: connect ECONNREFUSED`);
        continue;
      }
      return { clusterId: server.clusterId, members: server.members() };
    }
    throw new Error(`Cannot start: --initial-cluster-state=existing, but no running member answered (${errors.join("; ")})`);
  };
}

/**
 * A follower asks the leader to act for it (EtcdServer's `leaderRequest` edge; a POST to the leader's peer
 * URL in a real cluster): delivered to the simulated leader's server, or refused if it is down.
 */
function simulatedLeaderRequest(directory: Map<string, unknown>): (leaderPeerUrl: string, path: string, request: LeaderRequest) => Promise<LeaderReply> {
  return async (leaderPeerUrl, path, request) => {
    const server = directory.get(new URL(leaderPeerUrl).hostname);
    if (!(server instanceof EtcdServer) || server.stopped) throw new Error(`${leaderPeerUrl}: connect ECONNREFUSED`);
    return server.answerLeaderRequest(path, request);
  };
}

/**
 * The peer a joining member asked has not applied its addition yet, or none answered (etcd's new member
 * exits and is started again): the simulator retries later.
 */
function joinLater(err: unknown): never {
  if (err instanceof Error && /running cluster has no member with peer URLs|no running member answered/.test(err.message)) {
    throw new SimStartRetryError(err.message, { cause: err });
  }
  throw err;
}

function putRequest(key: string, value: string, lease = 0): PutRequest {
  return { key: Buffer.from(key), value: Buffer.from(value), lease: String(lease), prev_kv: false, ignore_value: false, ignore_lease: false };
}

function revisionOf(r: ApplyResult): number {
  return r.revision;
}

class EtcdMember implements SimMember {
  readonly id: bigint;
  readonly admin: SimAdmin;
  readonly #server: EtcdServer;
  readonly #ctx: SimMemberContext;
  readonly #watches = new Set<{ end: () => void; cancelled: boolean }>();
  #crashed = false;

  constructor(ctx: SimMemberContext, server: EtcdServer) {
    this.id = ctx.id;
    this.#ctx = ctx;
    this.#server = server;
    this.#watchForSelfStop();
    const call = <T>(fn: () => Promise<T>): Promise<T> => {
      if (this.#crashed || server.stopped) return Promise.reject(new SimRequestError("fail", "member stopped"));
      return this.#call(fn);
    };
    this.admin = {
      addMember: (name, learner) => call(async () => (await server.addMember([peerUrl(name)], learner)).member.id),
      removeMember: (id) => call(async () => void (await server.removeMember(id))),
      promoteMember: (id) => call(async () => void (await server.promoteMember(id))),
      moveLeader: (target) => call(() => server.moveLeader(target)),
      compact: (revision) =>
        call(async () => {
          const r = await server.propose({ op: "compact", req: { revision: String(revision), physical: false } }, null);
          if (r.error !== undefined) throw r.error;
        }),
      members: () => server.members().map((m) => ({ id: m.id, learner: m.isLearner, peerName: nameOfPeerUrl(m.peerUrls[0]) })),
    };
  }

  /**
   * A member that stops itself (a failed WAL write) must count as down, as etcd's process exits on it;
   * the server has no hook for it, so look every heartbeat.
   */
  #watchForSelfStop(): void {
    this.#ctx.clock.setTimer(this.#ctx.heartbeatMs, () => {
      if (this.#crashed) return;
      if (!this.#server.stopped) return this.#watchForSelfStop();
      this.crash();
      this.#ctx.onFatal(new Error("EIO: the member stopped itself (etcd exits when a WAL write fails)"));
    });
  }

  leaderId(): bigint {
    return this.#crashed ? 0n : this.#server.leaderId;
  }

  term(): number {
    return this.#server.term;
  }

  appliedIndex(): number {
    return this.#server.appliedIndex;
  }

  revision(): number {
    return this.#server.kv.currentRevision;
  }

  async write(input: KvWriteInput): Promise<KvOutput> {
    if (this.#crashed || this.#server.stopped) throw new SimRequestError("fail", "member stopped");
    const result = await this.#call(() => {
      switch (input.kind) {
        case "put":
          return this.#server.propose({ op: "put", req: putRequest(input.key, input.value, input.lease ?? 0) }, null);
        case "revoke":
          return this.#server.propose({ op: "leaseRevoke", req: { ID: String(input.lease) } }, null);
        case "delete":
          return this.#server.propose({ op: "deleteRange", req: { key: Buffer.from(input.key), range_end: Buffer.alloc(0), prev_kv: false } }, null);
        case "cas": {
          const c = input.compare;
          // Comparing the value with null is "the key is absent": mod_revision == 0, as etcd clients create-if-absent.
          const compare: Compare =
            c.target === "value" && c.value !== null
              ? { result: CompareResult.Equal, target: CompareTarget.Value, key: Buffer.from(input.key), target_union: "value", value: Buffer.from(c.value), range_end: Buffer.alloc(0) }
              : { result: CompareResult.Equal, target: CompareTarget.Mod, key: Buffer.from(input.key), target_union: "mod_revision", mod_revision: String(c.target === "value" ? 0 : c.modRevision), range_end: Buffer.alloc(0) };
          return this.#server.propose(
            { op: "txn", req: { compare: [compare], success: [{ request: "request_put", request_put: putRequest(input.key, input.value) }], failure: [] } },
            null,
          );
        }
      }
    });
    if (result.error !== undefined) {
      // Revoking a lease that is gone (revoked, expired, never granted) changed nothing.
      const nothing = input.kind === "revoke" && result.error.message === "etcdserver: requested lease not found";
      throw new SimRequestError(nothing ? "fail" : "unknown", `applied with an error: ${result.error.message}`);
    }
    switch (input.kind) {
      case "put":
        return { kind: "put", revision: revisionOf(result) };
      case "delete":
        return { kind: "delete", deleted: Number((result.response as DeleteRangeResponse).deleted), revision: revisionOf(result) };
      case "cas":
        return { kind: "cas", succeeded: (result.response as TxnResponse).succeeded, revision: revisionOf(result) };
      case "revoke":
        return { kind: "revoke", revision: revisionOf(result) };
    }
  }

  async grantLease(id: number, ttlSeconds: number): Promise<void> {
    if (this.#crashed || this.#server.stopped) throw new SimRequestError("fail", "member stopped");
    const r = await this.#call(() => this.#server.propose({ op: "leaseGrant", req: { ID: String(id), TTL: String(ttlSeconds) } }, null));
    if (r.error !== undefined) throw new SimRequestError("unknown", `applied with an error: ${r.error.message}`);
  }

  async read(key: string): Promise<KvOutput> {
    if (this.#crashed || this.#server.stopped) throw new SimRequestError("fail", "member stopped");
    const r = await this.#call(() =>
      this.#server.range({
        key: Buffer.from(key), range_end: Buffer.alloc(0), limit: "0", revision: "0", sort_order: 0, sort_target: 0, serializable: false,
        keys_only: false, count_only: false, min_mod_revision: "0", max_mod_revision: "0", min_create_revision: "0", max_create_revision: "0",
      }),
    );
    const kv = r.kvs[0];
    return { kind: "get", value: kv === undefined ? null : kv.value.toString(), modRevision: kv === undefined ? 0 : Number(kv.mod_revision), revision: Number(r.header!.revision) };
  }

  watch(startRevision: number, onEvent: (e: SimWatchEvent) => void, onEnd: () => void = () => {}): SimWatch {
    const state = { end: onEnd, cancelled: false };
    if (this.#crashed) {
      this.#ctx.clock.setTimer(0, onEnd);
      return { cancel: () => void (state.cancelled = true) };
    }
    const w = this.#server.watchable.watch(toKeyRange(Buffer.alloc(0), Buffer.from([0])), startRevision, {
      deliver: (events: MvccEvent[]) => {
        if (state.cancelled || this.#crashed) return true;
        for (const e of events) {
          const deleted = e.type === EventType.Delete;
          onEvent({ type: deleted ? "delete" : "put", key: e.kv.key.toString(), value: deleted ? null : e.kv.value.toString(), modRevision: e.kv.modRevision });
        }
        return true;
      },
      compacted: () => {
        // The simulator never compacts; a compacted watch is a lost one: end it so the client resumes elsewhere.
        this.#watches.delete(state);
        if (!state.cancelled) this.#ctx.clock.setTimer(0, onEnd);
      },
    });
    this.#watches.add(state);
    return {
      cancel: () => {
        state.cancelled = true;
        this.#watches.delete(state);
        this.#server.watchable.cancel(w);
      },
    };
  }

  async hash(): Promise<number> {
    return this.#server.hashAll();
  }

  crash(): void {
    if (this.#crashed) return;
    this.#crashed = true;
    this.#server.crash();
    const watches = [...this.#watches];
    this.#watches.clear();
    for (const w of watches) if (!w.cancelled) this.#ctx.clock.setTimer(0, w.end);
  }

  async close(): Promise<void> {
    this.#crashed = true;
    await this.#server.close();
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof EtcdError) throw new SimRequestError(REFUSED_BEFORE_PROPOSING.has(err.message) ? "fail" : "unknown", err.message, { cause: err });
      // A client would see a non-etcd error as "Internal": a bug to report, but the run goes on to find more.
      this.#ctx.reportError(`a request failed with an error that is not etcd's: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      throw new SimRequestError("unknown", String(err), { cause: err });
    }
  }
}

export interface EtcdMemberOptions {
  /**
   * The backend commits by itself this long after a write, as the real backend's batch interval (default
   * BACKEND_BATCH_INTERVAL_MS); null: only the server's own commit() calls make backend writes durable,
   * the harshest crash the BackendStore contract allows.
   */
  readonly backendCommitDelayMs?: number | null;
}

/** The real member, with a choice of how harshly its backend loses writes in a crash. */
export function makeEtcdMemberFactory(options: EtcdMemberOptions = {}): SimMemberFactory {
  const delayMs = options.backendCommitDelayMs === undefined ? BACKEND_BATCH_INTERVAL_MS : options.backendCommitDelayMs;
  return {
    name: delayMs === null ? "etcd-harsh-backend" : "etcd",
    memberIds: (names) => names.map(etcdMemberId),
    start: (ctx) => startEtcdMember(ctx, delayMs),
  };
}

export const etcdMemberFactory: SimMemberFactory = makeEtcdMemberFactory();

async function startEtcdMember(ctx: SimMemberContext, backendCommitDelayMs: number | null): Promise<SimMember> {
  {
    let medium = ctx.disk.get("backend") as MemoryBackendMedium | undefined;
    if (medium === undefined) {
      medium = new MemoryBackendMedium(backendCommitDelayMs === null ? {} : { autoCommit: { clock: ctx.clock, delayMs: backendCommitDelayMs } });
      ctx.disk.set("backend", medium);
    }
    const backendMedium = medium;
    const config = defaultConfig({
      name: ctx.name,
      dataDir: `/${ctx.name}`,
      initialAdvertisePeerUrls: [peerUrl(ctx.name)],
      // No client URLs: the simulator calls the server directly. (With them, the server's bootstrap
      // entries differed between members, each knowing only its own client URLs: see the report.)
      listenClientUrls: [],
      advertiseClientUrls: [],
      initialCluster: ctx.peers.map((p) => `${p.name}=${peerUrl(p.name)}`).join(","),
      initialClusterState: ctx.joining ? "existing" : "new",
      initialClusterToken: CLUSTER_TOKEN,
      snapshotCount: ctx.snapshotCount,
      // Few entries behind a snapshot, so short runs also catch followers up by snapshot.
      snapshotCatchUpEntries: 10,
      heartbeatIntervalMs: ctx.heartbeatMs,
      electionTimeoutMs: ctx.electionMs,
    });
    // The server's observer has no snapshot hook, so the checker would keep a follower's log from
    // before a snapshot install and misjudge the entries after it. Snapshots a member received are
    // reported once its applied index reaches them (an install applies it before any later entry is
    // persisted; a snapshot raft refused is already in the log, where reporting it changes nothing).
    let opened: EtcdServer | null = null;
    const received: { index: number; term: number }[] = [];
    const reportSnapshots = (): void => {
      if (opened === null) return;
      for (let i = 0; i < received.length; i++) {
        const s = received[i]!;
        if (opened.appliedIndex < s.index) continue;
        ctx.observer.snapshotInstalled?.(ctx.id, s.index, s.term);
        received.splice(i--, 1);
      }
    };
    const observer: MemberObserver = {
      persisted: (id, hs, ents) => (reportSnapshots(), ctx.observer.persisted(id, hs, ents)),
      applied: (id, e) => (reportSnapshots(), ctx.observer.applied(id, e)),
      leader: (id, term, lead) => ctx.observer.leader(id, term, lead),
    };
    const transport = new GuardedTransport(ctx, (m) => {
      if (m.type !== "MsgSnap" || m.snapshot === null) return;
      if (received.length >= SNAPSHOTS_TRACKED_MAX) received.shift();
      received.push({ index: m.snapshot.metadata.index, term: m.snapshot.metadata.term });
    });
    const open = () =>
      EtcdServer.open({ clock: ctx.clock, rng: ctx.rng, fs: ctx.fs, log: ctx.log }, config, {
        openBackend: async (dir) => backendMedium.open(dir),
        transport,
        observer,
        fetchCluster: simulatedFetchCluster(ctx.directory),
        leaderRequest: simulatedLeaderRequest(ctx.directory),
      });
    const server = ctx.joining ? await open().catch(joinLater) : await open();
    opened = server;
    ctx.directory.set(ctx.name, server);
    if (server.member.id !== ctx.id) {
      server.crash();
      throw new Error(`Cannot run the etcd member in the simulator: it took id ${server.member.id.toString(16)}, the simulator expected ${ctx.id.toString(16)} (etcdMemberId drifted from the server's)`);
    }
    return new EtcdMember(ctx, server);
  }
}
