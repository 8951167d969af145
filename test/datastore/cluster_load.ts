/**
 * A client load for the cluster fault tests: writers put unique values through every endpoint in turn and
 * record each write the server acknowledged, so a check can prove none was lost. Each key belongs to one
 * writer and its values carry the writer's sequence number, so "this value or a later one" is decidable
 * even when a write that failed (timed out) was in fact applied.
 */
import { rawEtcdClient, type RawEtcdClient } from "../harness/grpc_client.js";

/** The deadline on one put: long enough for a commit under load, short enough to move on from a dead member. */
export const PUT_TIMEOUT_MS = 3_000;
/** A failed put backs off this long, so a writer on a dead endpoint does not spin. */
const FAILURE_BACKOFF_MS = 50;
/** Enough violations to show a pattern in a report. */
const ORDER_VIOLATIONS_KEPT = 100;

export interface AckedWrite {
  readonly key: string;
  readonly seq: number;
  readonly revision: number;
  readonly endpoint: string;
}

export interface LoadOptions {
  /** Concurrent writers (each waits for its put before the next). */
  readonly writers: number;
  /** Keys per writer; writes cycle over them, so keys are overwritten many times. */
  readonly keysPerWriter: number;
  /** Key prefix, unique per test. */
  readonly prefix: string;
}

/** Writers spreading puts over `endpoints()` (re-read before every put, so members can come and go). */
export class ContinuousLoad {
  /** The last acknowledged sequence number of each key. */
  readonly lastAcked = new Map<string, AckedWrite>();
  /** The highest sequence number each writer sent (acknowledged or not). */
  readonly #maxSent: number[];
  readonly #clients = new Map<string, RawEtcdClient>();
  #ackCount = 0;
  /** Each writer's latest acknowledged put, for the revision-order check. */
  readonly #lastAckOf: Array<AckedWrite | undefined> = [];
  #running: Promise<void>[] = [];
  #stopRequested = false;
  attempts = 0;
  failures = 0;
  /** Per-writer revision order violations: a later acknowledged put with a revision not above an earlier one. */
  readonly orderViolations: string[] = [];
  /** Failure messages by text, counted, for the diagnostic. */
  readonly failureKinds = new Map<string, number>();

  constructor(readonly endpoints: () => readonly string[], readonly options: LoadOptions) {
    this.#maxSent = Array.from({ length: options.writers }, () => 0);
  }

  get acked(): number {
    return this.#ackCount;
  }

  start(): void {
    this.#stopRequested = false;
    this.#running = Array.from({ length: this.options.writers }, (_, w) => this.#writer(w));
  }

  /** Stops the writers after their current put and closes the clients. */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    await Promise.all(this.#running);
    this.#running = [];
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /** Resolves once `count` more writes have been acknowledged; rejects after `timeoutMs`. */
  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const target = this.acked + count;
    const deadline = Date.now() + timeoutMs;
    // Bounded by the deadline.
    while (this.acked < target) {
      if (Date.now() >= deadline) {
        throw new Error(`Only ${this.acked - (target - count)} of ${count} writes were acknowledged within ${timeoutMs} ms (failures: ${this.#failureSummary()})`);
      }
      await sleep(25);
    }
  }

  async #writer(w: number): Promise<void> {
    let turn = w;
    // Bounded: stops when asked; each iteration awaits one put with a deadline (plus a short back-off on failure).
    while (!this.#stopRequested) {
      const endpoints = this.endpoints();
      if (endpoints.length === 0) {
        await sleep(FAILURE_BACKOFF_MS);
        continue;
      }
      const endpoint = endpoints[turn++ % endpoints.length]!;
      const seq = ++this.#maxSent[w]!;
      const key = `${this.options.prefix}w${w}/k${seq % this.options.keysPerWriter}`;
      this.attempts += 1;
      try {
        const { revision } = await this.#client(endpoint).put(key, `${w}:${seq}`);
        const ack = { key, seq, revision, endpoint };
        const previous = this.#lastAckOf[w];
        this.#lastAckOf[w] = ack;
        if (previous !== undefined && previous.revision >= revision && this.orderViolations.length < ORDER_VIOLATIONS_KEPT) {
          this.orderViolations.push(`writer ${w}: put seq ${seq} acknowledged at revision ${revision} via ${endpoint} after seq ${previous.seq} at revision ${previous.revision} via ${previous.endpoint}`);
        }
        this.#ackCount += 1;
        this.lastAcked.set(key, ack);
      } catch (err) {
        this.failures += 1;
        const text = (err instanceof Error ? err.message : String(err)).replace(/\d+ ms/g, "N ms").slice(0, 120);
        this.failureKinds.set(text, (this.failureKinds.get(text) ?? 0) + 1);
        // A fresh channel next time: grpc-js would otherwise keep a restarted member in reconnect back-off.
        this.#clients.get(endpoint)?.close();
        this.#clients.delete(endpoint);
        await sleep(FAILURE_BACKOFF_MS);
      }
    }
  }

  #client(endpoint: string): RawEtcdClient {
    let client = this.#clients.get(endpoint);
    if (client === undefined) {
      client = rawEtcdClient(endpoint, PUT_TIMEOUT_MS);
      this.#clients.set(endpoint, client);
    }
    return client;
  }

  #failureSummary(): string {
    return JSON.stringify([...this.failureKinds].sort((a, b) => b[1] - a[1]).slice(0, 5));
  }

  /** A one-line summary for t.diagnostic(). */
  summary(): string {
    return `${this.attempts} puts, ${this.acked} acknowledged, ${this.failures} failed ${this.#failureSummary()}`;
  }

  /**
   * Reads every key with an acknowledged write through `endpoint` (linearizable gets) and returns one line per
   * problem: a key missing, or holding a value older than its last acknowledged write, or one never sent.
   */
  async verify(endpoint: string): Promise<string[]> {
    const client = rawEtcdClient(endpoint, 10_000);
    const problems: string[] = [];
    try {
      for (const [key, ack] of this.lastAcked) {
        let got: { value: string; modRevision: number } | null;
        try {
          got = await client.get(key);
        } catch (err) {
          problems.push(`${endpoint}: get ${key} failed: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        if (got === null) {
          problems.push(`${endpoint}: ${key} is missing; seq ${ack.seq} was acknowledged at revision ${ack.revision} via ${ack.endpoint}`);
          continue;
        }
        const [writer, seqText] = got.value.split(":");
        const w = Number(writer);
        const seq = Number(seqText);
        if (`${this.options.prefix}w${w}/` !== key.slice(0, key.lastIndexOf("/") + 1) || !(seq <= (this.#maxSent[w] ?? -1))) {
          problems.push(`${endpoint}: ${key} holds ${JSON.stringify(got.value)}, which no writer sent`);
        } else if (seq < ack.seq) {
          problems.push(`${endpoint}: ${key} holds seq ${seq} (mod revision ${got.modRevision}), older than seq ${ack.seq} acknowledged at revision ${ack.revision} via ${ack.endpoint}`);
        }
      }
    } finally {
      client.close();
    }
    return problems;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
