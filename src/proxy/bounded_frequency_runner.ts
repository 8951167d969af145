/**
 * Runs a function no more often than a minimum interval and no less often than a maximum one
 * (upstream pkg/util/async BoundedFrequencyRunner), which is how kube-proxy batches rule syncs: any number
 * of Service/EndpointSlice events between two syncs cost one sync. A token bucket of `burstRuns` tokens,
 * refilled one per `minIntervalMs`, lets a quiet proxy react at once to a single change. The function never
 * runs twice at the same time; a request during a run makes exactly one more run after it.
 */
import type { Clock, Timer } from "../env/env.js";
import { assert, rethrowIfAssertion } from "../util/assert.js";

export interface BoundedFrequencyRunnerOptions {
  /** --iptables-min-sync-period: runs are at least this far apart (after the burst). */
  readonly minIntervalMs: number;
  /** --iptables-sync-period: a run happens at least this often even without requests. */
  readonly maxIntervalMs: number;
  /** Runs allowed back to back before minIntervalMs applies (upstream kube-proxy uses 2). */
  readonly burstRuns: number;
}

export class BoundedFrequencyRunner {
  readonly #clock: Clock;
  readonly #fn: () => Promise<void>;
  readonly #o: BoundedFrequencyRunnerOptions;
  #tokens: number;
  #tokensAtMs: number;
  #lastRunMs: number;
  #pending = false;
  #retryAtMs: number | null = null;
  #running: Promise<void> | null = null;
  #timer: Timer | null = null;
  #timerAtMs = Infinity;
  #stopped = true;
  /** Runs so far (tests and metrics). */
  runs = 0;

  constructor(clock: Clock, fn: () => Promise<void>, options: BoundedFrequencyRunnerOptions) {
    assert(options.minIntervalMs >= 0, "minIntervalMs must be >= 0");
    assert(options.maxIntervalMs > 0, "maxIntervalMs must be > 0");
    assert(options.maxIntervalMs >= options.minIntervalMs, "maxIntervalMs must be >= minIntervalMs");
    assert(Number.isInteger(options.burstRuns) && options.burstRuns >= 1, "burstRuns must be an integer >= 1");
    this.#clock = clock;
    this.#fn = fn;
    this.#o = options;
    this.#tokens = options.burstRuns;
    this.#tokensAtMs = clock.nowMs();
    this.#lastRunMs = clock.nowMs();
  }

  /** Starts the periodic runs; the first comes after maxIntervalMs unless run() asks sooner. */
  start(): void {
    this.#stopped = false;
    this.#lastRunMs = this.#clock.nowMs();
    this.#schedule();
  }

  /** Asks for a run as soon as the rate allows. */
  run(): void {
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a run after `delayMs` (after a failed sync), unless one comes sooner anyway. */
  retryAfter(delayMs: number): void {
    const at = this.#clock.nowMs() + delayMs;
    if (this.#retryAtMs === null || at < this.#retryAtMs) this.#retryAtMs = at;
    this.#schedule();
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAtMs = Infinity;
    await this.#running;
  }

  #refill(now: number): void {
    if (this.#o.minIntervalMs === 0) {
      this.#tokens = this.#o.burstRuns;
    } else {
      this.#tokens = Math.min(this.#o.burstRuns, this.#tokens + (now - this.#tokensAtMs) / this.#o.minIntervalMs);
    }
    this.#tokensAtMs = now;
  }

  /** When the next run may start. */
  #nextRunAtMs(now: number): number {
    let at = this.#lastRunMs + this.#o.maxIntervalMs;
    if (this.#retryAtMs !== null) at = Math.min(at, this.#retryAtMs);
    if (this.#pending) at = Math.min(at, now);
    // The bucket gates every run, periodic ones included.
    this.#refill(now);
    if (this.#tokens < 1) at = Math.max(at, now + Math.ceil((1 - this.#tokens) * this.#o.minIntervalMs));
    return Math.max(at, now);
  }

  #schedule(): void {
    if (this.#stopped || this.#running !== null) return;
    const now = this.#clock.nowMs();
    const at = this.#nextRunAtMs(now);
    if (this.#timer !== null && this.#timerAtMs <= at) return;
    this.#timer?.cancel();
    this.#timerAtMs = at;
    this.#timer = this.#clock.setTimer(at - now, () => {
      this.#timer = null;
      this.#timerAtMs = Infinity;
      this.#tick();
    });
  }

  #tick(): void {
    if (this.#stopped || this.#running !== null) return;
    const now = this.#clock.nowMs();
    if (this.#nextRunAtMs(now) > now) return this.#schedule();
    this.#tokens -= 1;
    this.#pending = false;
    this.#retryAtMs = null;
    this.#lastRunMs = now;
    this.runs++;
    this.#running = this.#fn()
      .catch(rethrowIfAssertion) // the function reports its own failures (and asks for retryAfter)
      .finally(() => {
        this.#running = null;
        this.#schedule();
      });
  }
}
