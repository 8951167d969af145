/**
 * Writing the node's pod network config where containerd reads it, and undoing everything that network
 * added to the host.
 *
 * ensurePodNetworkConfig is what the kubelet calls once the Node has `spec.podCIDR` (and again whenever it
 * syncs the node): containerd's CRI plugin watches its CNI `conf_dir` and uses the new file for the next
 * RunPodSandbox. removePodNetwork is for tearing a node down (`tk8s reset`, tests): it removes the file, the
 * nat rules and chains the CNI plugins made for this network, the bridge and host-local's reservations.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { mustRunHostCommand, runHostCommand } from "./host_commands.js";
import { parseIptablesSave, planNatCleanup, type NatCleanupPlan } from "./iptables_save.js";
import {
  bridgeNameOfConflist, checkInterfaceName, checkNetworkName, conflistFileName, DEFAULT_BRIDGE_NAME, DEFAULT_NETWORK_NAME,
  podCIDROfConflist, podNetworkConflist, renderConflist, type PodNetworkConflist,
} from "./pod_network_config.js";

/** host-local's default `dataDir`: one directory per network, one file per reserved IP. */
export const HOST_LOCAL_DATA_DIR = "/var/lib/cni/networks";
/** libcni's default cache dir (containerd 1.6 keeps it): `results/<network>-<containerID>-<ifname>`. */
export const CNI_CACHE_DIR = "/var/lib/cni";
/** The plugin binaries the conflist names. */
export const REQUIRED_CNI_PLUGINS: readonly string[] = ["bridge", "host-local", "portmap", "loopback"];
/** A conf dir with more entries than this is not a CNI conf dir; listing it is bounded by this. */
const CONF_DIR_ENTRIES_MAX = 10_000;
/** File names libcni loads from a conf dir. */
const CNI_CONFIG_EXTENSIONS = [".conf", ".conflist", ".json"];

export interface EnsurePodNetworkConfigOptions {
  /** containerd's `[plugins."io.containerd.grpc.v1.cri".cni] conf_dir`. */
  readonly confDir: string;
  /** Its `bin_dir` (Debian: /usr/lib/cni); checked for the plugins the conflist names. */
  readonly binDir: string;
  /** The node's `spec.podCIDR`. */
  readonly podCIDR: string;
  readonly bridgeName?: string;
  readonly networkName?: string;
  readonly mtu?: number;
  readonly hostPortEnabled?: boolean;
  /** host-local's state dir; default HOST_LOCAL_DATA_DIR. */
  readonly ipamDataDir?: string;
}

export interface EnsurePodNetworkConfigResult {
  /** The conflist's path. */
  readonly path: string;
  /** False when the file already held exactly this config (nothing was written). */
  readonly changed: boolean;
  readonly conflist: PodNetworkConflist;
  /**
   * The pod CIDR of the config this one replaced, when it was for another CIDR (null otherwise). Its bridge
   * (which keeps the old gateway address, so the bridge plugin would refuse the new one) and host-local's
   * reservations in the old range were removed with it; pods still running on the old range lose their network.
   */
  readonly replacedPodCIDR: string | null;
  /** Other CNI config files that sort before ours: containerd (max_conf_num = 1) would use the first of them. */
  readonly precedingConfigs: readonly string[];
}

export class PodNetworkError extends Error {
  override readonly name = "PodNetworkError";
}

/**
 * Writes the conflist for `options.podCIDR` into `confDir` atomically (a temp file, fsync, rename, fsync of
 * the dir: containerd sees the old file or the new one, never half of one). Idempotent: an identical file is
 * left alone.
 */
