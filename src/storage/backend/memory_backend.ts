/**
 * An in-memory `BackendStore` for the simulator, with the durability contract of `Backend` (LMDB):
 * a write is visible at once and durable once a `commit()` issued after it resolves; `crash()` on the
 * medium throws away every write no commit covered. `hashAll()` is the same CRC-32C over the same
 * buckets in the same order as `Backend.hashAll`, so two members (one on each kind) compare equal.
 *
 * The medium outlives the process, as a disk does: the simulator keeps one `MemoryBackendMedium` per
 * member, opens a backend on it, crashes it, and opens it again to get only what was committed.
 *
 *   medium.open(dir) → b;  b.putRevision(k, v);  await b.commit();  b.putRevision(k2, v2);
 *   medium.crash()   → b is dead;  medium.open(dir) sees k, not k2
 */
import type { Clock, Timer } from "../../env/env.js";
import { assert } from "../../util/assert.js";
import { crc32cUpdate } from "../../util/crc32c.js";
import type { BackendStore, LeaseRecord } from "./backend.js";

/** Per-entry overhead counted in sizes: roughly a B+ tree leaf's per-item header. */
const ENTRY_OVERHEAD_BYTES = 16;

/** One directory's committed buckets (keys as latin1 strings of their bytes: string order = byte order). */
interface Buckets {
  key: Map<string, Buffer>;
  meta: Map<string, string>;
  lease: Map<string, Buffer>;
}

function emptyBuckets(): Buckets {
  return { key: new Map(), meta: new Map(), lease: new Map() };
}

function latin1(b: Buffer): string {
  return b.toString("latin1");
}

