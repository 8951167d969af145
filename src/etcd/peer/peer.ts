/**
 * The sending side of one remote member (etcd rafthttp's peer + streamWriter + snapshotSender).
 *
 * Stream: one long-lived HTTP/1.1 `POST /raft/stream/message/<localId>` whose chunked body carries
 * length-prefixed raftpb.Messages, from us to the peer. (etcd has the *receiver* dial a GET and the
 * sender write into the response; we dial from the sender so each side owns the connection it writes
 * to, which keeps reconnect in one place. Between two members there are two connections, one per
 * direction.) The peer answers 200 at once and keeps the response open; until it has, the peer is
 * inactive and messages to it are dropped and reported unreachable, as etcd does when no stream works.
 *
 * Snapshots (MsgSnap) go as one `POST /raft/snapshot` each, so a large one never holds up the heartbeats
 * and appends behind it on the stream; the result is reported for RawNode.reportSnapshot.
 */
import * as http from "node:http";
import type { Socket } from "node:net";
import type { Clock, Logger, Timer } from "../../env/env.js";
import type { Message } from "../../raft/types.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { encodeMessage } from "./codec.js";
import { encodeMessageFrame } from "./frame.js";
import type { PeerMetrics } from "./metrics.js";

/** etcd's streamBufSize: messages a stream may hold waiting for the socket before it drops. */
export const QUEUE_MESSAGES_MAX = 4096;
/** The most bytes coalesced into one socket write: bounds the copy and keeps writes interleavable. */
export const WRITE_BYTES_MAX = 1024 * 1024;
/** etcd's snapshot sender allows one in flight per peer; raft never needs more. */
export const SNAPSHOTS_INFLIGHT_MAX = 1;
/** A snapshot send that has not finished by then fails (and raft retries it later). */
export const SNAPSHOT_TIMEOUT_MS = 60_000;
/** How much of an error response body we read for the log. */
const ERROR_BODY_BYTES_MAX = 512;
/** TCP keepalive on stream sockets, so a peer that vanished without a RST is noticed. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export const VERSION_HEADER_VALUE = "3.5.0";

export function idHex(id: bigint): string {
  return id.toString(16);
}

/** Headers every peer request carries (etcd's X-Etcd-Cluster-ID, X-Server-From, X-Raft-To, X-Server-Version). */
export function peerHeaders(localId: bigint, clusterId: bigint, to: bigint): Record<string, string> {
  return {
    "X-Etcd-Cluster-ID": idHex(clusterId),
    "X-Server-From": idHex(localId),
    "X-Raft-To": idHex(to),
    "X-Server-Version": VERSION_HEADER_VALUE,
  };
}

export interface PeerDeps {
  readonly localId: bigint;
  readonly clusterId: bigint;
  readonly clock: Clock;
  readonly log: Logger;
  readonly queueMessagesMax: number;
  readonly writeBytesMax: number;
  readonly snapshotTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly metrics: PeerMetrics | null;
  readonly reportUnreachable: (id: bigint) => void;
  readonly reportSnapshot: (id: bigint, failed: boolean) => void;
  /** The peer answered 410: this member was removed from the cluster. */
  readonly reportRemoved: () => void;
  /** This member's peer URLs, sent with each stream (etcd's X-PeerURLs). */
  readonly localUrls: readonly string[];
}

export class Peer {
  readonly #deps: PeerDeps;
  readonly #log: Logger;
  readonly #label: string;
  #urls: readonly string[];
  #urlIndex = 0;
  #queue: Uint8Array[] = [];
  #req: http.ClientRequest | null = null;
  #active = false;
  /** The socket refused more (write returned false): wait for 'drain' before writing again. */
  #blocked = false;
  #redial: Timer | null = null;
  readonly #backoff: Backoff;
  #snapshotsInflight = 0;
  readonly #snapshotReqs = new Set<http.ClientRequest>();
  #stopped = false;

  constructor(
    readonly id: bigint,
    urls: readonly string[],
    deps: PeerDeps,
  ) {
    if (urls.length === 0) throw new RangeError(`Cannot add peer ${idHex(id)}: no URLs: current value is []`);
    this.#urls = urls;
    this.#deps = deps;
    this.#label = idHex(id);
    this.#log = deps.log.child({ remotePeerId: this.#label });
    this.#backoff = new Backoff(deps.backoff);
  }

  /** Whether the stream is up: only then are messages accepted. */
  get active(): boolean {
    return this.#active;
  }

