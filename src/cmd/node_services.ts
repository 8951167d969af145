/**
 * The cluster add-ons `tk8s server` runs beside its kubelet, as a kubeadm cluster runs them as pods:
 * cluster DNS (CoreDNS's place) behind the `kube-system/kube-dns` Service, and kube-proxy.
 *
 * Cluster DNS is not a pod here, so nothing selects it: the `kube-dns` Service has no selector and its
 * Endpoints and EndpointSlice are written by this module (as the API server writes the `kubernetes`
 * Service's), pointing at the address DNS listens on. kube-proxy then routes the Service's ClusterIP to it
 * like any other Service.
 *
 * Which address pods are told (the kubelet's --cluster-dns) depends on the runtime:
 * - containerd: pods have their own network namespace and reach the ClusterIP through kube-proxy's rules;
 * - the process runtime: pods share the host's network, and userspace kube-proxy forwards TCP only, so
 *   they are given the address DNS listens on itself (resolv.conf takes no port: it must listen on 53).
 */
import type { Endpoints, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { Env } from "../env/env.js";
import type { InformerFactory } from "../client/informer_factory.js";
import type { KubeObject, ResourceClient, RestClient } from "../client/rest_client.js";
import { ApiError } from "../api/status.js";
import { startClusterDns, type ClusterDns } from "../dns/cluster_dns.js";
import { startKubeProxy, type KubeProxy } from "../proxy/kube_proxy.js";

/** The `kube-dns` Service's ClusterIP: the tenth address of the default --service-cluster-ip-range, as kubeadm's. */
export const CLUSTER_DNS_SERVICE_IP = "10.96.0.10";
export const CLUSTER_DOMAIN_DEFAULT = "cluster.local";
const MANAGED_BY = "tk8s-server";

export interface NodeServicesConfig {
  readonly env: Env;
  readonly client: RestClient;
  readonly informers: InformerFactory;
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly clusterCidr: string;
  readonly runtime: "containerd" | "process";
  /** null: no cluster DNS. */
  readonly dns: null | {
    /** Where DNS listens (UDP and TCP), "0.0.0.0:53"; port 0 picks one (tests). */
    readonly listen: string;
    /** Its /health, /ready and /metrics, "127.0.0.1:9153"; port 0 picks one. */
    readonly httpListen: string;
    readonly clusterDomain: string;
    /** Upstream resolvers; default the nameservers of `resolvConfPath`. */
    readonly upstreams?: readonly string[];
    /**
     * Where the upstream resolvers are read from when `upstreams` is not given: the kubelet's --resolv-conf,
     * as upstream's CoreDNS pod (dnsPolicy Default) gets that file; default /etc/resolv.conf, "" for none.
     */
    readonly resolvConfPath?: string;
  };
  /** null: no kube-proxy. */
  readonly proxy: null | {
    readonly healthzBindAddress: string | null;
    readonly metricsBindAddress: string | null;
  };
}

export interface NodeServices {
  /** What the kubelet puts in pods' resolv.conf (its --cluster-dns); [] without cluster DNS. */
  readonly clusterDNS: readonly string[];
  /** Why cluster DNS is not running although asked for (it could not listen), else null. */
  readonly dnsWarning: string | null;
  readonly dns: ClusterDns | null;
  readonly proxy: KubeProxy | null;
  stop(): Promise<void>;
}

export async function startNodeServices(cfg: NodeServicesConfig, progress: (line: string) => void): Promise<NodeServices> {
  let dns: ClusterDns | null = null;
  let proxy: KubeProxy | null = null;
  let clusterDNS: string[] = [];
  let dnsWarning: string | null = null;
  try {
    if (cfg.dns !== null) {
      const upstreams = cfg.dns.upstreams ?? (cfg.dns.resolvConfPath === "" ? [] : undefined);
      try {
        dns = await startClusterDns({
          client: cfg.client,
          listen: cfg.dns.listen,
          httpListen: cfg.dns.httpListen,
          clusterDomain: cfg.dns.clusterDomain,
          env: cfg.env,
          ...(upstreams === undefined ? {} : { upstreams }),
          ...(cfg.dns.resolvConfPath === undefined || cfg.dns.resolvConfPath === "" ? {} : { resolvConfPath: cfg.dns.resolvConfPath }),
        });
      } catch (err) {
        // Port 53 is often taken (systemd-resolved, dnsmasq, another tk8s): the cluster still works
        // without names, so the operator gets one line saying why and what to change, not a dead server.
        if (!isListenError(err)) throw err;
        dnsWarning = `cluster DNS is not running: Cannot listen on ${cfg.dns.listen} (or ${cfg.dns.httpListen}): ${(err as Error).message}; pods get no cluster DNS (free the port, or set --cluster-dns-listen, or --disable-cluster-dns)`;
        cfg.env.log.warn("cluster DNS is not running", { listen: cfg.dns.listen, httpListen: cfg.dns.httpListen, error: (err as Error).message });
        progress(`warning: ${dnsWarning}`);
      }
    }
    if (dns !== null && cfg.dns !== null) {
      const host = dns.dnsAddress.host === "0.0.0.0" || dns.dnsAddress.host === "::" ? cfg.nodeIP : dns.dnsAddress.host;
      await ensureKubeDnsService(cfg.client, host, dns.dnsAddress.port);
      clusterDNS = cfg.runtime === "containerd" ? [CLUSTER_DNS_SERVICE_IP] : [host];
      progress(`cluster DNS serving ${cfg.dns.clusterDomain} on ${dns.dnsAddress.host}:${dns.dnsAddress.port} (Service kube-system/kube-dns ${CLUSTER_DNS_SERVICE_IP})`);
    }
    if (cfg.proxy !== null) {
      const mode = cfg.runtime === "containerd" ? "iptables" : "userspace";
      proxy = await startKubeProxy({
        env: cfg.env,
        client: cfg.client,
        informers: cfg.informers,
        mode,
        nodeName: cfg.nodeName,
        clusterCIDR: cfg.clusterCidr,
        healthzBindAddress: cfg.proxy.healthzBindAddress,
        metricsBindAddress: cfg.proxy.metricsBindAddress,
      });
      const served = [
        ...(cfg.proxy.healthzBindAddress === null ? [] : [`/healthz on ${withPort(cfg.proxy.healthzBindAddress, proxy.healthzPort)}`]),
        ...(cfg.proxy.metricsBindAddress === null ? [] : [`/metrics on ${withPort(cfg.proxy.metricsBindAddress, proxy.metricsPort)}`]),
      ];
      progress(`kube-proxy started (${mode} mode${mode === "userspace" ? ": the process runtime's pods use the host network" : ""})${served.length === 0 ? "" : `; ${served.join(", ")}`}`);
    }
  } catch (err) {
    await proxy?.stop();
    await dns?.stop();
    throw err;
  }
  return {
    clusterDNS,
    dnsWarning,
    dns,
    proxy,
    async stop() {
      await proxy?.stop();
      await dns?.stop();
    },
  };
}

/** `host:port` with the port actually bound (the flag may say 0). */
function withPort(bindAddress: string, port: number): string {
  return `${bindAddress.slice(0, bindAddress.lastIndexOf(":"))}:${port}`;
}

/** A socket that could not be bound (address in use, privileged port, address not on this host). */
function isListenError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return (e.syscall === "bind" || e.syscall === "listen") && typeof e.code === "string";
}

