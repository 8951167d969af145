/**
 * PeerTransport: how a member exchanges raft Messages with the others over its peer URL (etcd's 2380),
 * after etcd's rafthttp.Transport.
 *
 *   const t = new PeerTransport({ localId, clusterId, listenUrl: "http://127.0.0.1:2380", clock, log });
 *   t.onMessage((m) => node.step(m));
 *   t.onUnreachable((id) => node.reportUnreachable(id));
 *   t.onSnapshotStatus((id, failed) => node.reportSnapshot(id, failed));
 *   await t.start();
 *   t.addPeer(2n, ["http://127.0.0.1:2381"]);
 *   t.send(rd.messages);   // never blocks: full queue or dead peer -> dropped + onUnreachable
 *
 * Endpoints served (plain HTTP/1.1):
 *   POST /raft/stream/message/<fromHex>  a peer's long-lived stream of length-prefixed raftpb.Messages
 *   POST /raft/snapshot                  one raftpb.Message (MsgSnap) per request; 204 once handed to raft
 *   GET  /raft/probing                   health: 200 {"health":"true"}
 * Every peer request carries X-Etcd-Cluster-ID; another cluster's member gets 412 "cluster ID mismatch".
 */
import type { RaftTransport } from "../raft_transport.js";
import * as http from "node:http";
import * as net from "node:net";
import type { Clock, Logger } from "../../env/env.js";
import { isLocalMessage, type Message } from "../../raft/types.js";
import { assert, rethrowIfAssertion } from "../../util/assert.js";
import { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { CodecError, decodeMessage } from "./codec.js";
import { FrameDecoder, FrameTooLargeError, STREAM_FRAME_BYTES_MAX } from "./frame.js";
import type { PeerMetrics } from "./metrics.js";
import { idHex, Peer, QUEUE_MESSAGES_MAX, SNAPSHOT_TIMEOUT_MS, WRITE_BYTES_MAX } from "./peer.js";

/** etcd's snapshot reader limit (rafthttp's snapshotLimitByte is far larger; we hold it in memory, so less). */
export const SNAPSHOT_BYTES_MAX = 512 * 1024 * 1024;
/** How long the probe of a peer whose stream closed may take; a refusal comes at once, silence is not "down". */
const PEER_DOWN_PROBE_TIMEOUT_MS = 500;
/** Inbound connections we keep: a few per peer (stream + snapshot + probes) in a 7-member cluster, with room. */
const INBOUND_CONNECTIONS_MAX = 256;

export interface PeerTransportOptions {
  readonly localId: bigint;
  readonly clusterId: bigint;
  /** Where to listen, e.g. "http://127.0.0.1:2380" (etcd's --listen-peer-urls; http only). */
  readonly listenUrl: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly queueMessagesMax?: number;
  readonly frameBytesMax?: number;
  readonly writeBytesMax?: number;
  readonly snapshotBytesMax?: number;
  readonly snapshotTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  readonly metrics?: PeerMetrics;
  /** This member's advertised peer URLs, sent with its streams so a member behind on membership can answer. */
  readonly localUrls?: readonly string[];
  /** Whether `id` was removed from the cluster: its streams get 410, as etcd answers, so it stops. */
  readonly isRemoved?: (id: bigint) => boolean;
  /** Serves the peer URL's other endpoints (etcd's /members, /version, /leases). */
  readonly otherRequests?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export type MessageHandler = (m: Message) => void;

export class PeerTransport implements RaftTransport {
  readonly #opts: Required<Omit<PeerTransportOptions, "metrics" | "otherRequests" | "isRemoved" | "localUrls">> & { metrics: PeerMetrics | null };
  readonly #localUrls: readonly string[];
  readonly #isRemoved: (id: bigint) => boolean;
  #onRemoved: () => void = () => {};
  readonly #otherRequests: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null;
  readonly #log: Logger;
  readonly #peers = new Map<bigint, Peer>();
  /** The current inbound stream from each peer: a newer one replaces it (etcd's streamWriter.attach). */
  readonly #inbound = new Map<bigint, http.IncomingMessage>();
  #server: http.Server | null = null;
  #started = false;
  #onMessage: MessageHandler = () => {};
  #onUnreachable: (id: bigint) => void = () => {};
  #onSnapshotStatus: (id: bigint, failed: boolean) => void = () => {};
  #onPeerDown: (id: bigint) => void = () => {};

  constructor(options: PeerTransportOptions) {
    this.#opts = {
      queueMessagesMax: QUEUE_MESSAGES_MAX,
      frameBytesMax: STREAM_FRAME_BYTES_MAX,
      writeBytesMax: WRITE_BYTES_MAX,
      snapshotBytesMax: SNAPSHOT_BYTES_MAX,
      snapshotTimeoutMs: SNAPSHOT_TIMEOUT_MS,
      backoff: DEFAULT_BACKOFF,
      ...options,
      metrics: options.metrics ?? null,
    };
    this.#log = options.log.child({ localMemberId: idHex(options.localId) });
    this.#otherRequests = options.otherRequests ?? null;
    this.#isRemoved = options.isRemoved ?? (() => false);
    this.#localUrls = options.localUrls ?? [];
  }

  /** Called, in order per peer, for every message received (stream or snapshot). */
  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler;
  }

  /** Called when messages to a peer were dropped: step MsgUnreachable (RawNode.reportUnreachable). */
  onUnreachable(handler: (id: bigint) => void): void {
    this.#onUnreachable = handler;
  }

  /** Called once per MsgSnap sent: RawNode.reportSnapshot(id, failed). */
  onSnapshotStatus(handler: (id: bigint, failed: boolean) => void): void {
    this.#onSnapshotStatus = handler;
  }

  /**
   * Called when a peer's stream to us closed and its peer URL refuses connections: its process is gone
   * (not merely slow or cut off, which look like silence). The member uses it to elect a new leader
   * without waiting out an election timeout.
   */
  onPeerDown(handler: (id: bigint) => void): void {
    this.#onPeerDown = handler;
  }

  /** Called when a peer says this member was removed from the cluster (HTTP 410). */
  onRemoved(handler: () => void): void {
    this.#onRemoved = handler;
  }

  /** Listens on the peer URL and dials every peer added so far. */
  async start(): Promise<void> {
    if (this.#started) throw new Error("Cannot start the peer transport: already started");
    const url = new URL(this.#opts.listenUrl);
    if (url.protocol !== "http:") throw new Error(`Cannot listen for peers: only http:// is supported: current value is ${this.#opts.listenUrl}`);
    const server = http.createServer((req, res) => this.#handle(req, res));
    // Streams live for as long as the member does: no whole-request deadline, but headers must come fast.
    server.requestTimeout = 0;
    server.headersTimeout = 10_000;
    server.maxConnections = INBOUND_CONNECTIONS_MAX;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: url.hostname, port: Number(url.port || 2380) }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    this.#started = true;
    for (const p of this.#peers.values()) p.start();
    this.#log.info("started peer transport", { listenUrl: this.#opts.listenUrl });
  }

  /** Adds (or updates the URLs of) a peer; once started, a stream to it is dialled at once. */
  addPeer(id: bigint, urls: readonly string[]): void {
    if (id === this.#opts.localId) throw new Error(`Cannot add peer ${idHex(id)}: it is the local member`);
    const existing = this.#peers.get(id);
    if (existing !== undefined) {
      existing.updateUrls(urls);
      return;
    }
    const peer = new Peer(id, urls, {
      localId: this.#opts.localId,
      clusterId: this.#opts.clusterId,
      clock: this.#opts.clock,
      log: this.#log,
      queueMessagesMax: this.#opts.queueMessagesMax,
      writeBytesMax: this.#opts.writeBytesMax,
      snapshotTimeoutMs: this.#opts.snapshotTimeoutMs,
      backoff: this.#opts.backoff,
      metrics: this.#opts.metrics,
      reportUnreachable: (pid) => this.#onUnreachable(pid),
      reportSnapshot: (pid, failed) => this.#onSnapshotStatus(pid, failed),
      reportRemoved: () => this.#onRemoved(),
      localUrls: this.#localUrls,
    });
    this.#peers.set(id, peer);
    if (this.#started) peer.start();
    this.#log.info("added remote peer", { remotePeerId: idHex(id), urls });
  }

  /** Stops sending to a peer and closes its inbound stream. */
  removePeer(id: bigint): void {
    const peer = this.#peers.get(id);
    if (peer === undefined) return;
    peer.stop();
    this.#peers.delete(id);
    this.#inbound.get(id)?.socket.destroy();
    this.#inbound.delete(id);
    this.#log.info("removed remote peer", { remotePeerId: idHex(id) });
  }

  /** Whether the stream to `id` is up (etcd's ActiveSince != zero). */
  isActive(id: bigint): boolean {
    return this.#peers.get(id)?.active ?? false;
  }

  /** Messages queued for `id` but not yet written to its socket (0 for an unknown peer). */
  queuedMessages(id: bigint): number {
    return this.#peers.get(id)?.queuedMessages ?? 0;
  }

  /**
   * Sends messages without blocking: stream messages are queued per peer and written in one batch
   * per peer; MsgSnap goes on its own request. Messages to a peer whose stream is down or whose queue is
   * full are dropped, and onUnreachable is called once for that peer.
   */
  send(messages: readonly Message[]): void {
    const touched = new Set<Peer>();
    const unreachable = new Set<bigint>();
    for (const m of messages) {
      // Raft's Ready never carries local messages: one here is a bug in the driver.
      assert(!isLocalMessage(m.type), `local message ${m.type} handed to the peer transport`);
      const peer = this.#peers.get(m.to);
      if (peer === undefined) {
        // As etcd: raft may still address a member removed a moment ago.
        this.#log.debug("ignored message send request; unknown remote peer target", { type: m.type, to: idHex(m.to) });
        continue;
      }
      if (m.type === "MsgSnap") {
        peer.sendSnapshot(m);
        continue;
      }
      if (peer.enqueue(m)) touched.add(peer);
      else unreachable.add(m.to);
    }
    for (const peer of touched) peer.flush();
    for (const id of unreachable) {
      this.#log.debug("dropped internal Raft message since sending buffer is full or stream is down", { remotePeerId: idHex(id) });
      this.#onUnreachable(id);
    }
  }

  /** Closes the listener, every stream and every pending snapshot send. */
  async stop(): Promise<void> {
    for (const p of this.#peers.values()) p.stop();
    for (const req of this.#inbound.values()) req.socket.destroy();
    this.#inbound.clear();
    const server = this.#server;
    this.#server = null;
    this.#started = false;
    if (server === null) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && path === "/raft/probing") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ health: "true" }));
      return;
    }
    if (req.method === "POST" && path.startsWith("/raft/stream/message/")) {
      if (!this.#checkHeaders(req, res)) return;
      this.#serveStream(req, res, path.slice("/raft/stream/message/".length));
      return;
    }
    if (req.method === "POST" && path === "/raft/snapshot") {
      if (!this.#checkHeaders(req, res)) return;
      this.#serveSnapshot(req, res);
      return;
    }
    if (this.#otherRequests !== null && !path.startsWith("/raft")) {
      this.#otherRequests(req, res);
      return;
    }
    httpError(res, 404, "404 page not found");
  }

  /** etcd's checkClusterCompatibilityFromHeader, plus the X-Raft-To check of its stream handler. */
  #checkHeaders(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const want = idHex(this.#opts.clusterId);
    const got = req.headers["x-etcd-cluster-id"];
    if (got !== want) {
      this.#log.warn("request cluster ID mismatch", { localClusterId: want, remoteClusterId: got, remotePeerId: req.headers["x-server-from"] });
      res.setHeader("X-Etcd-Cluster-ID", want);
      httpError(res, 412, "cluster ID mismatch");
      return false;
    }
    const to = req.headers["x-raft-to"];
    if (to !== undefined && to !== idHex(this.#opts.localId)) {
      this.#log.warn("ignored streaming request; ID mismatch", { localMemberId: idHex(this.#opts.localId), remoteRequestedId: to });
      httpError(res, 412, "to field mismatch");
      return false;
    }
    return true;
  }

  #serveStream(req: http.IncomingMessage, res: http.ServerResponse, fromHex: string): void {
    if (!/^[0-9a-f]{1,16}$/.test(fromHex)) {
      httpError(res, 400, "invalid from");
      return;
    }
    const from = BigInt(`0x${fromHex}`);
    if (this.#isRemoved(from)) {
      httpError(res, 410, "the member has been permanently removed from the cluster");
      return;
    }
    const urls = String(req.headers["x-peerurls"] ?? "").split(",").filter((u) => u.length > 0);
    if (!this.#peers.has(from) && urls.length > 0 && from !== this.#opts.localId) {
      // A member this one does not know yet: it joined after the membership this member has applied
      // (etcd: "local etcd falls behind of the cluster"). Talk to it, or neither side ever catches up.
      this.#log.info("added remote peer from its stream", { remotePeerId: fromHex, urls });
      this.addPeer(from, urls);
    }
    if (!this.#peers.has(from)) {
      this.#log.warn("failed to find remote peer in cluster", { remotePeerId: fromHex });
      httpError(res, 404, "error sender not found");
      return;
    }
    const previous = this.#inbound.get(from);
    if (previous !== undefined) previous.socket.destroy();
    this.#inbound.set(from, req);
    // The peer is up (it just dialled us): dial it back now rather than when a backoff grown while it was
    // down runs out (up to seconds), so a restarted member hears the leader at once.
    this.#peers.get(from)?.dialNow();
    req.socket.setNoDelay(true);
    res.writeHead(200, { "Content-Type": "application/octet-stream", "X-Server-Version": "3.5.0" });
    res.flushHeaders();
    const decoder = new FrameDecoder(this.#opts.frameBytesMax);
    const label = { From: fromHex };
    req.on("data", (chunk: Buffer) => {
      this.#opts.metrics?.receivedBytes.inc(label, chunk.length);
      let messages: Message[];
      try {
        messages = decoder.pushMessages(chunk);
      } catch (err) {
        rethrowIfAssertion(err);
        if (!(err instanceof FrameTooLargeError || err instanceof CodecError)) throw err;
        // The framing is lost: nothing after this point can be trusted, so drop the connection; the
        // peer redials and raft resends what matters.
        this.#log.warn("lost TCP streaming connection with remote peer; bad frame", { remotePeerId: fromHex, error: err.message });
        this.#opts.metrics?.receivedFailures.inc(label);
        req.removeAllListeners("data");
        req.socket.destroy();
        return;
      }
      for (const m of messages) this.#deliver(m, fromHex);
    });
    req.on("close", () => {
      if (this.#inbound.get(from) !== req) return; // replaced by a newer stream: nothing went away
      this.#inbound.delete(from);
      if (this.#started) this.#probeGone(from);
    });
  }

  /** Reports `id` down (onPeerDown) if its peer URL refuses connections; for a member that wonders. */
  checkPeerDown(id: bigint): void {
    if (this.#started) this.#probeGone(id, false);
  }

  /** Reports `id` down if a TCP connect to its peer URL is refused right after its stream closed. */
  #probeGone(id: bigint, streamClosed = true): void {
    const url = this.#peers.get(id)?.urls[0];
    if (url === undefined) return;
    const u = new URL(url);
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 2380) });
    socket.setTimeout(PEER_DOWN_PROBE_TIMEOUT_MS);
    socket.once("connect", () => socket.destroy());
    socket.once("timeout", () => socket.destroy());
    socket.once("error", (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code !== "ECONNREFUSED" || !this.#started || !this.#peers.has(id) || (streamClosed && this.#inbound.has(id))) return;
      this.#log.info("peer's stream closed and its peer URL refuses connections; it is down", { remotePeerId: idHex(id) });
      this.#onPeerDown(id);
    });
  }

  #serveSnapshot(req: http.IncomingMessage, res: http.ServerResponse): void {
    const limit = this.#opts.snapshotBytesMax;
    const declared = Number(req.headers["content-length"] ?? "NaN");
    const fromHex = String(req.headers["x-server-from"] ?? "unknown");
    if (Number.isFinite(declared) && declared > limit) {
      this.#log.warn("refused snapshot; too large", { remotePeerId: fromHex, bytes: declared, limit });
      res.setHeader("Connection", "close");
      httpError(res, 413, `snapshot too large: ${declared} bytes > ${limit}`);
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      bytes += chunk.length;
      if (bytes > limit) {
        refused = true;
        this.#log.warn("refused snapshot; too large", { remotePeerId: fromHex, bytes, limit });
        res.setHeader("Connection", "close");
        httpError(res, 413, `snapshot too large: more than ${limit} bytes`);
        req.socket.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      this.#opts.metrics?.receivedBytes.inc({ From: fromHex }, bytes);
      let m: Message;
      try {
        m = decodeMessage(Buffer.concat(chunks, bytes));
      } catch (err) {
        rethrowIfAssertion(err);
        this.#log.warn("failed to decode raft message", { remotePeerId: fromHex, error: (err as Error).message });
        httpError(res, 400, `error decoding raft message: ${(err as Error).message}`);
        return;
      }
      if (m.type !== "MsgSnap") {
        httpError(res, 400, `unexpected raft message type ${m.type} on snapshot path`);
        return;
      }
      this.#deliver(m, fromHex);
      this.#log.info("received and saved database snapshot", { remotePeerId: fromHex, index: m.snapshot?.metadata.index ?? 0, bytes });
      res.writeHead(204);
      res.end();
    });
  }

  #deliver(m: Message, fromHex: string): void {
    if (m.to !== this.#opts.localId) {
      this.#log.warn("ignored message addressed to another member", { remotePeerId: fromHex, to: idHex(m.to), type: m.type });
      return;
    }
    this.#onMessage(m);
  }
}

/** As Go's http.Error: text body with a trailing newline. */
function httpError(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(`${text}\n`);
}
