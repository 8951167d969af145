/**
 * A pod's IPs from its sandbox, as the kubelet reports them in `status.podIP` / `status.podIPs`
 * (upstream kuberuntime's determinePodSandboxIPs and the kubelet's generateAPIPodStatus).
 *
 * A pod on its own network gets `PodSandboxStatus.network.ip` (what the CNI plugin assigned; containerd
 * reports the first IP of the pod's interface) then `additionalIps`; unparseable or repeated entries are
 * dropped, as upstream does (it logs them). A host-network pod reports the node's IPs instead.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { PodSandboxStatus } from "../kubelet/cri/cri.js";

export interface PodIPs {
  /** "" when the sandbox has none yet (not running, or the CNI ADD has not finished). */
  readonly podIP: string;
  readonly podIPs: readonly { readonly ip: string }[];
}

export interface PodIPsOptions {
  /** `spec.hostNetwork`. */
  readonly hostNetwork: boolean;
  /** The node's IPs (`status.hostIPs`), used for host-network pods. */
  readonly hostIPs: readonly string[];
}

export function podIPsFromSandboxStatus(status: Pick<PodSandboxStatus, "network" | "linux"> | undefined, options: PodIPsOptions): PodIPs {
  const hostNetwork = options.hostNetwork || status?.linux?.namespaces?.options?.network === "NODE";
  const candidates = hostNetwork ? options.hostIPs : status === undefined ? [] : [status.network.ip, ...status.network.additionalIps.map((a) => a.ip)];
  const ips: string[] = [];
  for (const ip of candidates) {
    if (!(isIPv4(ip) || isIPv6(ip)) || ips.includes(ip)) continue;
    ips.push(ip);
  }
  // Dual-stack: at most one IP per family, primary first (upstream's validation of podIPs).
  const perFamily = ips.filter((ip, i) => ips.findIndex((o) => isIPv4(o) === isIPv4(ip)) === i);
  return { podIP: perFamily[0] ?? "", podIPs: perFamily.map((ip) => ({ ip })) };
}
