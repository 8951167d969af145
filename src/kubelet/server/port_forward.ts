/**
 * The kubelet's side of `kubectl port-forward` (protocol `portforward.k8s.io`, upstream's
 * pkg/kubelet/cri/streaming/portforward/httpstream.go). For every local connection kubectl opens two
 * SPDY streams carrying `streamtype: error|data`, `port: N`, `requestid: K`. Each stream is answered
 * (SYN_REPLY) at once; the pair is matched by requestID, then the data stream is joined to a new
 * connection to the pod's port. A failure is written as text on the error stream (kubectl prints it and,
 * since 1.23, ends the whole forward), and both streams end with FIN.
 */
import type { Duplex } from "node:stream";
import type { Clock, Logger, Timer } from "../../env/env.js";
import { headerValue, RstStatus, type SpdyHeaders } from "./spdy/frames.js";
import { SpdySession, type SpdySessionLimits, type SpdyStream, type SpdyTransport } from "./spdy/session.js";

export const PORT_FORWARD_PROTOCOL_V1 = "portforward.k8s.io";
/** kubectl's WebSocket subprotocol when it tunnels SPDY (k8s.io/apimachinery/pkg/util/portforward). */
export const WEBSOCKET_SPDY_TUNNELING_PREFIX = "SPDY/3.1+";
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = `${WEBSOCKET_SPDY_TUNNELING_PREFIX}${PORT_FORWARD_PROTOCOL_V1}`;

/** Header names (api.StreamType, api.PortHeader, api.PortForwardRequestIDHeader), lowercase as SPDY carries them. */
export const STREAM_TYPE_HEADER = "streamtype";
export const PORT_HEADER = "port";
export const REQUEST_ID_HEADER = "requestid";

/** upstream's DefaultStreamCreationTimeout: how long the first stream of a pair waits for the second. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** Pairs waiting for their second stream at once; more are refused (each holds a timer and a stream). */
export const PENDING_PAIRS_MAX = 256;

export type PortForwardStreamType = "data" | "error";

/** What the runtime gives for one pod: a way to reach its ports, and how error messages name it. */
export interface PortForwardTarget {
  /** The pod as error messages name it (the CRI streaming server's: the sandbox ID). */
  readonly podName: string;
  readonly uid: string;
  connect(port: number): Promise<Duplex>;
}

export interface ParsedStream {
  readonly streamType: PortForwardStreamType;
  readonly port: number;
  readonly requestId: string;
}

/**
 * Reads a new stream's headers with upstream's checks and messages. A stream without `requestid` (a
 * client before 1.4) gets upstream's best-effort id: its own id for the error stream, id - 2 for data.
 */
export function parseStreamHeaders(headers: SpdyHeaders, streamId: number): ParsedStream | { readonly error: string } {
  const portString = headerValue(headers, PORT_HEADER) ?? "";
  if (portString === "") return { error: `"port" header is required` };
  if (!/^\d+$/.test(portString) || Number(portString) > 65535) return { error: `unable to parse "${portString}" as a port: strconv.ParseUint: parsing "${portString}": ${/^\d+$/.test(portString) ? "value out of range" : "invalid syntax"}` };
  const port = Number(portString);
  if (port < 1) return { error: `port "${portString}" must be > 0` };
  const streamType = headerValue(headers, STREAM_TYPE_HEADER) ?? "";
  if (streamType === "") return { error: `"streamType" header is required` };
  if (streamType !== "data" && streamType !== "error") return { error: `invalid stream type "${streamType}"` };
  const requestId = headerValue(headers, REQUEST_ID_HEADER) ?? String(streamType === "error" ? streamId : streamId - 2);
  return { streamType, port, requestId };
}

export interface StreamPair<S> {
  readonly requestId: string;
  readonly data: S;
  readonly error: S;
}

export interface StreamPairerOptions<S> {
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly pendingMax?: number;
  /** Both streams of a request are here. */
  readonly onComplete: (pair: StreamPair<S>) => void;
  /** Only one came within the timeout; `message` is upstream's text for the error stream. */
  readonly onTimeout: (requestId: string, partial: { data?: S; error?: S }, message: string) => void;
}

export type AddResult = { readonly kind: "pending" } | { readonly kind: "complete" } | { readonly kind: "rejected"; readonly message: string };

/** Matches error and data streams by requestID, each pair bounded by a creation timeout. */
export class StreamPairer<S> {
  readonly #o: StreamPairerOptions<S>;
  readonly #pending = new Map<string, { data?: S; error?: S; timer: Timer }>();

