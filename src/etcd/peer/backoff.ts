/**
 * Capped exponential backoff for redialling a peer: the first retry comes fast (a restarted member is
 * back within one election timeout), later ones slow down so a long-dead peer costs little.
 * No jitter: each member dials each peer at most once per delay, so there is no herd to spread.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** etcd's stream reader redials every 100 ms; we start there and cap at 2 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 2_000 };

export class Backoff {
  #nextMs: number;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(
        `Cannot back off: need 0 < initialMs <= maxMs: current value is initialMs=${options.initialMs} maxMs=${options.maxMs}`,
      );
    }
    this.#nextMs = options.initialMs;
  }

  /** The delay before the next attempt; each call doubles the following one, up to the cap. */
  next(): number {
    const delay = this.#nextMs;
    this.#nextMs = Math.min(this.#nextMs * 2, this.options.maxMs);
    return delay;
  }

  /** A connection worked: the next failure retries fast again. */
  reset(): void {
    this.#nextMs = this.options.initialMs;
  }
}