function leaseKey(id: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(id);
  return latin1(b);
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A write not yet committed; null value = removal. */
interface PendingWrite {
  readonly bucket: keyof Buckets;
  readonly key: string;
  readonly value: Buffer | string | null;
}

/**
 * Options for a medium. `autoCommit` makes each backend commit by itself `delayMs` after its first
 * uncommitted write, as LMDB's commitDelay does for `Backend` (so a crash loses at most that window);
 * without it only explicit `commit()` calls make writes durable (the harshest reading of the contract).
 */
export interface MemoryBackendOptions {
  readonly autoCommit?: { readonly clock: Clock; readonly delayMs: number };
}

/** The "disk" under one member's backends: what survives a crash. */
export class MemoryBackendMedium {
  readonly #dirs = new Map<string, Buckets>();
  #generation = 0;
  #open = new Set<MemoryBackend>();
  readonly options: MemoryBackendOptions;

  constructor(options: MemoryBackendOptions = {}) {
    this.options = options;
  }

  /** Opens the backend in `dir` (created empty if new), holding what was committed there. */
  open(dir: string): MemoryBackend {
    let buckets = this.#dirs.get(dir);
    if (buckets === undefined) {
      buckets = emptyBuckets();
      this.#dirs.set(dir, buckets);
    }
    const b = new MemoryBackend(dir, buckets, this, this.#generation);
    this.#open.add(b);
    return b;
  }

  /** Power loss: every open backend dies and its uncommitted writes are gone. */
  crash(): void {
    this.#generation++;
    for (const b of this.#open) b.cancelAutoCommit();
    this.#open.clear();
  }

  /** @internal */
  generation(): number {
    return this.#generation;
  }

  /** @internal */
  closed(b: MemoryBackend): void {
    this.#open.delete(b);
  }
}

/** A `BackendStore` in memory; see the module comment. Open it through a `MemoryBackendMedium`. */
export class MemoryBackend implements BackendStore {
  readonly #dir: string;
  readonly #committed: Buckets;
  /** Uncommitted writes in issue order, and the view they give (bucket/key → value or null). */
  #pending: PendingWrite[] = [];
  readonly #overlay = new Map<string, Buffer | string | null>();
  readonly #medium: MemoryBackendMedium;
  readonly #generation: number;
  #closed = false;
  #autoCommit: Timer | null = null;

  /** @internal Use MemoryBackendMedium.open. */
  constructor(dir: string, committed: Buckets, medium: MemoryBackendMedium, generation: number) {
    this.#dir = dir;
    this.#committed = committed;
    this.#medium = medium;
    this.#generation = generation;
  }

  get dir(): string {
    return this.#dir;
  }

  putRevision(revKey: Buffer, value: Buffer): void {
    this.#write("key", latin1(revKey), Buffer.from(value));
  }

  removeRevision(revKey: Buffer): void {
    this.#write("key", latin1(revKey), null);
  }

  getRevision(revKey: Buffer): Buffer | undefined {
    this.#check("getRevision");
    const v = this.#get("key", latin1(revKey));
    return v === undefined ? undefined : Buffer.from(v as Buffer);
  }

  forEachRevision(from: Buffer, to: Buffer | null, visit: (revKey: Buffer, value: Buffer) => boolean | void): void {
    this.#check("forEachRevision");
    const lo = latin1(from);
    const hi = to === null ? null : latin1(to);
    // Sorting per scan is fine at simulation sizes; the real backend walks its B+ tree.
    const keys = new Set<string>();
    for (const k of this.#committed.key.keys()) if (k >= lo && (hi === null || k < hi)) keys.add(k);
    for (const w of this.#pending) if (w.bucket === "key" && w.key >= lo && (hi === null || w.key < hi)) keys.add(w.key);
    for (const k of [...keys].sort(byKey)) {
      const v = this.#get("key", k);
      if (v === undefined) continue;
      if (visit(Buffer.from(k, "latin1"), Buffer.from(v as Buffer)) === true) return;
    }
  }

  putMeta(name: string, value: string): void {
    this.#write("meta", name, value);
  }

  getMeta(name: string): string | undefined {
    this.#check("getMeta");
    return this.#get("meta", name) as string | undefined;
  }

  putLease(rec: LeaseRecord): void {
    const v = Buffer.alloc(8);
    v.writeBigInt64BE(BigInt(rec.ttlSeconds));
    this.#write("lease", leaseKey(rec.id), v);
  }

  removeLease(id: bigint): void {
    this.#write("lease", leaseKey(id), null);
  }

  leases(): LeaseRecord[] {
    this.#check("leases");
    const keys = new Set<string>([...this.#committed.lease.keys()]);
    for (const w of this.#pending) if (w.bucket === "lease") keys.add(w.key);
    const out: LeaseRecord[] = [];
    for (const k of [...keys].sort(byKey)) {
      const v = this.#get("lease", k) as Buffer | undefined;
      if (v === undefined) continue;
      out.push({ id: Buffer.from(k, "latin1").readBigInt64BE(0), ttlSeconds: Number(v.readBigInt64BE(0)) });
    }
    return out;
  }

  /** CRC-32C over each bucket's name and entries in key order, committed data only, as `Backend.hashAll`. */
  hashAll(): number {
    this.#check("hashAll");
    let h = 0;
    const buckets: [string, Map<string, Buffer | string>][] = [["key", this.#committed.key], ["lease", this.#committed.lease], ["meta", this.#committed.meta]];
    for (const [name, m] of buckets) {
      h = crc32cUpdate(h, Buffer.from(name));
      for (const k of [...m.keys()].sort(byKey)) {
        // meta keys are text (LMDB stores them as UTF-8); key and lease keys are the raw bytes.
        h = crc32cUpdate(h, name === "meta" ? Buffer.from(k) : Buffer.from(k, "latin1"));
        const v = m.get(k)!;
        h = crc32cUpdate(h, typeof v === "string" ? Buffer.from(v) : v);
      }
    }
    return h >>> 0;
  }

  /** Makes every write issued so far durable, atomically (as one LMDB transaction). */
  async commit(): Promise<void> {
    this.#check("commit");
    this.cancelAutoCommit();
    for (const w of this.#pending) {
      const m = this.#committed[w.bucket] as Map<string, Buffer | string>;
      if (w.value === null) m.delete(w.key);
      else m.set(w.key, w.value);
    }
    this.#pending = [];
    this.#overlay.clear();
  }

  sizeBytes(): number {
    this.#check("sizeBytes");
    let n = 0;
    for (const m of [this.#committed.key, this.#committed.lease, this.#committed.meta] as Map<string, Buffer | string>[]) {
      for (const [k, v] of m) n += k.length + v.length + ENTRY_OVERHEAD_BYTES;
    }
    return n;
  }

  sizeInUseBytes(): number {
    return this.sizeBytes();
  }

  /** Nothing to reclaim in memory: commits, and reports the same size before and after. */
  async defragment(): Promise<{ beforeBytes: number; afterBytes: number }> {
    await this.commit();
    const bytes = this.sizeBytes();
    return { beforeBytes: bytes, afterBytes: bytes };
  }

  async close(): Promise<void> {
    await this.commit();
    this.#closed = true;
    this.#medium.closed(this);
  }

  /** @internal The medium crashed: no commit may happen after it. */
  cancelAutoCommit(): void {
    this.#autoCommit?.cancel();
    this.#autoCommit = null;
  }

  #write(bucket: keyof Buckets, key: string, value: Buffer | string | null): void {
    this.#check(`write ${bucket}`);
    this.#pending.push({ bucket, key, value });
    this.#overlay.set(`${bucket}/${key}`, value);
    const auto = this.#medium.options.autoCommit;
    if (auto !== undefined && this.#autoCommit === null) {
      this.#autoCommit = auto.clock.setTimer(auto.delayMs, () => {
        this.#autoCommit = null;
        if (!this.#closed && this.#generation === this.#medium.generation()) void this.commit();
      });
    }
  }

  #get(bucket: keyof Buckets, key: string): Buffer | string | undefined {
    const o = this.#overlay.get(`${bucket}/${key}`);
    if (o !== undefined) return o ?? undefined;
    return (this.#committed[bucket] as Map<string, Buffer | string>).get(key);
  }

  // A handle used after its process died (crash) or after close is a programmer error in the simulator.
  #check(op: string): void {
    assert(!this.#closed, `${op} on a closed backend ${this.#dir}`);
    assert(this.#generation === this.#medium.generation(), `${op} on backend ${this.#dir} opened before a crash`);
  }
}
