/**
 * The MVCC backend: LMDB (an embedded copy-on-write B+ tree, as bbolt is for etcd) with etcd's buckets:
 *   key   — revision bytes → mvccpb.KeyValue bytes (immutable once written: a revision is never rewritten)
 *   meta  — consistent_index, compaction markers
 *   lease — lease ID → TTL
 * Writes are asynchronous and batched as etcd batches bbolt's: they gather for the batch interval (100 ms,
 * etcd's --backend-batch-interval) or until the batch limit (10,000 writes, --backend-batch-limit), then land
 * in one LMDB transaction (atomic; a batch never splits an event-loop turn, so an applied entry's data and its
 * consistent index land together), durable when `commit()` resolves. Until then reads see them through the
 * pending buffers, the analogue of etcd's txWriteBuffer. Durability does not depend on the backend alone: the
 * WAL is replayed from the backend's consistent index on start-up, so a crash loses nothing acknowledged.
 */
import { open, type Database, type Key, type RootDatabase } from "lmdb";
import type { Env, Timer } from "../../env/env.js";
import { assert } from "../../util/assert.js";
import { OrderedMap } from "../../util/btree.js";
import { crc32cUpdate } from "../../util/crc32c.js";

/** LMDB's map size bounds the file; the quota (--quota-backend-bytes) is enforced below it by the server. */
export const BACKEND_MAP_BYTES_MAX = 16 * 1024 * 1024 * 1024;
/**
 * How long writes gather before they are committed (and fsynced) together, as etcd's backend batch
 * interval (100 ms). The WAL carries durability in between; committing on every event-loop turn put a
 * second fsync stream and a transaction's page writes on every applied entry (measured: ~25% of a
 * 3-member cluster's put throughput at 1 and 16 in flight).
 */
export const BACKEND_BATCH_INTERVAL_MS = 100;
/** Writes in one batch at most (etcd's --backend-batch-limit); a full batch commits at the end of its turn. */
export const BACKEND_BATCH_LIMIT = 10_000;
/** LMDB's own delay before a handed-over transaction commits: none beyond ours. */
const LMDB_COMMIT_DELAY_MS = 0;

export interface BackendOptions {
  readonly batchIntervalMs?: number;
  readonly batchLimit?: number;
}

export interface LeaseRecord {
  readonly id: bigint;
  readonly ttlSeconds: number;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
}

/**
 * What MVCC, the lessor and the member need of a backend. `Backend` (LMDB) is the real one; the simulator
 * runs members on an in-memory one with the same durability contract: a write is durable once `commit()`
 * resolves, and a crash loses the rest.
 */
export interface BackendStore {
  readonly dir: string;
  putRevision(revKey: Buffer, value: Buffer): void;
  removeRevision(revKey: Buffer): void;
  getRevision(revKey: Buffer): Buffer | undefined;
  forEachRevision(from: Buffer, to: Buffer | null, visit: (revKey: Buffer, value: Buffer) => boolean | void, options?: { copy?: boolean }): void;
  putMeta(name: string, value: string): void;
  getMeta(name: string): string | undefined;
  putLease(rec: LeaseRecord): void;
  removeLease(id: bigint): void;
  leases(): LeaseRecord[];
  /** etcd's Hash over every store; reads committed data. */
  hashAll(): number;
  /** Resolves when every write issued so far is durable. */
  commit(): Promise<void>;
  sizeBytes(): number;
  sizeInUseBytes(): number;
  /** Rewrites the store without free space. */
  defragment(): Promise<{ beforeBytes: number; afterBytes: number }>;
  close(): Promise<void>;
}

/** LMDB's stores inside one environment, swapped as a whole by defragment(). */
interface Stores {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly key: Database<Buffer, Buffer>;
  readonly meta: Database<string, string>;
  readonly lease: Database<Buffer, Buffer>;
}

function openStores(dir: string): Stores {
  // noSubdir: false — lmdb would otherwise take a path with a dot in its last part (".defrag") for a file.
  const root = open<Buffer, Buffer>({ path: dir, noSubdir: false, keyEncoding: "binary", encoding: "binary", mapSize: BACKEND_MAP_BYTES_MAX, maxDbs: 8, commitDelay: LMDB_COMMIT_DELAY_MS });
  return {
    root,
    key: root.openDB({ name: "key", keyEncoding: "binary", encoding: "binary" }) as unknown as Database<Buffer, Buffer>,
    meta: root.openDB({ name: "meta", encoding: "string" }) as unknown as Database<string, string>,
    lease: root.openDB({ name: "lease", keyEncoding: "binary", encoding: "binary" }) as unknown as Database<Buffer, Buffer>,
  };
}

