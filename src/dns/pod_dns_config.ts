/**
 * A pod's resolv.conf, as the kubelet computes it (pkg/kubelet/network/dns/dns.go, GetPodDNS) and hands it to
 * the runtime in the sandbox config (runtime.v1 DNSConfig: servers, searches, options):
 *
 *   ClusterFirst              cluster DNS servers; search <ns>.svc.<domain> svc.<domain> <domain> + host's; ndots:5
 *                             (a hostNetwork pod falls back to Default)
 *   ClusterFirstWithHostNet   the same, for hostNetwork pods too
 *   Default                   the host's resolv.conf (the kubelet's --resolv-conf)
 *   None                      nothing but pod.spec.dnsConfig
 *
 * Then pod.spec.dnsConfig is merged in (nameservers and searches appended without duplicates, options
 * replacing same-named ones), and the result is cut to the resolver's limits: 3 nameservers, 32 search
 * domains, 2048 characters of search line, no domain over 253 characters. Each cut and a missing cluster DNS
 * produce the event upstream records (DNSConfigForming, MissingClusterDNS) for the caller to emit.
 */
import type { Pod } from "kubernetes-types/core/v1.js";
import { mergeOptions, parseResolvConf } from "./resolv_conf.js";

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** A search domain longer than this makes some resolvers (glibc 2.28) abort, so it is dropped. */
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DEFAULT_DNS_OPTIONS = ["ndots:5"];

export interface PodDnsConfigOptions {
  /** The kubelet's --cluster-dns; empty: ClusterFirst falls back to Default. */
  readonly clusterDNS: readonly string[];
  /** The kubelet's --cluster-domain ("cluster.local"); empty: no cluster search domains. */
  readonly clusterDomain: string;
  /** The text of the kubelet's --resolv-conf file; null when the flag is "" (no host DNS at all). */
  readonly hostResolvConf: string | null;
  /** The node's IPs, for the "" --resolv-conf case (upstream points such pods at localhost). */
  readonly nodeIPs?: readonly string[];
}

export interface PodDnsEvent {
  readonly type: "Warning";
  readonly reason: "DNSConfigForming" | "MissingClusterDNS";
  readonly message: string;
}

export interface PodDnsConfig {
  readonly servers: string[];
  readonly searches: string[];
  readonly options: string[];
  /** Events upstream records on the pod for this config (the caller emits them). */
  readonly events: PodDnsEvent[];
}

function omitDuplicates(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

export function podDnsConfig(pod: Pod, options: PodDnsConfigOptions): PodDnsConfig {
  const events: PodDnsEvent[] = [];
  const host = options.hostResolvConf === null ? { nameservers: [], searches: [], options: [] } : parseResolvConf(options.hostResolvConf);
  let servers = [...host.nameservers];
  let searches = [...host.searches];
  let opts = [...host.options];

  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  let kind: "none" | "cluster" | "host";
  if (policy === "None") kind = "none";
  else if (policy === "ClusterFirstWithHostNet") kind = "cluster";
  else if (policy === "ClusterFirst") kind = pod.spec?.hostNetwork === true ? "host" : "cluster";
  else if (policy === "Default") kind = "host";
  else throw new Error(`Cannot form DNS config: invalid DNSPolicy=${policy}`);

  if (kind === "none") {
    servers = [];
    searches = [];
    opts = [];
  } else if (kind === "cluster" && options.clusterDNS.length > 0) {
    // The cluster DNS is the only nameserver: it forwards what it cannot answer itself.
    servers = [...options.clusterDNS];
    if (options.clusterDomain !== "") {
      const ns = pod.metadata?.namespace ?? "default";
      searches = omitDuplicates([`${ns}.svc.${options.clusterDomain}`, `svc.${options.clusterDomain}`, options.clusterDomain, ...searches]);
    }
    opts = [...DEFAULT_DNS_OPTIONS];
  } else {
    if (kind === "cluster") {
      events.push({
        type: "Warning",
        reason: "MissingClusterDNS",
        message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid ?? ""})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
      });
    }
    if (options.hostResolvConf === null) {
      // With --resolv-conf="" upstream points the pod at the node itself, which disables lookups in effect.
      const ips = options.nodeIPs ?? [];
      servers = ips.length === 0 ? ["127.0.0.1"] : ips.map((ip) => (ip.includes(":") ? "::1" : "127.0.0.1"));
      searches = ["."];
    }
  }

  const dc = pod.spec?.dnsConfig;
  if (dc !== undefined) {
    servers = omitDuplicates([...servers, ...(dc.nameservers ?? [])]);
    searches = omitDuplicates([...searches, ...(dc.searches ?? [])]);
    opts = mergeOptions(opts, (dc.options ?? []).map((o) => (o.value === undefined || o.value === "" ? (o.name ?? "") : `${o.name}:${o.value}`)));
  }

  if (servers.length > MAX_DNS_NAMESERVERS) {
    servers = servers.slice(0, MAX_DNS_NAMESERVERS);
    events.push({ type: "Warning", reason: "DNSConfigForming", message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${servers.join(" ")}` });
  }
  const fitted = fitSearches(searches);
  if (fitted.exceeded) {
    events.push({ type: "Warning", reason: "DNSConfigForming", message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${fitted.searches.join(" ")}` });
  }
  return { servers, searches: fitted.searches, options: opts, events };
}

function fitSearches(input: readonly string[]): { searches: string[]; exceeded: boolean } {
  let exceeded = false;
  let s = [...input];
  if (s.length > MAX_DNS_SEARCH_PATHS) {
    s = s.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const kept = s.filter((d) => d.length <= DNS1123_SUBDOMAIN_MAX_LENGTH);
  if (kept.length !== s.length) exceeded = true;
  s = kept;
  const lineLength = s.join(" ").length;
  if (lineLength > MAX_DNS_SEARCH_LIST_CHARS) {
    // Drop domains from the end until the line fits.
    let cut = 0;
    let cutLength = 0;
    for (let i = s.length - 1; i >= 0; i--) {
      cutLength += s[i]!.length + 1;
      cut++;
      if (lineLength - cutLength <= MAX_DNS_SEARCH_LIST_CHARS) break;
    }
    s = s.slice(0, s.length - cut);
    exceeded = true;
  }
  return { searches: s, exceeded };
}

/** The resolv.conf text for a config (what the runtime writes into the sandbox). */
export function renderResolvConf(config: Pick<PodDnsConfig, "servers" | "searches" | "options">): string {
  const lines: string[] = [];
  if (config.searches.length > 0) lines.push(`search ${config.searches.join(" ")}`);
  for (const s of config.servers) lines.push(`nameserver ${s}`);
  if (config.options.length > 0) lines.push(`options ${config.options.join(" ")}`);
  return `${lines.join("\n")}\n`;
}
