/**
 * kube-proxy's userspace mode, for nodes whose pods share the host's network (the process runtime):
 * no iptables, kube-proxy itself accepts TCP connections on each Service's ClusterIP:port (the ClusterIP
 * put on a dummy device) and on its NodePort, and pipes each to a ready endpoint chosen round-robin
 * (ClientIP affinity honoured). Upstream removed this mode in 1.26; its shape is pkg/proxy/userspace.
 * TCP only: UDP and SCTP service ports are skipped (and logged once per sync).
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Env } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { BoundedFrequencyRunner } from "./bounded_frequency_runner.js";
import type { LocalAddresses } from "./local_addresses.js";
import type { ProxyMetrics } from "./metrics.js";
import type { ProxierHealth } from "./proxier_health.js";
import { LoadBalancerRR, type BalancedEndpoint } from "./round_robin.js";
import { categorizeEndpoints, type ProxyState } from "./service_port.js";

/** Upstream userspace's dial timeout, per endpoint tried. */
export const ENDPOINT_DIAL_TIMEOUT_MS = 1_000;
/** Open connections per listener: beyond it new ones are refused by the kernel's backlog, not queued here. */
export const CONNECTIONS_PER_LISTENER_MAX = 4_096;

export interface UserspaceProxierOptions {
  /** Where NodePorts listen (--nodeport-addresses; tk8s: one address, default all). */
  readonly nodePortAddress: string;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly dialTimeoutMs?: number;
}

interface Listener {
  readonly host: string;
  readonly port: number;
  servicePort: string;
  readonly server: Server;
}

export class UserspaceProxier {
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #addresses: LocalAddresses;
  readonly #source: () => ProxyState;
  readonly #metrics: ProxyMetrics;
  readonly #health: ProxierHealth;
  readonly #o: UserspaceProxierOptions;
  readonly #runner: BoundedFrequencyRunner;
  readonly #lb: LoadBalancerRR;
  readonly #listeners = new Map<string, Listener>();
  readonly #addedAddresses = new Set<string>();
  readonly #sockets = new Set<Socket>();
  syncs = 0;

