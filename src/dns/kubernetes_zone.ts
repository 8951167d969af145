/**
 * Answers for the cluster domain, as the Kubernetes DNS-Based Service Discovery specification (v1.1.0,
 * kubernetes/dns docs/specification.md) and CoreDNS's kubernetes plugin serve them:
 *
 *   <svc>.<ns>.svc.<zone>                A/AAAA  ClusterIPs; for a headless Service, its ready endpoints
 *                                                (none ready: NXDOMAIN, spec 2.4.1)
 *   <svc>.<ns>.svc.<zone>                CNAME   spec.externalName of an ExternalName Service
 *   <host>.<svc>.<ns>.svc.<zone>         A/AAAA  the endpoint with that hostname (or dashed IP: 10-244-1-7)
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV   0 <100/n> <port> <svc target>, targets' addresses in additional
 *   <a-b-c-d>.<ns>.pod.<zone>            A       the address itself ("pods insecure", the kubeadm Corefile's mode)
 *   <d>.<c>.<b>.<a>.in-addr.arpa         PTR     a ClusterIP's Service, or a headless endpoint's name
 *   dns-version.<zone>                   TXT     "1.1.0"
 *
 * A name that exists without records of the asked type is NODATA (NOERROR, empty answer); a name that does
 * not exist is NXDOMAIN; both carry the zone's SOA in the authority section so resolvers can cache them
 * (RFC 2308). Reverse names this zone does not know fall through (null) to the forwarder, as the kubeadm
 * Corefile's `fallthrough in-addr.arpa ip6.arpa` says.
 */
import type { Service } from "kubernetes-types/core/v1.js";
import { CLASS_IN, RCode, RRType, bytesToIp, canonicalName, ipToBytes, type Question, type ResourceRecord } from "./message.js";
import { serviceClusterIPs, type ServiceCatalog, type ServiceEndpoint } from "./service_catalog.js";

export const DNS_SCHEMA_VERSION = "1.1.0";
/** CoreDNS's kubernetes plugin default, and the SOA minimum (the negative-caching TTL). */
export const DEFAULT_TTL_SECONDS = 5;

export interface KubernetesZoneOptions {
  /** "cluster.local" (with or without the final dot). */
  readonly clusterDomain: string;
  readonly ttlSeconds?: number;
  /** The SOA serial: CoreDNS uses the time of the last change it saw, in Unix seconds. */
  readonly soaSerial: number;
}

export interface ZoneAnswer {
  readonly rcode: number;
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
}

/** Whether `name` is in (or is) the zone `zone`; both canonical. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The zones this component is authoritative for: the cluster domain and the reverse trees. */
export function clusterZones(clusterDomain: string): string[] {
  return [canonicalName(clusterDomain), "in-addr.arpa.", "ip6.arpa."];
}

/** The answer for a question in the cluster's zones, or null when it is not ours to answer (forward it). */
export function answerClusterQuestion(catalog: ServiceCatalog, q: Question, options: KubernetesZoneOptions): ZoneAnswer | null {
  const zone = canonicalName(options.clusterDomain);
  const name = canonicalName(q.name);
  if (name.endsWith(".in-addr.arpa.") || name.endsWith(".ip6.arpa.")) return answerReverse(catalog, q, zone, options);
  if (!inZone(name, zone)) return null;
  const z = new ZoneWriter(q, zone, options);
  if (q.class !== CLASS_IN && q.class !== 255) return z.result(RCode.NOERROR, []);
  if (name === zone) {
    if (q.type === RRType.SOA || q.type === RRType.ANY) return z.result(RCode.NOERROR, [z.soa()], false);
    if (q.type === RRType.NS) return z.result(RCode.NOERROR, [{ name: q.name, type: RRType.NS, class: CLASS_IN, ttl: z.ttl, data: { target: `ns.dns.${zone}` } }], false);
    return z.result(RCode.NOERROR, []);
  }
  const labels = name.slice(0, name.length - zone.length - 1).split(".");
  if (labels.length === 1 && labels[0] === "dns-version") {
    return z.result(RCode.NOERROR, q.type === RRType.TXT || q.type === RRType.ANY ? [{ name: q.name, type: RRType.TXT, class: CLASS_IN, ttl: z.ttl, data: { texts: [DNS_SCHEMA_VERSION] } }] : []);
  }
  const kind = labels[labels.length - 1];
  const rest = labels.slice(0, -1).reverse(); // namespace first
  if (kind === "svc") return answerService(catalog, z, rest);
  if (kind === "pod") return answerPod(catalog, z, rest);
  // ns.dns.<zone>: the name in our SOA and NS records.
  if (labels.length === 2 && labels[0] === "ns" && labels[1] === "dns") return z.result(RCode.NOERROR, []);
  return z.result(RCode.NXDOMAIN, []);
}

