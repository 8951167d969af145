/**
 * Helpers for tests that change the host's network (pod bridges, CNI nat rules, sysctls): what to compare
 * before and after, so a test can prove it left the host as it found it, and which tools it needs.
 *
 * Other engineers' tests may run at the same time and add their own chains (KUBE-*), links and namespaces,
 * so a snapshot holds only what CNI networks touch: nat lines naming a CNI plugin's chain or a given network,
 * links named like the CNI bridge plugin's veths or the given bridge, the two sysctls and /var/lib/cni.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";

export interface HostNetworkSnapshot {
  /** nat table lines (iptables-save) that declare or use a CNI- chain or name the network, sorted, counters dropped. */
  readonly cniNatLines: readonly string[];
  /** Links named `veth*` or the bridge. */
  readonly links: readonly string[];
  readonly ipForward: string;
  readonly bridgeNfCallIptables: string | null;
  /** /var/lib/cni and its usual children that exist. */
  readonly varLibCni: readonly string[];
}

/**
 * Chains the CNI plugins create: portmap's shared CNI-HOSTPORT-* and per-pod CNI-DN-*, and bridge ipMasq's
 * per-pod `CNI-` + 24 hex digits (libcni's FormatChainName). Other tests' hand-made CNI-like chains do not match.
 */
export const CNI_PLUGIN_CHAIN = /CNI-HOSTPORT-|CNI-DN-|CNI-[0-9a-f]{24}\b/;

export const VAR_LIB_CNI_DIRS = ["/var/lib/cni", "/var/lib/cni/networks", "/var/lib/cni/results"];

/** What a host-network test needs that this machine lacks (empty when everything is there). */
export function missingNetworkPrerequisites(): string[] {
  const missing: string[] = [];
  for (const [binary, pkg] of [["ip", "iproute2"], ["iptables", "iptables"], ["iptables-save", "iptables"]] as const) {
    const r = spawnSync("sh", ["-c", `command -v ${binary} || test -x /usr/sbin/${binary} || test -x /sbin/${binary}`]);
    if (r.status !== 0) missing.push(`${binary} (Debian package ${pkg})`);
  }
  if (process.getuid?.() !== 0) missing.push("root (bridges and nat rules)");
  return missing;
}

/** Skip reason for a suite that changes the host network; never skips under CI=true (it fails instead). */
export function networkSkipReason(): string | undefined {
  if (process.env.CI === "true") return undefined;
  const missing = missingNetworkPrerequisites();
  return missing.length === 0 ? undefined : `host network tests need: ${missing.join(", ")}`;
}

/** Throws (with CI's reason) when the tools are missing; call in before() so CI fails loudly. */
export function requireNetworkPrerequisites(): void {
  const missing = missingNetworkPrerequisites();
  if (missing.length > 0) throw new Error(`Cannot test the pod network: missing ${missing.join(", ")}${process.env.CI === "true" ? " (CI=true: network tests must run, never skip)" : ""}`);
}

export function hostNetworkSnapshot(options: { readonly networkName: string; readonly bridgeName: string }): HostNetworkSnapshot {
  const save = spawnSync("iptables-save", ["-t", "nat"], { encoding: "utf8", env: sbinPath() });
  if (save.status !== 0) throw new Error(`iptables-save failed: ${save.stderr}`);
  const cniNatLines = save.stdout.split("\n")
    .filter((l) => !l.startsWith("#") && (CNI_PLUGIN_CHAIN.test(l) || l.includes(`"${options.networkName}"`)))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ""))
    .sort();
  const links = safeReaddir("/sys/class/net").filter((n) => n.startsWith("veth") || n === options.bridgeName).sort();
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").trim() : null);
  return {
    cniNatLines,
    links,
    ipForward: read("/proc/sys/net/ipv4/ip_forward") ?? "",
    bridgeNfCallIptables: read("/proc/sys/net/bridge/bridge-nf-call-iptables"),
    varLibCni: VAR_LIB_CNI_DIRS.filter((d) => existsSync(d)),
  };
}

/** Removes the /var/lib/cni dirs that did not exist in `before`, if empty (another user's files keep them). */
export function removeVarLibCniDirsCreatedSince(before: HostNetworkSnapshot): void {
  for (const dir of [...VAR_LIB_CNI_DIRS].reverse()) {
    if (before.varLibCni.includes(dir) || !existsSync(dir)) continue;
    try {
      rmdirSync(dir);
    } catch {
      // Not empty: someone else's state lives there now.
    }
  }
}

/** Interfaces enslaved to `bridge` right now (its veths). */
export function bridgePorts(bridge: string): string[] {
  return safeReaddir(join("/sys/class/net", bridge, "brif")).sort();
}

function sbinPath(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