/** Entries copied per chunk when defragmenting; each chunk is one LMDB transaction. */
export const DEFRAG_CHUNK_ENTRIES = 10_000;

export class Backend implements BackendStore {
  #stores: Stores;
  /**
   * Written but not yet committed, per store: key (latin1) → value, or null for a removal. Revisions are
   * kept ordered, as range scans (compaction, watch catch-up, images) merge them with LMDB's.
   */
  readonly #pendingRevisions = new OrderedMap<Buffer | null>();
  readonly #pendingMeta = new Map<string, string>();
  readonly #pendingLeases = new Map<string, Buffer | null>();
  #lastWrite: Promise<unknown> = Promise.resolve();
  #writes: QueuedWrite[] = [];
  /** The batch interval's timer, or the end-of-turn flush of a full batch; null when none is scheduled. */
  #flushTimer: Timer | null = null;
  #flushAtTurnEnd = false;
  readonly #dir: string;
  readonly #env: Pick<Env, "fs" | "clock">;
  readonly #batchIntervalMs: number;
  readonly #batchLimit: number;

  private constructor(env: Pick<Env, "fs" | "clock">, dir: string, stores: Stores, options: BackendOptions) {
    this.#env = env;
    this.#dir = dir;
    this.#stores = stores;
    this.#batchIntervalMs = options.batchIntervalMs ?? BACKEND_BATCH_INTERVAL_MS;
    this.#batchLimit = options.batchLimit ?? BACKEND_BATCH_LIMIT;
    assert(this.#batchIntervalMs >= 0 && this.#batchLimit >= 1, "backend batch interval must be >= 0 and batch limit >= 1");
  }

  get #root(): RootDatabase<Buffer, Buffer> {
    return this.#stores.root;
  }
  get #key(): Database<Buffer, Buffer> {
    return this.#stores.key;
  }
  get #meta(): Database<string, string> {
    return this.#stores.meta;
  }
  get #lease(): Database<Buffer, Buffer> {
    return this.#stores.lease;
  }

  static async open(env: Pick<Env, "fs" | "clock">, dir: string, options: BackendOptions = {}): Promise<Backend> {
    await finishInterruptedDefragment(env, dir);
    await env.fs.mkdirp(dir);
    return new Backend(env, dir, openStores(dir), options);
  }

  /**
   * Rewrites the backend into a fresh file holding only live pages, as etcd's defrag rewrites bbolt, and
   * returns the sizes before and after. The caller must keep writers out until it resolves; readers keep
   * using the old file until the new one is in place. Crash-safe: see finishInterruptedDefragment.
   */
  async defragment(): Promise<{ beforeBytes: number; afterBytes: number }> {
    await this.commit();
    const beforeBytes = this.sizeBytes();
    const fs = this.#env.fs;
    const fresh = `${this.#dir}${DEFRAG_SUFFIX}`;
    const old = `${this.#dir}${OLD_SUFFIX}`;
    await fs.remove(fresh);
    await fs.mkdirp(fresh);
    const target = openStores(fresh);
    let last: Promise<unknown> = Promise.resolve();
    // The three stores differ only in key/value encodings, which a raw copy of entries does not care about.
    type AnyDatabase = Database<any, any>;
    const copy = async (from: AnyDatabase, to: AnyDatabase): Promise<void> => {
      let start: Key | undefined;
      for (;;) {
        const chunk = [...from.getRange(start === undefined ? { limit: DEFRAG_CHUNK_ENTRIES } : { start, limit: DEFRAG_CHUNK_ENTRIES + 1 })];
        const rows = start === undefined ? chunk : chunk.slice(1);
        for (const { key, value } of rows) last = to.put(key, value);
        if (rows.length === 0 || chunk.length < (start === undefined ? DEFRAG_CHUNK_ENTRIES : DEFRAG_CHUNK_ENTRIES + 1)) break;
        start = chunk[chunk.length - 1]!.key;
        await last;
      }
    };
    await copy(this.#key, target.key);
    await copy(this.#meta, target.meta);
    await copy(this.#lease, target.lease);
    await last;
    await target.root.close();
    // Renaming directories does not disturb the open environment: reads go on against the old file.
    await fs.rename(this.#dir, old);
    await fs.rename(fresh, this.#dir);
    const previous = this.#stores;
    this.#stores = openStores(this.#dir);
    await previous.root.close();
    await fs.remove(old);
    return { beforeBytes, afterBytes: this.sizeBytes() };
  }

  get dir(): string {
    return this.#dir;
  }

  putRevision(revKey: Buffer, value: Buffer): void {
    const k = hex(revKey);
    this.#pendingRevisions.set(k, value);
    this.#queue({ store: "key", key: revKey, value, pendingKey: k });
  }

  removeRevision(revKey: Buffer): void {
    const k = hex(revKey);
    this.#pendingRevisions.set(k, null);
    this.#queue({ store: "key", key: revKey, value: null, pendingKey: k });
  }

  getRevision(revKey: Buffer): Buffer | undefined {
    const p = this.#pendingRevisions.get(hex(revKey));
    if (p !== undefined) return p ?? undefined;
    return this.#key.get(revKey);
  }

  /**
   * Visits the key bucket from `from` (inclusive) to `to` (exclusive; null: to the end) in order, pending
   * writes included. With `copy: false` the buffers are only valid during the visit (no copy per entry:
   * for scans that decode and drop, such as restore).
   */
  forEachRevision(from: Buffer, to: Buffer | null, visit: (revKey: Buffer, value: Buffer) => boolean | void, options: { copy?: boolean } = {}): void {
    const copy = options.copy ?? true;
    const fromS = hex(from);
    const toS = to === null ? null : hex(to);
    const pending: [string, Buffer | null][] = [];
    this.#pendingRevisions.forRange(fromS, toS, (k, v) => void pending.push([k, v]));
    let pi = 0;
    const range = to === null ? this.#key.getRange({ start: from }) : this.#key.getRange({ start: from, end: to });
    for (const { key, value } of range) {
      const ks = hex(key);
      while (pi < pending.length && pending[pi]![0] < ks) {
        const [pk, pv] = pending[pi++]!;
        if (pv !== null && visit(Buffer.from(pk, "latin1"), pv) === true) return;
      }
      if (pi < pending.length && pending[pi]![0] === ks) {
        const pv = pending[pi++]![1];
        if (pv !== null && visit(Buffer.from(key), pv) === true) return;
        continue;
      }
      if (visit(copy ? Buffer.from(key) : key, copy ? Buffer.from(value) : value) === true) return;
    }
    while (pi < pending.length) {
      const [pk, pv] = pending[pi++]!;
      if (pv !== null && visit(Buffer.from(pk, "latin1"), pv) === true) return;
    }
  }

  putMeta(name: string, value: string): void {
    this.#pendingMeta.set(name, value);
    this.#queue({ store: "meta", key: name, value, pendingKey: name });
  }

  getMeta(name: string): string | undefined {
    return this.#pendingMeta.get(name) ?? this.#meta.get(name);
  }

  putLease(rec: LeaseRecord): void {
    const v = Buffer.alloc(8);
    v.writeBigInt64BE(BigInt(rec.ttlSeconds));
    const key = leaseKey(rec.id);
    this.#pendingLeases.set(hex(key), v);
    this.#queue({ store: "lease", key, value: v, pendingKey: hex(key) });
  }

  removeLease(id: bigint): void {
    const key = leaseKey(id);
    this.#pendingLeases.set(hex(key), null);
    this.#queue({ store: "lease", key, value: null, pendingKey: hex(key) });
  }

  leases(): LeaseRecord[] {
    const records = new Map<string, Buffer>();
    for (const { key, value } of this.#lease.getRange({})) records.set(hex(key), value);
    for (const [k, v] of this.#pendingLeases) {
      if (v === null) records.delete(k);
      else records.set(k, v);
    }
    return [...records.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => ({ id: Buffer.from(k, "latin1").readBigInt64BE(0), ttlSeconds: Number(v.readBigInt64BE(0)) }));
  }

  /**
   * etcd's Hash: CRC-32C over every store's name and entries, in order. Reads committed data: call
   * commit() first to include everything written so far.
   */
  hashAll(): number {
    let h = 0;
    for (const [name, db] of [["key", this.#key], ["lease", this.#lease], ["meta", this.#meta]] as const) {
      h = crc32cUpdate(h, Buffer.from(name));
      for (const { key, value } of (db as unknown as Database<Key, Key>).getRange({})) {
        h = crc32cUpdate(h, typeof key === "string" ? Buffer.from(key) : (key as Buffer));
        h = crc32cUpdate(h, typeof value === "string" ? Buffer.from(value) : (value as Buffer));
      }
    }
    return h >>> 0;
  }

  /** Resolves when every write issued so far is durable. */
  async commit(): Promise<void> {
    this.#flush();
    await this.#lastWrite;
  }

  /** Bytes of the data file (etcd's dbSize). */
  sizeBytes(): number {
    const s = this.#root.getStats() as { pageSize: number; lastPageNumber: number };
    return (s.lastPageNumber + 1) * s.pageSize;
  }

  /** Bytes of pages holding data (etcd's dbSizeInUse). */
  sizeInUseBytes(): number {
    let pages = 0;
    let pageSize = 4096;
    for (const db of [this.#key, this.#meta, this.#lease]) {
      const s = db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
      pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
      pageSize = s.pageSize;
    }
    return (pages + 4) * pageSize;
  }

  async close(): Promise<void> {
    await this.commit();
    await this.#root.close();
  }

  #queue(w: QueuedWrite): void {
    this.#writes.push(w);
    if (this.#writes.length >= this.#batchLimit) {
      // Full: commit once this turn's writes are all in (never mid-entry), not at the interval.
      if (!this.#flushAtTurnEnd) {
        this.#flushAtTurnEnd = true;
        queueMicrotask(() => this.#flush());
      }
    } else if (this.#flushTimer === null) {
      this.#flushTimer = this.#env.clock.setTimer(this.#batchIntervalMs, () => this.#flush(), { keepProcessAlive: false });
    }
  }

  /**
   * Hands everything written in this event-loop turn to LMDB as one transaction: one promise and one
   * completion per batch rather than per write, and the batch is atomic (an applied entry's data and its
   * consistent index land together).
   */
  #flush(): void {
    this.#flushTimer?.cancel();
    this.#flushTimer = null;
    this.#flushAtTurnEnd = false;
    const writes = this.#writes;
    this.#writes = [];
    if (writes.length === 0) return;
    const stores = this.#stores;
    const p = stores.root.transaction(() => {
      for (const w of writes) {
        // The three stores differ only in how keys and values are typed, so one untyped handle serves all.
        const db = (w.store === "key" ? stores.key : w.store === "meta" ? stores.meta : stores.lease) as unknown as Database<Key, Key>;
        if (w.value === null) db.removeSync(w.key);
        else db.putSync(w.key, w.value as Key);
      }
    });
    this.#lastWrite = p;
    p.then(
      () => {
        for (const w of writes) {
          const pending = w.store === "key" ? this.#pendingRevisions : w.store === "meta" ? this.#pendingMeta : this.#pendingLeases;
          // Only if no later write to the key is still on its way.
          if (pending.get(w.pendingKey) === w.value) pending.delete(w.pendingKey);
        }
      },
      (err: unknown) => {
        // A failed backend commit leaves memory ahead of disk: stop rather than serve what may be lost.
        assert(false, `backend commit failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }
}

interface QueuedWrite {
  readonly store: "key" | "meta" | "lease";
  readonly key: Buffer | string;
  /** null: remove. */
  readonly value: Buffer | string | null;
  /** The key in its store's pending buffer that this write makes durable. */
  readonly pendingKey: string;
}

const DEFRAG_SUFFIX = ".defrag";
const OLD_SUFFIX = ".predefrag";

/**
 * Finishes or rolls back a defragmentation a crash cut short. The steps are: write `dir.defrag` and
 * make it durable, rename `dir` → `dir.predefrag`, rename `dir.defrag` → `dir`, remove `dir.predefrag`.
 * So `dir` missing means the swap was cut between the renames: the old copy is complete, put it back.
 * A leftover `.defrag` is an unfinished copy; a leftover `.predefrag` beside `dir` is already replaced.
 */
async function finishInterruptedDefragment(env: Pick<Env, "fs">, dir: string): Promise<void> {
  const old = `${dir}${OLD_SUFFIX}`;
  if (!(await env.fs.exists(dir)) && (await env.fs.exists(old))) await env.fs.rename(old, dir);
  await env.fs.remove(`${dir}${DEFRAG_SUFFIX}`);
  await env.fs.remove(old);
}

function leaseKey(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(id);
  return b;
}
