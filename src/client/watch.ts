/**
 * A watch response read as a stream of events. The API server writes one JSON object per line,
 * `{"type":"ADDED","object":{...}}`; an ERROR event carries a metav1.Status (410 Expired when the
 * requested resourceVersion is older than the server keeps). The stream is bounded: the socket is paused
 * while WATCH_EVENTS_BUFFERED_MAX decoded events wait for the consumer, and a line longer than
 * WATCH_LINE_BYTES_MAX ends the watch with an error instead of growing without limit.
 */
import type { IncomingMessage } from "node:http";
import type { Status } from "../api/status.js";

/** Decoded events held for a slow consumer before the socket is paused (TCP then pushes back on the server). */
export const WATCH_EVENTS_BUFFERED_MAX = 256;
/** The largest event line accepted: an object is at most 1.5 MiB in etcd, plus JSON escaping headroom. */
export const WATCH_LINE_BYTES_MAX = 16 * 1024 * 1024;

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One event; `object` is the Status for ERROR, otherwise the object (for BOOKMARK, only its resourceVersion is meaningful). */
export type WatchEvent<T> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: T }
  | { readonly type: "ERROR"; readonly object: Status };

/** A watch that can be iterated once with `for await` and stopped from anywhere. */
export interface WatchStream<T> extends AsyncIterable<WatchEvent<T>> {
  /** Ends the watch: closes the connection; a pending `next()` finishes with done. Idempotent. */
  stop(): void;
}

/** The newline-delimited JSON decoder over a watch response body. */
export class HttpWatchStream<T> implements WatchStream<T> {
  readonly #res: IncomingMessage;
  readonly #abort: () => void;
  readonly #events: WatchEvent<T>[] = [];
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #ended = false;
  #error: Error | null = null;
  #stopped = false;
  #wake: (() => void) | null = null;
  #iterated = false;

  constructor(res: IncomingMessage, abort: () => void) {
    this.#res = res;
    this.#abort = abort;
    res.on("data", (chunk: Buffer) => this.#onData(chunk));
    res.on("end", () => this.#finish(null));
    res.on("error", (err) => this.#finish(err));
    res.on("close", () => this.#finish(null));
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort();
    this.#finish(null);
  }

  #finish(err: Error | null): void {
    if (this.#ended) return;
    this.#ended = true;
    // An error after stop() is only the connection being torn down on purpose.
    if (err !== null && !this.#stopped) this.#error = err;
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #onData(chunk: Buffer): void {
    if (this.#ended) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
      if (line.length === 0) continue;
      let event: WatchEvent<T>;
      try {
        event = JSON.parse(line.toString("utf8")) as WatchEvent<T>;
      } catch (err) {
        this.#fail(new Error(`Cannot decode watch event: ${(err as Error).message}`, { cause: err }));
        return;
      }
      if (event === null || typeof event !== "object" || typeof event.type !== "string" || typeof event.object !== "object") {
        this.#fail(new Error(`Cannot decode watch event: not {type, object}: ${line.subarray(0, 200).toString("utf8")}`));
        return;
      }
      this.#events.push(event);
    }
    if (start < chunk.length) {
      this.#pending.push(chunk.subarray(start));
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > WATCH_LINE_BYTES_MAX) {
        this.#fail(new Error(`Cannot decode watch event: line longer than ${WATCH_LINE_BYTES_MAX} bytes`));
        return;
      }
    }
    if (this.#events.length >= WATCH_EVENTS_BUFFERED_MAX) this.#res.pause();
    this.#signal();
  }

  #fail(err: Error): void {
    this.#abort();
    this.#finish(err);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.#iterated) throw new Error("Cannot iterate a watch twice: its events are consumed by the first reader");
    this.#iterated = true;
    try {
      // Ends when the server closes the response, the connection fails, or stop() is called.
      for (;;) {
        if (this.#stopped) return;
        const event = this.#events.shift();
        if (event !== undefined) {
          if (this.#events.length < WATCH_EVENTS_BUFFERED_MAX / 2 && this.#res.isPaused()) this.#res.resume();
          yield event;
          continue;
        }
        if (this.#ended) {
          if (this.#error !== null) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      this.stop();
    }
  }
}
