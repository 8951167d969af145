import type { Clock, Timer } from "./env.js";

/** A clock that moves only when told: for deterministic tests and the simulator. */
export class ManualClock implements Clock {
  #now: number;
  #timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  #seq = 0;
  constructor(startMs = 0) {
    this.#now = startMs;
  }
  nowMs(): number {
    return this.#now;
  }
  wallMs(): number {
    return 1_700_000_000_000 + this.#now;
  }
  setTimer(delayMs: number, fn: () => void): Timer {
    const t = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }
  /** Moves time forward, firing due timers in (time, creation) order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = until;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }
}
