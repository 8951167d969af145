/**
 * The CNI network configuration list tk8s gives containerd for a node's pods (pure: no IO).
 *
 * One conflist, from the node's `spec.podCIDR` (allocated by the controller-manager's nodeipam from
 * `--cluster-cidr`), with the standard plugins of containernetworking-plugins (1.1.1 in Debian 12):
 *
 * - `bridge`: a Linux bridge on the host (default `tk8s0`) with a veth per pod. `isGateway` gives the bridge
 *   the subnet's first address and makes it each pod's default gateway; `ipMasq` masquerades pod traffic
 *   leaving the pod CIDR; `hairpinMode` lets a pod reach itself through a hostPort or a Service IP.
 * - `host-local` IPAM over the whole podCIDR: gateway `.1`, pods from `.2`, default route `0.0.0.0/0`.
 *   Reservations live in `<dataDir>/<networkName>/` (host-local's default `/var/lib/cni/networks`).
 * - `portmap` with the `portMappings` capability: containerd passes the sandbox's hostPort mappings as
 *   runtimeConfig and portmap DNATs them (chains `CNI-HOSTPORT-*`, `CNI-DN-*` in the nat table).
 * - `loopback`: brings the pod's `lo` up. containerd also does that on its own; in a chain it passes the
 *   previous result through, so it is harmless and keeps the file usable by other CNI callers.
 *
 * As kubenet upstream (the kubelet's own bridge network before it moved to CNI plugins), this is the
 * single-node pod network; routes between nodes are someone else's job (issue 7's multi-node test adds them).
 */

/** The conflist's `cniVersion`: the newest containernetworking-plugins 1.1.1 and containerd 1.6's libcni both speak. */
export const CNI_VERSION = "1.0.0";
/** The CNI network name; host-local's state dir and the comments on portmap/ipMasq rules carry it. */
export const DEFAULT_NETWORK_NAME = "tk8s-pod-network";
/** tk8s's own bridge, so removing it never touches a bridge another tool (flannel's cni0, docker0) made. */
export const DEFAULT_BRIDGE_NAME = "tk8s0";
/** Sorts before most other conflists: containerd (max_conf_num = 1) uses the first file by name. */
export const CONFLIST_FILE_PREFIX = "10-";
/** Linux interface names are at most IFNAMSIZ - 1 bytes. */
export const INTERFACE_NAME_BYTES_MAX = 15;
/** A /30 leaves the gateway and one pod; anything smaller cannot hold a pod. */
export const POD_CIDR_PREFIX_MAX = 30;
/** Wider than /8 is not a node's range (nodeipam hands out /24s by default). */
export const POD_CIDR_PREFIX_MIN = 8;
/** IPv4's minimum MTU (RFC 791: 68) and the largest jumbo frame a bridge takes. */
export const MTU_MIN = 68;
export const MTU_MAX = 65_535;

export class PodNetworkConfigError extends Error {
  override readonly name = "PodNetworkConfigError";
}

/** An IPv4 CIDR, parsed and checked: `network` is the first address, as a 32-bit unsigned integer. */
export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

export interface PodNetworkConfigOptions {
  /** The node's `spec.podCIDR`, e.g. "10.244.1.0/24" (IPv4, network-aligned). */
  readonly podCIDR: string;
  /** Default DEFAULT_BRIDGE_NAME. */
  readonly bridgeName?: string;
  /** Default DEFAULT_NETWORK_NAME. */
  readonly networkName?: string;
  /** The bridge's and veths' MTU; the bridge plugin's default (the kernel's 1500) when absent. */
  readonly mtu?: number;
  /** Adds `portmap` (hostPort). Default true. */
  readonly hostPortEnabled?: boolean;
  /** host-local's `dataDir`; host-local's default (/var/lib/cni/networks) when absent. */
  readonly ipamDataDir?: string;
}

/** The conflist as JSON-ready data. Plugin entries are plain objects, as CNI's spec has them. */
export interface PodNetworkConflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: readonly Record<string, unknown>[];
}

/** "a.b.c.d/n" → its parts; throws PodNetworkConfigError on anything else, or a host address. */
export function parseIpv4Cidr(cidr: string): Ipv4Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (m === null) {
    const why = cidr.includes(":") ? "only IPv4 pod CIDRs are supported" : "it is not an IPv4 CIDR";
    throw new PodNetworkConfigError(`Cannot configure the pod network: ${why}: current value is ${JSON.stringify(cidr)}`);
  }
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new PodNetworkConfigError(`Cannot configure the pod network: an octet is above 255: current value is ${JSON.stringify(cidr)}`);
  const prefix = Number(m[5]);
  if (prefix < POD_CIDR_PREFIX_MIN || prefix > POD_CIDR_PREFIX_MAX) {
    throw new PodNetworkConfigError(`Cannot configure the pod network: the prefix must be /${POD_CIDR_PREFIX_MIN} to /${POD_CIDR_PREFIX_MAX}: current value is ${JSON.stringify(cidr)}`);
  }
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((address & mask) >>> 0 !== address) {
    // nodeipam always hands out aligned ranges; an unaligned one is a typo that host-local would read differently.
    throw new PodNetworkConfigError(`Cannot configure the pod network: ${cidr} has host bits set (the network is ${formatIpv4((address & mask) >>> 0)}/${prefix})`);
  }
  return { network: address, prefix };
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join(".");
}

