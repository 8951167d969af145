/**
 * The multi-version key-value store (etcd's mvcc.store): an in-memory TreeIndex from key to its
 * revisions, and the backend's key bucket from revision to KeyValue. Every write txn gets the next main
 * revision; each change inside it the next sub revision.
 */
import type { Env } from "../../env/env.js";
import { assert } from "../../util/assert.js";
import { crc32cUpdate } from "../../util/crc32c.js";
import type { BackendStore } from "../backend/backend.js";
import { CompactedError, FutureRevisionError } from "./errors.js";
import { decodeKeyValue, encodeKeyValue, EventType, keyToIndex, type KeyValue, type MvccEvent } from "./kv.js";
import { decodeRevision, encodeRevision, revisionId, type Revision } from "./revision.js";
import { TreeIndex, type KeyRange } from "./tree_index.js";
import { RevisionNotFoundError } from "./key_index.js";

/** Compaction removes revisions in chunks so one compaction never stalls serving for long (etcd: 1000 per 10 ms). */
export const COMPACTION_BATCH_REVISIONS = 10_000;
const ZERO_BYTE = Buffer.from([0]);

const META_CONSISTENT_INDEX = "consistent_index";
const META_CONSISTENT_TERM = "consistent_term";
const META_CURRENT_REVISION = "current_revision";
const META_SCHEDULED_COMPACT = "scheduledCompactRev";
const META_FINISHED_COMPACT = "finishedCompactRev";

export interface RangeOptions {
  /** 0: the current revision. */
  readonly rev?: number;
  /** 0: no limit. */
  readonly limit?: number;
  readonly countOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** Keys in the range at `rev`, regardless of limit. */
  readonly count: number;
  readonly rev: number;
}

/** Keeps lease ↔ key attachments in step with the store (etcd's lessor Attach/Detach). */
export interface LeaseAttachments {
  attach(lease: bigint, key: string): void;
  detach(lease: bigint, key: string): void;
  /** The lease the key's live value is attached to (0n: none); saves reading the old value on a put. */
  leaseOf(key: string): bigint;
}

const NO_LEASES: LeaseAttachments = { attach: () => {}, detach: () => {}, leaseOf: () => 0n };

export class KVStore {
  readonly backend: BackendStore;
  readonly #env: Pick<Env, "clock" | "log">;
  #index = new TreeIndex();
  #currentRev = 1;
  #compactRev = 0;
  #consistentIndex = 0;
  #consistentTerm = 0;
  #leases: LeaseAttachments = NO_LEASES;
  #writeOpen = false;
  /** Backend removals of scheduled compactions, run one after another. */
  #compactions: Promise<void> = Promise.resolve();

  private constructor(env: Pick<Env, "clock" | "log">, backend: BackendStore) {
    this.#env = env;
    this.backend = backend;
  }

  /**
   * Rebuilds the index from the backend (etcd's restore) and attaches every live key that has a lease
   * to it. One pass over the key bucket; values are decoded in place, never copied or kept.
   */
  static restore(env: Pick<Env, "clock" | "log">, backend: BackendStore, leases: LeaseAttachments = NO_LEASES): KVStore {
    const s = new KVStore(env, backend);
    s.#load(leases);
    return s;
  }

  /**
   * Forgets the in-memory state and restores it from the backend again: after the backend's contents were
   * replaced by a snapshot from the leader. Compactions still running must be awaited first.
   */
  reload(leases: LeaseAttachments = NO_LEASES): void {
    this.#index = new TreeIndex();
    this.#currentRev = 1;
    this.#compactRev = 0;
    this.#consistentIndex = 0;
    this.#consistentTerm = 0;
    this.#load(leases);
  }

