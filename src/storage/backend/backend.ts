/**
 * The MVCC backend: LMDB (an embedded copy-on-write B+ tree, as bbolt is for etcd) with etcd's buckets:
 *   key   — revision bytes → mvccpb.KeyValue bytes (immutable once written: a revision is never rewritten)
 *   meta  — consistent_index, compaction markers
 *   lease — lease ID → TTL
 * Writes are asynchronous: every write issued in one event turn lands in one LMDB transaction (atomic), and
 * is durable when `commit()` resolves. Until then reads see it through `#pending`, the analogue of etcd's
 * txWriteBuffer. Durability does not depend on the backend alone: the WAL is replayed from the backend's
 * consistent index on start-up.
 */
import { open, type Database, type RootDatabase } from "lmdb";
import type { Env } from "../../env/env.js";
import { assert } from "../../util/assert.js";

/** LMDB's map size bounds the file; the quota (--quota-backend-bytes) is enforced below it by the server. */
export const BACKEND_MAP_BYTES_MAX = 16 * 1024 * 1024 * 1024;
/**
 * How long LMDB gathers writes before it commits (and fsyncs) them, as etcd's backend batch interval
 * (100 ms). The WAL carries durability in between; committing on every event-loop turn would put a
 * second fsync stream on the disk that the WAL's fsyncs wait behind.
 */
export const BACKEND_COMMIT_DELAY_MS = 100;

export interface LeaseRecord {
  readonly id: bigint;
  readonly ttlSeconds: number;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
}

export class Backend {
  readonly #root: RootDatabase<Buffer, Buffer>;
  readonly #key: Database<Buffer, Buffer>;
  readonly #meta: Database<string, string>;
  readonly #lease: Database<Buffer, Buffer>;
  /** Written but not yet committed: bucket key (latin1) → value, or null for a removal. */
  readonly #pending = new Map<string, Buffer | null>();
  #lastWrite: Promise<unknown> = Promise.resolve();
  #pendingSince: string[] = [];
  #settleScheduled = false;
  readonly #dir: string;

  private constructor(dir: string, root: RootDatabase<Buffer, Buffer>) {
    this.#dir = dir;
    this.#root = root;
    this.#key = root.openDB({ name: "key", keyEncoding: "binary", encoding: "binary" }) as unknown as Database<Buffer, Buffer>;
    this.#meta = root.openDB({ name: "meta", encoding: "string" }) as unknown as Database<string, string>;
    this.#lease = root.openDB({ name: "lease", keyEncoding: "binary", encoding: "binary" }) as unknown as Database<Buffer, Buffer>;
  }

  static async open(env: Pick<Env, "fs">, dir: string): Promise<Backend> {
    await env.fs.mkdirp(dir);
    const root = open<Buffer, Buffer>({ path: dir, keyEncoding: "binary", encoding: "binary", mapSize: BACKEND_MAP_BYTES_MAX, maxDbs: 8, commitDelay: BACKEND_COMMIT_DELAY_MS });
    return new Backend(dir, root);
  }

  get dir(): string {
    return this.#dir;
  }

  putRevision(revKey: Buffer, value: Buffer): void {
    this.#pending.set(hex(revKey), value);
    this.#track(this.#key.put(revKey, value), hex(revKey), value);
  }

  removeRevision(revKey: Buffer): void {
    this.#pending.set(hex(revKey), null);
    this.#track(this.#key.remove(revKey), hex(revKey), null);
  }

  getRevision(revKey: Buffer): Buffer | undefined {
    const p = this.#pending.get(hex(revKey));
    if (p !== undefined) return p ?? undefined;
    return this.#key.get(revKey);
  }

  /** Visits the key bucket from `from` (inclusive) to `to` (exclusive; null: to the end) in order, pending writes included. */
  forEachRevision(from: Buffer, to: Buffer | null, visit: (revKey: Buffer, value: Buffer) => boolean | void): void {
    const fromS = hex(from);
    const toS = to === null ? null : hex(to);
    const pending = [...this.#pending.entries()].filter(([k]) => k >= fromS && (toS === null || k < toS)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
      if (visit(Buffer.from(key), Buffer.from(value)) === true) return;
    }
    while (pi < pending.length) {
      const [pk, pv] = pending[pi++]!;
      if (pv !== null && visit(Buffer.from(pk, "latin1"), pv) === true) return;
    }
  }

  putMeta(name: string, value: string): void {
    this.#track(this.#meta.put(name, value), null, null);
  }

  getMeta(name: string): string | undefined {
    return this.#meta.get(name);
  }

  putLease(rec: LeaseRecord): void {
    const v = Buffer.alloc(8);
    v.writeBigInt64BE(BigInt(rec.ttlSeconds));
    this.#track(this.#lease.put(leaseKey(rec.id), v), null, null);
  }

  removeLease(id: bigint): void {
    this.#track(this.#lease.remove(leaseKey(id)), null, null);
  }

  leases(): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (const { key, value } of this.#lease.getRange({})) out.push({ id: key.readBigInt64BE(0), ttlSeconds: Number(value.readBigInt64BE(0)) });
    return out;
  }

  /** Resolves when every write issued so far is durable. */
  async commit(): Promise<void> {
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

  #track(p: Promise<unknown>, pendingKey: string | null, value: Buffer | null): void {
    this.#lastWrite = p;
    if (pendingKey !== null) this.#pendingSince.push(pendingKey);
    if (this.#settleScheduled) return;
    // One completion handler per event-loop turn, not one per write: every write of a turn is in the
    // same LMDB transaction, so the last one's promise settles them all.
    this.#settleScheduled = true;
    queueMicrotask(() => {
      this.#settleScheduled = false;
      const keys = this.#pendingSince;
      this.#pendingSince = [];
      const snapshot = keys.map((k) => [k, this.#pending.get(k)] as const);
      this.#lastWrite.then(
        () => {
          for (const [k, v] of snapshot) if (this.#pending.get(k) === v) this.#pending.delete(k);
        },
        (err: unknown) => {
          // A failed backend commit leaves memory ahead of disk: stop rather than serve what may be lost.
          assert(false, `backend commit failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    });
    void value;
  }
}

function leaseKey(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(id);
  return b;
}
