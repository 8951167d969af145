/**
 * tk8s kube-proxy: informers on Services and EndpointSlices feed a proxier (iptables or userspace) that
 * resyncs the node in batches; /healthz and /metrics are served as upstream's. This is what `tk8s server`
 * and `tk8s agent` start on each node (startKubeProxy).
 */
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { Env } from "../env/env.js";
import { InformerFactory } from "../client/informer_factory.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import type { SharedIndexInformer } from "../client/shared_informer.js";
import { DEFAULT_HEALTHZ_PORT, DEFAULT_METRICS_PORT, startProxyHttpServer, type ProxyHttpServer } from "./health_server.js";
import { ExecIptables, type Iptables } from "./iptables.js";
import { IptablesProxier, cleanupIptables } from "./iptables_proxier.js";
import { DEFAULT_MASQUERADE_BIT } from "./iptables_rules.js";
import { DummyDeviceAddresses, type LocalAddresses } from "./local_addresses.js";
import { ProxyMetrics } from "./metrics.js";
import { ProxierHealth } from "./proxier_health.js";
import { buildProxyState } from "./service_port.js";
import { UserspaceProxier } from "./userspace_proxier.js";

export type ProxyMode = "iptables" | "userspace";

/** Upstream defaults: --iptables-min-sync-period 1s, --iptables-sync-period 30s. */
export const DEFAULT_MIN_SYNC_PERIOD_MS = 1_000;
export const DEFAULT_SYNC_PERIOD_MS = 30_000;
/** How long start waits for the first list of Services and EndpointSlices. */
export const CACHE_SYNC_TIMEOUT_MS = 60_000;
/** How often a /healthz or /metrics server whose port was taken tries again (upstream: 5 s). */
export const HTTP_SERVER_RETRY_MS = 5_000;

export interface KubeProxyConfig {
  readonly env: Pick<Env, "clock" | "log">;
  /** How to reach the API server: a client, or a kubeconfig path (one of them). */
  readonly client?: RestClient;
  readonly kubeconfig?: string;
  /** Share the process's informers (tk8s server); default: kube-proxy's own. */
  readonly informers?: InformerFactory;
  readonly mode: ProxyMode;
  /** --hostname-override: endpoints with this nodeName are local. */
  readonly nodeName: string;
  /** --cluster-cidr: "" when unknown (then only --masquerade-all masquerades ClusterIP traffic). */
  readonly clusterCIDR?: string;
  readonly masqueradeAll?: boolean;
  readonly masqueradeBit?: number;
  readonly localhostNodePorts?: boolean;
  readonly minSyncPeriodMs?: number;
  readonly syncPeriodMs?: number;
  /** --healthz-bind-address, default 0.0.0.0:10256; null: none. Port 0 picks a free one. */
  readonly healthzBindAddress?: string | null;
  /** --metrics-bind-address, default 127.0.0.1:10249; null: none. */
  readonly metricsBindAddress?: string | null;
  /** iptables mode: the edge (default: the machine's iptables, backend detected). */
  readonly iptables?: Iptables;
  /** iptables mode: run iptables through this prefix (e.g. `ip netns exec NS`) when `iptables` is not given. */
  readonly commandPrefix?: readonly string[];
  /** userspace mode: where ClusterIPs are added (default: the kube-ipvs0 dummy device). */
  readonly localAddresses?: LocalAddresses;
  /** userspace mode: where NodePorts listen (default 0.0.0.0). */
  readonly nodePortAddress?: string;
}

export interface KubeProxy {
  readonly mode: ProxyMode;
  readonly metrics: ProxyMetrics;
  readonly health: ProxierHealth;
  readonly proxier: IptablesProxier | UserspaceProxier;
  /** Bound ports (0 when not served). */
  readonly healthzPort: number;
  readonly metricsPort: number;
  /** Asks for a sync now (tests, and after an external flush). */
  requestSync(): void;
  /** Stops syncing and serving. The rules stay (as upstream: a restart must not drop traffic); see cleanup(). */
  stop(): Promise<void>;
  /** Removes everything this proxy put on the node (iptables chains and jumps, or addresses). Call after stop(). */
  cleanup(): Promise<void>;
}

