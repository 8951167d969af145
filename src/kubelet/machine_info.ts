/**
 * What the kubelet reports about its machine (upstream's cadvisor MachineInfo plus the node's
 * addresses and system info), read once at start from the host: CPUs, memory, the root file system
 * (statfs), /etc/os-release, machine-id, boot-id, the kernel, the first non-loopback IPv4 address.
 */
import * as fs from "node:fs";
import * as os from "node:os";

export interface MachineInfo {
  readonly hostname: string;
  readonly cpuCores: number;
  readonly memoryBytes: number;
  /** The root file system's size (for ephemeral-storage). */
  readonly rootfsBytes: number;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly machineID: string;
  readonly bootID: string;
  readonly systemUUID: string;
  /** `amd64`, `arm64`, … as Go's GOARCH names them. */
  readonly architecture: string;
  readonly operatingSystem: string;
  readonly internalIP: string;
}

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

function readTrimmed(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

/** PRETTY_NAME of os-release, as upstream's osImage. */
export function parseOsRelease(text: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (m === null) return "Linux";
  return m[1]!.trim().replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
}

/** The first IPv4 address that is not loopback, else 127.0.0.1. */
export function firstInternalIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export function readMachineInfo(options: { hostname?: string; nodeIP?: string; rootDir?: string } = {}): MachineInfo {
  let rootfsBytes = 0;
  try {
    const st = fs.statfsSync(options.rootDir ?? "/");
    rootfsBytes = Number(st.blocks) * Number(st.bsize);
  } catch {
    rootfsBytes = 0;
  }
  return {
    hostname: (options.hostname ?? os.hostname()).toLowerCase(),
    cpuCores: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    rootfsBytes,
    kernelVersion: os.release(),
    osImage: parseOsRelease(readTrimmed("/etc/os-release")),
    machineID: readTrimmed("/etc/machine-id"),
    bootID: readTrimmed("/proc/sys/kernel/random/boot_id"),
    systemUUID: readTrimmed("/sys/class/dmi/id/product_uuid"),
    architecture: GOARCH[process.arch] ?? process.arch,
    operatingSystem: "linux",
    internalIP: options.nodeIP ?? firstInternalIPv4(),
  };
}