  #load(leases: LeaseAttachments): void {
    const s = this;
    const backend = this.backend;
    const env = this.#env;
    s.#leases = leases;
    let maxRev = 0;
    // The lease of each key's latest live revision, for keys that have one.
    const leaseOf = new Map<string, bigint>();
    backend.forEachRevision(
      Buffer.alloc(0),
      null,
      (revKey, value) => {
        const { rev, tombstone } = decodeRevision(revKey);
        const kv = decodeKeyValue(value);
        const key = keyToIndex(kv.key);
        const ki = s.#index.keyIndex(key);
        const live = ki !== undefined && ki.generations[ki.generations.length - 1]!.revs.length > 0;
        if (tombstone) {
          if (live) s.#index.tombstone(key, rev);
          leaseOf.delete(key);
        } else {
          // The first revision seen of a compacted generation may not be its creation: restore it whole.
          if (ki === undefined) s.#index.restore(key, { main: kv.createRevision, sub: 0 }, rev, kv.version);
          else s.#index.put(key, rev);
          if (kv.lease !== 0n) leaseOf.set(key, kv.lease);
          else leaseOf.delete(key);
        }
        maxRev = Math.max(maxRev, rev.main);
      },
      { copy: false },
    );
    for (const [key, lease] of leaseOf) leases.attach(lease, key);
    s.#compactRev = Number(backend.getMeta(META_FINISHED_COMPACT) ?? "0");
    const scheduled = Number(backend.getMeta(META_SCHEDULED_COMPACT) ?? "0");
    s.#currentRev = Math.max(1, maxRev, Number(backend.getMeta(META_CURRENT_REVISION) ?? "0"), s.#compactRev);
    s.#consistentIndex = Number(backend.getMeta(META_CONSISTENT_INDEX) ?? "0");
    s.#consistentTerm = Number(backend.getMeta(META_CONSISTENT_TERM) ?? "0");
    env.log.info("restored mvcc store", { currentRevision: s.#currentRev, compactRevision: s.#compactRev, keys: s.#index.size, leasedKeys: leaseOf.size, consistentIndex: s.#consistentIndex });
    if (scheduled > s.#compactRev) {
      // A compaction was cut short by a crash: finish it, as etcd does on restore.
      env.log.info("resuming interrupted compaction", { revision: scheduled });
      s.compact(scheduled);
    }
  }

  get currentRevision(): number {
    return this.#currentRev;
  }
  get compactRevision(): number {
    return this.#compactRev;
  }
  get consistentIndex(): number {
    return this.#consistentIndex;
  }
  get consistentTerm(): number {
    return this.#consistentTerm;
  }
  get keyCount(): number {
    return this.#index.size;
  }

  /** Records the log position whose effects the store now holds; `persistMeta` writes it with them. */
  setConsistentIndex(index: number, term: number): void {
    assert(index >= this.#consistentIndex, `consistent index ${index} went backwards from ${this.#consistentIndex}`);
    this.#consistentIndex = index;
    this.#consistentTerm = term;
  }

  /**
   * Writes the consistent index and current revision to the backend. Called once per applied batch, in
   * the same event-loop turn as the batch's data writes, so they land in the same backend transaction.
   */
  persistMeta(): void {
    this.backend.putMeta(META_CONSISTENT_INDEX, String(this.#consistentIndex));
    this.backend.putMeta(META_CONSISTENT_TERM, String(this.#consistentTerm));
    this.backend.putMeta(META_CURRENT_REVISION, String(this.#currentRev));
  }

  range(r: KeyRange, options: RangeOptions = {}): RangeResult {
    return this.rangeAsOf(r, this.#currentRev, options);
  }

  /** The value of one key at `rev`, or null (used for prev_kv). Never throws for compacted history. */
  getAt(key: string, rev: number): KeyValue | null {
    if (rev < this.#compactRev || rev <= 0) return null;
    const [ir] = this.#index.range({ key, end: null }, rev);
    return ir === undefined ? null : this.#read(ir.modified);
  }

  /** Opens the (only) write txn. Its changes become visible to readers as they are made, at the next revision. */
  beginWrite(): WriteTxn {
    assert(!this.#writeOpen, "a write txn is already open");
    this.#writeOpen = true;
    return new WriteTxn(this, this.#currentRev);
  }

  /**
   * Compacts history below `rev`: reads at revisions < rev fail from now on. As etcd: the key index is
   * compacted at once, and the superseded revisions are removed from the backend in the background in
   * bounded chunks (a restart finishes a removal it cut short, from the scheduled marker).
   */
  compact(rev: number): void {
    if (rev <= this.#compactRev) throw new CompactedError(this.#compactRev);
    if (rev > this.#currentRev) throw new FutureRevisionError();
    this.backend.putMeta(META_SCHEDULED_COMPACT, String(rev));
    const keep = this.#index.compact(rev);
    this.#compactRev = rev;
    this.#compactions = this.#compactions.then(() => this.#removeCompacted(rev, keep));
  }

  /** Resolves when every compaction scheduled so far has removed its revisions from the backend. */
  compactionsDone(): Promise<void> {
    return this.#compactions;
  }

  async #removeCompacted(rev: number, keep: Set<string>): Promise<void> {
    const started = this.#env.clock.nowMs();
    const end = encodeRevision({ main: rev + 1, sub: 0 });
    let from = Buffer.alloc(0);
    let removed = 0;
    for (;;) {
      let scanned = 0;
      let last: Buffer | null = null;
      const doomed: Buffer[] = [];
      this.backend.forEachRevision(from, end, (revKey) => {
        scanned++;
        last = revKey;
        if (!keep.has(revisionId(decodeRevision(revKey).rev))) doomed.push(revKey);
        return scanned >= COMPACTION_BATCH_REVISIONS;
      });
      for (const revKey of doomed) this.backend.removeRevision(revKey);
      removed += doomed.length;
      if (last === null || scanned < COMPACTION_BATCH_REVISIONS) break;
      // The next key in byte order after `last`.
      from = Buffer.concat([last, ZERO_BYTE]);
      await new Promise<void>((resolve) => this.#env.clock.setTimer(0, resolve));
    }
    this.backend.putMeta(META_FINISHED_COMPACT, String(rev));
    this.#env.log.info("finished scheduled compaction", { compactRevision: rev, removedRevisions: removed, tookMs: Math.round(this.#env.clock.nowMs() - started) });
  }

  /**
   * etcd's HashKV: CRC-32C over the bucket name and every (revision, KeyValue) pair up to `rev` — at or
   * below the compaction point only those compaction at `rev` would keep. Same history, same encoding,
   * same hash as etcd (test/contract/hashkv_parity checks it against etcd).
   */
  hashKV(rev: number): { hash: number; revision: number; compactRevision: number } {
    // As etcd's HashByRev: an explicit revision at or below the compaction point is compacted (unlike a
    // range, which may still read at exactly the compaction point).
    if (rev > 0 && rev <= this.#compactRev) throw new CompactedError(this.#compactRev);
    if (rev > this.#currentRev) throw new FutureRevisionError();
    const atRev = rev <= 0 ? this.#currentRev : rev;
    // As etcd's HashByRev: below the compaction point only what compaction at the hashed revision would
    // keep counts (the newest revision of each key up to it), so a hash does not depend on how far the
    // background removal has got.
    const keep = this.#index.keep(atRev);
    let h = crc32cUpdate(0, Buffer.from("key"));
    this.backend.forEachRevision(Buffer.alloc(0), encodeRevision({ main: atRev + 1, sub: 0 }), (revKey, value) => {
      const { rev: kr } = decodeRevision(revKey);
      if (kr.main <= this.#compactRev && keep.size > 0 && !keep.has(revisionId(kr))) return;
      h = crc32cUpdate(h, revKey);
      h = crc32cUpdate(h, value);
    });
    return { hash: h >>> 0, revision: this.#currentRev, compactRevision: this.#compactRev };
  }

  /** Events of revisions [fromRev, toRev] in order, read from the backend (for watchers catching up). */
  eventsBetween(fromRev: number, toRev: number, matches: (key: string) => boolean, revisionsMax: number): { events: MvccEvent[]; lastRev: number } {
    const events: MvccEvent[] = [];
    let lastRev = fromRev - 1;
    let mains = 0;
    this.backend.forEachRevision(encodeRevision({ main: fromRev, sub: 0 }), encodeRevision({ main: toRev + 1, sub: 0 }), (revKey, value) => {
      const { rev, tombstone } = decodeRevision(revKey);
      if (rev.main !== lastRev) {
        if (mains >= revisionsMax) return true;
        mains++;
        lastRev = rev.main;
      }
      const kv = decodeKeyValue(value);
      if (!matches(keyToIndex(kv.key))) return;
      events.push(tombstone ? deleteEvent(kv.key, rev.main) : { type: EventType.Put, kv });
    });
    if (mains < revisionsMax) lastRev = toRev;
    return { events, lastRev };
  }

  // ---- internals shared with WriteTxn ----

  /**
   * A range as seen by a reader whose newest revision is `current` (the store's, or a write txn's own):
   * `options.rev` 0 means `current`; later is a future revision, below the compaction point compacted.
   * @internal
   */
  rangeAsOf(r: KeyRange, current: number, options: RangeOptions): RangeResult {
    const rev = options.rev ?? 0;
    if (rev > current) throw new FutureRevisionError();
    const at = rev <= 0 ? current : rev;
    if (at < this.#compactRev) throw new CompactedError(this.#compactRev);
    return this.#rangeAt(r, at, options);
  }

  #rangeAt(r: KeyRange, at: number, options: RangeOptions): RangeResult {
    const limit = options.limit ?? 0;
    if (options.countOnly === true) return { kvs: [], count: this.#index.count(r, at), rev: this.#currentRev };
    const revs = this.#index.range(r, at);
    const count = revs.length;
    const take = limit > 0 ? revs.slice(0, limit) : revs;
    return { kvs: take.map((ir) => this.#read(ir.modified)), count, rev: this.#currentRev };
  }

  #read(rev: Revision): KeyValue {
    const v = this.backend.getRevision(encodeRevision(rev));
    assert(v !== undefined, `revision ${rev.main}.${rev.sub} is in the index but not in the backend`);
    return decodeKeyValue(v);
  }

  /** @internal */
  get index(): TreeIndex {
    return this.#index;
  }
  /** @internal */
  get leases(): LeaseAttachments {
    return this.#leases;
  }
  /** @internal */
  finishWrite(newRev: number, changed: boolean): void {
    this.#writeOpen = false;
    if (changed) {
      assert(newRev === this.#currentRev + 1, `write txn ended at ${newRev}, expected ${this.#currentRev + 1}`);
      this.#currentRev = newRev;
    }
  }
}

function deleteEvent(key: Buffer, main: number): MvccEvent {
  return { type: EventType.Delete, kv: { key, createRevision: 0, modRevision: main, version: 0, value: Buffer.alloc(0), lease: 0n } };
}

/** One write txn (etcd's storeTxnWrite). Reads inside it see its own changes. */
export class WriteTxn {
  readonly #store: KVStore;
  readonly #beginRev: number;
  readonly #events: MvccEvent[] = [];
  #ended = false;

  constructor(store: KVStore, beginRev: number) {
    this.#store = store;
    this.#beginRev = beginRev;
  }

  get beginRevision(): number {
    return this.#beginRev;
  }

  /** The revision this txn's changes get (only meaningful once it has changes). */
  get revision(): number {
    return this.#events.length > 0 ? this.#beginRev + 1 : this.#beginRev;
  }

  range(r: KeyRange, options: RangeOptions = {}): RangeResult {
    assert(!this.#ended, "range on an ended txn");
    const cur = this.revision;
    return { ...this.#store.rangeAsOf(r, cur, options), rev: cur };
  }

  put(key: Buffer, value: Buffer, lease: bigint): KeyValue {
    assert(!this.#ended, "put on an ended txn");
    const k = keyToIndex(key);
    const rev: Revision = { main: this.#beginRev + 1, sub: this.#events.length };
    let created = rev.main;
    let version = 1;
    const ki = this.#store.index.keyIndex(k);
    if (ki !== undefined) {
      try {
        const cur = ki.get(rev.main);
        created = cur.created.main;
        version = cur.version + 1;
      } catch (err) {
        // Not live: a new generation starts here.
        if (!(err instanceof RevisionNotFoundError)) throw err;
      }
    }
    const oldLease = this.#store.leases.leaseOf(k);
    const kv: KeyValue = { key: Buffer.from(key), createRevision: created, modRevision: rev.main, version, value: Buffer.from(value), lease };
    this.#store.backend.putRevision(encodeRevision(rev), encodeKeyValue(kv));
    this.#store.index.put(k, rev);
    if (oldLease !== 0n && oldLease !== lease) this.#store.leases.detach(oldLease, k);
    if (lease !== 0n) this.#store.leases.attach(lease, k);
    this.#events.push({ type: EventType.Put, kv });
    return kv;
  }

  /** Deletes every live key in the range; returns the deleted keys' last values. */
  deleteRange(r: KeyRange): KeyValue[] {
    assert(!this.#ended, "deleteRange on an ended txn");
    const { kvs } = this.#store.rangeAsOf(r, this.revision, {});
    for (const prev of kvs) {
      const k = keyToIndex(prev.key);
      const rev: Revision = { main: this.#beginRev + 1, sub: this.#events.length };
      const tomb: KeyValue = { key: prev.key, createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };
      this.#store.backend.putRevision(encodeRevision(rev, true), encodeKeyValue(tomb));
      this.#store.index.tombstone(k, rev);
      if (prev.lease !== 0n) this.#store.leases.detach(prev.lease, k);
      this.#events.push(deleteEvent(prev.key, rev.main));
    }
    return kvs;
  }

  /** Ends the txn; returns its events (empty for a txn that changed nothing). */
  end(): MvccEvent[] {
    assert(!this.#ended, "txn ended twice");
    this.#ended = true;
    this.#store.finishWrite(this.#beginRev + 1, this.#events.length > 0);
    return this.#events;
  }
}