  constructor(env: Pick<Env, "clock" | "log">, addresses: LocalAddresses, source: () => ProxyState, deps: { metrics: ProxyMetrics; health: ProxierHealth }, options: UserspaceProxierOptions) {
    this.#env = env;
    this.#addresses = addresses;
    this.#source = source;
    this.#metrics = deps.metrics;
    this.#health = deps.health;
    this.#o = options;
    this.#lb = new LoadBalancerRR(env.clock);
    this.#runner = new BoundedFrequencyRunner(env.clock, () => this.syncProxyRules(), {
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      burstRuns: 2,
    });
  }

  start(): void {
    this.#runner.start();
    this.requestSync();
  }

  requestSync(): void {
    this.#health.queuedUpdate();
    this.#runner.run();
  }

  /** The listeners now open, as `host:port` (tests). */
  listening(): string[] {
    return [...this.#listeners.keys()].sort();
  }

  async syncProxyRules(): Promise<void> {
    const startMs = this.#env.clock.nowMs();
    try {
      const state = this.#source();
      const desired = new Map<string, { host: string; port: number; servicePort: string; clusterIP: boolean }>();
      const skipped: string[] = [];
      const live = new Set<string>();
      for (const sp of state.servicePorts) {
        if (sp.protocol !== "TCP") {
          skipped.push(`${sp.nameString}/${sp.protocol}`);
          continue;
        }
        const spKey = `${sp.nameString}/${sp.protocol}`;
        live.add(spKey);
        const cat = categorizeEndpoints({ ...sp, internalPolicyLocal: false, externalPolicyLocal: false }, state.endpoints.get(sp.nameString) ?? []);
        this.#lb.setEndpoints(spKey, cat.cluster.map((e) => ({ ip: e.ip, port: e.port })), sp.sessionAffinityClientIP ? sp.stickyMaxAgeSeconds * 1000 : 0);
        desired.set(`${sp.clusterIP}:${sp.port}`, { host: sp.clusterIP, port: sp.port, servicePort: spKey, clusterIP: true });
        if (sp.nodePort > 0) desired.set(`${this.#o.nodePortAddress}:${sp.nodePort}`, { host: this.#o.nodePortAddress, port: sp.nodePort, servicePort: spKey, clusterIP: false });
      }
      if (skipped.length > 0) this.#env.log.debug("userspace proxy skips non-TCP service ports", { servicePorts: skipped.slice(0, 10), count: skipped.length });

      for (const [k, l] of this.#listeners) {
        const want = desired.get(k);
        if (want !== undefined) {
          l.servicePort = want.servicePort;
          continue;
        }
        this.#listeners.delete(k);
        l.server.close();
      }
      let failures = 0;
      for (const [k, want] of desired) {
        if (this.#listeners.has(k)) continue;
        try {
          if (want.clusterIP && !this.#addedAddresses.has(want.host)) {
            await this.#addresses.ensure(want.host);
            this.#addedAddresses.add(want.host);
          }
          this.#listeners.set(k, await this.#listen(want.host, want.port, want.servicePort));
        } catch (err) {
          rethrowIfAssertion(err);
          failures++;
          this.#env.log.warn("cannot open service port", { address: k, servicePort: want.servicePort, error: String(err) });
        }
      }
      const usedIPs = new Set([...desired.values()].filter((d) => d.clusterIP).map((d) => d.host));
      for (const ip of [...this.#addedAddresses]) {
        if (usedIPs.has(ip)) continue;
        this.#addedAddresses.delete(ip);
        await this.#addresses.remove(ip).catch((err: unknown) => this.#env.log.warn("cannot remove service address", { ip, error: String(err) }));
      }
      for (const spKey of this.#lbKeys) if (!live.has(spKey)) this.#lb.deleteServicePort(spKey);
      this.#lbKeys = live;
      if (failures > 0) {
        this.#runner.retryAfter(Math.max(1_000, this.#o.minSyncPeriodMs));
        return;
      }
      this.syncs++;
      this.#health.updated();
      this.#metrics.syncProxyRulesLastTimestamp.set(this.#env.clock.wallMs() / 1000);
      this.#metrics.syncProxyRulesLatency.observe((this.#env.clock.nowMs() - startMs) / 1000);
    } catch (err) {
      rethrowIfAssertion(err);
      this.#env.log.error("failed to sync userspace proxy; will retry", { error: String(err) });
      this.#runner.retryAfter(Math.max(1_000, this.#o.minSyncPeriodMs));
    }
  }

  #lbKeys = new Set<string>();

  #listen(host: string, port: number, servicePort: string): Promise<Listener> {
    const listener: Listener = { host, port, servicePort, server: createServer() };
    listener.server.maxConnections = CONNECTIONS_PER_LISTENER_MAX;
    listener.server.on("connection", (client) => this.#proxy(client, listener.servicePort));
    return new Promise((resolve, reject) => {
      listener.server.once("error", reject);
      listener.server.listen({ host, port, exclusive: true }, () => {
        listener.server.off("error", reject);
        listener.server.on("error", (err) => this.#env.log.warn("service port listener failed", { address: `${host}:${port}`, error: String(err) }));
        resolve(listener);
      });
    });
  }

  #proxy(client: Socket, servicePort: string): void {
    this.#sockets.add(client);
    client.once("close", () => this.#sockets.delete(client));
    client.on("error", () => undefined); // reset by the peer: the close handler cleans up
    client.pause();
    const clientIP = (client.remoteAddress ?? "").replace(/^::ffff:/, "");
    const first = this.#lb.nextEndpoint(servicePort, clientIP);
    if (first === null) {
      // No endpoints: refuse as the iptables mode's REJECT does (a reset, not a hang).
      this.#metrics.userspaceConnectionsTotal.inc({ result: "no_endpoints" });
      client.resetAndDestroy();
      return;
    }
    const candidates = [first, ...this.#lb.endpointsAfter(servicePort, first)];
    this.#dial(client, candidates, 0);
  }

  /** Tries each candidate once, in order, then gives up with a reset. */
  #dial(client: Socket, candidates: readonly BalancedEndpoint[], i: number): void {
    if (client.destroyed) return;
    if (i >= candidates.length) {
      this.#metrics.userspaceConnectionsTotal.inc({ result: "dial_failed" });
      client.resetAndDestroy();
      return;
    }
    const ep = candidates[i]!;
    const upstream = connect({ host: ep.ip, port: ep.port, timeout: this.#o.dialTimeoutMs ?? ENDPOINT_DIAL_TIMEOUT_MS });
    this.#sockets.add(upstream);
    upstream.once("close", () => this.#sockets.delete(upstream));
    let connected = false;
    const fail = (): void => {
      upstream.destroy();
      if (!connected) this.#dial(client, candidates, i + 1);
      else client.destroy();
    };
    upstream.once("timeout", () => (connected ? undefined : fail()));
    upstream.once("error", fail);
    upstream.once("connect", () => {
      connected = true;
      upstream.setTimeout(0);
      this.#metrics.userspaceConnectionsTotal.inc({ result: "proxied" });
      client.pipe(upstream);
      upstream.pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
      client.resume();
    });
  }

  /** Stops syncing, closes listeners and connections, removes the addresses it added. */
  async stop(): Promise<void> {
    await this.#runner.stop();
    // close() waits for open connections, so destroy those first.
    const closed = [...this.#listeners.values()].map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closed);
    this.#listeners.clear();
    for (const ip of this.#addedAddresses) await this.#addresses.remove(ip).catch(() => undefined);
    this.#addedAddresses.clear();
  }
}
