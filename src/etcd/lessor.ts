/**
 * Leases (etcd's lessor). Grant and revoke are applied through the log so every member agrees; renewals
 * (keep-alive) are local to the serving member, as in etcd, and expiry is decided by one clock — the
 * server proposes the revoke of an expired lease, it never deletes keys on its own.
 */
import type { Clock } from "../env/env.js";
import type { BackendStore } from "../storage/backend/backend.js";
import type { LeaseAttachments } from "../storage/mvcc/kvstore.js";
import { assert } from "../util/assert.js";

/** etcd's MaxLeaseTTL: larger TTLs are refused. */
export const LEASE_TTL_SECONDS_MAX = 9_000_000_000;
/** etcd's minimum TTL with default timeouts: ceil(1.5 × election timeout of 1 s). */
export const LEASE_TTL_SECONDS_MIN = 2;
/** How many expired leases are proposed for revocation per check (etcd revokes at most 1000/s). */
export const LEASE_REVOKES_PER_CHECK_MAX = 500;

export interface Lease {
  readonly id: bigint;
  readonly ttlSeconds: number;
  expiryMs: number;
  readonly keys: Set<string>;
}

export class Lessor implements LeaseAttachments {
  readonly #leases = new Map<bigint, Lease>();
  /** Key → the lease its live value carries, for keys attached to a lease (etcd's itemMap). */
  readonly #leaseOfKey = new Map<string, bigint>();
  readonly #clock: Clock;
  readonly #backend: BackendStore;

  constructor(clock: Clock, backend: BackendStore) {
    this.#clock = clock;
    this.#backend = backend;
  }

  /** Loads persisted leases; their expiry restarts from now, as etcd extends leases on promotion. */
  restore(): void {
    for (const rec of this.#backend.leases()) {
      this.#leases.set(rec.id, { id: rec.id, ttlSeconds: rec.ttlSeconds, expiryMs: this.#clock.nowMs() + rec.ttlSeconds * 1000, keys: new Set() });
    }
  }

  /** Forgets every lease and loads the backend's again (after a snapshot replaced the backend's contents). */
  reload(): void {
    this.#leases.clear();
    this.#leaseOfKey.clear();
    this.restore();
  }

  get size(): number {
    return this.#leases.size;
  }

  get(id: bigint): Lease | undefined {
    return this.#leases.get(id);
  }

  ids(): bigint[] {
    return [...this.#leases.keys()];
  }

  /** Applied: creates the lease. The caller has checked that it does not exist. */
  grant(id: bigint, ttlSeconds: number): Lease {
    assert(!this.#leases.has(id), `lease ${id} granted twice`);
    const ttl = Math.max(ttlSeconds, LEASE_TTL_SECONDS_MIN);
    const lease: Lease = { id, ttlSeconds: ttl, expiryMs: this.#clock.nowMs() + ttl * 1000, keys: new Set() };
    this.#leases.set(id, lease);
    this.#backend.putLease({ id, ttlSeconds: ttl });
    return lease;
  }

  /** Applied: forgets the lease (the caller deletes its keys in the same txn). */
  remove(id: bigint): void {
    for (const key of this.#leases.get(id)?.keys ?? []) if (this.#leaseOfKey.get(key) === id) this.#leaseOfKey.delete(key);
    this.#leases.delete(id);
    this.#backend.removeLease(id);
  }

  /**
   * This member became leader: every lease's clock restarts now, since the old leader's expiry times are
   * unknown here (etcd's Promote). Leases then expire only on the leader.
   */
  promote(extendMs: number): void {
    const now = this.#clock.nowMs();
    for (const l of this.#leases.values()) l.expiryMs = now + l.ttlSeconds * 1000 + extendMs;
  }

  /** Keep-alive: returns the TTL granted again, or null if there is no such lease. */
  renew(id: bigint): number | null {
    const lease = this.#leases.get(id);
    if (lease === undefined) return null;
    lease.expiryMs = this.#clock.nowMs() + lease.ttlSeconds * 1000;
    return lease.ttlSeconds;
  }

  /** Whole seconds left, truncated as etcd reports them (int64 of the remaining duration); -1 when expired. */
  remainingSeconds(lease: Lease): number {
    const ms = lease.expiryMs - this.#clock.nowMs();
    return ms <= 0 ? -1 : Math.floor(ms / 1000);
  }

  /** Leases past their expiry, oldest first, at most `max`. */
  expired(max: number): bigint[] {
    const now = this.#clock.nowMs();
    const out: Lease[] = [];
    for (const l of this.#leases.values()) if (l.expiryMs <= now) out.push(l);
    return out
      .sort((a, b) => a.expiryMs - b.expiryMs)
      .slice(0, max)
      .map((l) => l.id);
  }

  attach(id: bigint, key: string): void {
    const lease = this.#leases.get(id);
    if (lease === undefined) return;
    lease.keys.add(key);
    this.#leaseOfKey.set(key, id);
  }

  detach(id: bigint, key: string): void {
    this.#leases.get(id)?.keys.delete(key);
    if (this.#leaseOfKey.get(key) === id) this.#leaseOfKey.delete(key);
  }

  leaseOf(key: string): bigint {
    return this.#leaseOfKey.get(key) ?? 0n;
  }
}
