/**
 * What cluster DNS knows about the cluster: Services, their EndpointSlices and the namespaces, read from the
 * informers' caches through indices so that a query never scans a store (CoreDNS's kubernetes plugin keeps the
 * same indices: svcIPIndex, epIPIndex, svcNameNamespaceIndex).
 */
import type { Namespace, Service } from "kubernetes-types/core/v1.js";
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { Indexer, Indexers } from "../client/indexer.js";

/** The label tying an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export const SERVICE_CLUSTER_IP_INDEX = "dns/clusterIP";
export const SLICE_SERVICE_INDEX = "dns/service";
export const SLICE_ADDRESS_INDEX = "dns/address";

/** The ClusterIPs of a Service (dual-stack `clusterIPs`, else `clusterIP`); none for headless or ExternalName. */
export function serviceClusterIPs(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP === undefined ? [] : [svc.spec.clusterIP]);
  return ips.filter((ip) => ip !== "" && ip !== "None");
}

export const serviceIndexers: Indexers<Service> = {
  [SERVICE_CLUSTER_IP_INDEX]: (svc) => serviceClusterIPs(svc).map(normalizeIp),
};

export const endpointSliceIndexers: Indexers<EndpointSlice> = {
  [SLICE_SERVICE_INDEX]: (s) => {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    return svc === undefined ? [] : [`${s.metadata?.namespace ?? ""}/${svc}`];
  },
  [SLICE_ADDRESS_INDEX]: (s) => (s.addressType === "FQDN" ? [] : [...new Set((s.endpoints ?? []).flatMap((e) => e.addresses.map(normalizeIp)))]),
};

/** IPv6 addresses in one spelling (lower case), so index lookups match however the API wrote them. */
export function normalizeIp(ip: string): string {
  return ip.toLowerCase();
}

/** An endpoint of a Service as DNS serves it. */
export interface ServiceEndpoint {
  readonly addresses: readonly string[];
  readonly hostname: string | undefined;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: string }[];
}

export class ServiceCatalog {
  readonly #services: Indexer<Service>;
  readonly #slices: Indexer<EndpointSlice>;
  readonly #namespaces: Indexer<Namespace> | null;

  /** The indexers must carry `serviceIndexers` and `endpointSliceIndexers`; without namespaces, a namespace exists while it has a Service. */
  constructor(services: Indexer<Service>, slices: Indexer<EndpointSlice>, namespaces: Indexer<Namespace> | null) {
    this.#services = services;
    this.#slices = slices;
    this.#namespaces = namespaces;
  }

  service(namespace: string, name: string): Service | undefined {
    return this.#services.getByKey(`${namespace}/${name}`);
  }

  namespaceExists(namespace: string): boolean {
    if (this.#namespaces !== null) return this.#namespaces.getByKey(namespace) !== undefined;
    return this.#services.byIndex("namespace", namespace).length > 0;
  }

  servicesByClusterIP(ip: string): Service[] {
    return this.#services.byIndex(SERVICE_CLUSTER_IP_INDEX, normalizeIp(ip));
  }

  /**
   * The endpoints DNS publishes for a Service: ready ones (a missing `ready` counts as ready, as the
   * EndpointSlice API says), or all of them when the Service sets publishNotReadyAddresses. An address
   * in several slices (during a slice's replacement) is served once.
   */
  endpoints(svc: Service): ServiceEndpoint[] {
    const ns = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    const all = svc.spec?.publishNotReadyAddresses === true;
    const seen = new Set<string>();
    const out: ServiceEndpoint[] = [];
    const slices = this.#slices.byIndex(SLICE_SERVICE_INDEX, `${ns}/${name}`).sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (const slice of slices) {
      if (slice.addressType === "FQDN") continue;
      const ports = (slice.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port ?? 0, protocol: p.protocol ?? "TCP" }));
      for (const e of slice.endpoints ?? []) {
        if (!all && !endpointReady(e)) continue;
        const addresses = e.addresses.map(normalizeIp).filter((a) => !seen.has(a));
        if (addresses.length === 0) continue;
        for (const a of addresses) seen.add(a);
        out.push({ addresses, hostname: e.hostname === undefined || e.hostname === "" ? undefined : e.hostname, ports });
      }
    }
    return out;
  }

  /** Services having an endpoint at `ip` (for PTR), with that endpoint. */
  endpointsByAddress(ip: string): { service: Service; endpoint: ServiceEndpoint }[] {
    const out: { service: Service; endpoint: ServiceEndpoint }[] = [];
    const want = normalizeIp(ip);
    const seen = new Set<string>();
    for (const slice of this.#slices.byIndex(SLICE_ADDRESS_INDEX, want)) {
      const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      const svc = name === undefined ? undefined : this.service(slice.metadata?.namespace ?? "", name);
      if (svc === undefined || seen.has(`${svc.metadata?.namespace}/${name}`)) continue;
      seen.add(`${svc.metadata?.namespace}/${name}`);
      const endpoint = this.endpoints(svc).find((e) => e.addresses.includes(want));
      if (endpoint !== undefined) out.push({ service: svc, endpoint });
    }
    return out;
  }
}

function endpointReady(e: Endpoint): boolean {
  return e.conditions?.ready !== false;
}
