/**
 * A running container's live output for `kubectl attach`: each attached client gets its own streams and
 * sees output from the moment it attached (earlier output is in the log file). A client that cannot keep
 * up is cut off rather than buffered without end.
 */
import { PassThrough } from "node:stream";
import type { LogStream } from "./cri_log.js";

/** Attached clients per container. */
export const ATTACH_SUBSCRIBERS_MAX = 16;
/** Output buffered for one slow attached client before it is cut off. */
export const ATTACH_BUFFER_BYTES_MAX = 1024 * 1024;

interface Subscriber {
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
}

export interface Subscription {
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
  unsubscribe(): void;
}

export class OutputFanout {
  readonly #subs = new Set<Subscriber>();
  #ended = false;

  get size(): number {
    return this.#subs.size;
  }

  /**
   * Subscribes to the streams asked for. With `merge` (a tty), stderr goes to the stdout stream.
   * Returns null at ATTACH_SUBSCRIBERS_MAX.
   */
  subscribe(want: { stdout: boolean; stderr: boolean; merge: boolean }): Subscription | null {
    if (this.#subs.size >= ATTACH_SUBSCRIBERS_MAX) return null;
    const stdout = want.stdout || (want.merge && want.stderr) ? new PassThrough() : null;
    const stderr = !want.merge && want.stderr ? new PassThrough() : null;
    const sub: Subscriber = want.merge ? { stdout, stderr: stdout } : { stdout, stderr };
    if (this.#ended) {
      stdout?.end();
      stderr?.end();
    } else {
      this.#subs.add(sub);
    }
    const unsubscribe = (): void => {
      if (!this.#subs.delete(sub)) return;
      stdout?.end();
      if (stderr !== stdout) stderr?.end();
    };
    return { stdout, stderr: want.merge ? null : stderr, unsubscribe };
  }

  publish(stream: LogStream, chunk: Uint8Array): void {
    for (const sub of this.#subs) {
      const out = stream === "stdout" ? sub.stdout : sub.stderr;
      if (out === null || out.destroyed) continue;
      if (out.writableLength + chunk.length > ATTACH_BUFFER_BYTES_MAX) {
        this.#subs.delete(sub);
        const err = new Error(`Cannot attach: the client fell ${ATTACH_BUFFER_BYTES_MAX} bytes behind the container's output`);
        sub.stdout?.destroy(err);
        sub.stderr?.destroy(err);
        continue;
      }
      out.write(chunk);
    }
  }

  /** The container exited: every attached stream ends. */
  end(): void {
    this.#ended = true;
    for (const sub of this.#subs) {
      sub.stdout?.end();
      if (sub.stderr !== sub.stdout) sub.stderr?.end();
    }
    this.#subs.clear();
  }
}