/**
 * The cluster DNS address for a node that does not run DNS itself (`tk8s agent`): the `kube-dns`
 * Service's ClusterIP when the server made one, else none (pods then get the host's resolv.conf).
 */
export async function clusterDnsFromService(client: RestClient): Promise<string[]> {
  const svc = await getOrNull(client.resource<Service>("", "v1", "services").namespace("kube-system"), "kube-dns");
  const ip = svc?.spec?.clusterIP;
  return ip === undefined || ip === "" || ip === "None" ? [] : [ip];
}

/**
 * The kube-dns Service (kubeadm's ports and labels) and, since it selects no pods, its Endpoints and
 * EndpointSlice pointing at `host:port`. Idempotent: a restart finds them and brings the address up to date.
 */
export async function ensureKubeDnsService(client: RestClient, host: string, port: number): Promise<void> {
  const labels = { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" };
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kube-dns", namespace: "kube-system", labels },
    spec: {
      clusterIP: CLUSTER_DNS_SERVICE_IP,
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: port },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: port },
      ],
    },
  };
  const services = client.resource<Service>("", "v1", "services").namespace("kube-system");
  if ((await getOrNull(services, "kube-dns")) === null) await services.create(service);
  const endpoints: Endpoints = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "kube-dns", namespace: "kube-system", labels },
    subsets: [{ addresses: [{ ip: host }], ports: [{ name: "dns", port, protocol: "UDP" }, { name: "dns-tcp", port, protocol: "TCP" }] }],
  };
  await putObject(client.resource<Endpoints>("", "v1", "endpoints").namespace("kube-system"), endpoints);
  const slice: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kube-dns-tk8s",
      namespace: "kube-system",
      labels: { ...labels, "kubernetes.io/service-name": "kube-dns", "endpointslice.kubernetes.io/managed-by": MANAGED_BY },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [host], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: "dns", port, protocol: "UDP" }, { name: "dns-tcp", port, protocol: "TCP" }],
  };
  await putObject(client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("kube-system"), slice);
}

async function getOrNull<T extends KubeObject>(r: ResourceClient<T>, name: string): Promise<T | null> {
  try {
    return await r.get(name);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return null;
    throw err;
  }
}

/** Creates `obj`, or replaces the stored one's content (keeping its identity). */
async function putObject<T extends KubeObject>(r: ResourceClient<T>, obj: T): Promise<void> {
  const current = await getOrNull(r, obj.metadata!.name!);
  if (current === null) await r.create(obj);
  else await r.update({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion } });
}
