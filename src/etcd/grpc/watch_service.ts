/**
 * etcdserverpb.Watch: one bidirectional stream carries many watchers. Responses leave in order per
 * stream; a watcher whose stream cannot take more (gRPC's write buffer full, or too many responses
 * queued) is refused by its sink and caught up later from the backend, so memory stays bounded.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Env, Timer } from "../../env/env.js";
import { EventType, type MvccEvent } from "../../storage/mvcc/kv.js";
import type { Watcher } from "../../storage/mvcc/watchable_store.js";
import { keyToIndex } from "../../storage/mvcc/kv.js";
import { kvToPb, toKeyRange } from "../apply.js";
import type { EventPb, WatchCreateRequest, WatchRequest, WatchResponse } from "../pb.js";
import type { EtcdServer } from "../server.js";
import { header } from "./common.js";

/** Responses a stream may have in gRPC's buffer before its watchers are refused (etcd: chan of 128). */
export const WATCH_STREAM_PENDING_MAX = 128;
/** Watchers one stream may hold. */
export const WATCHERS_PER_STREAM_MAX = 10_000;

const FILTER_NOPUT = 0;
const FILTER_NODELETE = 1;

interface StreamWatcher {
  readonly id: bigint;
  watcher: Watcher | null;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  sentSinceProgress: boolean;
}

export function watchService(server: EtcdServer, env: Env): grpc.UntypedServiceImplementation {
  return {
    Watch: (call: grpc.ServerDuplexStream<WatchRequest, WatchResponse>) => new WatchStream(server, env, call).start(),
  };
}

class WatchStream {
  readonly #server: EtcdServer;
  readonly #env: Env;
  readonly #call: grpc.ServerDuplexStream<WatchRequest, WatchResponse>;
  readonly #watchers = new Map<bigint, StreamWatcher>();
  #nextId = 0n;
  #closed = false;
  #progressTimer: Timer | null = null;

  constructor(server: EtcdServer, env: Env, call: grpc.ServerDuplexStream<WatchRequest, WatchResponse>) {
    this.#server = server;
    this.#env = env;
    this.#call = call;
  }

  start(): void {
    this.#call.on("data", (req: WatchRequest) => this.#onRequest(req));
    this.#call.on("end", () => this.#close(true));
    this.#call.on("error", () => this.#close(false));
    this.#call.on("cancelled", () => this.#close(false));
    this.#progressTimer = this.#env.clock.setTimer(this.#server.config.watchProgressNotifyIntervalMs, () => this.#progressTick());
  }

  #send(res: WatchResponse): boolean {
    if (this.#closed) return false;
    return this.#call.write(res);
  }