  /** Messages accepted but not yet handed to the socket. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  start(): void {
    this.#dial();
  }

  /** New URLs take effect on the next dial (etcd's peer.update). */
  get urls(): readonly string[] {
    return this.#urls;
  }

  updateUrls(urls: readonly string[]): void {
    if (urls.length === 0) throw new RangeError(`Cannot update peer ${this.#label}: no URLs: current value is []`);
    this.#urls = urls;
  }

  /**
   * Queues one message for the stream; false if it was dropped (stream down or queue full), and the
   * caller reports the peer unreachable. Call flush() after a batch: the queue is written in one go.
   */
  enqueue(m: Message): boolean {
    if (!this.#active || this.#queue.length >= this.#deps.queueMessagesMax) {
      this.#deps.metrics?.sentFailures.inc({ To: this.#label });
      return false;
    }
    this.#queue.push(encodeMessageFrame(m));
    return true;
  }

  /** Writes what is queued, coalescing frames into writes of up to writeBytesMax, until the socket pushes back. */
  flush(): void {
    const req = this.#req;
    // Each pass removes at least one frame, so the loop ends within queue.length passes.
    while (this.#active && !this.#blocked && req !== null && this.#queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.length <= this.#deps.writeBytesMax)) {
        bytes += this.#queue[n]!.length;
        n++;
      }
      const batch = Buffer.concat(this.#queue.slice(0, n), bytes);
      this.#queue = this.#queue.slice(n);
      this.#deps.metrics?.sentBytes.inc({ To: this.#label }, bytes);
      if (!req.write(batch)) {
        this.#blocked = true;
        req.once("drain", () => {
          if (this.#req !== req) return;
          this.#blocked = false;
          this.flush();
        });
      }
    }
  }

  /** Sends a MsgSnap on its own request; its outcome goes to reportSnapshot (failed = true on any error). */
  sendSnapshot(m: Message): void {
    if (this.#stopped || this.#snapshotsInflight >= SNAPSHOTS_INFLIGHT_MAX) {
      this.#log.warn("dropped MsgSnap; a snapshot is already being sent", { inflight: this.#snapshotsInflight, limit: SNAPSHOTS_INFLIGHT_MAX });
      this.#snapshotFinished(false);
      return;
    }
    this.#snapshotsInflight++;
    const body = encodeMessage(m);
    const url = new URL("/raft/snapshot", this.#urls[this.#urlIndex % this.#urls.length]);
    let reported = false;
    const finish = (ok: boolean, reason: string): void => {
      if (reported) return;
      reported = true;
      timer.cancel();
      this.#snapshotReqs.delete(req);
      this.#snapshotsInflight--;
      if (ok) this.#log.info("sent database snapshot", { index: m.snapshot?.metadata.index ?? 0, bytes: body.length });
      else this.#log.warn("failed to send database snapshot", { index: m.snapshot?.metadata.index ?? 0, reason });
      this.#snapshotFinished(ok);
    };
    const req = http.request(url, {
      method: "POST",
      agent: false,
      headers: {
        ...peerHeaders(this.#deps.localId, this.#deps.clusterId, this.id),
        "Content-Type": "application/octet-stream",
        "Content-Length": String(body.length),
      },
    });
    this.#snapshotReqs.add(req);
    const timer = this.#deps.clock.setTimer(this.#deps.snapshotTimeoutMs, () => {
      finish(false, `timed out after ${this.#deps.snapshotTimeoutMs} ms`);
      req.destroy();
    });
    req.on("error", (err) => finish(false, err.message));
    let status: number | undefined;
    req.on("response", (res) => {
      status = res.statusCode;
      readBounded(res, ERROR_BODY_BYTES_MAX, (text) => {
        if (res.statusCode === 204) finish(true, "");
        else finish(false, `status ${res.statusCode}: ${text.trim()}`);
      });
    });
    // The receiver answers 204 only after handing the snapshot to raft: that answer is the success.
    req.on("close", () => (status === 204 ? finish(true, "") : finish(false, "connection closed before a response")));
    this.#deps.metrics?.sentBytes.inc({ To: this.#label }, body.length);
    req.end(body);
  }

  #snapshotFinished(ok: boolean): void {
    if (ok) {
      this.#deps.metrics?.snapshotSendSuccess.inc({ To: this.#label });
    } else {
      this.#deps.metrics?.snapshotSendFailures.inc({ To: this.#label });
      // As etcd's snapshotSender: a failed snapshot also means the peer may be down.
      this.#deps.reportUnreachable(this.id);
    }
    this.#deps.reportSnapshot(this.id, !ok);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#redial?.cancel();
    this.#redial = null;
    const req = this.#req;
    this.#req = null;
    this.#active = false;
    this.#queue = [];
    req?.destroy();
    for (const r of this.#snapshotReqs) r.destroy();
  }

  /** Dials at once if this stream is down and waiting out a backoff (the peer was seen alive). */
  dialNow(): void {
    if (this.#stopped || this.#redial === null) return;
    this.#redial.cancel();
    this.#backoff.reset();
    this.#dial();
  }

  #dial(): void {
    if (this.#stopped) return;
    this.#redial = null;
    const base = this.#urls[this.#urlIndex % this.#urls.length]!;
    const url = new URL(`/raft/stream/message/${idHex(this.#deps.localId)}`, base);
    const req = http.request(url, {
      method: "POST",
      agent: false,
      headers: {
        ...peerHeaders(this.#deps.localId, this.#deps.clusterId, this.id),
        "Content-Type": "application/octet-stream",
        // As etcd: a member that has not applied our addition yet learns where to answer us.
        ...(this.#deps.localUrls.length > 0 ? { "X-PeerURLs": this.#deps.localUrls.join(",") } : {}),
      },
    });
    this.#req = req;
    req.on("socket", (socket: Socket) => {
      socket.setNoDelay(true); // heartbeats and acks are small; Nagle would add up to 40 ms each
      socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    });
    req.on("response", (res) => {
      if (this.#req !== req) return;
      if (res.statusCode !== 200) {
        readBounded(res, ERROR_BODY_BYTES_MAX, (text) => {
          const body = text.trim();
          if (res.statusCode === 410) {
            this.#log.warn("the member has been permanently removed from the cluster", { url: base });
            this.#deps.reportRemoved();
          } else if (res.statusCode === 412 && body === "cluster ID mismatch") {
            this.#log.warn("request sent was ignored (cluster ID mismatch)", { url: base, remoteClusterId: res.headers["x-etcd-cluster-id"] });
          } else {
            this.#log.warn("peer refused the stream", { url: base, status: res.statusCode, body });
          }
          this.#broken(req, `status ${res.statusCode}`);
          req.destroy();
        });
        return;
      }
      this.#active = true;
      this.#blocked = false;
      this.#backoff.reset();
      this.#log.info("peer became active", { url: base });
      res.on("data", () => {}); // the peer sends nothing back; keep the socket flowing
      res.on("end", () => this.#broken(req, "peer ended the stream"));
      this.flush();
    });
    req.on("error", (err) => this.#broken(req, err.message));
    req.on("close", () => this.#broken(req, "stream closed"));
    // Send the headers now: the request has no body yet and will not for a while if all is quiet.
    req.flushHeaders();
  }

  /** The stream `req` failed: drop what is queued (reporting it), then redial after a backoff. */
  #broken(req: http.ClientRequest, reason: string): void {
    if (this.#req !== req) return; // an older stream, already handled
    this.#req = null;
    const wasActive = this.#active;
    this.#active = false;
    this.#blocked = false;
    const dropped = this.#queue.length;
    this.#queue = [];
    req.destroy();
    if (wasActive) this.#log.warn("peer became inactive (message send to peer failed)", { reason, dropped });
    else this.#log.debug("failed to dial peer", { reason });
    if (dropped > 0) {
      this.#deps.metrics?.sentFailures.inc({ To: this.#label }, dropped);
      this.#deps.reportUnreachable(this.id);
    }
    if (this.#stopped) return;
    this.#urlIndex++; // try the next URL, as etcd's urlPicker does on failure
    this.#redial = this.#deps.clock.setTimer(this.#backoff.next(), () => this.#dial());
  }
}

/** Reads at most `limit` bytes of a response as text, then discards the rest; calls done once. */
function readBounded(res: http.IncomingMessage, limit: number, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    done(Buffer.concat(chunks).toString("utf8"));
  };
  res.on("data", (chunk: Buffer) => {
    if (bytes >= limit) return;
    const part = chunk.subarray(0, limit - bytes);
    chunks.push(part);
    bytes += part.length;
  });
  res.on("end", finish);
  res.on("close", finish);
  res.on("error", finish);
}
