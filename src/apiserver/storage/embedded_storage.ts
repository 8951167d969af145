/**
 * The storage contract over a datastore member in the same process: the default for `tk8s server`, with
 * no network hop. Writes go through the member's log exactly as a gRPC client's would (the same guarded
 * transactions as the etcd v3 implementation); reads and watches go to its MVCC store.
 */
import { mapMvccError, toKeyRange } from "../../etcd/apply.js";
import { EtcdError } from "../../etcd/errors.js";
import type { RangeRequest, RequestOp, TxnRequest, TxnResponse } from "../../etcd/pb.js";
import type { EtcdServer } from "../../etcd/server.js";
import { CompactedError } from "../../storage/mvcc/errors.js";
import { EventType, keyToIndex, type MvccEvent } from "../../storage/mvcc/kv.js";
import {
  prefixEnd,
  StorageCompactedError,
  StorageKeyExistsError,
  StorageNotFoundError,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type StoredItem,
  type WatchHandle,
} from "./contract.js";
import { modRevisionIs, refusedWrite, storedItem } from "./etcd_txn.js";


function rangeRequest(r: Partial<RangeRequest> & { key: Buffer }): RangeRequest {
  return {
    range_end: Buffer.alloc(0),
    limit: "0",
    revision: "0",
    sort_order: 0,
    sort_target: 0,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: "0",
    max_mod_revision: "0",
    min_create_revision: "0",
    max_create_revision: "0",
    ...r,
  };
}


function toStorageError(err: unknown, compactRevision: number): unknown {
  const mapped = mapMvccError(err);
  if (err instanceof CompactedError || (mapped instanceof EtcdError && /compacted/.test(mapped.message))) return new StorageCompactedError(compactRevision);
  return mapped;
}

export class EmbeddedStorage implements Storage {
  readonly #server: EtcdServer;

  constructor(server: EtcdServer) {
    this.#server = server;
  }

  #range(r: Partial<RangeRequest> & { key: Buffer }): ReturnType<EtcdServer["range"]> {
    try {
      return this.#server.range(rangeRequest(r));
    } catch (err) {
      throw toStorageError(err, this.#server.kv.compactRevision);
    }
  }

  async #txn(compare: TxnRequest["compare"], success: RequestOp[], failure: RequestOp[]): Promise<{ res: TxnResponse; revision: number }> {
    const r = await this.#server.propose({ op: "txn", req: { compare, success, failure } }, null);
    if (r.error !== undefined) throw toStorageError(r.error, this.#server.kv.compactRevision);
    return { res: r.response as TxnResponse, revision: r.revision };
  }

  async get(key: string): Promise<StoredItem | null> {
    const kv = this.#range({ key: Buffer.from(key) }).kvs[0];
    return kv === undefined ? null : storedItem(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const p = Buffer.from(prefix);
    const start = options.after === undefined ? p : Buffer.concat([Buffer.from(options.after), Buffer.from([0])]);
    const res = this.#range({ key: start, range_end: prefixEnd(p), limit: String(options.limit ?? 0), revision: String(options.revision ?? 0) });
    const readAt = options.revision !== undefined && options.revision > 0 ? options.revision : this.#server.kv.currentRevision;
    return { items: res.kvs.map(storedItem), revision: readAt, more: res.more };
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    const k = Buffer.from(key);
    const { res, revision } = await this.#txn(
      [modRevisionIs(k, 0)],
      [{ request_put: { key: k, value: Buffer.from(value), lease: "0", prev_kv: false, ignore_value: false, ignore_lease: false } }],
      [],
    );
    if (!res.succeeded) throw new StorageKeyExistsError(key);
    return revision;
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    const k = Buffer.from(key);
    const { res, revision } = await this.#txn(
      [modRevisionIs(k, expectedRevision)],
      [{ request_put: { key: k, value: Buffer.from(value), lease: "0", prev_kv: false, ignore_value: false, ignore_lease: false } }],
      [{ request_range: rangeRequest({ key: k }) }],
    );
    if (!res.succeeded) refusedWrite(key, expectedRevision, res.responses);
    return revision;
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    const k = Buffer.from(key);
    const { res } = await this.#txn(
      expectedRevision === undefined ? [] : [modRevisionIs(k, expectedRevision)],
      [{ request_delete_range: { key: k, range_end: Buffer.alloc(0), prev_kv: true } }],
      [{ request_range: rangeRequest({ key: k }) }],
    );
    if (!res.succeeded) refusedWrite(key, expectedRevision ?? 0, res.responses);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw new StorageNotFoundError(key);
    return storedItem(prev);
  }

  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onError: (err: Error) => void): WatchHandle {
    const p = Buffer.from(prefix);
    const kv = this.#server.kv;
    let stopped = false;
    const watcher = this.#server.watchable.watch(toKeyRange(p, prefixEnd(p)), fromRevision > 0 ? fromRevision + 1 : 0, {
      deliver: (events: MvccEvent[]) => {
        if (stopped) return true;
        for (const ev of events) {
          const key = ev.kv.key.toString("utf8");
          const revision = ev.kv.modRevision;
          if (ev.type === EventType.Delete) {
            const prev = kv.getAt(keyToIndex(ev.kv.key), revision - 1);
            onEvent({ type: "DELETED", key, value: prev?.value ?? Buffer.alloc(0), revision });
          } else {
            onEvent({ type: ev.kv.createRevision === revision ? "ADDED" : "MODIFIED", key, value: ev.kv.value, revision });
          }
        }
        return true;
      },
      compacted: (compactRevision) => {
        if (stopped) return;
        stopped = true;
        onError(new StorageCompactedError(compactRevision));
      },
    });
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.#server.watchable.cancel(watcher);
      },
    };
  }

  async compact(revision: number): Promise<void> {
    const r = await this.#server.propose({ op: "compact", req: { revision: String(revision), physical: false } }, null);
    if (r.error !== undefined) throw toStorageError(r.error, this.#server.kv.compactRevision);
  }

  async currentRevision(): Promise<number> {
    return this.#server.kv.currentRevision;
  }

  close(): void {
    // The member belongs to whoever opened it.
  }
}


