/**
 * The simulator's clients: N of them, each with one request in flight, issuing random puts, gets,
 * deletes and compare-and-sets over a few keys with values unique to the run, recorded into one
 * HistoryRecorder in virtual ms. A client sticks to a member, as an etcd client does to its endpoint,
 * and moves to another after an error. One watch on every key from revision 2 follows a member and, when
 * that member stops, resumes on another from the revision after the last event it saw (as clientv3 does).
 *
 * Leases: a client grants a lease of its own id (long-lived, or short enough to expire during the run),
 * puts one key with it, and may later revoke it. A short lease's expiry is a revoke nobody called: it is
 * recorded as a revoke that timed out from the put on, so the checker may place it anywhere after, or
 * nowhere (see kv_model.ts).
 */
import { HistoryRecorder } from "./history.js";
import type { KvCompare, KvInput, KvOutput } from "./kv_model.js";
import type { SimCluster, MemberSlot } from "./cluster.js";
import { SimRequestError, type SimWatch } from "./sim_member.js";
import type { WatchEvent, RecordedWatch } from "./watch_checker.js";

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  /** Requests per client at most (bounds the history the checker must search). */
  readonly opsPerClientMax: number;
  /** Think time between a client's requests, ms. */
  readonly thinkMsMax: number;
}

export const WORKLOAD_DEFAULTS: WorkloadOptions = { clients: 4, keys: 4, opsPerClientMax: 60, thinkMsMax: 40 };

/** A lease that outlives the run, and one that expires in it (etcd's minimum TTL is 2 s on these timings). */
export const LEASE_TTL_LONG_SECONDS = 3600;
export const LEASE_TTL_SHORT_SECONDS = 2;
/** Expiries are recorded as calls of clients from this id on (one per lease: they never overlap). */
const EXPIRY_CLIENT_BASE = 1_000_000;

/** The client gives up this long after the member's own request timeout (a member that never answers). */
const CLIENT_TIMEOUT_SLACK_MS = 200;

export class Workload {
  readonly recorder = new HistoryRecorder<KvInput, KvOutput>();
  readonly #cluster: SimCluster;
  readonly #options: WorkloadOptions;
  #stopped = false;
  #running = 0;
  readonly #clientMember: (MemberSlot | null)[] = [];
  /** Per client and key: the last value and mod revision it saw, for compare-and-sets that can succeed. */
  readonly #seen = new Map<string, { value: string | null; modRevision: number }>();
  /** Per client: leases it put a key with and has not revoked yet. */
  readonly #leases = new Map<number, { lease: number; key: string }[]>();
  readonly events: WatchEvent[] = [];
  #watch: SimWatch | null = null;
  #watchNext = 2;
  #watchSlot: MemberSlot | null = null;
  ok = 0;
  failed = 0;
  unknown = 0;
  /** Acknowledged puts with a lease, of them with a lease that may expire, and acknowledged revokes. */
  readonly leases = { puts: 0, expiring: 0, revokes: 0 };

  constructor(cluster: SimCluster, options: WorkloadOptions = WORKLOAD_DEFAULTS) {
    this.#cluster = cluster;
    this.#options = options;
  }

