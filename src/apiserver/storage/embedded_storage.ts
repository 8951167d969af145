/**
 * The storage contract over a datastore member in the same process: the default for `tk8s server`, with
 * no network hop. Writes go through the member's log exactly as a gRPC client's would (the same guarded
 * transactions as the etcd v3 implementation); reads and watches go to its MVCC store.
 */
import { mapMvccError, toKeyRange } from "../../etcd/apply.js";
import { EtcdError } from "../../etcd/errors.js";
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from "../../etcd/pb.js";
import type { EtcdServer } from "../../etcd/server.js";
import { CompactedError } from "../../storage/mvcc/errors.js";
import { EventType, keyToIndex, type MvccEvent } from "../../storage/mvcc/kv.js";
import {
  prefixEnd,
  StorageCompactedError,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type StoredItem,
  type WatchHandle,
} from "./contract.js";
import { createTxn, created, deleted, deleteTxn, listedAt, listRequest, rangeRequest, storedItem, updated, updateTxn } from "./etcd_txn.js";




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

  async #range(req: RangeRequest): Promise<RangeResponse> {
    try {
      return await this.#server.range(req);
    } catch (err) {
      throw toStorageError(err, this.#server.kv.compactRevision);
    }
  }

  async #txn(req: TxnRequest): Promise<{ res: TxnResponse; revision: number }> {
    const r = await this.#server.propose({ op: "txn", req }, null);
    if (r.error !== undefined) throw toStorageError(r.error, this.#server.kv.compactRevision);
    return { res: r.response as TxnResponse, revision: r.revision };
  }

  async get(key: string): Promise<StoredItem | null> {
    const kv = (await this.#range(rangeRequest({ key: Buffer.from(key) }))).kvs[0];
    return kv === undefined ? null : storedItem(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const res = await this.#range(listRequest(prefix, options));
    return { items: res.kvs.map(storedItem), revision: listedAt(options, Number(res.header!.revision)), more: res.more, count: Number(res.count) };
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    const { res, revision } = await this.#txn(createTxn(key, value));
    created(key, res);
    return revision;
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    const { res, revision } = await this.#txn(updateTxn(key, value, expectedRevision));
    updated(key, expectedRevision, res);
    return revision;
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    const { res } = await this.#txn(deleteTxn(key, expectedRevision));
    return deleted(key, expectedRevision, res);
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


