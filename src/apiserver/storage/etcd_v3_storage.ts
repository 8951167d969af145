/**
 * The storage contract over any etcd v3 endpoint — tk8s's own datastore or a real etcd cluster — speaking
 * etcd's gRPC API. Creates, updates and deletes are single transactions guarded by the key's mod
 * revision, as the Kubernetes API server's etcd3 store does.
 */
import * as grpc from "@grpc/grpc-js";
import { loadEtcdProtos } from "../../etcd/proto.js";
import type { KeyValuePb, ResponseOp, WatchResponse } from "../../etcd/pb.js";
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

/** Deadline of every unary call. */
export const STORAGE_CALL_TIMEOUT_MS = 10_000;

const EVENT_DELETE = 1;

type Unary = (req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<object, WatchResponse> };


function isCompacted(err: unknown): boolean {
  return typeof err === "object" && err !== null && /required revision has been compacted/.test(String((err as { details?: string }).details ?? ""));
}

export class EtcdV3Storage implements Storage {
  readonly #kv: Record<string, Unary>;
  readonly #watchClient: WatchClient;
  readonly #clients: grpc.Client[];

  /** `endpoint`: "http://host:port" or "host:port". */
  constructor(endpoint: string) {
    const target = endpoint.includes("://") ? new URL(endpoint).host : endpoint;
    const protos = loadEtcdProtos();
    const KV = grpc.makeGenericClientConstructor(protos.kv, "KV");
    const Watch = grpc.makeGenericClientConstructor(protos.watch, "Watch");
    const kv = new KV(target, grpc.credentials.createInsecure());
    const watch = new Watch(target, grpc.credentials.createInsecure());
    this.#kv = kv as unknown as Record<string, Unary>;
    this.#watchClient = watch as unknown as WatchClient;
    this.#clients = [kv, watch];
  }

  #call<T>(method: string, req: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#kv[method]!.call(this.#kv, req, { deadline: Date.now() + STORAGE_CALL_TIMEOUT_MS }, (err, res) => {
        if (err === null) resolve(res as T);
        else reject(isCompacted(err) ? new StorageCompactedError(0) : err);
      });
    });
  }

  async get(key: string): Promise<StoredItem | null> {
    const res = await this.#call<{ kvs: KeyValuePb[] }>("Range", { key: Buffer.from(key) });
    return res.kvs[0] === undefined ? null : storedItem(res.kvs[0]);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const p = Buffer.from(prefix);
    const start = options.after === undefined ? p : Buffer.concat([Buffer.from(options.after), Buffer.from([0])]);
    const res = await this.#call<{ kvs: KeyValuePb[]; more: boolean; header: { revision: string } }>("Range", {
      key: start,
      range_end: prefixEnd(p),
      limit: String(options.limit ?? 0),
      revision: String(options.revision ?? 0),
    });
    // A read at a given revision reflects that revision; the header carries the store's current one.
    const readAt = options.revision !== undefined && options.revision > 0 ? options.revision : Number(res.header.revision);
    return { items: res.kvs.map(storedItem), revision: readAt, more: res.more };
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    const k = Buffer.from(key);
    const res = await this.#call<{ succeeded: boolean; header: { revision: string } }>("Txn", {
      compare: [modRevisionIs(k, 0)],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new StorageKeyExistsError(key);
    return Number(res.header.revision);
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    const k = Buffer.from(key);
    const res = await this.#call<{ succeeded: boolean; header: { revision: string }; responses: ResponseOp[] }>("Txn", {
      compare: [modRevisionIs(k, expectedRevision)],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) refusedWrite(key, expectedRevision, res.responses);
    return Number(res.header.revision);
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    const k = Buffer.from(key);
    const res = await this.#call<{ succeeded: boolean; responses: ResponseOp[] }>("Txn", {
      compare: expectedRevision === undefined ? [] : [modRevisionIs(k, expectedRevision)],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) refusedWrite(key, expectedRevision ?? 0, res.responses);
    const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
    if (prev === undefined) throw new StorageNotFoundError(key);
    return storedItem(prev);
  }


  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onError: (err: Error) => void): WatchHandle {
    const p = Buffer.from(prefix);
    const stream = this.#watchClient.Watch();
    let stopped = false;
    const fail = (err: Error): void => {
      if (stopped) return;
      stopped = true;
      stream.cancel();
      onError(err);
    };
    stream.on("data", (res: WatchResponse) => {
      if (stopped) return;
      if (res.compact_revision !== undefined && res.compact_revision !== "0") return fail(new StorageCompactedError(Number(res.compact_revision)));
      if (res.canceled === true) return fail(new Error(`Cannot watch ${prefix}: the datastore cancelled the watch (${res.cancel_reason ?? ""})`));
      for (const ev of res.events) {
        const revision = Number(ev.kv.mod_revision);
        if (ev.type === EVENT_DELETE) onEvent({ type: "DELETED", key: ev.kv.key.toString("utf8"), value: ev.prev_kv?.value ?? Buffer.alloc(0), revision });
        else onEvent({ type: ev.kv.create_revision === ev.kv.mod_revision ? "ADDED" : "MODIFIED", key: ev.kv.key.toString("utf8"), value: ev.kv.value, revision });
      }
    });
    stream.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) fail(err);
    });
    stream.write({ create_request: { key: p, range_end: prefixEnd(p), start_revision: String(fromRevision > 0 ? fromRevision + 1 : 0), prev_kv: true } });
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        stream.cancel();
      },
    };
  }

  async compact(revision: number): Promise<void> {
    await this.#call("Compact", { revision: String(revision) });
  }

  async currentRevision(): Promise<number> {
    const res = await this.#call<{ header: { revision: string } }>("Range", { key: Buffer.from([0]), count_only: true });
    return Number(res.header.revision);
  }

  close(): void {
    for (const c of this.#clients) c.close();
  }
}