function parseBindAddress(s: string, what: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  const host = i < 0 ? s : s.slice(0, i);
  const port = i < 0 ? NaN : Number(s.slice(i + 1));
  if (host === "" || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Cannot parse ${what}: want host:port: current value is ${JSON.stringify(s)}`);
  return { host, port };
}

export async function startKubeProxy(cfg: KubeProxyConfig): Promise<KubeProxy> {
  const { env } = cfg;
  const client = cfg.client ?? (cfg.kubeconfig !== undefined ? new RestClient(loadKubeconfig(cfg.kubeconfig, { component: "kube-proxy" })) : undefined);
  if (cfg.informers === undefined && client === undefined) throw new Error("Cannot start kube-proxy: neither client, kubeconfig nor informers given");
  const ownInformers = cfg.informers === undefined;
  const informers = cfg.informers ?? new InformerFactory(env, client!);
  const minSyncPeriodMs = cfg.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS;
  const syncPeriodMs = cfg.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  const metrics = new ProxyMetrics();
  const health = new ProxierHealth(env.clock, 2 * syncPeriodMs);

  const services: SharedIndexInformer<Service> = informers.services();
  const slices: SharedIndexInformer<EndpointSlice> = informers.informerFor<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices");
  const source = () => buildProxyState(services.indexer.list(), slices.indexer.list(), cfg.nodeName);

  let ipt: Iptables | null = null;
  let addresses: LocalAddresses | null = null;
  let proxier: IptablesProxier | UserspaceProxier;
  if (cfg.mode === "iptables") {
    ipt = cfg.iptables ?? (await ExecIptables.create(cfg.commandPrefix === undefined ? {} : { commandPrefix: cfg.commandPrefix }));
    env.log.info("using iptables proxier", { backend: ipt.backend, nodeName: cfg.nodeName });
    proxier = new IptablesProxier(env, ipt, source, { metrics, health }, {
      clusterCIDR: cfg.clusterCIDR ?? "",
      masqueradeAll: cfg.masqueradeAll ?? false,
      masqueradeBit: cfg.masqueradeBit ?? DEFAULT_MASQUERADE_BIT,
      localhostNodePorts: cfg.localhostNodePorts ?? false,
      minSyncPeriodMs,
      syncPeriodMs,
    });
  } else {
    addresses = cfg.localAddresses ?? new DummyDeviceAddresses();
    env.log.info("using userspace proxier", { nodeName: cfg.nodeName });
    proxier = new UserspaceProxier(env, addresses, source, { metrics, health }, {
      nodePortAddress: cfg.nodePortAddress ?? "0.0.0.0",
      minSyncPeriodMs,
      syncPeriodMs,
    });
  }

  const regs = [
    services.addEventHandler({
      onAdd: () => (metrics.serviceChangesTotal.inc(), proxier.requestSync()),
      onUpdate: (o, n) => (o.metadata?.resourceVersion !== n.metadata?.resourceVersion ? (metrics.serviceChangesTotal.inc(), proxier.requestSync()) : undefined),
      onDelete: () => (metrics.serviceChangesTotal.inc(), proxier.requestSync()),
    }),
    slices.addEventHandler({
      onAdd: () => (metrics.endpointChangesTotal.inc(), proxier.requestSync()),
      onUpdate: (o, n) => (o.metadata?.resourceVersion !== n.metadata?.resourceVersion ? (metrics.endpointChangesTotal.inc(), proxier.requestSync()) : undefined),
      onDelete: () => (metrics.endpointChangesTotal.inc(), proxier.requestSync()),
    }),
  ];

  const servers: ProxyHttpServer[] = [];
  const retries: { cancel(): void }[] = [];
  let stopped = false;
  let healthzPort = 0;
  let metricsPort = 0;
  try {
    informers.start();
    // As upstream: no rules until both caches hold a full list, or a restart would briefly drop services.
    if (!(await informers.waitForCacheSync({ timeoutMs: CACHE_SYNC_TIMEOUT_MS }))) throw new Error(`Cannot start kube-proxy: Services and EndpointSlices did not sync in ${CACHE_SYNC_TIMEOUT_MS / 1000} s`);
    const healthz = cfg.healthzBindAddress === undefined ? `0.0.0.0:${DEFAULT_HEALTHZ_PORT}` : cfg.healthzBindAddress;
    const metricsAddr = cfg.metricsBindAddress === undefined ? `127.0.0.1:${DEFAULT_METRICS_PORT}` : cfg.metricsBindAddress;
    // A taken port does not stop kube-proxy: as upstream, it says so and keeps trying every 5 s while the
    // rules are kept in sync (a malformed address is still refused at once).
    const serve = async (addr: string, flagName: string, handlers: Parameters<typeof startProxyHttpServer>[1], bound: (port: number) => void): Promise<void> => {
      const bind = parseBindAddress(addr, flagName);
      const attempt = async (): Promise<void> => {
        if (stopped) return;
        try {
          const s = await startProxyHttpServer(bind, handlers);
          if (stopped) return void (await s.close());
          servers.push(s);
          bound(s.port);
        } catch (err) {
          cfg.env.log.warn(`failed to start the ${flagName === "--healthz-bind-address" ? "healthz" : "metrics"} server; retrying in 5 s`, { address: addr, error: err instanceof Error ? err.message : String(err) });
          retries.push(cfg.env.clock.setTimer(HTTP_SERVER_RETRY_MS, () => void attempt(), { keepProcessAlive: false }));
        }
      };
      await attempt();
    };
    if (healthz !== null && healthz === metricsAddr) {
      await serve(healthz, "--healthz-bind-address", { health, metrics }, (port) => (healthzPort = metricsPort = port));
    } else {
      if (healthz !== null) await serve(healthz, "--healthz-bind-address", { health }, (port) => (healthzPort = port));
      if (metricsAddr !== null) await serve(metricsAddr, "--metrics-bind-address", { metrics }, (port) => (metricsPort = port));
    }
    proxier.start();
  } catch (err) {
    stopped = true;
    for (const t of retries) t.cancel();
    for (const r of regs) r.remove();
    await Promise.all(servers.map((s) => s.close()));
    if (ownInformers) await informers.shutdown();
    throw err;
  }

  return {
    mode: cfg.mode,
    metrics,
    health,
    proxier,
    /** 0 until the server is listening (its port may be taken for a while). */
    get healthzPort() {
      return healthzPort;
    },
    get metricsPort() {
      return metricsPort;
    },
    requestSync: () => proxier.requestSync(),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of retries) t.cancel();
      for (const r of regs) r.remove();
      await proxier.stop();
      await Promise.all(servers.map((s) => s.close()));
      if (ownInformers) await informers.shutdown();
    },
    async cleanup() {
      if (ipt !== null) await cleanupIptables(ipt);
      if (addresses !== null) await addresses.cleanup();
    },
  };
}