  #writable(): boolean {
    // Counted in responses (the stream is in object mode). Node's own drain signal fires at 16, which
    // would push watchers to the slow path under ordinary bursts; our bound is the one that matters.
    const w = this.#call as unknown as { writableLength: number };
    return !this.#closed && w.writableLength < WATCH_STREAM_PENDING_MAX;
  }

  #onRequest(req: WatchRequest): void {
    if (req.create_request) this.#create(req.create_request);
    else if (req.cancel_request) this.#cancel(BigInt(req.cancel_request.watch_id));
    else if (req.progress_request) this.#progress();
  }

  #create(c: WatchCreateRequest): void {
    let id = BigInt(c.watch_id);
    const cur = this.#server.kv.currentRevision;
    if (id === 0n) {
      while (this.#watchers.has(this.#nextId)) this.#nextId++;
      id = this.#nextId++;
    } else if (this.#watchers.has(id) || this.#watchers.size >= WATCHERS_PER_STREAM_MAX) {
      // Answered with etcd's InvalidWatchID (-1): the id belongs to the live watcher, which must not
      // look cancelled to a client that routes responses by watch_id.
      this.#send({
        header: header(this.#server, cur),
        watch_id: "-1",
        created: true,
        canceled: true,
        cancel_reason: this.#watchers.has(id) ? "mvcc: duplicate watch ID provided on the WatchStream" : "mvcc: too many watchers on this stream",
        events: [],
      });
      return;
    }
    const filters = new Set(c.filters);
    const sw: StreamWatcher = {
      id,
      watcher: null,
      prevKv: c.prev_kv,
      noPut: filters.has(FILTER_NOPUT),
      noDelete: filters.has(FILTER_NODELETE),
      progressNotify: c.progress_notify,
      fragment: c.fragment,
      sentSinceProgress: false,
    };
    this.#watchers.set(id, sw);
    // The created response goes first; events for this watcher can only follow it.
    this.#send({ header: header(this.#server, cur), watch_id: String(id), created: true, events: [] });
    const key = c.key.length === 0 ? Buffer.from([0]) : c.key;
    const range = toKeyRange(key, c.range_end);
    sw.watcher = this.#server.watchable.watch(range, Number(c.start_revision), {
      deliver: (events, revision) => this.#deliver(sw, events, revision),
      compacted: (compactRevision) => {
        this.#watchers.delete(id);
        this.#send({ header: header(this.#server), watch_id: String(id), canceled: true, compact_revision: String(compactRevision), events: [] });
      },
    });
  }

  #deliver(sw: StreamWatcher, events: MvccEvent[], revision: number): boolean {
    if (this.#closed || !this.#watchers.has(sw.id)) return true;
    if (!this.#writable()) return false;
    const out: EventPb[] = [];
    for (const ev of events) {
      if (ev.type === EventType.Put && sw.noPut) continue;
      if (ev.type === EventType.Delete && sw.noDelete) continue;
      const prev = sw.prevKv ? this.#server.kv.getAt(keyToIndex(ev.kv.key), ev.kv.modRevision - 1) : null;
      out.push({ type: ev.type, kv: kvToPb(ev.kv), prev_kv: prev === null ? null : kvToPb(prev) });
    }
    if (out.length === 0) return true;
    sw.sentSinceProgress = true;
    const hdr = header(this.#server, revision);
    if (sw.fragment) {
      // Split so no one response exceeds the request limit the client configured for itself.
      const limit = this.#server.config.maxRequestBytes;
      let chunk: EventPb[] = [];
      let bytes = 0;
      const chunks: EventPb[][] = [];
      for (const e of out) {
        const size = e.kv.key.length + e.kv.value.length + (e.prev_kv ? e.prev_kv.key.length + e.prev_kv.value.length : 0) + 64;
        if (chunk.length > 0 && bytes + size > limit) {
          chunks.push(chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(e);
        bytes += size;
      }
      chunks.push(chunk);
      chunks.forEach((evs, i) => this.#send({ header: hdr, watch_id: String(sw.id), fragment: i < chunks.length - 1, events: evs }));
      return true;
    }
    this.#send({ header: hdr, watch_id: String(sw.id), events: out });
    return true;
  }

  #cancel(id: bigint): void {
    const sw = this.#watchers.get(id);
    if (sw === undefined) return;
    this.#watchers.delete(id);
    if (sw.watcher !== null) this.#server.watchable.cancel(sw.watcher);
    this.#send({ header: header(this.#server), watch_id: String(id), canceled: true, events: [] });
  }

  /** A progress request is answered once every watcher of the stream has caught up, as etcd does. */
  #progress(attempt = 0): void {
    if (this.#closed) return;
    const behind = [...this.#watchers.values()].some((sw) => !this.#isSynced(sw));
    if (behind && attempt < 100) {
      this.#env.clock.setTimer(100, () => this.#progress(attempt + 1));
      return;
    }
    this.#send({ header: header(this.#server), watch_id: "-1", events: [] });
  }

  #isSynced(sw: StreamWatcher): boolean {
    return sw.watcher === null || this.#server.watchable.isSynced(sw.watcher);
  }

  #progressTick(): void {
    if (this.#closed) return;
    for (const sw of this.#watchers.values()) {
      if (sw.progressNotify && !sw.sentSinceProgress && this.#isSynced(sw)) {
        this.#send({ header: header(this.#server), watch_id: String(sw.id), events: [] });
      }
      sw.sentSinceProgress = false;
    }
    this.#progressTimer = this.#env.clock.setTimer(this.#server.config.watchProgressNotifyIntervalMs, () => this.#progressTick());
  }

  #close(endCall: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#progressTimer?.cancel();
    for (const sw of this.#watchers.values()) if (sw.watcher !== null) this.#server.watchable.cancel(sw.watcher);
    this.#watchers.clear();
    if (endCall) this.#call.end();
  }
}
