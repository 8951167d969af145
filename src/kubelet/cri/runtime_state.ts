/**
 * What the process runtime keeps on disk so its sandboxes and containers outlive a restart of the
 * runtime (and of the kubelet that hosts it): one JSON file per sandbox and per container, written whole
 * (temp + rename) at every state change. Not fsynced: after a machine crash the processes are gone too.
 *
 *     <root>/sandboxes/<sandboxId>/sandbox.json
 *     <root>/sandboxes/<sandboxId>/containers/<containerId>/state.json
 *     <root>/sandboxes/<sandboxId>/containers/<containerId>/root/…   (mount symlinks; default working dir)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  ContainerMetadata, ContainerState, DNSConfig, ImageSpec, KeyValue, LinuxContainerResources, Mount,
  PodSandboxMetadata, PodSandboxState, PortMapping,
} from "./cri.js";

export interface SandboxRecord {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  state: PodSandboxState;
  readonly createdAt: bigint;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly hostname: string;
  readonly logDirectory: string;
  readonly dnsConfig: DNSConfig;
  readonly portMappings: readonly PortMapping[];
  readonly runtimeHandler: string;
}

export interface ContainerRecord {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  readonly imageRef: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly mounts: readonly Mount[];
  /** Absolute; "" for none. */
  readonly logPath: string;
  /** What runs: command + args with mount paths rewritten. */
  readonly argv: readonly string[];
  readonly envs: readonly KeyValue[];
  /** On the host. */
  readonly workingDir: string;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  readonly tty: boolean;
  readonly resources: LinuxContainerResources | null;
  /** securityContext.runAsUser / runAsGroup: applied only when the runtime runs as root. */
  readonly runAsUser: number | null;
  readonly runAsGroup: number | null;
  state: ContainerState;
  readonly createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  pid: number;
  /** /proc start time of `pid`: tells our process from a later one that reused the pid. */
  pidStartTime: string | null;
}

const NS_FIELDS = new Set(["createdAt", "startedAt", "finishedAt"]);

function replacer(key: string, value: unknown): unknown {
  return NS_FIELDS.has(key) && typeof value === "bigint" ? value.toString() : value;
}
function reviver(key: string, value: unknown): unknown {
  return NS_FIELDS.has(key) && typeof value === "string" ? BigInt(value) : value;
}

export function sandboxDir(root: string, sandboxId: string): string {
  return path.join(root, "sandboxes", sandboxId);
}
export function containerDir(root: string, sandboxId: string, containerId: string): string {
  return path.join(sandboxDir(root, sandboxId), "containers", containerId);
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, replacer));
  fs.renameSync(tmp, file);
}

export function saveSandbox(root: string, r: SandboxRecord): void {
  const dir = sandboxDir(root, r.id);
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, "sandbox.json"), r);
}

export function saveContainer(root: string, r: ContainerRecord): void {
  const dir = containerDir(root, r.podSandboxId, r.id);
  fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(dir, "state.json"), r);
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"), reviver) as T;
  } catch {
    return null; // missing, or torn by a crash between creating the dir and the first rename
  }
}

/** Every saved sandbox with its containers; at most `limit` of each, the rest reported as skipped. */
export function loadState(root: string, limit: { sandboxes: number; containers: number }): {
  sandboxes: SandboxRecord[];
  containers: ContainerRecord[];
  skipped: number;
} {
  const sandboxes: SandboxRecord[] = [];
  const containers: ContainerRecord[] = [];
  let skipped = 0;
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir).sort();
    } catch {
      return [];
    }
  };
  for (const sid of list(path.join(root, "sandboxes"))) {
    const s = readJson<SandboxRecord>(path.join(sandboxDir(root, sid), "sandbox.json"));
    if (s === null || s.id !== sid) {
      skipped++;
      continue;
    }
    if (sandboxes.length >= limit.sandboxes) {
      skipped++;
      continue;
    }
    sandboxes.push(s);
    for (const cid of list(path.join(sandboxDir(root, sid), "containers"))) {
      const c = readJson<ContainerRecord>(path.join(containerDir(root, sid, cid), "state.json"));
      if (c === null || c.id !== cid || containers.length >= limit.containers) {
        skipped++;
        continue;
      }
      containers.push(c);
    }
  }
  return { sandboxes, containers, skipped };
}
