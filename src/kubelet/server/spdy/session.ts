/**
 * A SPDY/3.1 session over any byte transport (a TLS socket after `Upgrade: SPDY/3.1`, or WebSocket binary
 * messages when kubectl tunnels SPDY through WebSocket). Streams are Node Duplexes: what the peer sends on
 * a stream is readable, what we write goes out as data frames, `end()` sends FIN, `reset()` RST_STREAM.
 *
 * Flow control (SPDY/3.1 §2.6.8): we advertise the default 64 KiB windows per stream and per session
 * and send WINDOW_UPDATE as the reader consumes. Sending: moby/spdystream — both kubectl's and the
 * kubelet's SPDY library upstream — implements no flow control at all (it never sends WINDOW_UPDATE and
 * ignores ours), so holding to its 64 KiB window would stall every response larger than that. In "auto"
 * mode the session honours the peer's windows once the peer shows it keeps them (it sends a
 * WINDOW_UPDATE, or SETTINGS with an initial window size); "enforce" honours them from the start. A
 * spdystream peer is instead slowed the way upstream slows it: when a stream's unread bytes pass
 * `streamBufferBytesMax`, the session pauses its transport (TCP backpressure) until the reader catches up.
 */
import { Duplex } from "node:stream";
import type { Logger } from "../../../env/env.js";
import {
  FrameReader, GoAwayStatus, HEADER_BLOCK_LIMITS_DEFAULT, RstStatus, SETTINGS_INITIAL_WINDOW_SIZE,
  SpdyProtocolError, decodeFrame, encodeFrame, encodeHeaderBlock, headerBlockOffset, type Frame, type RawFrame,
  type SpdyHeaders,
} from "./frames.js";
import { HeaderCompressor, HeaderDecompressor } from "./header_codec.js";

/** SPDY/3.1's initial window, per stream and for the session. */
export const INITIAL_WINDOW_BYTES = 64 * 1024;
/** A window may not grow past 2^31 - 1. */
const WINDOW_BYTES_LIMIT = 0x7fffffff;

export interface SpdyTransport {
  /** Sends bytes; false when the transport's buffer is full (the session then waits for `transportDrained`). */
  write(bytes: Buffer): boolean;
  /** Closes the transport once written bytes are out. */
  end(): void;
  /** Stops/restarts delivery of incoming bytes (backpressure toward the peer). */
  pause(): void;
  resume(): void;
}

export interface SpdySessionLimits {
  /** A frame longer than this is a protocol error. */
  readonly frameBytesMax: number;
  /** One decompressed header block. */
  readonly headerBlockBytesMax: number;
  /** Streams open at once; more are refused with RST_STREAM REFUSED_STREAM. */
  readonly streamsMax: number;
  /** Unread bytes on one stream before the transport is paused. */
  readonly streamBufferBytesMax: number;
  /** Data frames we send carry at most this much. */
  readonly dataFrameBytesMax: number;
  /** Frames read but not yet handled (waiting behind a header block's decompression) before the transport is paused. */
  readonly pendingFramesMax: number;
}

export const SPDY_SESSION_LIMITS_DEFAULT: SpdySessionLimits = {
  frameBytesMax: 1024 * 1024,
  headerBlockBytesMax: 64 * 1024,
  streamsMax: 1000,
  streamBufferBytesMax: 1024 * 1024,
  dataFrameBytesMax: 32 * 1024,
  pendingFramesMax: 256,
};

export interface SpdySessionOptions {
  /** The server's streams are even, the client's odd; a PING is answered when its id has the peer's parity. */
  readonly server: boolean;
  readonly log: Logger;
  readonly limits?: Partial<SpdySessionLimits>;
  /** See the file comment. Default "auto". */
  readonly sendFlowControl?: "auto" | "enforce";
  /** A stream the peer opened. Reply with `stream.reply()` or refuse with `stream.reset()`. */
  readonly onStream?: (stream: SpdyStream) => void;
}

