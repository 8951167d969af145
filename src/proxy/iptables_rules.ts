/**
 * The rule set of upstream's iptables proxier (pkg/proxy/iptables/proxier.go syncProxyRules), built as text
 * for one `iptables-restore --noflush` call. Pure: state + config in, restore data out. Every sync writes
 * every kube-proxy chain in full (declaring a chain in restore input flushes it), so a sync is atomic per
 * table and never leaves half-updated chains; chains of services that are gone are flushed and deleted.
 *
 * Traffic paths (nat table):
 *   PREROUTING/OUTPUT → KUBE-SERVICES → "<svc> cluster IP" → KUBE-SVC-x → (random) KUBE-SEP-y → DNAT
 *   KUBE-SERVICES (last rule, dst LOCAL) → KUBE-NODEPORTS → KUBE-EXT-x → KUBE-MARK-MASQ, KUBE-SVC-x
 *   POSTROUTING → KUBE-POSTROUTING → MASQUERADE what KUBE-MARK-MASQ marked
 * and in the filter table a service without endpoints REJECTs (KUBE-SERVICES for the ClusterIP,
 * KUBE-EXTERNAL-SERVICES for node ports and external IPs).
 */
import {
  KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL, KUBE_SERVICES,
  PER_SERVICE_PREFIXES, serviceExternalChain, servicePortEndpointChain, servicePortPolicyClusterChain, servicePortPolicyLocalChain,
} from "./chain_names.js";
import { categorizeEndpoints, endpointString, type EndpointInfo, type ProxyState, type ServicePort } from "./service_port.js";

export interface IptablesRulesConfig {
  /** --cluster-cidr: traffic to a ClusterIP from outside it is masqueraded; "" means none known. */
  readonly clusterCIDR: string;
  /** --masquerade-all: SNAT all traffic to ClusterIPs. */
  readonly masqueradeAll: boolean;
  /** --iptables-masquerade-bit (default 14 → mark 0x4000). */
  readonly masqueradeBit: number;
  /**
   * --iptables-localhost-nodeports: NodePorts also on 127.0.0.1 (needs the route_localnet sysctl). tk8s
   * defaults to false so that it changes no sysctl on the host; NodePorts answer on the node's other addresses.
   */
  readonly localhostNodePorts: boolean;
}

export const DEFAULT_MASQUERADE_BIT = 14;

/** One table's part of the restore input. */
export interface TableRules {
  /** Chains declared (`:NAME - [0:0]`): created if missing, flushed if present. */
  readonly chains: readonly string[];
  /** `-A …` lines, then `-X …` lines for stale chains. */
  readonly rules: readonly string[];
}

export interface IptablesRuleSet {
  readonly filter: TableRules;
  /** The nat table's base chains (KUBE-SERVICES, KUBE-NODEPORTS, …) and their rules: always written in full. */
  readonly nat: TableRules;
  /** Each per-service nat chain (KUBE-SVC/SVL/EXT/SEP-…) and its rules, in the order they were made. */
  readonly serviceChains: ReadonlyMap<string, readonly string[]>;
  /** Per-service chains that exist on the node and that nothing uses any more: flushed and deleted. */
  readonly staleChains: readonly string[];
  /** The per-service nat chains this rule set uses (to tell stale ones apart next time). */
  readonly activeNatChains: ReadonlySet<string>;
  /** Rules written per table, for the kubeproxy_sync_proxy_rules_iptables_total gauge. */
  readonly ruleCount: { readonly filter: number; readonly nat: number };
}

/** Go's %0.10f of 1/n, as upstream's computeProbability. */
export function computeProbability(n: number): string {
  return (1 / n).toFixed(10);
}

function markHex(bit: number): string {
  return `0x${(1 << bit).toString(16)}`;
}

class Lines {
  readonly lines: string[] = [];
  write(...words: string[]): void {
    this.lines.push(words.join(" "));
  }
}

/**
 * Builds the full rule set. `existingNatChains`: chain names in the nat table now (from iptables-save);
 * those with per-service prefixes that this rule set does not use are flushed and deleted.
 */
