/**
 * What kube-proxy programs, reduced from Services and EndpointSlices (upstream pkg/proxy servicechangetracker
 * + endpointslicecache): one ServicePort per (Service, port) and the endpoints behind it. Pure: the proxiers
 * (iptables, userspace) both start from here. IPv4 only, as the rest of tk8s.
 */
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";

export type Protocol = "TCP" | "UDP" | "SCTP";

/** The label an EndpointSlice carries to say which Service it belongs to (discovery.LabelServiceName). */
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
/** Upstream's default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_STICKY_MAX_AGE_SECONDS = 10800;

/** One port of one Service, with everything the rules need (upstream's BaseServicePortInfo). */
export interface ServicePort {
  readonly namespace: string;
  readonly name: string;
  /** The port's name in the Service ("" when the Service has a single unnamed port). */
  readonly portName: string;
  /** `ns/name:port` or `ns/name` for an unnamed port: upstream's ServicePortName.String(), used in comments and hashes. */
  readonly nameString: string;
  readonly protocol: Protocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0: none. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  /** sessionAffinity: ClientIP. */
  readonly sessionAffinityClientIP: boolean;
  readonly stickyMaxAgeSeconds: number;
  /** externalTrafficPolicy: Local (only for NodePort/LoadBalancer services, as upstream). */
  readonly externalPolicyLocal: boolean;
  /** internalTrafficPolicy: Local. */
  readonly internalPolicyLocal: boolean;
}

/** One endpoint of a ServicePort (upstream's BaseEndpointInfo). */
export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** On this node (its nodeName is ours). */
  readonly isLocal: boolean;
}

/** `ip:port`, as upstream's Endpoint.String() (IPv4). */
export function endpointString(ep: Pick<EndpointInfo, "ip" | "port">): string {
  return `${ep.ip}:${ep.port}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** `namespace/name`, the key of a Service and of the endpoints collected for it. */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * The ServicePorts of a Service; none for headless (`clusterIP: None`), ExternalName, or a Service without
 * an IPv4 ClusterIP yet (upstream skips those the same way: there is nothing to capture).
 */
export function servicePortsOf(svc: Service): ServicePort[] {
  const spec = svc.spec;
  const namespace = svc.metadata?.namespace ?? "default";
  const name = svc.metadata?.name ?? "";
  if (spec === undefined || spec.type === "ExternalName") return [];
  const clusterIP = spec.clusterIP ?? "";
  if (clusterIP === "" || clusterIP === "None" || !isIPv4(clusterIP)) return [];
  const type = spec.type ?? "ClusterIP";
  const externallyAccessible = type === "NodePort" || type === "LoadBalancer";
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const loadBalancerIPs = type === "LoadBalancer" ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "").filter(isIPv4) : [];
  const sessionAffinityClientIP = spec.sessionAffinity === "ClientIP";
  const stickyMaxAgeSeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_MAX_AGE_SECONDS;
  // As upstream's ExternalPolicyLocal(): the policy only means something when the service is reachable from outside.
  const externalPolicyLocal = (externallyAccessible || externalIPs.length > 0) && spec.externalTrafficPolicy === "Local";
  const internalPolicyLocal = spec.internalTrafficPolicy === "Local";
  const out: ServicePort[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = (p.protocol ?? "TCP") as Protocol;
    if (protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP") continue;
    const portName = p.name ?? "";
    out.push({
      namespace,
      name,
      portName,
      nameString: portName === "" ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`,
      protocol,
      clusterIP,
      port: p.port,
      nodePort: externallyAccessible ? (p.nodePort ?? 0) : 0,
      externalIPs,
      loadBalancerIPs,
      sessionAffinityClientIP,
      stickyMaxAgeSeconds,
      externalPolicyLocal,
      internalPolicyLocal,
    });
  }
  return out;
}