/** Whether `ip` (dotted quad) lies inside `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, ip: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return false;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return false;
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = (0xffffffff << (32 - cidr.prefix)) >>> 0;
  return ((address & mask) >>> 0) === cidr.network;
}

/** The bridge's (and every pod's gateway) address: the CIDR's first host address. */
export function podGateway(cidr: Ipv4Cidr): string {
  return formatIpv4(cidr.network + 1);
}

/** The conflist's file name for a network. */
export function conflistFileName(networkName = DEFAULT_NETWORK_NAME): string {
  return `${CONFLIST_FILE_PREFIX}${networkName}.conflist`;
}

/** Checks a Linux interface name as `ip link` would take it. */
export function checkInterfaceName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name) > INTERFACE_NAME_BYTES_MAX || !/^[A-Za-z0-9_.-]+$/.test(name) || name === "." || name === "..") {
    throw new PodNetworkConfigError(`Cannot configure the pod network: bridge name must be 1 to ${INTERFACE_NAME_BYTES_MAX} bytes of letters, digits, '_', '.', '-': current value is ${JSON.stringify(name)}`);
  }
}

/** Checks a CNI network name (libcni: letters, digits, '_', '.', '-'; it becomes a directory name). */
export function checkNetworkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > 253) {
    throw new PodNetworkConfigError(`Cannot configure the pod network: network name must start with a letter or digit and hold only letters, digits, '_', '.', '-': current value is ${JSON.stringify(name)}`);
  }
}

/** The conflist for `options`; throws PodNetworkConfigError on bad input. */
export function podNetworkConflist(options: PodNetworkConfigOptions): PodNetworkConflist {
  const cidr = parseIpv4Cidr(options.podCIDR);
  const bridgeName = options.bridgeName ?? DEFAULT_BRIDGE_NAME;
  checkInterfaceName(bridgeName);
  const networkName = options.networkName ?? DEFAULT_NETWORK_NAME;
  checkNetworkName(networkName);
  if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < MTU_MIN || options.mtu > MTU_MAX)) {
    throw new PodNetworkConfigError(`Cannot configure the pod network: mtu must be an integer from ${MTU_MIN} to ${MTU_MAX}: current value is ${options.mtu}`);
  }
  if (options.ipamDataDir !== undefined && !options.ipamDataDir.startsWith("/")) {
    throw new PodNetworkConfigError(`Cannot configure the pod network: ipamDataDir must be absolute: current value is ${JSON.stringify(options.ipamDataDir)}`);
  }
  const subnet = `${formatIpv4(cidr.network)}/${cidr.prefix}`;
  const ipam: Record<string, unknown> = {
    type: "host-local",
    ranges: [[{ subnet, gateway: podGateway(cidr) }]],
    routes: [{ dst: "0.0.0.0/0" }],
    ...(options.ipamDataDir === undefined ? {} : { dataDir: options.ipamDataDir }),
  };
  const bridge: Record<string, unknown> = {
    type: "bridge",
    bridge: bridgeName,
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
    ipam,
  };
  const plugins: Record<string, unknown>[] = [bridge];
  if (options.hostPortEnabled !== false) plugins.push({ type: "portmap", capabilities: { portMappings: true }, snat: true });
  plugins.push({ type: "loopback" });
  return { cniVersion: CNI_VERSION, name: networkName, plugins };
}

/** The file's bytes: stable key order and a trailing newline, so equal configs are equal files. */
export function renderConflist(conflist: PodNetworkConflist): string {
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

/** The pod CIDR a conflist written by podNetworkConflist holds, or null if it is not one of ours. */
export function podCIDROfConflist(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const plugins = (parsed as { plugins?: unknown }).plugins;
  if (!Array.isArray(plugins)) return null;
  const bridge = plugins.find((p) => (p as { type?: unknown })?.type === "bridge") as { ipam?: { ranges?: unknown } } | undefined;
  const ranges = bridge?.ipam?.ranges;
  if (!Array.isArray(ranges) || !Array.isArray(ranges[0])) return null;
  const subnet = (ranges[0][0] as { subnet?: unknown } | undefined)?.subnet;
  return typeof subnet === "string" ? subnet : null;
}

/** The bridge name a conflist holds, or null. */
export function bridgeNameOfConflist(text: string): string | null {
  try {
    const plugins = (JSON.parse(text) as { plugins?: unknown }).plugins;
    if (!Array.isArray(plugins)) return null;
    const bridge = plugins.find((p) => (p as { type?: unknown })?.type === "bridge") as { bridge?: unknown } | undefined;
    return typeof bridge?.bridge === "string" ? bridge.bridge : null;
  } catch {
    return null;
  }
}