export function ensurePodNetworkConfig(options: EnsurePodNetworkConfigOptions): EnsurePodNetworkConfigResult {
  const conflist = podNetworkConflist(options);
  const missing = REQUIRED_CNI_PLUGINS.filter((p) => !existsSync(join(options.binDir, p)));
  if (missing.length > 0) {
    throw new PodNetworkError(`Cannot configure the pod network: CNI plugins missing from ${options.binDir}: ${missing.join(", ")} (Debian package containernetworking-plugins)`);
  }
  const networkName = conflist.name;
  const path = join(options.confDir, conflistFileName(networkName));
  const text = renderConflist(conflist);
  let previous: string | null = null;
  try {
    previous = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const precedingConfigs = listCniConfigs(options.confDir).filter((name) => name < conflistFileName(networkName));
  if (previous === text) return { path, changed: false, conflist, replacedPodCIDR: null, precedingConfigs };

  let replacedPodCIDR: string | null = null;
  if (previous !== null) {
    const oldCIDR = podCIDROfConflist(previous);
    const oldBridge = bridgeNameOfConflist(previous);
    const newCIDR = podCIDROfConflist(text);
    if (oldCIDR !== null && oldCIDR !== newCIDR) {
      replacedPodCIDR = oldCIDR;
      // The reservations are for addresses the new range does not have; host-local would keep them forever.
      rmSync(join(options.ipamDataDir ?? HOST_LOCAL_DATA_DIR, networkName), { recursive: true, force: true });
      if (oldBridge !== null) deleteBridge(oldBridge);
    } else if (oldBridge !== null && oldBridge !== (options.bridgeName ?? DEFAULT_BRIDGE_NAME)) {
      deleteBridge(oldBridge);
    }
  }
  // containerd does not create its conf_dir (/etc/cni/net.d by default); it watches it once it exists.
  mkdirSync(options.confDir, { recursive: true, mode: 0o755 });
  writeFileAtomic(options.confDir, conflistFileName(networkName), text);
  return { path, changed: true, conflist, replacedPodCIDR, precedingConfigs };
}

export interface RemovePodNetworkOptions {
  readonly confDir: string;
  readonly bridgeName?: string;
  readonly networkName?: string;
  /** host-local's state dir; default HOST_LOCAL_DATA_DIR. */
  readonly ipamDataDir?: string;
  /** libcni's cache dir; default CNI_CACHE_DIR. */
  readonly cniCacheDir?: string;
  /**
   * Also remove portmap's shared CNI-HOSTPORT-* chains when no pod of any network has a hostPort. Default
   * true; false when another CNI network on the host may be adding pods at this moment.
   */
  readonly removeUnusedHostPortChains?: boolean;
}

/** What removePodNetwork undid, for logs and tests. */
export interface RemovePodNetworkResult {
  readonly removedConfig: boolean;
  /** The nat rules deleted (as `-A CHAIN args…` lines) and chains flushed and deleted. */
  readonly natRules: readonly string[];
  readonly natChains: readonly string[];
  readonly removedBridge: boolean;
  readonly removedIpamState: boolean;
  readonly removedCacheEntries: number;
}

/**
 * Undoes what the pod network added to the host: the conflist (first, so no new pod attaches), the nat rules
 * and chains of this network's pods (left when a pod's CNI DEL never ran) and portmap's shared chains once no
 * pod of any network uses them, the bridge device (with it the veths still on it and its route), host-local's
 * reservations and libcni's cached results for the network. Call it after the pod sandboxes are removed.
 * Safe to call when nothing is there. Does not restore sysctls (see host_prep.ts).
 */
export function removePodNetwork(options: RemovePodNetworkOptions): RemovePodNetworkResult {
  const networkName = options.networkName ?? DEFAULT_NETWORK_NAME;
  checkNetworkName(networkName);
  const bridgeName = options.bridgeName ?? DEFAULT_BRIDGE_NAME;
  checkInterfaceName(bridgeName);
  const path = join(options.confDir, conflistFileName(networkName));
  const removedConfig = existsSync(path);
  rmSync(path, { force: true });

  const plan = planNatCleanup(parseIptablesSave(mustRunHostCommand("iptables-save", ["-t", "nat"])), networkName, { unusedHostPortChains: options.removeUnusedHostPortChains !== false });
  applyNatCleanup(plan);

  const removedBridge = deleteBridge(bridgeName);
  const ipamDir = join(options.ipamDataDir ?? HOST_LOCAL_DATA_DIR, networkName);
  const removedIpamState = existsSync(ipamDir);
  rmSync(ipamDir, { recursive: true, force: true });

  const resultsDir = join(options.cniCacheDir ?? CNI_CACHE_DIR, "results");
  let removedCacheEntries = 0;
  for (const name of safeReaddir(resultsDir)) {
    if (!name.startsWith(`${networkName}-`)) continue;
    rmSync(join(resultsDir, name), { force: true });
    removedCacheEntries++;
  }
  return {
    removedConfig,
    natRules: plan.rules.map((r) => `-A ${r.chain} ${r.args.map((a) => (/[\s"]/.test(a) || a === "" ? JSON.stringify(a) : a)).join(" ")}`),
    natChains: plan.chains,
    removedBridge,
    removedIpamState,
    removedCacheEntries,
  };
}

/** Deletes the plan's rules, then flushes and deletes its chains. A rule already gone is fine (a DEL raced us). */
export function applyNatCleanup(plan: NatCleanupPlan): void {
  const problems: string[] = [];
  for (const rule of plan.rules) {
    const r = runHostCommand("iptables", ["-w", "-t", "nat", "-D", rule.chain, ...rule.args]);
    if (r.status !== 0 && !/does a matching rule exist|No chain\/target\/match|doesn't exist/i.test(r.stderr)) problems.push(`-D ${rule.chain} ${rule.args.join(" ")}: ${r.stderr.trim()}`);
  }
  for (const op of ["-F", "-X"]) {
    for (const chain of plan.chains) {
      const r = runHostCommand("iptables", ["-w", "-t", "nat", op, chain]);
      if (r.status !== 0 && !/No chain\/target\/match|doesn't exist/i.test(r.stderr)) problems.push(`${op} ${chain}: ${r.stderr.trim()}`);
    }
  }
  if (problems.length > 0) throw new PodNetworkError(`Cannot remove the pod network's nat rules: ${problems.join("; ")}`);
}

/** Deletes the bridge `name` if it exists and is a bridge; true when it deleted one. */
export function deleteBridge(name: string): boolean {
  checkInterfaceName(name);
  if (!existsSync(`/sys/class/net/${name}`)) return false;
  // Never delete an interface that is not a bridge (a name clash with eth0 would cut the node off).
  if (!existsSync(`/sys/class/net/${name}/bridge`)) throw new PodNetworkError(`Cannot remove the pod network's bridge: ${name} exists but is not a bridge`);
  mustRunHostCommand("ip", ["link", "delete", name, "type", "bridge"]);
  return true;
}

/** The CNI config files in `dir` (names, sorted), as libcni would consider them. */
export function listCniConfigs(dir: string): string[] {
  return safeReaddir(dir).slice(0, CONF_DIR_ENTRIES_MAX).filter((n) => !n.startsWith(".") && CNI_CONFIG_EXTENSIONS.some((e) => n.endsWith(e))).sort();
}

function writeFileAtomic(dir: string, name: string, text: string): void {
  // A dot file ending in .tmp: libcni loads neither, so containerd never reads a half-written config.
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, join(dir, name));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
