/**
 * A running hash of everything that happened in a run (deliveries, client answers, faults), in two
 * 32-bit lanes (FNV-1a and a multiply-xorshift). Two runs of the same seed must end with the same value:
 * that is what "replays exactly" means, checked cheaply without storing the trace.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class TraceHash {
  #a = FNV_OFFSET;
  #b = 0x9e3779b9;
  #events = 0;
  /** Keeps the last few lines so a failing run can print what led up to it (bounded). */
  readonly #tail: string[] = [];
  readonly #tailMax: number;

  constructor(options: { tailMax?: number } = {}) {
    this.#tailMax = options.tailMax ?? 0;
  }

  add(line: string): void {
    let a = this.#a;
    let b = this.#b;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.#a = Math.imul(a ^ 0x0a, FNV_PRIME);
    this.#b = Math.imul(b ^ 0x0a, 0x5bd1e995);
    this.#events++;
    if (this.#tailMax > 0) {
      this.#tail.push(line);
      if (this.#tail.length > this.#tailMax) this.#tail.shift();
    }
  }

  get events(): number {
    return this.#events;
  }

  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, "0") + (this.#b >>> 0).toString(16).padStart(8, "0");
  }

  tail(): readonly string[] {
    return this.#tail;
  }
}
