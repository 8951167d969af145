/**
 * The storage contract over any etcd v3 endpoint — tk8s's own datastore or a real etcd cluster — speaking
 * etcd's gRPC API. Creates, updates and deletes are single transactions guarded by the key's mod
 * revision, as the Kubernetes API server's etcd3 store does.
 */
import * as grpc from "@grpc/grpc-js";
import { loadEtcdProtos } from "../../etcd/proto.js";
import type { KeyValuePb, TxnRequest, TxnResponse, WatchResponse } from "../../etcd/pb.js";
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

/** Deadline of every unary call. */
export const STORAGE_CALL_TIMEOUT_MS = 10_000;

const EVENT_DELETE = 1;
/** Reads refused as unavailable are tried this many times in all, a little later each time. */
const READ_ATTEMPTS_MAX = 5;
const READ_RETRY_DELAY_MS = 100;

/** grpc-js's target for one or more etcd endpoints: a static address list when there are several. */
export function grpcTarget(endpoints: string): string {
  const hosts = endpoints
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .map((e) => (e.includes("://") ? new URL(e).host : e));
  if (hosts.length === 0) throw new Error("Cannot connect to the datastore: no endpoint given");
  if (hosts.length === 1) return hosts[0]!;
  if (hosts.every((h) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(h))) return `ipv4:${hosts.join(",")}`;
  if (hosts.every((h) => /^\[[0-9a-fA-F:]+\]:\d+$/.test(h))) return `ipv6:${hosts.join(",")}`;
  throw new Error(`Cannot connect to several datastore endpoints by name: give IP addresses (current value is ${endpoints})`);
}

type Unary = (req: object, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<object, WatchResponse> };


function isCompacted(err: unknown): boolean {
  return typeof err === "object" && err !== null && /required revision has been compacted/.test(String((err as { details?: string }).details ?? ""));
}

/**
 * The request without its zero-length byte fields. protobufjs encodes a set-but-empty `bytes` field,
 * and etcd (Go) decodes that as a non-nil empty slice, which its range code reads as "every key from
 * `key` on" — a single-key get, compare or delete would cover the rest of the keyspace. Go clients
 * never send the field empty; neither do we.
 */
export function withoutEmptyBytes<T>(value: T): T {
  if (Buffer.isBuffer(value) || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => withoutEmptyBytes(v)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Buffer.isBuffer(v) && v.length === 0) continue;
    out[k] = withoutEmptyBytes(v);
  }
  return out as T;
}

export class EtcdV3Storage implements Storage {
  readonly #kv: Record<string, Unary>;
  readonly #watchClient: WatchClient;
  readonly #clients: grpc.Client[];

  /**
   * `endpoints`: one or more members, comma-separated ("http://host:port" or "host:port"), as the API
   * server's --etcd-servers. Requests are spread over the members that answer; one that goes away is left
   * out until it is back, so a cluster keeps serving while a member is down.
   */
  constructor(endpoints: string) {
    const target = grpcTarget(endpoints);
    const protos = loadEtcdProtos();
    const KV = grpc.makeGenericClientConstructor(protos.kv, "KV");
    const Watch = grpc.makeGenericClientConstructor(protos.watch, "Watch");
    // etcd's Go client accepts responses of any size (math.MaxInt32); grpc-js stops at 4 MiB, which a
    // list of a few thousand objects or a batched watch response passes.
    const options = {
      "grpc.max_receive_message_length": -1,
      "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    };
    const kv = new KV(target, grpc.credentials.createInsecure(), options);
    const watch = new Watch(target, grpc.credentials.createInsecure(), options);
    this.#kv = kv as unknown as Record<string, Unary>;
    this.#watchClient = watch as unknown as WatchClient;
    this.#clients = [kv, watch];
  }

  /**
   * One unary call. A read that fails because its member is unavailable (stopped, or without a leader) is
   * sent again, possibly to another member; a write is not, since it may have been applied.
   */
  async #call<T>(method: string, req: object): Promise<T> {
    const deadline = Date.now() + STORAGE_CALL_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<T>((resolve, reject) => {
          this.#kv[method]!.call(this.#kv, withoutEmptyBytes(req), { deadline }, (err, res) => {
            if (err === null) resolve(res as T);
            else reject(isCompacted(err) ? new StorageCompactedError(0) : err);
          });
        });
      } catch (err) {
        const retry = method === "Range" && (err as grpc.ServiceError).code === grpc.status.UNAVAILABLE && attempt < READ_ATTEMPTS_MAX && Date.now() < deadline;
        if (!retry) throw err;
        await new Promise((r) => setTimeout(r, READ_RETRY_DELAY_MS * attempt));
      }
    }
  }

  async #txn(req: TxnRequest): Promise<{ res: TxnResponse; revision: number }> {
    const res = await this.#call<TxnResponse & { header: { revision: string } }>("Txn", req);
    return { res, revision: Number(res.header.revision) };
  }

  async get(key: string): Promise<StoredItem | null> {
    const res = await this.#call<{ kvs: KeyValuePb[] }>("Range", rangeRequest({ key: Buffer.from(key) }));
    return res.kvs[0] === undefined ? null : storedItem(res.kvs[0]);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const res = await this.#call<{ kvs: KeyValuePb[]; more: boolean; count: string; header: { revision: string } }>("Range", listRequest(prefix, options));
    // A read at a given revision reflects that revision; the header carries the store's current one.
    return { items: res.kvs.map(storedItem), revision: listedAt(options, Number(res.header.revision)), more: res.more, count: Number(res.count) };
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