/** The peer reset a stream (RST_STREAM), or the session ended under it. */
export class SpdyStreamResetError extends Error {
  override readonly name = "SpdyStreamResetError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface PendingWrite {
  data: Buffer;
  /** The FIN that `end()` queues behind the writes. */
  readonly fin: boolean;
  done: (err?: Error | null) => void;
}

export class SpdyStream extends Duplex {
  readonly id: number;
  /** The headers of the SYN_STREAM that opened it. */
  readonly headers: SpdyHeaders;
  /** Resolves with the peer's SYN_REPLY headers (streams we opened); rejects if it resets first. */
  readonly replied: Promise<SpdyHeaders>;
  readonly #session: SpdySession;
  #resolveReply: (h: SpdyHeaders) => void = () => {};
  #rejectReply: (e: Error) => void = () => {};
  /** @internal session bookkeeping */
  sendWindow: number;
  recvWindow = INITIAL_WINDOW_BYTES;
  received = 0;
  credited = 0;
  localClosed = false;
  remoteClosed = false;
  resetDone = false;
  replySent = false;
  replyReceived = false;
  congested = false;
  pending: PendingWrite[] = [];

  /** @internal created by the session */
  constructor(session: SpdySession, id: number, headers: SpdyHeaders, sendWindow: number) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.headers = headers;
    this.sendWindow = sendWindow;
    this.replied = new Promise((resolve, reject) => {
      this.#resolveReply = resolve;
      this.#rejectReply = reject;
    });
    this.replied.catch(() => {});
  }

  /** Answers a stream the peer opened (SYN_REPLY); idempotent. */
  reply(headers: SpdyHeaders = new Map()): void {
    if (this.replySent || this.resetDone) return;
    this.replySent = true;
    this.#session.sendFrameWithHeaders({ type: "SYN_REPLY", streamId: this.id, fin: false, headers });
  }

  /** Abandons the stream with RST_STREAM (default CANCEL, as spdystream's Reset). */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.resetDone) return;
    this.#session.resetStream(this, status, true);
  }

  /** @internal */
  gotReply(headers: SpdyHeaders): void {
    this.replyReceived = true;
    this.#resolveReply(headers);
  }

  /** @internal */
  failReply(err: Error): void {
    this.#rejectReply(err);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.resetDone || this.localClosed) return callback(new SpdyStreamResetError(RstStatus.STREAM_ALREADY_CLOSED, `stream ${this.id} is closed`));
    this.pending.push({ data: chunk, fin: false, done: callback });
    this.#session.flushStream(this);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // FIN goes after every queued write: an empty data frame with the flag, as spdystream's Close.
    this.pending.push({ data: Buffer.alloc(0), fin: true, done: callback });
    this.#session.flushStream(this);
  }

  override _read(): void {
    this.#session.consumed(this);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    for (const p of this.pending.splice(0)) p.done(err ?? new SpdyStreamResetError(RstStatus.CANCEL, `stream ${this.id} was destroyed`));
    if (!this.resetDone && !(this.localClosed && this.remoteClosed)) this.#session.resetStream(this, RstStatus.CANCEL, true);
    callback(err);
  }
}

export class SpdySession {
  readonly #transport: SpdyTransport;
  readonly #o: SpdySessionOptions;
  readonly #limits: SpdySessionLimits;
  readonly #reader: FrameReader;
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor: HeaderDecompressor;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #pings = new Map<number, () => void>();
  #incoming: RawFrame[] = [];
  #processing = false;
  #out: (Buffer | Promise<Buffer>)[] = [];
  #writing = false;
  #transportFull = false;
  #pausedFor = new Set<string>();
  #nextStreamId: number;
  #nextPingId: number;
  #lastPeerStreamId = 0;
  #peerFlowControl: boolean;
  #peerInitialWindow = INITIAL_WINDOW_BYTES;
  #sessionSendWindow = INITIAL_WINDOW_BYTES;
  #sessionReceived = 0;
  #sessionCredited = 0;
  #goneAway = false;
  #ended = false;
  #resolveDone: () => void = () => {};
  /** Resolves when the session has ended (transport closed, GOAWAY handled, or a protocol error). */
  readonly done: Promise<void>;

