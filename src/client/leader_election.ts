/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection). Candidates race
 * to write themselves as spec.holderIdentity; the write carries the Lease's resourceVersion, so of two
 * concurrent writers one gets 409 Conflict and loses the round. The holder renews every retryPeriod;
 * a candidate takes over only after it has watched the record stay unchanged for leaseDuration, measured
 * on its own clock from when it last saw a change (never by comparing renewTime with its clock, so
 * clock skew between machines does not matter). A holder that cannot renew within renewDeadline stops
 * leading (onStoppedLeading) before any other candidate can take over (renewDeadline < leaseDuration).
 *
 *   A: create {holder A, transitions 0}          B: get → held by A, valid; wait
 *   A: renew every 2 s ... A stops               B: record unchanged for 15 s → update {holder B, transitions 1}
 */
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Env, Timer } from "../env/env.js";
import { ApiError } from "../api/status.js";
import { rethrowIfAssertion } from "../util/assert.js";
import type { ResourceClient, RestClient } from "./rest_client.js";

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: retries wait retryPeriod × [1, 1.2). */
export const JITTER_FACTOR = 1.2;

export interface LeaderCallbacks {
  /** Now leading; `signal` aborts when leadership ends. Start the controllers here. */
  onStartedLeading(signal: AbortSignal): void;
  /** Leadership ended (lost the lease or stopped). Called only after onStartedLeading. */
  onStoppedLeading(): void;
  /** The observed holder changed (also for ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  /** Unique per candidate: `hostname_uuid` upstream. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** On stop(), give the lease up at once (holder "", duration 1 s) so a successor need not wait. */
  readonly releaseOnCancel?: boolean;
  readonly callbacks: LeaderCallbacks;
}

