/**
 * One datastore member (etcd's EtcdServer): opens the WAL, snapshot and backend, replays, then runs the
 * ready loop — the only loop that touches the disk. A write is acknowledged only once it is in the WAL
 * (fsynced) and applied; reads are served from the applied state, which on a one-member group is
 * linearizable because nothing is acknowledged before it is applied.
 */
import { createHash } from "node:crypto";
import type { Env, Timer } from "../env/env.js";
import { Backend } from "../storage/backend/backend.js";
import { KVStore } from "../storage/mvcc/kvstore.js";
import { WatchableStore } from "../storage/mvcc/watchable_store.js";
import { Snapshotter } from "../storage/snap/snapshotter.js";
import { Wal, type Entry } from "../storage/wal/wal.js";
import { assert } from "../util/assert.js";
import { applyReadOnlyTxn, applyRange, applyRequest, type Alarms, type ApplyResult } from "./apply.js";
import { parseInitialCluster, parseRetentionMs, QUOTA_BACKEND_BYTES_DEFAULT, type DatastoreConfig } from "./config.js";
import { ErrNoSpace, ErrRequestTooLarge, ErrStopped, ErrTooManyRequests } from "./errors.js";
import { LEASE_REVOKES_PER_CHECK_MAX, Lessor } from "./lessor.js";
import { DatastoreMetrics } from "./metrics.js";
import { AlarmType, type RangeRequest, type RangeResponse, type TxnRequest, type TxnResponse } from "./pb.js";
import { decodeRequest, encodeRequest, requestIdOf, type InternalRequest } from "./request.js";
import { SoloNode } from "./solo_node.js";

/** Proposals waiting to be applied; beyond this a proposal fails fast with "too many requests". */
export const PROPOSALS_PENDING_MAX = 8192;
/** How often expired leases are looked for (etcd checks every 500 ms). */
export const LEASE_CHECK_INTERVAL_MS = 500;
/** How stale the backend size used for the quota check may be; a quota is a soft bound in etcd too. */
export const DB_SIZE_REFRESH_MS = 100;
/** Snapshot images are padded to whole blocks of this size, as etcdctl expects of a bbolt file. */
export const SNAPSHOT_BLOCK_BYTES = 512;
/** Revision-mode auto compaction checks this often (etcd: 5 minutes). */
export const REVISION_COMPACTION_INTERVAL_MS = 5 * 60_000;
/** etcd's version this member reports; the wire API matches 3.5 (a superset of 3.4). */
export const ETCD_VERSION = "3.5.0";
export const ETCD_CLUSTER_VERSION = "3.5.0";

export interface MemberInfo {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: string[];
  readonly clientUrls: string[];
}

interface Waiter {
  resolve(r: ApplyResult): void;
  reject(e: unknown): void;
}

function idFromHash(parts: string[]): bigint {
  const h = createHash("sha1").update(parts.join("\n")).digest();
  // Keep it within int64 so every client prints the same value.
  return h.readBigUInt64BE(0) & 0x7fffffffffffffffn;
}

export class EtcdServer {
  readonly config: DatastoreConfig;
  readonly metrics = new DatastoreMetrics();
  readonly member: MemberInfo;
  readonly clusterId: bigint;
  readonly #env: Env;
  readonly #backend: Backend;
  readonly #kv: KVStore;
  readonly #watchable: WatchableStore;
  readonly #lessor: Lessor;
  readonly #wal: Wal;
  readonly #snap: Snapshotter;
  readonly #node: SoloNode;
  readonly #waiters = new Map<bigint, Waiter>();
  /** Requests proposed by this member and not applied yet, by request ID (bounded by PROPOSALS_PENDING_MAX). */
  readonly #proposedHere = new Map<bigint, InternalRequest>();
  readonly #revoking = new Set<bigint>();
  readonly #alarms = new Map<string, { memberID: string; alarm: number }>();
  #nextRequestId: bigint;
  #appliedIndex: number;
  #snapshotIndex: number;
  #loopWake: (() => void) | null = null;
  #loopDone: Promise<void> = Promise.resolve();
  #stopped = false;
  #fatal: unknown = null;
  /** One pending timer per periodic job, so stopping cancels exactly what is scheduled. */
  readonly #timers = new Map<string, Timer>();
  #compactionSamples: { atMs: number; rev: number }[] = [];
  #snapshotting = false;
  /** Set while maintenance waits for the ready loop to stop between Readys. */
  #pauseRequested: (() => void) | null = null;
  #resumeLoop: (() => void) | null = null;
  #dbSizeCachedBytes = 0;
  #dbSizeReadAtMs = -Infinity;