  constructor(transport: SpdyTransport, options: SpdySessionOptions) {
    this.#transport = transport;
    this.#o = options;
    this.#limits = { ...SPDY_SESSION_LIMITS_DEFAULT, ...options.limits };
    this.#reader = new FrameReader(this.#limits.frameBytesMax);
    this.#decompressor = new HeaderDecompressor(this.#limits.headerBlockBytesMax);
    this.#nextStreamId = options.server ? 2 : 1;
    this.#nextPingId = options.server ? 2 : 1;
    this.#peerFlowControl = options.sendFlowControl === "enforce";
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes from the transport, in order. */
  receive(chunk: Buffer): void {
    if (this.#ended) return;
    try {
      for (const f of this.#reader.push(chunk)) this.#incoming.push(f);
    } catch (err) {
      return this.#fail(err as Error);
    }
    if (this.#incoming.length > this.#limits.pendingFramesMax) this.#pause("frames");
    void this.#process();
  }

  /** The transport closed under us: every stream ends. */
  transportClosed(): void {
    this.#end(new SpdyStreamResetError(RstStatus.CANCEL, "connection closed"));
  }

  /** The transport can take bytes again. */
  transportDrained(): void {
    this.#transportFull = false;
    this.#pump();
    for (const s of this.#streams.values()) if (s.pending.length > 0) this.flushStream(s);
  }

  /** Opens a stream (SYN_STREAM); `replied` resolves on the peer's SYN_REPLY. */
  openStream(headers: SpdyHeaders, options: { fin?: boolean } = {}): SpdyStream {
    if (this.#ended || this.#goneAway) throw new Error("Cannot open a stream as the session is closing");
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = this.#newStream(id, headers);
    stream.replySent = true;
    if (options.fin === true) {
      stream.localClosed = true;
      stream.end();
    }
    this.sendFrameWithHeaders({ type: "SYN_STREAM", streamId: id, associatedToStreamId: 0, priority: 0, slot: 0, fin: options.fin === true, unidirectional: false, headers });
    return stream;
  }

  /** Sends a PING and resolves when the peer echoes it. */
  ping(): Promise<void> {
    if (this.#ended) return Promise.reject(new Error("Cannot ping as the session has ended"));
    const id = this.#nextPingId;
    this.#nextPingId = this.#nextPingId + 2 > WINDOW_BYTES_LIMIT ? (this.#o.server ? 2 : 1) : this.#nextPingId + 2;
    return new Promise((resolve) => {
      this.#pings.set(id, resolve);
      this.#enqueue(encodeFrame({ type: "PING", id }));
    });
  }

  /** Says GOAWAY and closes the transport; open streams end. */
  close(status: number = GoAwayStatus.OK): void {
    if (this.#ended) return;
    this.#enqueue(encodeFrame({ type: "GOAWAY", lastGoodStreamId: this.#lastPeerStreamId, status }));
    this.#end(new SpdyStreamResetError(RstStatus.CANCEL, "session closed"));
  }

  // ---------- used by SpdyStream ----------

  /** @internal */
  sendFrameWithHeaders(frame: Extract<Frame, { headers: SpdyHeaders }>): void {
    if (this.#ended) return;
    const compressed = this.#compressor.compress(encodeHeaderBlock(frame.headers));
    this.#enqueue(compressed.then((block) => encodeFrame(frame, block)));
  }

  /** @internal Sends what the stream has queued, as far as windows and the transport allow. */
  flushStream(stream: SpdyStream): void {
    if (this.#ended) return;
    // Bounded by the stream's queued bytes: every pass sends at least one byte or stops.
    while (stream.pending.length > 0 && !this.#transportFull && !stream.resetDone) {
      const head = stream.pending[0]!;
      if (head.fin) {
        stream.pending.shift();
        if (!stream.localClosed) {
          stream.localClosed = true;
          this.#sendData(stream.id, Buffer.alloc(0), true);
          this.#maybeForget(stream);
        }
        head.done();
        return;
      }
      if (head.data.length === 0) {
        stream.pending.shift();
        head.done();
        continue;
      }
      let allowed = this.#limits.dataFrameBytesMax;
      if (this.#peerFlowControl) allowed = Math.min(allowed, stream.sendWindow, this.#sessionSendWindow);
      if (allowed <= 0) return;
      const piece = head.data.subarray(0, allowed);
      head.data = head.data.subarray(piece.length);
      stream.sendWindow -= piece.length;
      this.#sessionSendWindow -= piece.length;
      this.#sendData(stream.id, piece, false);
      if (head.data.length === 0) {
        stream.pending.shift();
        head.done();
      }
    }
  }

  /** @internal The stream's reader took bytes: credit the peer's windows, lift backpressure. */
  consumed(stream: SpdyStream): void {
    if (this.#ended) return;
    const consumed = stream.received - stream.readableLength - stream.credited;
    // Batched at half a window, as HTTP/2 implementations do, so small reads do not each cost a frame.
    if (consumed > 0 && !stream.remoteClosed && !stream.resetDone && (consumed >= INITIAL_WINDOW_BYTES / 2 || stream.readableLength === 0)) {
      stream.credited += consumed;
      stream.recvWindow += consumed;
      this.#enqueue(encodeFrame({ type: "WINDOW_UPDATE", streamId: stream.id, deltaWindowSize: consumed }));
    }
    const sessionConsumed = this.#sessionReceived - this.#sessionCredited - this.#unreadBytes();
    if (sessionConsumed >= INITIAL_WINDOW_BYTES / 2) {
      this.#sessionCredited += sessionConsumed;
      this.#enqueue(encodeFrame({ type: "WINDOW_UPDATE", streamId: 0, deltaWindowSize: sessionConsumed }));
    }
    if (stream.congested && stream.readableLength <= this.#limits.streamBufferBytesMax / 2) {
      stream.congested = false;
      if (![...this.#streams.values()].some((s) => s.congested)) this.#resume("stream");
    }
  }

  /** @internal */
  resetStream(stream: SpdyStream, status: number, send: boolean): void {
    if (stream.resetDone) return;
    stream.resetDone = true;
    stream.localClosed = true;
    stream.remoteClosed = true;
    if (send && !this.#ended) this.#enqueue(encodeFrame({ type: "RST_STREAM", streamId: stream.id, status }));
    this.#forget(stream);
  }

  // ---------- internals ----------

  #unreadBytes(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.readableLength;
    return n;
  }

  #newStream(id: number, headers: SpdyHeaders): SpdyStream {
    const stream = new SpdyStream(this, id, headers, this.#peerInitialWindow);
    this.#streams.set(id, stream);
    return stream;
  }

  #sendData(streamId: number, data: Buffer, fin: boolean): void {
    const ok = this.#enqueue(encodeFrame({ type: "DATA", streamId, fin, data }));
    if (!ok) this.#transportFull = true;
  }

  /** Queues bytes for the transport in order; a promise holds its place until its header block is compressed. */
  #enqueue(item: Buffer | Promise<Buffer>): boolean {
    if (this.#ended) return true;
    this.#out.push(item);
    this.#pump();
    return !this.#transportFull;
  }

  #pump(): void {
    if (this.#writing) return;
    // Bounded by the queue: every pass removes its head or waits on it.
    while (this.#out.length > 0) {
      const head = this.#out[0]!;
      if (head instanceof Promise) {
        this.#writing = true;
        head.then(
          (bytes) => {
            this.#writing = false;
            this.#out[0] = bytes;
            this.#pump();
          },
          (err: Error) => {
            this.#writing = false;
            this.#fail(err);
          },
        );
        return;
      }
      this.#out.shift();
      if (!this.#transport.write(head)) this.#transportFull = true;
    }
  }

  async #process(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      // Bounded by the frames read; each is handled once.
      while (this.#incoming.length > 0 && !this.#ended) {
        const raw = this.#incoming.shift()!;
        if (this.#incoming.length <= this.#limits.pendingFramesMax / 2) this.#resume("frames");
        let block: Buffer | undefined;
        if (raw.kind === "control") {
          const offset = headerBlockOffset(raw.type);
          if (offset !== null) {
            if (raw.payload.length < offset) throw new SpdyProtocolError(`control frame ${raw.type} of ${raw.payload.length} bytes is too short`);
            block = await this.#decompressor.decompress(raw.payload.subarray(offset));
          }
        }
        const frame = decodeFrame(raw, block, HEADER_BLOCK_LIMITS_DEFAULT);
        if (frame !== null) this.#handle(frame);
      }
    } catch (err) {
      this.#fail(err as Error);
    } finally {
      this.#processing = false;
    }
  }

  #handle(frame: Frame): void {
    switch (frame.type) {
      case "SYN_STREAM":
        return this.#onSynStream(frame);
      case "SYN_REPLY": {
        const s = this.#streams.get(frame.streamId);
        if (s === undefined || s.replyReceived) return;
        s.gotReply(frame.headers);
        if (frame.fin) this.#remoteFin(s);
        return;
      }
      case "HEADERS": {
        const s = this.#streams.get(frame.streamId);
        if (s !== undefined && frame.fin) this.#remoteFin(s);
        return;
      }
      case "DATA":
        return this.#onData(frame);
      case "RST_STREAM": {
        const s = this.#streams.get(frame.streamId);
        if (s === undefined) return;
        const err = new SpdyStreamResetError(frame.status, `stream ${s.id} was reset by the peer (status ${frame.status})`);
        this.resetStream(s, frame.status, false);
        s.failReply(err);
        s.destroy(err);
        return;
      }
      case "SETTINGS":
        for (const setting of frame.settings) {
          if (setting.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = setting.value - this.#peerInitialWindow;
          this.#peerInitialWindow = setting.value;
          this.#peerFlowControl = true;
          for (const s of this.#streams.values()) s.sendWindow += delta;
        }
        for (const s of this.#streams.values()) if (s.pending.length > 0) this.flushStream(s);
        return;
      case "PING": {
        if ((frame.id & 1) !== (this.#o.server ? 0 : 1)) {
          this.#enqueue(encodeFrame(frame));
          return;
        }
        const answered = this.#pings.get(frame.id);
        this.#pings.delete(frame.id);
        answered?.();
        return;
      }
      case "GOAWAY":
        this.#goneAway = true;
        if (this.#streams.size === 0) this.#end(null);
        return;
      case "WINDOW_UPDATE": {
        this.#peerFlowControl = true;
        if (frame.streamId === 0) {
          this.#sessionSendWindow = Math.min(WINDOW_BYTES_LIMIT, this.#sessionSendWindow + frame.deltaWindowSize);
          for (const s of this.#streams.values()) if (s.pending.length > 0) this.flushStream(s);
          return;
        }
        const s = this.#streams.get(frame.streamId);
        if (s === undefined) return;
        if (s.sendWindow + frame.deltaWindowSize > WINDOW_BYTES_LIMIT) {
          this.resetStream(s, RstStatus.FLOW_CONTROL_ERROR, true);
          s.destroy(new SpdyStreamResetError(RstStatus.FLOW_CONTROL_ERROR, `stream ${s.id}: window over 2^31-1`));
          return;
        }
        s.sendWindow += frame.deltaWindowSize;
        this.flushStream(s);
        return;
      }
    }
  }

  #onSynStream(frame: Extract<Frame, { type: "SYN_STREAM" }>): void {
    const rst = (status: number) => this.#enqueue(encodeFrame({ type: "RST_STREAM", streamId: frame.streamId, status }));
    const peerParity = this.#o.server ? 1 : 0;
    if ((frame.streamId & 1) !== peerParity || frame.streamId <= this.#lastPeerStreamId) return void rst(RstStatus.PROTOCOL_ERROR);
    this.#lastPeerStreamId = frame.streamId;
    if (this.#goneAway) return void rst(RstStatus.REFUSED_STREAM);
    if (this.#streams.size >= this.#limits.streamsMax) return void rst(RstStatus.REFUSED_STREAM);
    const stream = this.#newStream(frame.streamId, frame.headers);
    stream.replyReceived = true;
    if (frame.fin) this.#remoteFin(stream);
    if (frame.unidirectional) {
      stream.localClosed = true;
      stream.end();
    }
    if (this.#o.onStream === undefined) {
      stream.reset(RstStatus.REFUSED_STREAM);
      return;
    }
    this.#o.onStream(stream);
  }

  #onData(frame: Extract<Frame, { type: "DATA" }>): void {
    this.#sessionReceived += frame.data.length;
    const s = this.#streams.get(frame.streamId);
    if (s === undefined) {
      // A stream already reset or finished (frames in flight when we reset it): credit the session and drop.
      this.#sessionCredited += frame.data.length;
      return;
    }
    if (s.remoteClosed) {
      this.resetStream(s, RstStatus.STREAM_ALREADY_CLOSED, true);
      s.destroy(new SpdyStreamResetError(RstStatus.STREAM_ALREADY_CLOSED, `stream ${s.id}: data after FIN`));
      return;
    }
    if (frame.data.length > 0) {
      s.received += frame.data.length;
      s.recvWindow -= frame.data.length;
      s.push(frame.data);
      if (s.readableLength > this.#limits.streamBufferBytesMax && !s.congested) {
        s.congested = true;
        this.#pause("stream");
      }
    }
    if (frame.fin) this.#remoteFin(s);
  }

  #remoteFin(s: SpdyStream): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    s.push(null);
    this.#maybeForget(s);
  }

  #maybeForget(s: SpdyStream): void {
    if (s.localClosed && s.remoteClosed) this.#forget(s);
  }

  #forget(s: SpdyStream): void {
    this.#streams.delete(s.id);
    if (s.congested) {
      s.congested = false;
      if (![...this.#streams.values()].some((x) => x.congested)) this.#resume("stream");
    }
    if (this.#goneAway && this.#streams.size === 0) this.#end(null);
  }

  #pause(why: string): void {
    if (this.#pausedFor.size === 0) this.#transport.pause();
    this.#pausedFor.add(why);
  }

  #resume(why: string): void {
    if (!this.#pausedFor.delete(why)) return;
    if (this.#pausedFor.size === 0) this.#transport.resume();
  }

  #fail(err: Error): void {
    if (this.#ended) return;
    this.#o.log.warn("spdy session failed", { err: err.message });
    this.#enqueue(encodeFrame({ type: "GOAWAY", lastGoodStreamId: this.#lastPeerStreamId, status: err instanceof SpdyProtocolError ? GoAwayStatus.PROTOCOL_ERROR : GoAwayStatus.INTERNAL_ERROR }));
    this.#end(new SpdyStreamResetError(RstStatus.CANCEL, `session failed: ${err.message}`));
  }

  #end(err: Error | null): void {
    if (this.#ended) return;
    // Bytes already queued (a final GOAWAY, a last FIN) go out before the transport closes.
    const flushed = Promise.all(this.#out.filter((x): x is Promise<Buffer> => x instanceof Promise).map((p) => p.catch(() => Buffer.alloc(0))));
    this.#ended = true;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    // Streams are destroyed without an error (no 'error' for every stream of a closed connection):
    // their users see 'close' without 'end', and `done` says the session is over.
    for (const s of streams) {
      s.resetDone = true;
      s.failReply(err ?? new SpdyStreamResetError(RstStatus.CANCEL, "session ended"));
      s.destroy();
    }
    for (const resolve of this.#pings.values()) resolve();
    this.#pings.clear();
    void flushed.then(() => {
      for (const item of this.#out.splice(0)) if (!(item instanceof Promise)) this.#transport.write(item);
      this.#transport.end();
      this.#compressor.close();
      this.#decompressor.close();
      this.#resolveDone();
    });
  }
}