/** metav1.MicroTime on the wire: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function recordOf(lease: Lease): string {
  const s = lease.spec ?? {};
  return JSON.stringify([s.holderIdentity ?? "", s.leaseDurationSeconds ?? 0, s.acquireTime ?? "", s.renewTime ?? "", s.leaseTransitions ?? 0]);
}

export class LeaderElector {
  readonly #env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>;
  readonly #leases: ResourceClient<Lease>;
  readonly #c: Required<Omit<LeaderElectionConfig, "callbacks">> & { callbacks: LeaderCallbacks };
  #observed: Lease | null = null;
  #observedRecord = "";
  #observedAtMs = 0;
  #reportedLeader = "";
  #stopped = false;
  #leading: AbortController | null = null;
  #running: Promise<void> | null = null;
  #sleeping: { timer: Timer; wake: () => void } | null = null;
  /** tryAcquireOrRenew rounds finished (tests wait on it). */
  attempts = 0;

  constructor(env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>, client: RestClient, config: LeaderElectionConfig) {
    const c = {
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_PERIOD_MS,
      releaseOnCancel: false,
      ...config,
    };
    if (c.leaseDurationMs <= c.renewDeadlineMs) throw new Error("leaseDuration must be greater than renewDeadline");
    if (c.renewDeadlineMs <= JITTER_FACTOR * c.retryPeriodMs) throw new Error("renewDeadline must be greater than retryPeriod*JitterFactor");
    if (c.retryPeriodMs < 1) throw new Error("retryPeriod must be greater than zero");
    if (c.identity === "") throw new Error("Lock identity is empty");
    this.#env = env;
    this.#c = c;
    this.#leases = client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace(c.namespace);
  }

  /** True while this candidate holds the lease as far as it last observed. */
  isLeader(): boolean {
    return this.#observed?.spec?.holderIdentity === this.#c.identity && this.#leading !== null;
  }

  /** The holder last observed ("" if none). */
  getLeader(): string {
    return this.#observed?.spec?.holderIdentity ?? "";
  }

  /** Campaigns, leads until the lease is lost or stop(); resolves then. */
  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops campaigning or leading; releases the lease first if releaseOnCancel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sleeping?.wake();
    await this.#running;
  }

  async #run(): Promise<void> {
    if (!(await this.#acquire())) return;
    const leading = new AbortController();
    this.#leading = leading;
    this.#env.log.info("successfully acquired lease", { lease: `${this.#c.namespace}/${this.#c.name}`, identity: this.#c.identity });
    this.#safe("onStartedLeading", () => this.#c.callbacks.onStartedLeading(leading.signal));
    await this.#renew();
    this.#leading = null;
    leading.abort();
    if (this.#stopped && this.#c.releaseOnCancel) await this.#release();
    this.#safe("onStoppedLeading", () => this.#c.callbacks.onStoppedLeading());
  }

  /** Tries every retryPeriod until it holds the lease; false if stopped first. */
  async #acquire(): Promise<boolean> {
    this.#env.log.info("attempting to acquire leader lease", { lease: `${this.#c.namespace}/${this.#c.name}`, identity: this.#c.identity });
    // Runs until the lease is ours or stop(): a candidate waits for as long as another leads.
    while (!this.#stopped) {
      if (await this.#tryAcquireOrRenew()) return !this.#stopped;
      await this.#sleep(this.#jittered());
    }
    return false;
  }

  /**
   * Renews every retryPeriod; returns when no renewal has succeeded for renewDeadline, or on stop().
   * The deadline counts from the last success (upstream counts from the first retry after it, one
   * retryPeriod later): stricter, so a leader always steps down well before leaseDuration runs out.
   */
  async #renew(): Promise<void> {
    let deadlineMs = this.#env.clock.nowMs() + this.#c.renewDeadlineMs;
    // Runs for as long as we lead; each turn is one renewal attempt.
    while (!this.#stopped) {
      await this.#sleep(this.#c.retryPeriodMs);
      if (this.#stopped) return;
      if (await this.#tryAcquireOrRenew()) {
        deadlineMs = this.#env.clock.nowMs() + this.#c.renewDeadlineMs;
        continue;
      }
      if (this.#env.clock.nowMs() >= deadlineMs) {
        this.#env.log.info("failed to renew lease", { lease: `${this.#c.namespace}/${this.#c.name}`, identity: this.#c.identity, error: "timed out waiting for the condition" });
        return;
      }
    }
  }

  #jittered(): number {
    const r = this.#env.rng === undefined ? 0 : this.#env.rng.nextU32() / 2 ** 32;
    return this.#c.retryPeriodMs * (1 + (JITTER_FACTOR - 1) * r);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        timer.cancel();
        this.#sleeping = null;
        resolve();
      };
      const timer = this.#env.clock.setTimer(ms, wake);
      this.#sleeping = { timer, wake };
    });
  }

  #safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      rethrowIfAssertion(err);
      this.#env.log.error("leader election callback failed", { callback: what, error: (err as Error).message });
    }
  }

  #observe(lease: Lease, nowMs: number): void {
    const record = recordOf(lease);
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAtMs = nowMs;
    }
    this.#observed = lease;
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      if (holder !== "") {
        this.#env.log.info("new leader elected", { lease: `${this.#c.namespace}/${this.#c.name}`, leader: holder });
        const cb = this.#c.callbacks.onNewLeader;
        if (cb !== undefined) this.#safe("onNewLeader", () => cb(holder));
      }
    }
  }

  /** One round of client-go's tryAcquireOrRenew: true when we hold the lease after it. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    try {
      return await this.#tryAcquireOrRenewOnce();
    } catch (err) {
      rethrowIfAssertion(err);
      // Conflicts (another candidate wrote first) and transport errors just lose this round.
      this.#env.log.debug("error retrieving or updating lease", { lease: `${this.#c.namespace}/${this.#c.name}`, error: (err as Error).message });
      return false;
    } finally {
      this.attempts++;
    }
  }

  async #tryAcquireOrRenewOnce(): Promise<boolean> {
    const { clock } = this.#env;
    const timeoutMs = this.#c.renewDeadlineMs;
    const durationS = Math.round(this.#c.leaseDurationMs / 1000);
    const now = microTime(clock.wallMs());
    let current: Lease;
    try {
      current = await this.#leases.client.request<Lease>({
        method: "GET",
        path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#c.namespace)}/leases/${encodeURIComponent(this.#c.name)}`,
        timeoutMs,
      });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      const created = await this.#leases.create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.#c.name, namespace: this.#c.namespace },
        spec: { holderIdentity: this.#c.identity, leaseDurationSeconds: durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      });
      this.#observe(created, clock.nowMs());
      return true;
    }
    this.#observe(current, clock.nowMs());
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const iHold = holder === this.#c.identity;
    const valid = this.#observedAtMs + (spec.leaseDurationSeconds ?? durationS) * 1000 > clock.nowMs();
    if (holder !== "" && !iHold && valid) return false;
    const next: Lease = {
      ...current,
      spec: {
        holderIdentity: this.#c.identity,
        leaseDurationSeconds: durationS,
        acquireTime: iHold ? (spec.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: iHold ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    // The update carries current.metadata.resourceVersion: a concurrent writer makes it a 409.
    const updated = await this.#leases.update(next);
    this.#observe(updated, clock.nowMs());
    return true;
  }

  /** Gives the lease up (upstream's release): holder "", duration 1 s, transitions kept. */
  async #release(): Promise<void> {
    const lease = this.#observed;
    if (lease === null || lease.spec?.holderIdentity !== this.#c.identity) return;
    const now = microTime(this.#env.clock.wallMs());
    try {
      const released = await this.#leases.update({
        ...lease,
        spec: { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      });
      this.#observe(released, this.#env.clock.nowMs());
    } catch (err) {
      rethrowIfAssertion(err);
      this.#env.log.warn("failed to release lease", { lease: `${this.#c.namespace}/${this.#c.name}`, error: (err as Error).message });
    }
  }
}