  constructor(options: StreamPairerOptions<S>) {
    this.#o = options;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  add(requestId: string, streamType: PortForwardStreamType, stream: S): AddResult {
    let entry = this.#pending.get(requestId);
    if (entry === undefined) {
      if (this.#pending.size >= (this.#o.pendingMax ?? PENDING_PAIRS_MAX)) {
        return { kind: "rejected", message: `error processing stream for request ${requestId}: too many requests waiting for their streams` };
      }
      const timer = this.#o.clock.setTimer(this.#o.timeoutMs ?? STREAM_CREATION_TIMEOUT_MS, () => {
        const e = this.#pending.get(requestId);
        if (e === undefined) return;
        this.#pending.delete(requestId);
        this.#o.onTimeout(requestId, { ...(e.data !== undefined ? { data: e.data } : {}), ...(e.error !== undefined ? { error: e.error } : {}) }, `(request=${requestId}) timed out waiting for streams`);
      });
      entry = { timer };
      this.#pending.set(requestId, entry);
    }
    if (entry[streamType] !== undefined) return { kind: "rejected", message: `error processing stream for request ${requestId}: ${streamType} stream already assigned` };
    entry[streamType] = stream;
    if (entry.data === undefined || entry.error === undefined) return { kind: "pending" };
    entry.timer.cancel();
    this.#pending.delete(requestId);
    this.#o.onComplete({ requestId, data: entry.data, error: entry.error });
    return { kind: "complete" };
  }

  /** Cancels every timer; pending streams are the caller's to close. */
  close(): void {
    for (const e of this.#pending.values()) e.timer.cancel();
    this.#pending.clear();
  }
}

export interface PortForwardSessionOptions {
  readonly target: PortForwardTarget;
  readonly clock: Clock;
  readonly log: Logger;
  readonly streamCreationTimeoutMs?: number;
  readonly limits?: Partial<SpdySessionLimits>;
}

/** Serves one port-forward connection: a SPDY session whose streams become connections to the pod. */
export class PortForwardSession {
  readonly spdy: SpdySession;
  readonly #o: PortForwardSessionOptions;
  readonly #pairer: StreamPairer<SpdyStream>;
  readonly #sockets = new Set<Duplex>();

  constructor(transport: SpdyTransport, options: PortForwardSessionOptions) {
    this.#o = options;
    this.spdy = new SpdySession(transport, { server: true, log: options.log, ...(options.limits !== undefined ? { limits: options.limits } : {}), onStream: (s) => this.#onStream(s) });
    this.#pairer = new StreamPairer<SpdyStream>({
      clock: options.clock,
      ...(options.streamCreationTimeoutMs !== undefined ? { timeoutMs: options.streamCreationTimeoutMs } : {}),
      onComplete: (pair) => void this.#forward(pair),
      onTimeout: (requestId, partial, message) => {
        options.log.warn("port-forward streams did not pair", { requestId });
        partial.error?.end(message);
        partial.data?.end();
      },
    });
    void this.spdy.done.then(() => {
      this.#pairer.close();
      for (const s of this.#sockets) s.destroy();
    });
  }

  #onStream(stream: SpdyStream): void {
    const parsed = parseStreamHeaders(stream.headers, stream.id);
    if ("error" in parsed) {
      // As spdystream's handler returning an error: the stream is reset, not answered.
      this.#o.log.warn("port-forward stream refused", { stream: stream.id, err: parsed.error });
      stream.reset(RstStatus.CANCEL);
      return;
    }
    stream.on("error", () => {});
    stream.reply();
    const added = this.#pairer.add(parsed.requestId, parsed.streamType, stream);
    if (added.kind === "rejected") {
      this.#o.log.warn("port-forward stream refused", { stream: stream.id, err: added.message });
      if (parsed.streamType === "error") stream.end(added.message);
      else stream.reset(RstStatus.CANCEL);
    }
  }

  async #forward(pair: StreamPair<SpdyStream>): Promise<void> {
    // The data stream's port (upstream reads it there too); its headers were checked on arrival.
    const parsed = parseStreamHeaders(pair.data.headers, pair.data.id);
    const port = "error" in parsed ? 0 : parsed.port;
    const { target } = this.#o;
    const fail = (err: Error) => {
      const message = `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: ${err.message}`;
      this.#o.log.warn("port-forward failed", { port, err: message });
      if (!pair.error.destroyed && !pair.error.writableEnded) pair.error.end(message);
      if (!pair.data.destroyed && !pair.data.writableEnded) pair.data.end();
    };
    let socket: Duplex;
    try {
      socket = await target.connect(port);
    } catch (err) {
      return fail(err as Error);
    }
    if (this.spdy.ended || pair.data.destroyed) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    let failed = false;
    socket.on("error", (err) => {
      failed = true;
      fail(err);
    });
    // Peer reset or session gone: the pod's connection goes too.
    pair.data.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.#sockets.delete(socket);
      if (!failed && !pair.error.destroyed && !pair.error.writableEnded) pair.error.end();
    });
    // Client → pod; the client's FIN half-closes the pod connection.
    pair.data.pipe(socket);
    // Pod → client; the pod's end becomes the data stream's FIN.
    socket.pipe(pair.data);
  }
}
