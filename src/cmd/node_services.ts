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
    /** Upstream resolvers; default the host's /etc/resolv.conf. */
    readonly upstreams?: readonly string[];
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
  readonly dns: ClusterDns | null;
  readonly proxy: KubeProxy | null;
  stop(): Promise<void>;
}

export async function startNodeServices(cfg: NodeServicesConfig, progress: (line: string) => void): Promise<NodeServices> {
  let dns: ClusterDns | null = null;
  let proxy: KubeProxy | null = null;
  let clusterDNS: string[] = [];
  try {
    if (cfg.dns !== null) {
      dns = await startClusterDns({
        client: cfg.client,
        listen: cfg.dns.listen,
        httpListen: cfg.dns.httpListen,
        clusterDomain: cfg.dns.clusterDomain,
        env: cfg.env,
        ...(cfg.dns.upstreams === undefined ? {} : { upstreams: cfg.dns.upstreams }),
      });
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
      progress(`kube-proxy started (${mode} mode${mode === "userspace" ? ": the process runtime's pods use the host network" : ""})`);
    }
  } catch (err) {
    await proxy?.stop();
    await dns?.stop();
    throw err;
  }
  return {
    clusterDNS,
    dns,
    proxy,
    async stop() {
      await proxy?.stop();
      await dns?.stop();
    },
  };
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