  private constructor(
    env: Env,
    config: DatastoreConfig,
    parts: { backend: Backend; kv: KVStore; lessor: Lessor; wal: Wal; snap: Snapshotter; node: SoloNode; member: MemberInfo; clusterId: bigint; appliedIndex: number; snapshotIndex: number },
  ) {
    this.#env = env;
    this.config = config;
    this.#backend = parts.backend;
    this.#kv = parts.kv;
    this.#lessor = parts.lessor;
    this.#wal = parts.wal;
    this.#snap = parts.snap;
    this.#node = parts.node;
    this.member = parts.member;
    this.clusterId = parts.clusterId;
    this.#appliedIndex = parts.appliedIndex;
    this.#snapshotIndex = parts.snapshotIndex;
    this.#watchable = new WatchableStore(env, this.#kv);
    this.#nextRequestId = (BigInt(env.clock.wallMs()) << 16n) & 0x7fffffffffffffffn;
    const alarmJson = this.#backend.getMeta("alarms");
    if (alarmJson !== undefined) for (const a of JSON.parse(alarmJson) as { memberID: string; alarm: number }[]) this.#alarms.set(`${a.memberID}/${a.alarm}`, a);
  }

  /** Opens (or creates) the member in `config.dataDir`, recovers, and starts serving writes. */
  static async open(env: Env, config: DatastoreConfig): Promise<EtcdServer> {
    const memberDir = `${config.dataDir}/member`;
    await env.fs.mkdirp(memberDir);
    const { member, clusterId } = await loadOrCreateIdentity(env, config, memberDir);
    const backend = await Backend.open(env, `${memberDir}/backend`);
    const lessor = new Lessor(env.clock, backend);
    lessor.restore();
    const kv = KVStore.restore(env, backend, lessor);

    const snap = new Snapshotter(env, `${memberDir}/snap`);
    await env.fs.mkdirp(`${memberDir}/snap`);
    const snapshot = await snap.loadNewest();
    const opened = await Wal.open(env, `${memberDir}/wal`);
    const wal = opened.wal;
    if (opened.repairedBytes > 0) env.log.warn("repaired torn WAL tail on start-up", { droppedBytes: opened.repairedBytes });
    const snapshotIndex = Math.max(snapshot?.index ?? 0, opened.snapshot?.index ?? 0);
    if (kv.consistentIndex < snapshotIndex) {
      throw new Error(
        `Cannot start: the backend holds log index ${kv.consistentIndex} but the newest snapshot is at ${snapshotIndex}; the backend in ${memberDir}/backend is older than the WAL says it must be`,
      );
    }
    const entries = opened.entries;
    const walLastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : Math.max(snapshotIndex, opened.hardState.commit);
    if (kv.consistentIndex > walLastIndex) {
      // Only entries already durable in the WAL are ever applied, so this means the WAL lost
      // acknowledged entries: refuse to continue rather than hand their indexes to new writes.
      throw new Error(
        `Cannot start: the backend has applied log index ${kv.consistentIndex} but the WAL in ${memberDir}/wal ends at ${walLastIndex}; the WAL has lost entries that were acknowledged`,
      );
    }
    const lastIndex = walLastIndex;
    const node = new SoloNode({ id: member.id, hardState: opened.hardState, lastIndex });
    const server = new EtcdServer(env, config, { backend, kv, lessor, wal, snap, node, member, clusterId, appliedIndex: kv.consistentIndex, snapshotIndex });
    // Replay what the WAL has beyond the backend. On one member every entry in the WAL is committed.
    let replayed = 0;
    for (const e of entries) {
      if (e.index <= kv.consistentIndex) continue;
      server.#applyEntry(e);
      replayed++;
    }
    kv.persistMeta();
    await backend.commit();
    env.log.info("datastore member started", {
      name: config.name,
      memberId: member.id.toString(16),
      clusterId: clusterId.toString(16),
      term: node.term,
      appliedIndex: server.#appliedIndex,
      replayedEntries: replayed,
      revision: kv.currentRevision,
      compactRevision: kv.compactRevision,
    });
    server.metrics.hasLeader.set(1);
    server.metrics.isLeader.set(1);
    server.metrics.leaderChanges.inc();
    server.metrics.quotaBytes.set(server.quotaBytes);
    server.#loopDone = server.#readyLoop();
    server.#startTimers();
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
    return this.#node.term;
  }
  get appliedIndex(): number {
    return this.#appliedIndex;
  }
  get commitIndex(): number {
    return this.#node.commitIndex;
  }
  get quotaBytes(): number {
    return this.config.quotaBackendBytes > 0 ? this.config.quotaBackendBytes : QUOTA_BACKEND_BYTES_DEFAULT;
  }
  get stopped(): boolean {
    return this.#stopped;
  }

