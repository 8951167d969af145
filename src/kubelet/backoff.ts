/**
 * Per-container restart back-off (upstream's flowcontrol.Backoff as the kubelet configures it): 10 s,
 * doubling to 5 min. An entry not touched for twice the maximum is forgotten, so a container that ran
 * well for 10 minutes starts over at 10 s.
 */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
/** Containers tracked at once; the oldest entry is dropped beyond it (110 pods × a few containers fit). */
export const BACKOFF_ENTRIES_MAX = 4096;

interface Entry {
  durationMs: number;
  lastUpdateMs: number;
}

export class CrashLoopBackOff {
  readonly #entries = new Map<string, Entry>();
  constructor(readonly initialMs = BACKOFF_INITIAL_MS, readonly maxMs = BACKOFF_MAX_MS) {}

  /** The key upstream uses: one per pod instance and container. */
  static key(podNamespace: string, podName: string, podUid: string, container: string): string {
    return `${podName}_${podNamespace}_${podUid}_${container}`;
  }

  #live(key: string, nowMs: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e !== undefined && nowMs - e.lastUpdateMs > 2 * this.maxMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The current back-off period of `key` (0 when it has none). */
  durationMs(key: string, nowMs: number): number {
    return this.#live(key, nowMs)?.durationMs ?? 0;
  }

  /** True while `eventMs` (the container's last exit) is less than the current period ago. */
  isInBackOffSince(key: string, eventMs: number, nowMs: number): boolean {
    const e = this.#live(key, nowMs);
    if (e === undefined) return false;
    return nowMs - eventMs < e.durationMs;
  }

  /** True while less than the current period has passed since the last `next()` (upstream's IsInBackOffSinceUpdate). */
  isInBackOffSinceUpdate(key: string, nowMs: number): boolean {
    const e = this.#live(key, nowMs);
    if (e === undefined) return false;
    return nowMs - e.lastUpdateMs < e.durationMs;
  }

  /** Records a restart: the period starts at `initialMs` and doubles up to `maxMs`. */
  next(key: string, nowMs: number): void {
    const e = this.#live(key, nowMs);
    if (e === undefined) {
      if (this.#entries.size >= BACKOFF_ENTRIES_MAX) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(key, { durationMs: this.initialMs, lastUpdateMs: nowMs });
      return;
    }
    e.durationMs = Math.min(e.durationMs * 2, this.maxMs);
    e.lastUpdateMs = nowMs;
  }

  /** Forgets every key with this prefix (a pod that is gone). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}

/** Upstream's duration text in messages: `10s`, `1m20s`, `5m0s`. */
export function formatGoDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
