/**
 * ClusterIP and NodePort allocation for Services (upstream's service REST storage): a ClusterIP from
 * --service-cluster-ip-range (10.96.0.0/12 by default; the first address belongs to the `kubernetes`
 * Service), a NodePort from 30000–32767 for NodePort and LoadBalancer Services. What is in use is what
 * the stored Services hold, plus what this server handed out and has not seen stored yet.
 */
import { ApiError } from "../../api/status.js";
import type { KubeObject } from "../registry/codec.js";

export const SERVICE_CLUSTER_IP_RANGE_DEFAULT = "10.96.0.0/12";
export const NODE_PORT_RANGE = { base: 30000, size: 2768 } as const;

function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Cidr {
  readonly base: number;
  readonly size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (m === null || Number(m[2]) < 8 || Number(m[2]) > 30) throw new Error(`Cannot use service CIDR "${cidr}": it must be an IPv4 CIDR with a prefix between /8 and /30`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(ipToInt(m[1]!) / size) * size, size };
}

function invalid(name: string, field: string, value: unknown, detail: string): ApiError {
  return new ApiError("Invalid", 422, `Service "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`, {
    name,
    kind: "Service",
    causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field }],
  });
}

export class ServiceAllocator {
  readonly #range: Cidr;
  readonly #rng: () => number;
  /** Handed out but maybe not stored yet; cleared as the stored set catches up. */
  readonly #pendingIps = new Set<string>();
  readonly #pendingPorts = new Set<number>();

  constructor(range: string = SERVICE_CLUSTER_IP_RANGE_DEFAULT, rng: () => number = Math.random) {
    this.#range = parseCidr(range);
    this.#rng = rng;
  }

  /** Fills spec.clusterIP(s), ipFamilies, ipFamilyPolicy and node ports of a Service being created. */
  allocate(svc: KubeObject, existing: readonly KubeObject[]): void {
    const spec = (svc.spec ??= {});
    const name = String(svc.metadata?.name ?? "");
    const usedIps = new Set<string>(this.#pendingIps);
    const usedPorts = new Set<number>(this.#pendingPorts);
    for (const s of existing) {
      for (const ip of s.spec?.clusterIPs ?? [s.spec?.clusterIP]) if (typeof ip === "string") usedIps.add(ip);
      for (const p of s.spec?.ports ?? []) if (typeof p.nodePort === "number") usedPorts.add(p.nodePort);
    }
    const type = spec.type ?? "ClusterIP";
    if (type !== "ExternalName") {
      const requested: string | undefined = spec.clusterIP || spec.clusterIPs?.[0];
      if (requested === "None") {
        spec.clusterIP = "None";
        spec.clusterIPs = ["None"];
      } else {
        let ip: string;
        if (requested !== undefined && requested !== "") {
          if (!/^\d+\.\d+\.\d+\.\d+$/.test(requested)) throw invalid(name, "spec.clusterIPs", [requested], "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
          const n = ipToInt(requested);
          if (n < this.#range.base || n >= this.#range.base + this.#range.size) {
            throw invalid(name, "spec.clusterIPs", [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${intToIp(this.#range.base)}/${32 - Math.log2(this.#range.size)}`);
          }
          if (usedIps.has(requested)) throw invalid(name, "spec.clusterIPs", [requested], `failed to allocate IP ${requested}: provided IP is already allocated`);
          ip = requested;
        } else {
          ip = this.#pickIp(usedIps, name);
        }
        this.#pendingIps.add(ip);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
    }
    if (type === "NodePort" || type === "LoadBalancer") {
      (spec.ports ?? []).forEach((p: KubeObject, i: number) => {
        if (typeof p.nodePort === "number" && p.nodePort !== 0) {
          if (p.nodePort < NODE_PORT_RANGE.base || p.nodePort >= NODE_PORT_RANGE.base + NODE_PORT_RANGE.size) {
            throw invalid(name, `spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.base}-${NODE_PORT_RANGE.base + NODE_PORT_RANGE.size - 1}`);
          }
          if (usedPorts.has(p.nodePort)) throw invalid(name, `spec.ports[${i}].nodePort`, p.nodePort, "provided port is already allocated");
        } else {
          p.nodePort = this.#pickPort(usedPorts, name);
        }
        usedPorts.add(p.nodePort);
        this.#pendingPorts.add(p.nodePort);
      });
    }
  }

  /** Forgets pending allocations that the stored Services now show (or that failed to be stored). */
  settle(existing: readonly KubeObject[]): void {
    const ips = new Set<string>();
    const ports = new Set<number>();
    for (const s of existing) {
      for (const ip of s.spec?.clusterIPs ?? []) ips.add(ip);
      for (const p of s.spec?.ports ?? []) if (typeof p.nodePort === "number") ports.add(p.nodePort);
    }
    for (const ip of this.#pendingIps) if (ips.has(ip)) this.#pendingIps.delete(ip);
    for (const p of this.#pendingPorts) if (ports.has(p)) this.#pendingPorts.delete(p);
  }

  /** Drops a pending allocation whose create failed. */
  release(svc: KubeObject): void {
    for (const ip of svc.spec?.clusterIPs ?? []) this.#pendingIps.delete(ip);
    for (const p of svc.spec?.ports ?? []) if (typeof p.nodePort === "number") this.#pendingPorts.delete(p.nodePort);
  }

  #pickIp(used: Set<string>, name: string): string {
    // Random probing, then a scan: upstream allocates randomly too, so addresses don't predict creation order.
    const first = this.#range.base + 1;
    const count = this.#range.size - 2;
    for (let i = 0; i < 64; i++) {
      const ip = intToIp(first + Math.floor(this.#rng() * count));
      if (!used.has(ip)) return ip;
    }
    for (let n = first; n < first + count; n++) if (!used.has(intToIp(n))) return intToIp(n);
    throw new ApiError("InternalError", 500, `Internal error occurred: failed to allocate a serviceIP: range is full`, { name, kind: "services" });
  }

  #pickPort(used: Set<number>, name: string): number {
    for (let i = 0; i < 64; i++) {
      const p = NODE_PORT_RANGE.base + Math.floor(this.#rng() * NODE_PORT_RANGE.size);
      if (!used.has(p)) return p;
    }
    for (let p = NODE_PORT_RANGE.base; p < NODE_PORT_RANGE.base + NODE_PORT_RANGE.size; p++) if (!used.has(p)) return p;
    throw new ApiError("InternalError", 500, "Internal error occurred: failed to allocate a nodePort: range is full", { name, kind: "services" });
  }
}
