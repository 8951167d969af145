/**
 * Whether the proxy keeps up (upstream pkg/proxy/healthcheck ProxierHealthServer): healthy while nothing
 * is waiting, or while the oldest queued change is younger than the health timeout (upstream: 2 × the
 * sync period). A proxy whose syncs keep failing turns unhealthy, and /healthz says 503.
 */
import type { Clock } from "../env/env.js";

export interface ProxierHealthStatus {
  readonly healthy: boolean;
  /** Wall-clock ms of the last successful sync; 0: none yet. */
  readonly lastUpdatedWallMs: number;
  readonly currentWallMs: number;
}

export class ProxierHealth {
  readonly #clock: Clock;
  readonly #healthTimeoutMs: number;
  #oldestPendingQueuedMs: number | null = null;
  #lastUpdatedWallMs = 0;

  constructor(clock: Clock, healthTimeoutMs: number) {
    this.#clock = clock;
    this.#healthTimeoutMs = healthTimeoutMs;
  }

  /** A change arrived that the rules do not reflect yet. */
  queuedUpdate(): void {
    if (this.#oldestPendingQueuedMs === null) this.#oldestPendingQueuedMs = this.#clock.nowMs();
  }

  /** A sync finished: the rules reflect everything queued before it started. */
  updated(): void {
    this.#oldestPendingQueuedMs = null;
    this.#lastUpdatedWallMs = this.#clock.wallMs();
  }

  status(): ProxierHealthStatus {
    const pending = this.#oldestPendingQueuedMs;
    const healthy = pending === null || this.#clock.nowMs() - pending < this.#healthTimeoutMs;
    return { healthy, lastUpdatedWallMs: this.#lastUpdatedWallMs, currentWallMs: this.#clock.wallMs() };
  }

  /** The /healthz body, as upstream: `{"lastUpdated": …, "currentTime": …}` (RFC 3339 times). */
  body(): string {
    const s = this.status();
    return JSON.stringify({
      lastUpdated: new Date(s.lastUpdatedWallMs === 0 ? 0 : s.lastUpdatedWallMs).toISOString(),
      currentTime: new Date(s.currentWallMs).toISOString(),
    });
  }
}
