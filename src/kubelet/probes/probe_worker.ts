/**
 * One probe of one container instance (upstream's prober worker): runs every `periodSeconds` from
 * `initialDelaySeconds` after the container started, and flips its result only after
 * `successThreshold` successes or `failureThreshold` failures in a row. Time comes from the injected
 * clock, the probe itself from `run`, so tests drive it with a ManualClock.
 *
 *   readiness: starts Failure (not ready); liveness: starts Success; startup: starts Failure (not started)
 *   liveness/startup reaching Failure: the container will be killed — the worker stops (upstream's onHold)
 *   startup reaching Success: done, the worker stops; liveness and readiness wait for it
 */
import type { Probe } from "kubernetes-types/core/v1.js";
import type { Clock, Timer } from "../../env/env.js";
import type { ProbeResult } from "./prober.js";

export type ProbeType = "liveness" | "readiness" | "startup";

export interface ProbeWorkerOptions {
  readonly clock: Clock;
  readonly type: ProbeType;
  readonly probe: Probe;
  /** When the container started (wall ms). */
  readonly startedAtMs: number;
  readonly run: () => Promise<ProbeResult>;
  /** The thresholded result changed. */
  readonly onResult: (success: boolean, output: string) => void;
  /** One attempt failed (for the `Unhealthy` event). */
  readonly onFailedAttempt: (output: string) => void;
  /** Liveness and readiness probes wait until the startup probe (if any) succeeded. */
  readonly started: () => boolean;
}

export class ProbeWorker {
  readonly #o: ProbeWorkerOptions;
  #timer: Timer | null = null;
  #stopped = false;
  #running = false;
  #last: boolean | null = null;
  #run = 0;
  result: boolean;

  constructor(options: ProbeWorkerOptions) {
    this.#o = options;
    this.result = options.type === "liveness";
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    const delayMs = Math.max(0, this.#o.startedAtMs + (this.#o.probe.initialDelaySeconds ?? 0) * 1000 - this.#o.clock.wallMs());
    this.#schedule(delayMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(ms, () => void this.tick());
  }

  /** One round: probe (unless waiting for startup), apply thresholds, schedule the next. */
  async tick(): Promise<void> {
    this.#timer = null;
    if (this.#stopped || this.#running) return;
    const periodMs = Math.max(1, this.#o.probe.periodSeconds ?? 10) * 1000;
    if (this.#o.type !== "startup" && !this.#o.started()) {
      this.#schedule(periodMs);
      return;
    }
    this.#running = true;
    let r: ProbeResult;
    try {
      r = await this.#o.run();
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    if (!r.success) this.#o.onFailedAttempt(r.output);
    if (this.#last === r.success) this.#run++;
    else {
      this.#last = r.success;
      this.#run = 1;
    }
    const threshold = r.success ? (this.#o.probe.successThreshold ?? 1) : (this.#o.probe.failureThreshold ?? 3);
    if (this.#run >= threshold && this.result !== r.success) {
      this.result = r.success;
      this.#o.onResult(r.success, r.output);
    }
    if (this.#o.type === "startup" && this.result) return this.stop();
    if (this.#o.type !== "readiness" && !this.result && this.#run >= threshold) return this.stop();
    this.#schedule(periodMs);
  }
}
