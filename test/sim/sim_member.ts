/**
 * What the simulated cluster needs of one member, whatever runs inside it. Two implementations:
 * `raft_kv_member.ts` (the pure Raft core hosted directly, with a small KV state machine) and
 * `etcd_member.ts` (the real `EtcdServer`). The cluster only sees this interface and a factory, so
 * swapping what the simulator runs is one line in `cluster.ts`.
 */
import type { ManualClock } from "../../src/env/manual_clock.js";
import type { FileSystem, Logger, Rng } from "../../src/env/env.js";
import type { KvInput, KvOutput } from "./kv_model.js";
import type { SimTransport } from "./network.js";
import type { MemberObserver } from "./raft_checker.js";

/** Why a request failed, for the history: `fail` = certainly not applied; `unknown` = may still be. */
export class SimRequestError extends Error {
  override readonly name = "SimRequestError";
  constructor(readonly outcome: "fail" | "unknown", message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A member could not start for a reason that passes (a joining member asked a peer that has not applied
 * its addition yet): not a bug; the cluster starts it again later.
 */
export class SimStartRetryError extends Error {
  override readonly name = "SimStartRetryError";
}

/** One event a watch delivered. */
export interface SimWatchEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value: string | null;
  readonly modRevision: number;
}

export interface SimWatch {
  cancel(): void;
}

/** A member as the cluster, the clients and the quiesce step use it. */
export interface SimMember {
  readonly id: bigint;
  /** The leader it knows of (0n: none). */
  leaderId(): bigint;
  term(): number;
  appliedIndex(): number;
  /** The store's current revision as this member has applied it. */
  revision(): number;
  /** A write (put, delete, cas); resolves when applied here, rejects with SimRequestError. */
  write(input: Exclude<KvInput, { kind: "get" }>): Promise<KvOutput>;
  /**
   * Grants lease `id` with a TTL (etcd's LeaseGrant with a client-chosen ID); resolves once applied.
   * Absent: leases exist implicitly (a put may name any lease) and never expire.
   */
  grantLease?(id: number, ttlSeconds: number): Promise<void>;
  /** A linearizable get (ReadIndex). */
  read(key: string): Promise<KvOutput>;
  /** Watches every key from `startRevision`; events come in revision order; `onEnd` when the member stops. */
  watch(startRevision: number, onEvent: (e: SimWatchEvent) => void, onEnd?: () => void): SimWatch;
  /** A hash of the member's state machine (equal on members that applied the same log). */
  hash(): Promise<number>;
  /** Stops at once, flushing nothing (the cluster crashes the member's disk right after). */
  crash(): void;
  close(): Promise<void>;
  /** Operator actions, for members that support them (etcdctl member add/remove/promote, move-leader, compaction). */
  readonly admin?: SimAdmin;
}

/**
 * What an operator does to a running cluster, through one member. Each resolves once the member applied
 * it and rejects (any error) otherwise; the operator does not record these in the KV history: none of
 * them changes a key or the revision.
 */
export interface SimAdmin {
  /** Adds `name` (peer URL from its name) as a learner or voter; resolves with the id the cluster gave it. */
  addMember(name: string, learner: boolean): Promise<bigint>;
  removeMember(id: bigint): Promise<void>;
  promoteMember(id: bigint): Promise<void>;
  /** Hands leadership to `target`; only the leader can. */
  moveLeader(target: bigint): Promise<void>;
  /** Compacts history up to `revision` (kept: the latest value of each key). */
  compact(revision: number): Promise<void>;
  /** The voters and learners this member has applied; `peerName` is the simulated member's name its peer URL names. */
  members(): { readonly id: bigint; readonly learner: boolean; readonly peerName: string | null }[];
}

/** Everything a member is started with. `fs` and `disk` are this member's own and survive its crashes. */
export interface SimMemberContext {
  readonly id: bigint;
  readonly name: string;
  /** Every member of the cluster as the simulator knows it (the initial ones, or the current ones for a joining member), in order. */
  readonly peers: readonly { readonly id: bigint; readonly name: string }[];
  /** The member was added to a running cluster (etcd's --initial-cluster-state existing): it does not bootstrap. */
  readonly joining: boolean;
  /** Shared by the cluster's members, e.g. for a joining member to find running ones by name. */
  readonly directory: Map<string, unknown>;
  readonly clock: ManualClock;
  readonly rng: Rng;
  readonly fs: FileSystem;
  readonly log: Logger;
  readonly transport: SimTransport;
  readonly observer: MemberObserver;
  /** Opaque per-member durable state the factory keeps between restarts (e.g. a backend medium). */
  readonly disk: Map<string, unknown>;
  /** Tick length and election timeout in ms, as etcd's --heartbeat-interval / --election-timeout. */
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** How long a client request waits before it gives up (etcd's request timeout). */
  readonly requestTimeoutMs: number;
  /** Entries applied between snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /** The member stopped on an error it cannot survive (a failed fsync): the cluster marks it down. */
  readonly onFatal: (err: unknown) => void;
  /** A bug the member showed without stopping (e.g. a request failed with an error etcd never returns): reported with the seed. */
  readonly reportError: (message: string) => void;
}

export interface SimMemberFactory {
  readonly name: string;
  /** Member ids for the initial cluster's names, as the member will compute them (default 1, 2, 3, …). */
  memberIds?(names: readonly string[]): bigint[];
  start(ctx: SimMemberContext): Promise<SimMember>;
}