  start(): void {
    for (let c = 0; c < this.#options.clients; c++) {
      this.#clientMember.push(null);
      this.#running++;
      void this.#client(c)
        .catch((err: unknown) => this.#cluster.abort(`client ${c}`, err))
        .finally(() => this.#running--);
    }
    this.#openWatch();
  }

  /** Clients finish the request in flight and stop. */
  stop(): void {
    this.#stopped = true;
  }

  get idle(): boolean {
    return this.#running === 0;
  }

  /** The revision after the last watch event delivered. */
  get watchNext(): number {
    return this.#watchNext;
  }

  recordedWatch(completeThroughRevision: number | undefined): RecordedWatch {
    return { id: 0, key: "", rangeEnd: "\0", startRevision: 2, events: this.events, ...(completeThroughRevision === undefined ? {} : { completeThroughRevision }) };
  }

  /** A request outside the random mix (the quiesce step's final write), recorded like any other. */
  async request(clientId: number, slot: MemberSlot, input: KvInput, leaseMayExpire = false): Promise<KvOutput | null> {
    const c = this.#cluster;
    const id = this.recorder.invoke(clientId, input, c.clock.nowMs());
    if (leaseMayExpire && input.kind === "put" && input.lease !== undefined) {
      // The lease may expire from now on (the leader revokes it): a revoke whose outcome nobody learns.
      const expiry = this.recorder.invoke(EXPIRY_CLIENT_BASE + input.lease, { kind: "revoke", key: input.key, lease: input.lease }, c.clock.nowMs());
      this.recorder.timeout(expiry, c.clock.nowMs());
    }
    const member = slot.member;
    if (member === null) {
      this.recorder.fail(id, c.clock.nowMs());
      this.failed++;
      return null;
    }
    c.trace.add(`client ${c.clock.nowMs()} ${clientId} ${slot.name} ${JSON.stringify(input)}`);
    try {
      const p = input.kind === "get" ? member.read(input.key) : member.write(input);

      const out = await withTimeout(c, p, c.options.requestTimeoutMs + CLIENT_TIMEOUT_SLACK_MS);
      this.recorder.ok(id, out, c.clock.nowMs());
      c.trace.add(`client ${c.clock.nowMs()} ${clientId} ok ${JSON.stringify(out)}`);
      this.ok++;
      return out;
    } catch (err) {
      if (!(err instanceof SimRequestError)) throw err;
      c.trace.add(`client ${c.clock.nowMs()} ${clientId} ${err.outcome} ${err.message}`);
      if (err.outcome === "fail") (this.recorder.fail(id, c.clock.nowMs()), this.failed++);
      else (this.recorder.timeout(id, c.clock.nowMs()), this.unknown++);
      return null;
    }
  }

  async #client(c: number): Promise<void> {
    const cl = this.#cluster;
    const r = cl.random;
    // Ends after opsPerClientMax requests or when stopped.
    for (let n = 0; n < this.#options.opsPerClientMax && !this.#stopped; n++) {
      await sleep(cl, r.between(0, this.#options.thinkMsMax));
      if (this.#stopped) break;
      let slot = this.#clientMember[c] ?? null;
      if (slot === null || slot.member === null) {
        const up = cl.up();
        if (up.length === 0) continue;
        slot = r.pick(up);
        this.#clientMember[c] = slot;
      }
      let input = this.#nextInput(c, n);
      if (input.kind === "put" && input.lease !== undefined) {
        const granted = await this.#grant(slot, input.lease);
        if (!granted) {
          this.#clientMember[c] = null;
          continue;
        }
        const expires = granted === "short";
        const out = await this.request(c, slot, input, expires);
        if (out === null) this.#clientMember[c] = null;
        else this.#observe(c, input, out);
        if (out !== null) {
          (this.#leases.get(c) ?? this.#leases.set(c, []).get(c)!).push({ lease: input.lease, key: input.key });
          this.leases.puts++;
          if (expires) this.leases.expiring++;
        }
        continue;
      }
      if (input.kind === "revoke") {
        const mine = this.#leases.get(c) ?? [];
        const picked = mine.length === 0 ? null : mine.splice(cl.random.int(mine.length), 1)[0]!;
        input = picked === null ? { kind: "get", key: input.key } : { kind: "revoke", key: picked.key, lease: picked.lease };
      }
      const out = await this.request(c, slot, input);
      if (out !== null && input.kind === "revoke") this.leases.revokes++;
      if (out === null) this.#clientMember[c] = null;
      else this.#observe(c, input, out);
    }
  }

  #nextInput(c: number, n: number): KvInput {
    const r = this.#cluster.random;
    const key = `k${r.int(this.#options.keys)}`;
    const value = `c${c}-${n}`;
    const roll = r.int(100);
    if (roll < 30) return { kind: "put", key, value };
    if (roll < 58) return { kind: "get", key };
    if (roll < 67) return { kind: "delete", key };
    // Lease ids are unique in the run: one lease, one key.
    if (roll < 75) return { kind: "put", key, value, lease: c * 10_000 + n + 1 };
    if (roll < 80) return { kind: "revoke", key, lease: 0 };
    const seen = this.#seen.get(`${c}/${key}`) ?? { value: null, modRevision: 0 };
    const compare: KvCompare = r.chance(0.5) ? { target: "value", value: seen.value } : { target: "modRevision", modRevision: seen.modRevision };
    return { kind: "cas", key, compare, value };
  }

  /**
   * Grants the lease a put will name, long or short; false if the grant failed or timed out (the lease
   * then has no key, whatever became of it). Members without leases of their own need no grant.
   */
  async #grant(slot: MemberSlot, lease: number): Promise<"long" | "short" | false> {
    const c = this.#cluster;
    const short = c.random.chance(0.5);
    const member = slot.member;
    if (member === null) return false;
    if (member.grantLease === undefined) return "long";
    const ttl = short ? LEASE_TTL_SHORT_SECONDS : LEASE_TTL_LONG_SECONDS;
    c.trace.add(`client ${c.clock.nowMs()} grant ${lease} ttl ${ttl} ${slot.name}`);
    try {
      await withTimeout(c, member.grantLease(lease, ttl), c.options.requestTimeoutMs + CLIENT_TIMEOUT_SLACK_MS);
      return short ? "short" : "long";
    } catch (err) {
      if (!(err instanceof SimRequestError)) throw err;
      c.trace.add(`client ${c.clock.nowMs()} grant ${lease} ${err.outcome} ${err.message}`);
      return false;
    }
  }

  #observe(c: number, input: KvInput, out: KvOutput): void {
    const k = `${c}/${input.key}`;
    if (out.kind === "get") this.#seen.set(k, { value: out.value, modRevision: out.modRevision });
    else if (out.kind === "put" && input.kind === "put") this.#seen.set(k, { value: input.value, modRevision: out.revision });
    else if (out.kind === "cas" && out.succeeded && input.kind === "cas" && out.revision !== undefined) this.#seen.set(k, { value: input.value, modRevision: out.revision });
    else if (out.kind === "delete") this.#seen.set(k, { value: null, modRevision: 0 });
  }

  #openWatch(): void {
    const cl = this.#cluster;
    const up = cl.up();
    if (up.length === 0) {
      cl.clock.setTimer(50, () => this.#openWatch());
      return;
    }
    const slot = cl.random.pick(up);
    this.#watchSlot = slot;
    cl.trace.add(`watch ${cl.clock.nowMs()} open ${slot.name} from ${this.#watchNext}`);
    const w = slot.member!.watch(
      this.#watchNext,
      (e) => {
        if (this.#watch !== w) return;
        cl.trace.add(`watch ${cl.clock.nowMs()} ${e.type} ${e.key} ${e.modRevision}`);
        this.events.push({ ...e, deliveredTime: cl.clock.nowMs() });
        this.#watchNext = e.modRevision + 1;
      },
      () => {
        if (this.#watch !== w) return;
        this.#watch = null;
        cl.clock.setTimer(cl.random.between(1, 50), () => this.#openWatch());
      },
    );
    this.#watch = w;
  }

  /** The member the watch follows now (null while it reconnects). */
  get watchSlot(): MemberSlot | null {
    return this.#watch === null ? null : this.#watchSlot;
  }
}

function sleep(c: SimCluster, ms: number): Promise<void> {
  return new Promise((resolve) => void c.clock.setTimer(ms, resolve));
}

/** Rejects with an `unknown` outcome if `p` does not settle in time: a member that never answers. */
function withTimeout<T>(c: SimCluster, p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = c.clock.setTimer(ms, () => reject(new SimRequestError("unknown", "client gave up")));
    p.then(
      (v) => (t.cancel(), resolve(v)),
      (e: unknown) => (t.cancel(), reject(e)),
    );
  });
}