  alarmList(): { memberID: string; alarm: number }[] {
    return [...this.#alarms.values()];
  }

  /** Problems an operator must see in `endpoint status` and /health. */
  errors(): string[] {
    return this.alarmList().map((a) => `memberID:${a.memberID} alarm:${a.alarm === AlarmType.NoSpace ? "NOSPACE" : a.alarm === AlarmType.Corrupt ? "CORRUPT" : "NONE"} `);
  }

  /** A linearizable or serializable range: on one member both read the applied state. */
  range(req: RangeRequest): RangeResponse {
    this.metrics.rangeTotal.inc();
    this.#checkRunning();
    return applyRange({ range: (r, o) => this.#kv.range(r, o) }, req);
  }

  readOnlyTxn(req: TxnRequest): TxnResponse {
    this.metrics.txnTotal.inc();
    this.#checkRunning();
    return applyReadOnlyTxn(this.#kv, req);
  }

  /**
   * Proposes a request through the log and resolves once it is durable and applied. `wire` is the
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
    const p = new Promise<ApplyResult>((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
    this.#node.propose(data);
    this.metrics.proposalsPending.set(this.#waiters.size);
    this.#wake();
    return p;
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

  /** A consistent image of the backend, as the Snapshot RPC streams it (then a sha256 trailer, as etcd's). */
  snapshotImage(): Buffer[] {
    const chunks: Buffer[] = [Buffer.from("TK8S-SNAPSHOT-1\n")];
    const frame = (tag: number, k: Buffer, v: Buffer): Buffer => {
      const b = Buffer.allocUnsafe(9 + k.length + v.length);
      b[0] = tag;
      b.writeUInt32BE(k.length, 1);
      b.writeUInt32BE(v.length, 5);
      k.copy(b, 9);
      v.copy(b, 9 + k.length);
      return b;
    };
    this.#backend.forEachRevision(Buffer.alloc(0), null, (k, v) => void chunks.push(frame(1, k, v)));
    for (const l of this.#backend.leases()) chunks.push(frame(2, Buffer.from(l.id.toString()), Buffer.from(String(l.ttlSeconds))));
    chunks.push(frame(3, Buffer.from("consistent_index"), Buffer.from(String(this.#kv.consistentIndex))));
    // etcdctl 3.4 accepts a stream only if it is a whole number of 512-byte blocks plus the 32-byte
    // sha256 trailer (a bbolt file always is); zero padding is the image's end marker.
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    chunks.push(Buffer.alloc((SNAPSHOT_BLOCK_BYTES - (bytes % SNAPSHOT_BLOCK_BYTES)) % SNAPSHOT_BLOCK_BYTES));
    const hash = createHash("sha256");
    for (const c of chunks) hash.update(c);
    chunks.push(hash.digest());
    return chunks;
  }

  /** Stops serving: fails pending proposals, stops the loop, closes the WAL and backend. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#watchable.close();
    this.#resumeLoop?.();
    this.#wake();
    await this.#loopDone.catch(() => {});
    for (const w of this.#waiters.values()) w.reject(ErrStopped());
    this.#waiters.clear();
    this.#proposedHere.clear();
    await this.#wal.close();
    await this.#kv.compactionsDone();
    await this.#backend.close();
    this.#env.log.info("datastore member stopped", { name: this.config.name, appliedIndex: this.#appliedIndex });
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

  /** The ready loop: persist → apply → advance. It never ends while the member runs. */
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
      // Committed entries are already durable: apply (and acknowledge) them before waiting on the
      // fsync of the next batch, so a write waits for one fsync, not two.
      for (const e of rd.committed) this.#applyEntry(e);
      if (rd.committed.length > 0) this.#kv.persistMeta();
      try {
        if (rd.entries.length > 0 || rd.mustSync) {
          const started = this.#env.clock.nowMs();
          // Entries reach the disk before they count as committed (for one member, before they are applied).
          await this.#wal.save(rd.hardState, rd.entries);
          this.metrics.walFsync.observe((this.#env.clock.nowMs() - started) / 1000);
        }
      } catch (err) {
        this.#fatal = err;
        this.#env.log.error("WAL write failed; refusing further requests", { error: err instanceof Error ? err.message : String(err) });
        for (const w of this.#waiters.values()) w.reject(ErrStopped());
        this.#waiters.clear();
        return;
      }
      this.#node.advance(rd);
      this.metrics.proposalsCommitted.set(this.#node.commitIndex);
      this.metrics.proposalsApplied.set(this.#appliedIndex);
      this.metrics.proposalsPending.set(this.#waiters.size);
      this.#maybeSnapshot();
    }
  }

  #applyEntry(e: Entry): void {
    assert(e.index === this.#appliedIndex + 1, `applying entry ${e.index} after ${this.#appliedIndex}`);
    let result: ApplyResult | null = null;
    let id = 0n;
    if (e.data.length > 0) {
      id = requestIdOf(e.data);
      const request = this.#proposedHere.get(id) ?? decodeRequest(e.data).request;
      this.#proposedHere.delete(id);
      result = applyRequest(this.#kv, this.#lessor, this.#alarmsApi(), request);
      this.#countOp(request);
      if (request.op === "leaseRevoke") this.#revoking.delete(BigInt(request.req.ID));
    }
    this.#kv.setConsistentIndex(e.index, e.term);
    this.#appliedIndex = e.index;
    if (result === null) return;
    if (result.events.length > 0) this.#watchable.notify(result.events, result.revision);
    const w = this.#waiters.get(id);
    if (w !== undefined) {
      this.#waiters.delete(id);
      w.resolve(result);
    }
  }

  #countOp(r: InternalRequest): void {
    if (r.op === "put") this.metrics.putTotal.inc();
    else if (r.op === "deleteRange") this.metrics.deleteTotal.inc();
    else if (r.op === "txn") this.metrics.txnTotal.inc();
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
   * Every --snapshot-count applied entries: once the backend holds them durably, record a snapshot and
   * drop the WAL segments it covers, so the WAL (and replay time) stays bounded.
   */
  #maybeSnapshot(): void {
    if (this.#snapshotting || this.#appliedIndex - this.#snapshotIndex < this.config.snapshotCount) return;
    this.#snapshotting = true;
    const index = this.#appliedIndex;
    const term = this.#node.term;
    const started = this.#env.clock.nowMs();
    void (async () => {
      try {
        await this.#backend.commit();
        const data = Buffer.from(JSON.stringify({ member: this.member.id.toString(), cluster: this.clusterId.toString(), revision: this.#kv.currentRevision }));
        await this.#snap.save({ index, term, data });
        await this.#wal.saveSnapshot({ index, term });
        await this.#wal.releaseBefore(index);
        await this.#snap.purge(5);
        this.#snapshotIndex = index;
        this.metrics.snapshotSave.observe((this.#env.clock.nowMs() - started) / 1000);
        this.#env.log.info("saved snapshot", { index, term, tookMs: Math.round(this.#env.clock.nowMs() - started) });
      } catch (err) {
        this.#env.log.error("snapshot failed", { index, error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.#snapshotting = false;
      }
    })();
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
      for (const id of this.#lessor.expired(LEASE_REVOKES_PER_CHECK_MAX)) {
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
      if (rev <= this.#kv.compactRevision || rev > this.#kv.currentRevision) return;
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

async function loadOrCreateIdentity(env: Env, config: DatastoreConfig, memberDir: string): Promise<{ member: MemberInfo; clusterId: bigint }> {
  const path = `${memberDir}/identity.json`;
  if (await env.fs.exists(path)) {
    const j = JSON.parse(Buffer.from(await env.fs.readFile(path)).toString("utf8")) as { id: string; name: string; peerUrls: string[]; clusterId: string };
    return {
      member: { id: BigInt(j.id), name: j.name, peerUrls: j.peerUrls, clientUrls: config.advertiseClientUrls },
      clusterId: BigInt(j.clusterId),
    };
  }
  if (config.initialClusterState === "existing") {
    throw new Error(
      `Cannot start: --initial-cluster-state=existing joins a running cluster, but ${memberDir} holds no member data and this datastore runs a single member until Raft replication lands`,
    );
  }
  const members = parseInitialCluster(config.initialCluster);
  const self = members.find((m) => m.name === config.name);
  if (self === undefined) throw new Error(`Cannot start: --initial-cluster has no member named "${config.name}" (--name)`);
  if (members.length > 1) throw new Error(`Cannot start: --initial-cluster names ${members.length} members; this datastore runs a single member until Raft replication lands`);
  const id = idFromHash([...self.peerUrls].sort().concat(config.initialClusterToken));
  const clusterId = idFromHash([id.toString(16), config.initialClusterToken]);
  const j = { id: id.toString(), name: config.name, peerUrls: self.peerUrls, clusterId: clusterId.toString() };
  await env.fs.writeFileAtomic(path, Buffer.from(JSON.stringify(j)));
  env.log.info("created new member", { name: config.name, memberId: id.toString(16), clusterId: clusterId.toString(16) });
  return { member: { id, name: config.name, peerUrls: self.peerUrls, clientUrls: config.advertiseClientUrls }, clusterId };
}