function ipv4Number(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

/**
 * The endpoints of one ServicePort from the Service's EndpointSlices: the slice port with the same name
 * and protocol, the first address of each endpoint, conditions defaulted as upstream (ready unset means
 * ready; serving unset means ready's value; terminating unset means false). An endpoint listed twice
 * (two slices during an update) counts once, the ready copy winning. Sorted by IP then port, so rules
 * and round-robin order do not depend on slice order.
 */
export function endpointsFor(sp: ServicePort, slices: readonly EndpointSlice[], nodeName: string): EndpointInfo[] {
  const byKey = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== "IPv4") continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? "") === sp.portName && (p.protocol ?? "TCP") === sp.protocol);
    if (port === undefined || port.port === undefined || port.port <= 0) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (ip === undefined || !isIPv4(ip)) continue;
      const ready = ep.conditions?.ready ?? true;
      const info: EndpointInfo = {
        ip,
        port: port.port,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
      };
      const key = endpointString(info);
      const seen = byKey.get(key);
      if (seen === undefined || (!seen.ready && info.ready)) byKey.set(key, info);
    }
  }
  return [...byKey.values()].sort((a, b) => ipv4Number(a.ip) - ipv4Number(b.ip) || a.port - b.port);
}

/** Which endpoints serve which traffic (upstream's CategorizeEndpoints, without topology hints). */
export interface CategorizedEndpoints {
  /** For traffic with the Cluster policy. */
  readonly cluster: readonly EndpointInfo[];
  /** For traffic with the Local policy (only computed when a policy is Local). */
  readonly local: readonly EndpointInfo[];
  /** The union: every endpoint that needs its own chain. */
  readonly allReachable: readonly EndpointInfo[];
  /** Any usable endpoint at all (decides REJECT vs DROP when a Local policy has none here). */
  readonly hasAny: boolean;
}

/** Ready endpoints; when none is ready, the serving-and-terminating ones (upstream's ProxyTerminatingEndpoints). */
function usable(eps: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = eps.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return eps.filter((e) => e.serving && e.terminating);
}

export function categorizeEndpoints(sp: ServicePort, eps: readonly EndpointInfo[]): CategorizedEndpoints {
  const usesCluster = !sp.internalPolicyLocal || !sp.externalPolicyLocal;
  const usesLocal = sp.internalPolicyLocal || sp.externalPolicyLocal;
  const cluster = usesCluster ? usable(eps) : [];
  const local = usesLocal ? usable(eps.filter((e) => e.isLocal)) : [];
  const seen = new Set<string>();
  const allReachable: EndpointInfo[] = [];
  for (const e of [...cluster, ...local]) {
    const k = endpointString(e);
    if (seen.has(k)) continue;
    seen.add(k);
    allReachable.push(e);
  }
  allReachable.sort((a, b) => ipv4Number(a.ip) - ipv4Number(b.ip) || a.port - b.port);
  const hasAny = usable(eps).length > 0;
  return { cluster, local, allReachable, hasAny };
}

/** The proxy's whole input at one moment: every ServicePort and its endpoints. */
export interface ProxyState {
  readonly servicePorts: readonly ServicePort[];
  /** By ServicePort nameString. */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

/** Builds the state from the caches' current contents (Services and EndpointSlices of every namespace). */
export function buildProxyState(services: readonly Service[], slices: readonly EndpointSlice[], nodeName: string): ProxyState {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svcName = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (svcName === undefined || svcName === "") continue;
    const key = serviceKey(s.metadata?.namespace ?? "default", svcName);
    let list = slicesByService.get(key);
    if (list === undefined) slicesByService.set(key, (list = []));
    list.push(s);
  }
  const servicePorts: ServicePort[] = [];
  const endpoints = new Map<string, readonly EndpointInfo[]>();
  for (const svc of services) {
    for (const sp of servicePortsOf(svc)) {
      servicePorts.push(sp);
      endpoints.set(sp.nameString, endpointsFor(sp, slicesByService.get(serviceKey(sp.namespace, sp.name)) ?? [], nodeName));
    }
  }
  servicePorts.sort((a, b) => (a.nameString < b.nameString ? -1 : a.nameString > b.nameString ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  return { servicePorts, endpoints };
}
