/**
 * The userspace proxy's endpoint choice (upstream pkg/proxy/userspace roundrobin.go): round-robin over a
 * service port's endpoints, and with ClientIP session affinity the same endpoint for a client until it
 * has been idle for the sticky time. Pure: time comes from the injected clock.
 */
import type { Clock } from "../env/env.js";

/** Bounds the affinity table per service port: beyond it the least recently used client is forgotten. */
export const AFFINITY_CLIENTS_MAX = 10_000;

export interface BalancedEndpoint {
  readonly ip: string;
  readonly port: number;
}

interface PortState {
  endpoints: readonly BalancedEndpoint[];
  index: number;
  affinityTtlMs: number; // 0: no affinity
  /** clientIP → endpoint key and last use; Map keeps insertion order, refreshed on use (LRU). */
  affinity: Map<string, { key: string; lastUsedMs: number }>;
}

function key(ep: BalancedEndpoint): string {
  return `${ep.ip}:${ep.port}`;
}

export class LoadBalancerRR {
  readonly #clock: Clock;
  readonly #ports = new Map<string, PortState>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Sets a service port's endpoints. The rotation continues where it was when the set is unchanged;
   * affinity entries to endpoints that are gone are dropped.
   */
  setEndpoints(servicePort: string, endpoints: readonly BalancedEndpoint[], affinityTtlMs: number): void {
    const st = this.#ports.get(servicePort);
    if (st === undefined) {
      this.#ports.set(servicePort, { endpoints, index: 0, affinityTtlMs, affinity: new Map() });
      return;
    }
    const same = st.endpoints.length === endpoints.length && st.endpoints.every((e, i) => key(e) === key(endpoints[i]!));
    st.endpoints = endpoints;
    if (!same) st.index = 0;
    st.affinityTtlMs = affinityTtlMs;
    const live = new Set(endpoints.map(key));
    for (const [client, a] of st.affinity) if (!live.has(a.key) || affinityTtlMs === 0) st.affinity.delete(client);
  }

  deleteServicePort(servicePort: string): void {
    this.#ports.delete(servicePort);
  }

  /** The endpoint for a new connection from `clientIP`; null when the service port has none. */
  nextEndpoint(servicePort: string, clientIP: string): BalancedEndpoint | null {
    const st = this.#ports.get(servicePort);
    if (st === undefined || st.endpoints.length === 0) return null;
    const now = this.#clock.nowMs();
    if (st.affinityTtlMs > 0) {
      const a = st.affinity.get(clientIP);
      if (a !== undefined && now - a.lastUsedMs < st.affinityTtlMs) {
        const ep = st.endpoints.find((e) => key(e) === a.key);
        if (ep !== undefined) {
          st.affinity.delete(clientIP);
          st.affinity.set(clientIP, { key: a.key, lastUsedMs: now });
          return ep;
        }
      }
    }
    const ep = st.endpoints[st.index % st.endpoints.length]!;
    st.index = (st.index + 1) % st.endpoints.length;
    if (st.affinityTtlMs > 0) {
      st.affinity.delete(clientIP);
      st.affinity.set(clientIP, { key: key(ep), lastUsedMs: now });
      if (st.affinity.size > AFFINITY_CLIENTS_MAX) st.affinity.delete(st.affinity.keys().next().value as string);
    }
    return ep;
  }

  /** The endpoints after `failed`, in rotation order, for retrying a connection (each tried once). */
  endpointsAfter(servicePort: string, failed: BalancedEndpoint): BalancedEndpoint[] {
    const st = this.#ports.get(servicePort);
    if (st === undefined) return [];
    const i = st.endpoints.findIndex((e) => key(e) === key(failed));
    if (i < 0) return [...st.endpoints];
    return [...st.endpoints.slice(i + 1), ...st.endpoints.slice(0, i)];
  }
}
