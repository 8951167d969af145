/**
 * The host settings pods on a bridge network need, set by the kubelet before its first pod sandbox (what
 * kubeadm's preflight checks and kubenet used to set itself):
 *
 * - `net.ipv4.ip_forward = 1`: the host routes between the pod bridge and everything else (pod → outside,
 *   other nodes → pod, NodePort → pod on another node). Off by default on Debian; without it pods reach the
 *   host and each other only.
 * - `net.bridge.bridge-nf-call-iptables = 1` (module `br_netfilter`, loaded if its sysctls are missing):
 *   traffic between two pods on the same bridge passes the iptables nat rules, so a pod reaching a Service IP
 *   whose endpoint sits on the same bridge is DNATed and answered correctly (kube-proxy depends on it).
 *
 * Both are per network namespace. undoHostPreparation puts back each value that still reads what we wrote.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHostCommand } from "./host_commands.js";

export const PROC_SYS_DIR = "/proc/sys";

/** One sysctl we changed: `before` is what the host had, `after` what we wrote. */
export interface SysctlChange {
  readonly key: string;
  readonly before: string;
  readonly after: string;
}

export interface HostPreparation {
  /** Only the sysctls whose value changed (already right: not listed, not undone). */
  readonly changes: readonly SysctlChange[];
  /** Kernel modules this call loaded (modprobe), which undo unloads. */
  readonly loadedModules: readonly string[];
  /** Settings that could not be made, with why (the pod network still works without them, with less). */
  readonly unavailable: readonly string[];
}

export interface PrepareHostOptions {
  /** Default /proc/sys; tests point it at a copy. */
  readonly procSysDir?: string;
  /** Try `modprobe br_netfilter` when /proc/sys/net/bridge is missing. Default true. */
  readonly loadBrNetfilter?: boolean;
}

/** The sysctls and the values pods need, in the order they are set. */
export const POD_NETWORK_SYSCTLS: readonly { readonly key: string; readonly value: string; readonly module?: string }[] = [
  { key: "net.ipv4.ip_forward", value: "1" },
  { key: "net.bridge.bridge-nf-call-iptables", value: "1", module: "br_netfilter" },
];

/** Sets POD_NETWORK_SYSCTLS; throws only if ip_forward cannot be set (without it, pods cannot leave the node). */
export function prepareHostForPods(options: PrepareHostOptions = {}): HostPreparation {
  const procSys = options.procSysDir ?? PROC_SYS_DIR;
  const changes: SysctlChange[] = [];
  const loadedModules: string[] = [];
  const unavailable: string[] = [];
  for (const { key, value, module } of POD_NETWORK_SYSCTLS) {
    const path = sysctlPath(procSys, key);
    let before = readSysctl(path);
    if (before === null && module !== undefined && options.loadBrNetfilter !== false && procSys === PROC_SYS_DIR) {
      const r = runModprobe([module]);
      if (r === "") loadedModules.push(module);
      before = readSysctl(path);
      if (before === null) {
        unavailable.push(`${key}: ${r === "" ? `module ${module} loaded but ${path} is missing` : `modprobe ${module} failed: ${r}`}`);
        continue;
      }
    }
    if (before === null) {
      if (module === undefined) throw new Error(`Cannot prepare the host for pods: ${path} is missing`);
      unavailable.push(`${key}: ${path} is missing`);
      continue;
    }
    if (before === value) continue;
    try {
      writeFileSync(path, `${value}\n`);
    } catch (err) {
      if (module === undefined) throw new Error(`Cannot prepare the host for pods: writing ${value} to ${path}: ${(err as Error).message}`, { cause: err });
      unavailable.push(`${key}: ${(err as Error).message}`);
      continue;
    }
    changes.push({ key, before, after: value });
  }
  return { changes, loadedModules, unavailable };
}

/**
 * Restores each changed sysctl whose value is still the one we wrote (someone who changed it since owns it
 * now), then unloads the modules we loaded (best effort: a module in use stays). Returns what it restored.
 */
export function undoHostPreparation(preparation: HostPreparation, options: { readonly procSysDir?: string } = {}): SysctlChange[] {
  const procSys = options.procSysDir ?? PROC_SYS_DIR;
  const restored: SysctlChange[] = [];
  for (const change of [...preparation.changes].reverse()) {
    const path = sysctlPath(procSys, change.key);
    if (readSysctl(path) !== change.after) continue;
    writeFileSync(path, `${change.before}\n`);
    restored.push(change);
  }
  for (const module of preparation.loadedModules) runModprobe(["-r", module]);
  return restored;
}

/** `a.b.c` → `<procSys>/a/b/c`. */
export function sysctlPath(procSys: string, key: string): string {
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(key)) throw new Error(`Cannot use sysctl ${JSON.stringify(key)}: not a sysctl name`);
  return join(procSys, ...key.split("."));
}

export function readSysctl(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** "" on success, else the reason. */
function runModprobe(args: string[]): string {
  try {
    const r = runHostCommand("modprobe", args);
    return r.status === 0 ? "" : r.stderr.trim() || `exit ${r.status}`;
  } catch (err) {
    return (err as Error).message;
  }
}
