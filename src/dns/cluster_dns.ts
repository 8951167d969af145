/**
 * Cluster DNS, the tk8s component in CoreDNS's place: watches Services, EndpointSlices and Namespaces,
 * answers the cluster domain and reverse zones from that cache, forwards everything else to upstream
 * resolvers (given, or the host's /etc/resolv.conf), and serves /health, /ready and /metrics over HTTP.
 *
 *   const dns = await startClusterDns({ client, listen: "10.96.0.10:53", clusterDomain: "cluster.local" });
 *   … dns.dnsAddress, dns.httpAddress; await dns.stop();
 *
 * It is the equivalent of the kubeadm Corefile:
 *   .:53 { errors; health; ready; kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure;
 *          fallthrough in-addr.arpa ip6.arpa; ttl 30 }; prometheus :9153; forward . /etc/resolv.conf
 *          { max_concurrent 1000 }; … }
 * with the TTL at CoreDNS's plugin default of 5 s.
 */
import { createServer, type Server } from "node:http";
import type { Namespace, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { Env } from "../env/env.js";
import { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import { nodeClock, nodeFileSystem, nodeRng, newNodeLogger } from "../platform/node/node_env.js";
import { handleDnsQuery } from "./dns_handler.js";
import { DnsServer, parseListen } from "./dns_server.js";
import { Forwarder, parseUpstream, upstreamString, type Upstream } from "./forwarder.js";
import { DEFAULT_TTL_SECONDS } from "./kubernetes_zone.js";
import { DnsMetrics } from "./metrics.js";
import { parseResolvConf } from "./resolv_conf.js";
import { ServiceCatalog, endpointSliceIndexers, serviceIndexers } from "./service_catalog.js";

export interface ClusterDnsOptions {
  readonly client: RestClient;
  /** Where DNS listens, UDP and TCP: "127.0.0.1:53"; port 0 picks one. */
  readonly listen: string;
  /** Where /health, /ready and /metrics are served: "127.0.0.1:9153"; default the DNS host, port 0. */
  readonly httpListen?: string;
  /** Default "cluster.local". */
  readonly clusterDomain?: string;
  /** Upstream resolvers ("1.1.1.1", "10.0.0.2:53"); default the nameservers of `resolvConfPath`. Empty: no forwarding. */
  readonly upstreams?: readonly string[];
  /** Default "/etc/resolv.conf". */
  readonly resolvConfPath?: string;
  readonly ttlSeconds?: number;
  /** Per-upstream answer timeout; default 2 s. */
  readonly forwardTimeoutMs?: number;
  /** Forwarded queries in flight at most; default 1000. */
  readonly maxConcurrent?: number;
  readonly env?: Env;
  /** Informer backoff override (tests). */
  readonly backoffInitialMs?: number;
}

export interface ClusterDns {
  readonly dnsAddress: { host: string; port: number };
  readonly httpAddress: { host: string; port: number };
  readonly upstreams: readonly Upstream[];
  readonly metrics: DnsMetrics;
  /** True once the caches have synced (what /ready says). */
  isReady(): boolean;
  /** Resolves when ready, false after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startClusterDns(options: ClusterDnsOptions): Promise<ClusterDns> {
  const env: Env = options.env ?? { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: newNodeLogger("info", { component: "cluster-dns" }) };
  const log = env.log;
  const listen = parseListen(options.listen);
  const clusterDomain = (options.clusterDomain ?? "cluster.local").replace(/\.$/, "");

  let upstreams: Upstream[];
  if (options.upstreams !== undefined) upstreams = options.upstreams.map(parseUpstream);
  else {
    const path = options.resolvConfPath ?? "/etc/resolv.conf";
    const text = (await env.fs.exists(path)) ? new TextDecoder().decode(await env.fs.readFile(path)) : "";
    upstreams = parseResolvConf(text).nameservers.flatMap((n) => {
      try {
        return [parseUpstream(n)];
      } catch {
        log.warn("ignoring a nameserver that is not an IP address", { nameserver: n, path });
        return [];
      }
    });
  }

  const factory = new InformerFactory(env, options.client, options.backoffInitialMs === undefined ? {} : { backoffInitialMs: options.backoffInitialMs });
  const services = factory.informerFor<Service>("", "v1", "services", { indexers: serviceIndexers });
  const slices = factory.informerFor<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices", { indexers: endpointSliceIndexers });
  const namespaces = factory.informerFor<Namespace>("", "v1", "namespaces");
  const catalog = new ServiceCatalog(services.indexer, slices.indexer, namespaces.indexer);

  // The SOA serial moves with every change seen, in Unix seconds, as CoreDNS's does.
  let serial = Math.floor(env.clock.wallMs() / 1000);
  const touch = (): void => {
    serial = Math.max(serial, Math.floor(env.clock.wallMs() / 1000));
  };
  services.addEventHandler({ onAdd: touch, onUpdate: touch, onDelete: touch });
  slices.addEventHandler({ onAdd: touch, onUpdate: touch, onDelete: touch });
  namespaces.addEventHandler({ onAdd: touch, onUpdate: touch, onDelete: touch });

  const metrics = new DnsMetrics();
  let ready = false;
  const dnsServer = new DnsServer({
    listen: options.listen,
    clock: env.clock,
    log,
    metrics,
    handle: (packet, proto) => handleDnsQuery(deps, packet, proto),
  });
  const bound = await dnsServer.start();

  // Never forward to ourselves: a host whose resolv.conf names this address would loop every query.
  const self = upstreams.filter((u) => u.port === bound.port && (u.host === bound.host || (bound.host === "0.0.0.0" && u.host.startsWith("127."))));
  if (self.length > 0) log.warn("not forwarding to this server's own address", { upstreams: self.map(upstreamString) });
  upstreams = upstreams.filter((u) => !self.includes(u));
  const forwarder = new Forwarder(env, {
    upstreams,
    metrics,
    ...(options.forwardTimeoutMs === undefined ? {} : { timeoutMs: options.forwardTimeoutMs }),
    ...(options.maxConcurrent === undefined ? {} : { maxConcurrent: options.maxConcurrent }),
  });
  const deps = {
    catalog,
    synced: () => ready,
    zone: () => ({ clusterDomain, soaSerial: serial, ttlSeconds: options.ttlSeconds ?? DEFAULT_TTL_SECONDS }),
    forward: upstreams.length === 0 ? null : (q: Uint8Array, proto: "udp" | "tcp") => forwarder.forward(q, proto),
  };

  factory.start();
  const syncAbort = new AbortController();
  const synced = factory.waitForCacheSync({ signal: syncAbort.signal }).then((ok) => {
    ready = ok;
    if (ok) log.info("cluster DNS caches synced", { services: services.indexer.size(), endpointSlices: slices.indexer.size() });
    return ok;
  });

  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (path === "/health") res.writeHead(200, { "content-type": "text/plain" }).end("OK");
    else if (path === "/ready") res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "OK" : "kubernetes");
    else if (path === "/metrics") res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
    else res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
  });
  const httpListen = options.httpListen === undefined ? { host: listen.host, port: 0 } : parseListen(options.httpListen);
  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(httpListen.port, httpListen.host, () => {
        http.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    syncAbort.abort();
    await factory.shutdown();
    await dnsServer.stop();
    throw err;
  }
  const httpPort = (http.address() as { port: number }).port;
  log.info("cluster DNS serving", { dns: `${bound.host}:${bound.port}`, http: `${httpListen.host}:${httpPort}`, clusterDomain, upstreams: upstreams.map(upstreamString) });

  return {
    dnsAddress: bound,
    httpAddress: { host: httpListen.host, port: httpPort },
    upstreams,
    metrics,
    isReady: () => ready,
    async waitReady(timeoutMs) {
      let timer: { cancel(): void } | undefined;
      const timeout = new Promise<boolean>((r) => {
        timer = env.clock.setTimer(timeoutMs, () => r(false));
      });
      const ok = await Promise.race([synced, timeout]);
      timer?.cancel();
      return ok;
    },
    async stop() {
      syncAbort.abort();
      forwarder.close();
      await Promise.all([dnsServer.stop(), new Promise<void>((r) => closeHttp(http, r)), factory.shutdown()]);
    },
  };
}

function closeHttp(server: Server, done: () => void): void {
  server.close(() => done());
  server.closeAllConnections();
}
