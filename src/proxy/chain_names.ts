/**
 * iptables chain names as upstream's iptables proxier makes them (pkg/proxy/iptables/proxier.go), so rules
 * read the same as on any Kubernetes node: a prefix plus the first 16 characters of the base32 (RFC 4648,
 * upper case) of sha256("<ns>/<svc>:<port>" + "<protocol, lower case>" [+ "<ip>:<port>"]). iptables chain
 * names are at most 28 characters; these are 25.
 */
import { createHash } from "node:crypto";
import type { ServicePort, EndpointInfo } from "./service_port.js";
import { endpointString } from "./service_port.js";

export const KUBE_SERVICES = "KUBE-SERVICES";
export const KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
export const KUBE_NODEPORTS = "KUBE-NODEPORTS";
export const KUBE_POSTROUTING = "KUBE-POSTROUTING";
export const KUBE_MARK_MASQ = "KUBE-MARK-MASQ";
export const KUBE_FORWARD = "KUBE-FORWARD";
export const KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
export const KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY";
export const KUBE_IPTABLES_HINT = "KUBE-IPTABLES-HINT";

export const SVC_PREFIX = "KUBE-SVC-";
export const SVL_PREFIX = "KUBE-SVL-";
export const EXT_PREFIX = "KUBE-EXT-";
export const FW_PREFIX = "KUBE-FW-";
export const SEP_PREFIX = "KUBE-SEP-";
/** The per-service chain prefixes: chains with these names that no service wants any more are deleted. */
export const PER_SERVICE_PREFIXES: readonly string[] = [SVC_PREFIX, SVL_PREFIX, EXT_PREFIX, FW_PREFIX, SEP_PREFIX];

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (Go's base32.StdEncoding), without padding: only the first 16 characters are used. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Every sync names every chain again, and a sha256 per chain is most of a sync's CPU on a large cluster:
 * names are memoized. Bounded: past the limit the memo starts over (names are recomputed, never wrong).
 */
export const CHAIN_NAME_MEMO_MAX = 200_000;
const memo = new Map<string, string>();

function hash16(text: string): string {
  let h = memo.get(text);
  if (h !== undefined) return h;
  h = base32(createHash("sha256").update(text).digest()).slice(0, 16);
  if (memo.size >= CHAIN_NAME_MEMO_MAX) memo.clear();
  memo.set(text, h);
  return h;
}

/** upstream portProtoHash(servicePortName, protocol). */
export function portProtoHash(nameString: string, protocol: string): string {
  return hash16(nameString + protocol.toLowerCase());
}

/** KUBE-SVC-<hash>: the Cluster traffic policy chain of a service port. */
export function servicePortPolicyClusterChain(sp: Pick<ServicePort, "nameString" | "protocol">): string {
  return SVC_PREFIX + portProtoHash(sp.nameString, sp.protocol);
}
/** KUBE-SVL-<hash>: the Local traffic policy chain. */
export function servicePortPolicyLocalChain(sp: Pick<ServicePort, "nameString" | "protocol">): string {
  return SVL_PREFIX + portProtoHash(sp.nameString, sp.protocol);
}
/** KUBE-EXT-<hash>: where NodePort, external IP and load balancer traffic enters. */
export function serviceExternalChain(sp: Pick<ServicePort, "nameString" | "protocol">): string {
  return EXT_PREFIX + portProtoHash(sp.nameString, sp.protocol);
}
/** KUBE-SEP-<hash>: one endpoint of a service port. */
export function servicePortEndpointChain(sp: Pick<ServicePort, "nameString" | "protocol">, ep: Pick<EndpointInfo, "ip" | "port">): string {
  return SEP_PREFIX + hash16(sp.nameString + sp.protocol.toLowerCase() + endpointString(ep));
}