/** Record-building helpers bound to one question. */
class ZoneWriter {
  readonly ttl: number;
  constructor(readonly q: Question, readonly zone: string, readonly options: KubernetesZoneOptions) {
    this.ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  }
  soa(): ResourceRecord {
    return {
      name: this.zone,
      type: RRType.SOA,
      class: CLASS_IN,
      ttl: this.ttl,
      // CoreDNS's values: refresh 7200, retry 1800, expire 86400, minimum = the TTL.
      data: { mname: `ns.dns.${this.zone}`, rname: `hostmaster.${this.zone}`, serial: this.options.soaSerial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }
  address(owner: string, ip: string): ResourceRecord {
    return { name: owner, type: ip.includes(":") ? RRType.AAAA : RRType.A, class: CLASS_IN, ttl: this.ttl, data: { address: ip } };
  }
  /**
   * Filters `records` (all the records at the asked name) by the asked type. An empty result is NODATA;
   * NXDOMAIN/NODATA carry the SOA. A CNAME answers every type, as a CNAME owner has no other data.
   */
  result(rcode: number, records: readonly ResourceRecord[], filter = true, additionals: readonly ResourceRecord[] = []): ZoneAnswer {
    const t = this.q.type;
    const answers = filter ? records.filter((r) => t === RRType.ANY || r.type === t || r.type === RRType.CNAME) : records;
    const keepAdditional = answers.some((r) => r.type === RRType.SRV) ? additionals : [];
    return { rcode, answers, authorities: answers.length === 0 ? [this.soa()] : [], additionals: keepAdditional };
  }
}

function serviceFqdn(svc: Service, zone: string): string {
  return `${svc.metadata?.name}.${svc.metadata?.namespace}.svc.${zone}`;
}

/** The DNS label of an endpoint: its hostname, else its address with dashes (10-244-1-7, fd00--7). */
export function endpointLabel(e: ServiceEndpoint, ip: string): string {
  return e.hostname ?? ip.replace(/[.:]/g, "-");
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.type !== "ExternalName" && serviceClusterIPs(svc).length === 0;
}

/** Strips the leading underscore of an SRV label, as CoreDNS does (it accepts "http.tcp" too). */
function stripUnderscore(label: string): string {
  return label.startsWith("_") ? label.slice(1) : label;
}

function answerService(catalog: ServiceCatalog, z: ZoneWriter, rest: string[]): ZoneAnswer {
  const [ns, svcName] = rest;
  if (ns === undefined) return z.result(RCode.NOERROR, []); // svc.<zone> exists (it has names below it)
  if (svcName === undefined) return z.result(catalog.namespaceExists(ns) ? RCode.NOERROR : RCode.NXDOMAIN, []);
  const svc = catalog.service(ns, svcName);
  if (svc === undefined || rest.length > 4) return z.result(RCode.NXDOMAIN, []);
  const owner = z.q.name;
  const target = serviceFqdn(svc, z.zone);

  if (svc.spec?.type === "ExternalName") {
    // Only the Service's own name has the CNAME; nothing exists below it.
    if (rest.length !== 2 || svc.spec.externalName === undefined) return z.result(RCode.NXDOMAIN, []);
    return z.result(RCode.NOERROR, [{ name: owner, type: RRType.CNAME, class: CLASS_IN, ttl: z.ttl, data: { target: canonicalName(svc.spec.externalName) } }]);
  }

  const headless = isHeadless(svc);
  const endpoints = headless || rest.length === 3 ? catalog.endpoints(svc) : [];
  // Spec 2.4.1: a headless Service without ready endpoints is NXDOMAIN, not an empty answer.
  if (headless && endpoints.length === 0) return z.result(RCode.NXDOMAIN, []);

  if (rest.length === 3) {
    // <endpoint>.<svc>.<ns>.svc.<zone>
    const label = rest[2]!;
    const records = endpoints.flatMap((e) => e.addresses.filter((ip) => endpointLabel(e, ip).toLowerCase() === label).map((ip) => z.address(owner, ip)));
    return z.result(records.length === 0 ? RCode.NXDOMAIN : RCode.NOERROR, records);
  }

  // The addresses of the name: ClusterIPs, or each published endpoint of a headless Service.
  const addresses = headless ? endpoints.flatMap((e) => e.addresses.map((ip) => z.address(owner, ip))) : serviceClusterIPs(svc).map((ip) => z.address(owner, ip));

  // SRV: for <svc>, every named port; for _<port>._<proto>.<svc>, the ports with that name and protocol.
  const portName = rest.length === 4 ? stripUnderscore(rest[3]!) : undefined;
  const proto = rest.length === 4 ? stripUnderscore(rest[2]!) : undefined;
  const matches = (p: { name: string; protocol: string }): boolean =>
    p.name !== "" && (portName === undefined || (p.name.toLowerCase() === portName && p.protocol.toLowerCase() === proto));
  const srv: { port: number; target: string; ip: string[] }[] = [];
  if (headless) {
    for (const e of endpoints) {
      for (const p of e.ports.filter(matches)) {
        const host = endpointLabel(e, e.addresses[0]!);
        srv.push({ port: p.port, target: `${host}.${target}`, ip: e.addresses.slice() });
      }
    }
  } else {
    for (const p of svc.spec?.ports ?? []) {
      if (matches({ name: p.name ?? "", protocol: p.protocol ?? "TCP" })) srv.push({ port: p.port, target, ip: serviceClusterIPs(svc) });
    }
  }
  if (portName !== undefined && srv.length === 0) return z.result(RCode.NXDOMAIN, []);
  const weight = srv.length === 0 ? 0 : Math.max(1, Math.floor(100 / srv.length));
  const srvRecords: ResourceRecord[] = srv.map((s) => ({ name: owner, type: RRType.SRV, class: CLASS_IN, ttl: z.ttl, data: { priority: 0, weight, port: s.port, target: s.target } }));
  const seenTargets = new Set<string>();
  const additionals: ResourceRecord[] = [];
  for (const s of srv) {
    if (seenTargets.has(s.target)) continue;
    seenTargets.add(s.target);
    for (const ip of s.ip) additionals.push(z.address(s.target, ip));
  }
  return z.result(RCode.NOERROR, [...addresses, ...srvRecords], true, additionals);
}

function answerPod(catalog: ServiceCatalog, z: ZoneWriter, rest: string[]): ZoneAnswer {
  const [ns, label] = rest;
  if (ns === undefined) return z.result(RCode.NOERROR, []);
  if (label === undefined) return z.result(catalog.namespaceExists(ns) ? RCode.NOERROR : RCode.NXDOMAIN, []);
  if (rest.length !== 2) return z.result(RCode.NXDOMAIN, []);
  const v4 = label.replace(/-/g, ".");
  const ip = ipToBytes(v4) !== null ? v4 : ipToBytes(label.replace(/-/g, ":")) !== null ? label.replace(/-/g, ":") : null;
  if (ip === null) return z.result(RCode.NXDOMAIN, []);
  return z.result(RCode.NOERROR, [z.address(z.q.name, ip)]);
}

/** The address a reverse name stands for, or null if it is not a full one. */
export function reverseNameToIp(name: string): string | null {
  const n = canonicalName(name);
  if (n.endsWith(".in-addr.arpa.")) {
    const parts = n.slice(0, -".in-addr.arpa.".length).split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
    return parts.reverse().join(".");
  }
  if (n.endsWith(".ip6.arpa.")) {
    const nibbles = n.slice(0, -".ip6.arpa.".length).split(".");
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return null;
    const hex = nibbles.reverse().join("");
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    const bytes = ipToBytes(groups.join(":"));
    return bytes === null ? null : bytesToIp(bytes);
  }
  return null;
}

/** The reverse name of an address (for tests and PTR owners). */
export function ipToReverseName(ip: string): string {
  const bytes = ipToBytes(ip);
  if (bytes === null) throw new Error(`Cannot make a reverse name of ${JSON.stringify(ip)}: it is not an IP address`);
  if (bytes.length === 4) return `${[...bytes].reverse().join(".")}.in-addr.arpa.`;
  const nibbles: string[] = [];
  for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 0xf).toString(16));
  return `${nibbles.reverse().join(".")}.ip6.arpa.`;
}

function answerReverse(catalog: ServiceCatalog, q: Question, zone: string, options: KubernetesZoneOptions): ZoneAnswer | null {
  if (q.type !== RRType.PTR && q.type !== RRType.ANY) return null;
  const ip = reverseNameToIp(q.name);
  if (ip === null) return null;
  const z = new ZoneWriter(q, zone, options);
  const targets: string[] = [];
  for (const svc of catalog.servicesByClusterIP(ip)) targets.push(serviceFqdn(svc, zone));
  for (const { service, endpoint } of catalog.endpointsByAddress(ip)) {
    if (isHeadless(service)) targets.push(`${endpointLabel(endpoint, ip)}.${serviceFqdn(service, zone)}`);
  }
  if (targets.length === 0) return null;
  return z.result(RCode.NOERROR, targets.map((t) => ({ name: q.name, type: RRType.PTR, class: CLASS_IN, ttl: z.ttl, data: { target: t } })));
}
