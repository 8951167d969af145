import type { Rng } from "../../src/env/env.js";

/** Helpers over an injected Rng, so every random choice in the simulator comes from the run's seed. */
export class SimRandom {
  constructor(readonly rng: Rng) {}

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.rng.nextU32() % n;
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.rng.nextU32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Cannot pick: the list is empty");
    return items[this.int(items.length)]!;
  }
}
