import type { Rng } from "./env.js";

/** xorshift32: tiny, fast, and the same sequence for the same seed (simulation replays exactly). */
export class SeededRng implements Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }
  nextU32(): number {
    let x = this.#state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
}