export function buildIptablesRules(state: ProxyState, cfg: IptablesRulesConfig, existingNatChains: Iterable<string> = []): IptablesRuleSet {
  const mark = markHex(cfg.masqueradeBit);
  const masqMark = `${mark}/${mark}`;
  const filterChains = [KUBE_NODEPORTS, KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_PROXY_FIREWALL];
  const natChains = [KUBE_NODEPORTS, KUBE_SERVICES, KUBE_MARK_MASQ, KUBE_POSTROUTING];
  const filterRules = new Lines();
  const natRules = new Lines();
  const active = new Set<string>();
  const serviceChains = new Map<string, Lines>();
  /** The rules of one per-service chain (declared on first use). */
  const chain = (name: string): Lines => {
    let l = serviceChains.get(name);
    if (l === undefined) {
      serviceChains.set(name, (l = new Lines()));
      active.add(name);
    }
    return l;
  };

  // Masquerade what was marked, clearing the mark so a re-routed packet is not SNATed twice.
  natRules.write("-A", KUBE_POSTROUTING, "-m", "mark", "!", "--mark", masqMark, "-j", "RETURN");
  natRules.write("-A", KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark);
  natRules.write("-A", KUBE_POSTROUTING, "-m", "comment", "--comment", '"kubernetes service traffic requiring SNAT"', "-j", "MASQUERADE");
  natRules.write("-A", KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark);

  const nodePortRules = new Lines();

  for (const sp of state.servicePorts) {
    const eps = state.endpoints.get(sp.nameString) ?? [];
    const cat = categorizeEndpoints(sp, eps);
    const proto = sp.protocol.toLowerCase();
    const clusterPolicyChain = servicePortPolicyClusterChain(sp);
    const localPolicyChain = servicePortPolicyLocalChain(sp);
    const externalChain = serviceExternalChain(sp);
    const usesClusterPolicyChain = cat.cluster.length > 0;
    const usesLocalPolicyChain = cat.local.length > 0;

    let internalPolicyChain = clusterPolicyChain;
    let hasInternalEndpoints = cat.hasAny;
    if (sp.internalPolicyLocal) {
      internalPolicyChain = localPolicyChain;
      if (cat.local.length === 0) hasInternalEndpoints = false;
    }
    let externalPolicyChain = clusterPolicyChain;
    let hasExternalEndpoints = cat.hasAny;
    if (sp.externalPolicyLocal) {
      externalPolicyChain = localPolicyChain;
      if (cat.local.length === 0) hasExternalEndpoints = false;
    }
    const externallyAccessible = sp.nodePort > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
    const usesExternalChain = cat.hasAny && externallyAccessible;

    // No endpoints at all: REJECT (the client gets "connection refused" at once). Endpoints elsewhere
    // but none here for a Local policy: DROP, as upstream (the client should try another node).
    const internalFilterTarget = cat.hasAny ? "DROP" : "REJECT";
    const internalFilterComment = cat.hasAny ? `"${sp.nameString} has no local endpoints"` : `"${sp.nameString} has no endpoints"`;
    const externalFilterTarget = internalFilterTarget;
    const externalFilterComment = internalFilterComment;

    // The ClusterIP.
    if (hasInternalEndpoints) {
      natRules.write("-A", KUBE_SERVICES, "-m", "comment", "--comment", `"${sp.nameString} cluster IP"`, "-m", proto, "-p", proto, "-d", sp.clusterIP, "--dport", String(sp.port), "-j", internalPolicyChain);
    } else {
      filterRules.write("-A", KUBE_SERVICES, "-m", "comment", "--comment", internalFilterComment, "-m", proto, "-p", proto, "-d", sp.clusterIP, "--dport", String(sp.port), "-j", internalFilterTarget);
    }
    // External IPs.
    for (const ip of sp.externalIPs) {
      if (hasExternalEndpoints) {
        natRules.write("-A", KUBE_SERVICES, "-m", "comment", "--comment", `"${sp.nameString} external IP"`, "-m", proto, "-p", proto, "-d", ip, "--dport", String(sp.port), "-j", externalChain);
      } else {
        filterRules.write("-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", externalFilterComment, "-m", proto, "-p", proto, "-d", ip, "--dport", String(sp.port), "-j", externalFilterTarget);
      }
    }
    // Load balancer ingress IPs (no source ranges: traffic goes straight to the external chain).
    for (const ip of sp.loadBalancerIPs) {
      if (hasExternalEndpoints) {
        natRules.write("-A", KUBE_SERVICES, "-m", "comment", "--comment", `"${sp.nameString} loadbalancer IP"`, "-m", proto, "-p", proto, "-d", ip, "--dport", String(sp.port), "-j", externalChain);
      } else {
        filterRules.write("-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", externalFilterComment, "-m", proto, "-p", proto, "-d", ip, "--dport", String(sp.port), "-j", externalFilterTarget);
      }
    }
    // The NodePort.
    if (sp.nodePort > 0) {
      if (hasExternalEndpoints) {
        nodePortRules.write("-A", KUBE_NODEPORTS, "-m", "comment", "--comment", sp.nameString, "-m", proto, "-p", proto, "--dport", String(sp.nodePort), "-j", externalChain);
      } else {
        filterRules.write("-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", externalFilterComment, "-m", "addrtype", "--dst-type", "LOCAL", "-m", proto, "-p", proto, "--dport", String(sp.nodePort), "-j", externalFilterTarget);
      }
    }

    // The external chain: traffic from outside is masqueraded so replies come back through this node.
    if (usesExternalChain) {
      const ext = chain(externalChain);
      if (!sp.externalPolicyLocal) {
        ext.write("-A", externalChain, "-m", "comment", "--comment", `"masquerade traffic for ${sp.nameString} external destinations"`, "-j", KUBE_MARK_MASQ);
      } else {
        // Local policy keeps the client's address; pods and the node itself still reach every endpoint.
        if (cfg.clusterCIDR !== "" && usesClusterPolicyChain) {
          ext.write("-A", externalChain, "-m", "comment", "--comment", `"pod traffic for ${sp.nameString} external destinations"`, "-s", cfg.clusterCIDR, "-j", clusterPolicyChain);
        }
        ext.write("-A", externalChain, "-m", "comment", "--comment", `"masquerade LOCAL traffic for ${sp.nameString} external destinations"`, "-m", "addrtype", "--src-type", "LOCAL", "-j", KUBE_MARK_MASQ);
        if (usesClusterPolicyChain) {
          ext.write("-A", externalChain, "-m", "comment", "--comment", `"route LOCAL traffic for ${sp.nameString} external destinations"`, "-m", "addrtype", "--src-type", "LOCAL", "-j", clusterPolicyChain);
        }
      }
      if (hasExternalEndpoints) ext.write("-A", externalChain, "-j", externalPolicyChain);
    }

    if (usesClusterPolicyChain) {
      const svc = chain(clusterPolicyChain);
      const clusterIPMatch = ["-m", "comment", "--comment", `"${sp.nameString} cluster IP"`, "-m", proto, "-p", proto, "-d", sp.clusterIP, "--dport", String(sp.port)];
      if (cfg.masqueradeAll) {
        svc.write("-A", clusterPolicyChain, ...clusterIPMatch, "-j", KUBE_MARK_MASQ);
      } else if (cfg.clusterCIDR !== "") {
        // Off-cluster sources (the node itself, other hosts) are masqueraded so replies return through us.
        svc.write("-A", clusterPolicyChain, ...clusterIPMatch, "!", "-s", cfg.clusterCIDR, "-j", KUBE_MARK_MASQ);
      }
      writeServiceToEndpointRules(svc, sp, clusterPolicyChain, cat.cluster);
    }
    if (usesLocalPolicyChain) {
      writeServiceToEndpointRules(chain(localPolicyChain), sp, localPolicyChain, cat.local);
    }

    // One chain per endpoint: hairpin traffic (an endpoint reaching itself through the service) is
    // masqueraded, otherwise the endpoint would answer itself directly and the connection break.
    for (const ep of cat.allReachable) {
      const epChain = servicePortEndpointChain(sp, ep);
      const sep = chain(epChain);
      sep.write("-A", epChain, "-m", "comment", "--comment", sp.nameString, "-s", ep.ip, "-j", KUBE_MARK_MASQ);
      const affinity = sp.sessionAffinityClientIP ? ["-m", "recent", "--name", epChain, "--set"] : [];
      sep.write("-A", epChain, "-m", "comment", "--comment", sp.nameString, ...affinity, "-m", proto, "-p", proto, "-j", "DNAT", "--to-destination", endpointString(ep));
    }
  }

  natRules.lines.push(...nodePortRules.lines);
  // Must stay last in KUBE-SERVICES: a ClusterIP on this node would otherwise match as a node port.
  const nodePortsJump = ["-A", KUBE_SERVICES, "-m", "comment", "--comment", '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"', "-m", "addrtype", "--dst-type", "LOCAL"];
  if (!cfg.localhostNodePorts) nodePortsJump.push("!", "-d", "127.0.0.0/8");
  natRules.write(...nodePortsJump, "-j", KUBE_NODEPORTS);

  filterRules.write("-A", KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP");
  filterRules.write("-A", KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding rules"', "-m", "mark", "--mark", masqMark, "-j", "ACCEPT");
  filterRules.write("-A", KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding conntrack rule"', "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT");

  let serviceRules = 0;
  for (const l of serviceChains.values()) serviceRules += l.lines.length;
  const ruleCount = { filter: filterRules.lines.length, nat: natRules.lines.length + serviceRules };
  // Stale per-service chains: nothing live jumps to them any more (KUBE-SERVICES and friends are rewritten
  // in full), so they are declared (flushed, dropping their jumps to other stale chains) and deleted.
  const stale: string[] = [];
  for (const name of existingNatChains) {
    if (active.has(name)) continue;
    if (PER_SERVICE_PREFIXES.some((p) => name.startsWith(p))) stale.push(name);
  }
  stale.sort();
  return {
    filter: { chains: filterChains, rules: filterRules.lines },
    nat: { chains: natChains, rules: natRules.lines },
    serviceChains: new Map([...serviceChains].map(([k, v]) => [k, v.lines])),
    staleChains: stale,
    activeNatChains: active,
    ruleCount,
  };
}

/** KUBE-SVC/SVL → KUBE-SEP: affinity first (a client seen recently goes back to its endpoint), then random. */
function writeServiceToEndpointRules(out: Lines, sp: ServicePort, svcChain: string, endpoints: readonly EndpointInfo[]): void {
  if (sp.sessionAffinityClientIP) {
    for (const ep of endpoints) {
      const epChain = servicePortEndpointChain(sp, ep);
      out.write("-A", svcChain, "-m", "comment", "--comment", `"${sp.nameString} -> ${endpointString(ep)}"`, "-m", "recent", "--name", epChain, "--rcheck", "--seconds", String(sp.stickyMaxAgeSeconds), "--reap", "-j", epChain);
    }
  }
  // Each rule takes 1/(remaining) of what reaches it, so every endpoint gets 1/n overall.
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const epChain = servicePortEndpointChain(sp, ep);
    const comment = ["-m", "comment", "--comment", `"${sp.nameString} -> ${endpointString(ep)}"`];
    if (i < n - 1) out.write("-A", svcChain, ...comment, "-m", "statistic", "--mode", "random", "--probability", computeProbability(n - i), "-j", epChain);
    else out.write("-A", svcChain, ...comment, "-j", epChain);
  });
}

/**
 * The `iptables-restore --noflush` input: filter, then nat, each committed once. With `previous` (the
 * rule set of the last successful restore) it is a partial restore, as upstream's MinimizeIPTablesRestore:
 * per-service chains whose rules are unchanged are left out (not declared, so --noflush keeps them as they
 * are); the base chains are always rewritten. Declarations come before any rule, so every jump target exists.
 */
export function renderRestoreData(rs: IptablesRuleSet, previous: IptablesRuleSet | null = null): string {
  const parts: string[] = ["*filter"];
  for (const c of rs.filter.chains) parts.push(`:${c} - [0:0]`);
  parts.push(...rs.filter.rules, "COMMIT", "*nat");
  const changed: string[] = [];
  for (const [name, rules] of rs.serviceChains) {
    const before = previous?.serviceChains.get(name);
    if (before !== undefined && before.length === rules.length && before.every((l, i) => l === rules[i])) continue;
    changed.push(name);
  }
  for (const c of [...rs.nat.chains, ...changed, ...rs.staleChains]) parts.push(`:${c} - [0:0]`);
  parts.push(...rs.nat.rules);
  for (const c of changed) parts.push(...rs.serviceChains.get(c)!);
  for (const c of rs.staleChains) parts.push(`-X ${c}`);
  parts.push("COMMIT");
  return parts.join("\n") + "\n";
}

/** Chain names declared in `iptables-save` output (`:NAME POLICY [p:b]`). */
export function chainsInSave(saveOutput: string): string[] {
  const out: string[] = [];
  for (const line of saveOutput.split("\n")) {
    if (!line.startsWith(":")) continue;
    const end = line.indexOf(" ");
    out.push(end < 0 ? line.slice(1) : line.slice(1, end));
  }
  return out;
}
