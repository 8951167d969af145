/**
 * Two SPDY sessions joined back to back in memory, for tests: what one writes the other receives on a
 * later tick (as over a socket); a session's pause() holds what is sent to it until resume(); a `full`
 * flag makes writes report a full buffer until `drain()`.
 */
import type { SpdySession, SpdyTransport } from "./session.js";

export class MemoryTransport implements SpdyTransport {
  /** The session this transport belongs to (it receives what the peer transport writes). */
  session: SpdySession | null = null;
  peer: MemoryTransport | null = null;
  paused = false;
  ended = false;
  full = false;
  pauseCount = 0;
  /** Bytes this side wrote. */
  written = 0;
  #held: Buffer[] = [];

  write(bytes: Buffer): boolean {
    if (this.ended) return true;
    this.written += bytes.length;
    this.peer?.deliver(Buffer.from(bytes));
    return !this.full;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const peer = this.peer;
    setImmediate(() => {
      this.session?.transportClosed();
      peer?.session?.transportClosed();
    });
  }

  pause(): void {
    this.paused = true;
    this.pauseCount++;
  }

  resume(): void {
    this.paused = false;
    const held = this.#held;
    this.#held = [];
    for (const b of held) this.deliver(b);
  }

  /** Lifts `full` and tells the session. */
  drain(): void {
    this.full = false;
    this.session?.transportDrained();
  }

  /** Bytes sent to this side and held while it is paused. */
  get heldBytes(): number {
    return this.#held.reduce((n, b) => n + b.length, 0);
  }

  /** Bytes the peer wrote, for this side's session. */
  deliver(bytes: Buffer): void {
    if (this.paused) {
      this.#held.push(bytes);
      return;
    }
    setImmediate(() => {
      if (this.paused) this.#held.push(bytes);
      else this.session?.receive(bytes);
    });
  }
}

/** Two transports wired to each other; set `.session` on each after creating the sessions. */
export function memoryTransportPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
