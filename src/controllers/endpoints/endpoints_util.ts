/**
 * The pieces the Endpoints and EndpointSlice controllers share (upstream's
 * pkg/controller/util/endpoint/controller_utils.go, staging endpointslice/util, pkg/api/v1/endpoints
 * and podutil.FindPort): which pods belong in endpoints, which IP and ports they offer, the canonical
 * (repacked, sorted) form of Endpoints subsets.
 */
import { isDeepStrictEqual } from "node:util";
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service, ServicePort } from "kubernetes-types/core/v1.js";
import type { Labels } from "../../client/label_selector.js";

/** Set on Endpoints/EndpointSlices of headless services (no cluster IP). */
export const IS_HEADLESS_SERVICE_LABEL = "service.kubernetes.io/headless";
/** When the controller last saw a change that this Endpoints object reflects. */
export const LAST_CHANGE_TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time";

/** A pod that has finished (Succeeded or Failed): never in endpoints. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** upstream's ShouldPodBeInEndpoints: not terminal, has an IP, and not terminating unless those are included. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if ((pod.status?.podIP ?? "") === "" && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp !== undefined) return false;
  return true;
}

/** A pod's hostname is published when it names this service as its subdomain. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (pod.spec?.hostname ?? "") !== "" && pod.spec?.subdomain === svc.metadata?.name && svc.metadata?.namespace === pod.metadata?.namespace;
}

/** True when the service's selector (a non-empty-checked map; nil means "no selector") matches `labels`. */
export function serviceSelects(svc: Service, labels: Labels): boolean {
  const sel = svc.spec?.selector;
  if (sel === undefined || sel === null) return false;
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/** The service's IP family: its first ipFamilies entry, else inferred as upstream does for legacy objects. */
export function serviceIPFamily(svc: Service, pod?: Pod): "IPv4" | "IPv6" {
  const families = svc.spec?.ipFamilies ?? [];
  if (families.length > 0) return families[0] === "IPv6" ? "IPv6" : "IPv4";
  const clusterIP = svc.spec?.clusterIP ?? "";
  if (clusterIP !== "" && clusterIP !== "None") return isIPv6(clusterIP) ? "IPv6" : "IPv4";
  const first = podIPs(pod)[0];
  return first !== undefined && isIPv6(first) ? "IPv6" : "IPv4";
}

function podIPs(pod: Pod | undefined): string[] {
  const ips = (pod?.status?.podIPs ?? []).map((p) => p.ip ?? "").filter((ip) => ip !== "");
  if (ips.length > 0) return ips;
  const ip = pod?.status?.podIP ?? "";
  return ip === "" ? [] : [ip];
}

/** The pod IP of the service's family, or undefined when the pod has none. */
export function podIPForService(svc: Service, pod: Pod): string | undefined {
  const family = serviceIPFamily(svc, pod);
  return podIPs(pod).find((ip) => isIPv6(ip) === (family === "IPv6"));
}

/**
 * The container port a service port targets on `pod` (podutil.FindPort): a numeric targetPort as is, a
 * named one looked up among the containers' ports with the same protocol; undefined when none matches.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = svcPort.protocol ?? "TCP";
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always")];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
  }
  return undefined;
}

/** The Endpoints address of a pod (podToEndpointAddressForService); undefined without an IP of the family. */
export function podToEndpointAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  const ip = podIPForService(svc, pod);
  if (ip === undefined) return undefined;
  const nodeName = pod.spec?.nodeName ?? "";
  return {
    ip,
    ...(nodeName === "" ? {} : { nodeName }),
    targetRef: { kind: "Pod", namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
}

function portKey(p: EndpointPort): string {
  return `${p.name ?? ""}\x00${p.port}\x00${p.protocol ?? ""}\x00${p.appProtocol ?? ""}`;
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}\x00${a.targetRef?.uid ?? ""}`;
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.targetRef?.uid ?? "") < (b.targetRef?.uid ?? "") ? -1 : (a.targetRef?.uid ?? "") > (b.targetRef?.uid ?? "") ? 1 : 0;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  const ka = portKey(a);
  const kb = portKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The canonical layout of subsets (endpoints.RepackSubsets): every address grouped with exactly the
 * ports it offers, ready addresses winning over not-ready duplicates, everything sorted so two
 * computations of the same state compare equal. (Upstream sorts ports and subsets by hash; we sort
 * by value: same canonical idea, deterministic order.)
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  // port key → (address key → ready)
  const byPort = new Map<string, { port: EndpointPort | null; ready: Map<string, boolean> }>();
  const note = (port: EndpointPort | null, a: EndpointAddress, ready: boolean) => {
    const pk = port === null ? "\x01sentinel" : portKey(port);
    let entry = byPort.get(pk);
    if (entry === undefined) byPort.set(pk, (entry = { port, ready: new Map() }));
    const ak = addressKey(a);
    if (!addrs.has(ak)) addrs.set(ak, a);
    if (ready) entry.ready.set(ak, true);
    else if (!entry.ready.has(ak)) entry.ready.set(ak, false);
  };
  for (const s of subsets) {
    const ports: (EndpointPort | null)[] = (s.ports ?? []).length === 0 ? [null] : s.ports!;
    for (const p of ports) {
      for (const a of s.addresses ?? []) note(p, a, true);
      for (const a of s.notReadyAddresses ?? []) note(p, a, false);
    }
  }
  // Group ports by the exact set of (address, ready) they are offered on.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready].map(([a, r]) => `${a}=${r}`).sort().join("|");
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { ready, ports: [] }));
    if (port !== null) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const readyAddrs: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, r] of g.ready) (r ? readyAddrs : notReady).push(addrs.get(ak)!);
    readyAddrs.sort(compareAddresses);
    notReady.sort(compareAddresses);
    g.ports.sort(comparePorts);
    out.push({
      ...(readyAddrs.length > 0 ? { addresses: readyAddrs } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
      ...(g.ports.length > 0 ? { ports: g.ports } : {}),
    });
  }
  const first = (s: EndpointSubset) => `${(s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? ""}\x00${(s.ports ?? []).map(portKey).join(",")}`;
  return out.sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : 0));
}

/** Deep equality of API values the way the server returns them (no undefined keys, key order ignored). */
export function apiEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}

/** RFC 3339 with nanoseconds trimmed, as Go's time.RFC3339Nano prints a millisecond time. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, "Z").replace(/\.Z$/, "Z");
}
