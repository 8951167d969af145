/**
 * A bare etcd v3 gRPC client on our proto files: no retries, no balancer, so a test sees exactly what the
 * server answered (the crash test must know which writes were acknowledged).
 */
import * as grpc from "@grpc/grpc-js";
import { loadEtcdProtos } from "../../src/etcd/proto.js";

/** A KeyValue as the proto loader decodes it: int64 fields are decimal strings, bytes are Buffers. */
export interface RawKeyValue {
  key: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
  value: Buffer;
  lease: string;
}

/** An mvccpb.Event; `type` is 0 (PUT) or 1 (DELETE), prev_kv is null unless asked for. */
export interface RawEvent {
  type: number;
  kv: RawKeyValue;
  prev_kv: RawKeyValue | null;
}

export interface RawHeader {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}

export interface RawWatchResponse {
  header: RawHeader;
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  fragment: boolean;
  events: RawEvent[];
}

export interface RawRangeResponse {
  header: RawHeader;
  kvs: RawKeyValue[];
  more: boolean;
  count: string;
}

/** The services a test calls with encoded requests (the Watch stream has its own entry point). */
export type RawUnaryService = "KV" | "Lease";

export interface RawEtcdClient {
  put(key: string, value: string): Promise<{ revision: number }>;
  get(key: string): Promise<{ value: string; modRevision: number } | null>;
  rangeCount(prefix: string): Promise<{ count: number; revision: number }>;
  /**
   * Calls `service.method` with `req` encoded by the proto loader (snake_case fields, int64 as decimal
   * strings, bytes as Buffers) and returns the decoded response, e.g. unary("KV", "Range", { key }).
   */
  unary<T = unknown>(service: RawUnaryService, method: string, req: object): Promise<T>;
  /** Calls `service.method` with a request body that is already encoded (or garbage), bypassing the encoder. */
  rawUnary(service: "KV", method: string, body: Buffer): Promise<unknown>;
  /** Opens a bidirectional Watch stream; the caller closes it. */
  watch(): RawWatchStream;
  close(): void;
}

function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1]!++;
  return b;
}

type UnaryMethod = (req: unknown, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export function rawEtcdClient(clientUrl: string, callTimeoutMs = 5000): RawEtcdClient {
  const target = new URL(clientUrl).host;
  const protos = loadEtcdProtos();
  // One channel for every service, so closing it ends everything this client opened.
  const channel = new grpc.Client(target, grpc.credentials.createInsecure());
  const stubs = {
    KV: new (grpc.makeGenericClientConstructor(protos.kv, "KV"))(target, grpc.credentials.createInsecure(), { channelOverride: channel.getChannel() }),
    Lease: new (grpc.makeGenericClientConstructor(protos.lease, "Lease"))(target, grpc.credentials.createInsecure(), { channelOverride: channel.getChannel() }),
    Watch: new (grpc.makeGenericClientConstructor(protos.watch, "Watch"))(target, grpc.credentials.createInsecure(), { channelOverride: channel.getChannel() }),
  };
  const unary = <T>(service: RawUnaryService, method: string, req: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const stub = stubs[service] as unknown as Record<string, UnaryMethod | undefined>;
      const fn = stub[method];
      if (fn === undefined) throw new TypeError(`Cannot call ${service}.${method}: the proto has no such method`);
      fn.call(stub, req, { deadline: Date.now() + callTimeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  return {
    async put(key, value) {
      const res = await unary<{ header: RawHeader }>("KV", "Put", { key: Buffer.from(key), value: Buffer.from(value) });
      return { revision: Number(res.header.revision) };
    },
    async get(key) {
      const res = await unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(key) });
      const kv0 = res.kvs[0];
      return kv0 === undefined ? null : { value: kv0.value.toString(), modRevision: Number(kv0.mod_revision) };
    },
    async rangeCount(prefix) {
      const res = await unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
      return { count: Number(res.count), revision: Number(res.header.revision) };
    },
    unary,
    rawUnary(service, method, body) {
      return new Promise((resolve, reject) => {
        channel.makeUnaryRequest(
          `/etcdserverpb.${service}/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          { deadline: Date.now() + callTimeoutMs },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
    },
    watch() {
      const call = (stubs.Watch as unknown as { Watch(): grpc.ClientDuplexStream<object, RawWatchResponse> }).Watch();
      return new RawWatchStream(call);
    },
    close() {
      for (const stub of Object.values(stubs)) stub.close();
      channel.close();
    },
  };
}

/**
 * One bidirectional Watch stream that records every response, so a test can send requests and then wait
 * for the responses it expects, or listen for a while to show that nothing more arrives.
 */
export class RawWatchStream {
  readonly responses: RawWatchResponse[] = [];
  #error: Error | null = null;
  #waiters: Array<() => void> = [];

  constructor(readonly call: grpc.ClientDuplexStream<object, RawWatchResponse>) {
    call.on("data", (res: RawWatchResponse) => {
      this.responses.push(res);
      this.#wake();
    });
    call.on("error", (err: Error) => {
      this.#error ??= err;
      this.#wake();
    });
  }

  /** Sends one WatchRequest, e.g. { create_request: { key, watch_id: "7" } } or { cancel_request: { watch_id: "7" } }. */
  send(req: object): void {
    this.call.write(req);
  }

  /** Resolves with every response so far once `done(responses)` holds; rejects on a stream error or after `timeoutMs`. */
  async until(what: string, done: (responses: RawWatchResponse[]) => boolean, timeoutMs: number): Promise<RawWatchResponse[]> {
    const deadline = Date.now() + timeoutMs;
    // Bounded by the deadline.
    while (!done(this.responses)) {
      if (this.#error !== null) throw new Error(`The watch stream failed while waiting for ${what}: ${this.#error.message}; got ${describeWatchResponses(this.responses)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}: got ${describeWatchResponses(this.responses)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.responses;
  }

  /** The stream's error, if it ended with one. */
  get error(): Error | null {
    return this.#error;
  }

  /** Cancels the call (end() alone would leave the server side open). */
  close(): void {
    this.call.on("error", () => {});
    this.call.cancel();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A compact rendering of watch responses for failure messages: ids, flags, revisions and event keys. */
export function describeWatchResponses(responses: readonly RawWatchResponse[]): string {
  return JSON.stringify(
    responses.map((r) => ({
      watch_id: r.watch_id,
      rev: r.header?.revision,
      ...(r.created ? { created: true } : {}),
      ...(r.canceled ? { canceled: true, cancel_reason: r.cancel_reason } : {}),
      ...(r.compact_revision !== "0" ? { compact_revision: r.compact_revision } : {}),
      events: r.events.map((e) => `${e.type === 0 ? "PUT" : "DELETE"} ${e.kv.key.toString("latin1")}@${e.kv.mod_revision}`),
    })),
  );
}
