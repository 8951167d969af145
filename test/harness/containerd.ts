/**
 * A private containerd 1.6 for tests: the config tk8s ships (deploy/containerd/config.toml) rendered with
 * its own root, state, socket and CNI conf dirs under /run/tk8s-test-containerd-*, started as a child and
 * ready once its CRI plugin answers `runtime.v1.RuntimeService/Version`. stop() removes every pod sandbox
 * the tests left (so no shim, mount, netns or cgroup outlives it), stops containerd and deletes its dirs.
 *
 * The CRI calls here are hand-encoded protobuf on a bare gRPC channel (four small messages), so the
 * harness does not depend on the kubelet's CRI client it is used to test.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { DEBIAN_CNI_BIN_DIR, renderContainerdConfig } from "../../src/images/containerd_config.js";
import { requireBinary } from "./datastore_process.js";
import { TEST_PAUSE_IMAGE } from "./test_images.js";

/** A started private containerd. */
export interface ContainerdProcess {
  /** The gRPC socket path. */
  readonly socket: string;
  /** `unix://` + socket: what `--container-runtime-endpoint` and gRPC clients take. */
  readonly address: string;
  /** containerd's root dir (content, snapshots, metadata). */
  readonly root: string;
  /** containerd's state dir (runc state under `runc/`, pod netns mounts). */
  readonly state: string;
  /** The CNI conf dir from the config; empty at start (containerd picks up a conflist written later). */
  readonly cniConfDir: string;
  /** The rendered config file. */
  readonly configPath: string;
  /** Where containerd's stdout and stderr go. */
  readonly logPath: string;
  readonly pid: number;
  /** The last bytes of containerd's log, for error messages. */
  logTail(): string;
  /** Removes every pod sandbox, stops containerd (SIGKILL after STOP_TIMEOUT_MS) and deletes its dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartContainerdOptions {
  /** containerd's `sandbox_image`; the caller imports it (see test_images.ts). Default TEST_PAUSE_IMAGE. */
  sandboxImage?: string;
  /** Default: `conf.d` inside the instance's dir (empty). */
  cniConfDir?: string;
  /** Default: Debian's /usr/lib/cni. */
  cniBinDir?: string;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error";
  /** Keep the instance's dirs after stop() (for debugging a failure). Also with TK8S_KEEP_CONTAINERD=1. */
  keepDirs?: boolean;
}

/** Measured < 1 s on these machines; ten times that is a failure, not a slow start. */
export const CONTAINERD_READY_TIMEOUT_MS = 10_000;
/** containerd exits within a second of SIGTERM; longer is a hang, so it is SIGKILLed. */
export const STOP_TIMEOUT_MS = 10_000;
/** One CRI call; StopPodSandbox waits for the sandbox's containers, which are killed, so this is generous. */
const CRI_CALL_TIMEOUT_MS = 15_000;
const READY_POLL_INTERVAL_MS = 50;
const LOG_TAIL_BYTES = 4_096;
/** Tries, READY_POLL_INTERVAL_MS apart, to remove a cgroup whose processes were just killed. */
const CGROUP_RMDIR_ATTEMPTS_MAX = 40;
/** More sandboxes than any test creates; a list this long means the cleanup is looping on something. */
const SANDBOXES_REMOVED_MAX = 1_000;
/** Base of every instance's dir; short, since the socket path inside must stay under 108 bytes. */
const INSTANCE_DIR_PREFIX = "/run/tk8s-test-containerd-";

/** What a private containerd needs that this machine lacks (empty when everything is there). */
export function missingContainerdPrerequisites(): string[] {
  const missing: string[] = [];
  for (const [binary, pkg] of [["containerd", "containerd"], ["containerd-shim-runc-v2", "containerd"], ["ctr", "containerd"], ["runc", "runc"]] as const) {
    if (requireBinary(binary) === null) missing.push(`${binary} (Debian package ${pkg})`);
  }
  if (!existsSync(join(DEBIAN_CNI_BIN_DIR, "bridge"))) missing.push(`${DEBIAN_CNI_BIN_DIR}/bridge (Debian package containernetworking-plugins)`);
  if (process.getuid?.() !== 0) missing.push("root (containerd mounts overlayfs and creates cgroups)");
  return missing;
}

/**
 * The skip reason for a suite that needs containerd: undefined when it can run. Under CI=true it never
 * skips: the suite runs and startContainerd() fails with what is missing, since a skipped runtime suite
 * proves nothing.
 */
export function containerdSkipReason(): string | undefined {
  if (process.env.CI === "true") return undefined;
  const missing = missingContainerdPrerequisites();
  return missing.length === 0 ? undefined : `containerd not usable here: missing ${missing.join(", ")}`;
}

/** Starts a private containerd from the shipped config and waits until its CRI answers Version. */
export async function startContainerd(options: StartContainerdOptions = {}): Promise<ContainerdProcess> {
  const missing = missingContainerdPrerequisites();
  if (missing.length > 0) {
    const ci = process.env.CI === "true" ? " (CI=true: runtime tests must run, never skip)" : "";
    throw new Error(`Cannot start containerd: missing ${missing.join(", ")}${ci}`);
  }
  mkdirSync("/run", { recursive: true });
  const dir = mkdtempSync(INSTANCE_DIR_PREFIX);
  const root = join(dir, "root");
  const state = join(dir, "state");
  const socket = join(dir, "containerd.sock");
  const cniConfDir = options.cniConfDir ?? join(dir, "conf.d");
  const configPath = join(dir, "config.toml");
  const logPath = join(dir, "containerd.log");
  try {
    for (const d of [root, state, cniConfDir]) mkdirSync(d, { recursive: true });
    writeFileSync(configPath, renderContainerdConfig({
      root, state, address: socket, cniConfDir,
      sandboxImage: options.sandboxImage ?? TEST_PAUSE_IMAGE,
      cniBinDir: options.cniBinDir ?? DEBIAN_CNI_BIN_DIR,
      logLevel: options.logLevel ?? "info",
    }));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const logFd = openSync(logPath, "a");
  const child = spawn(requireBinary("containerd")!, ["--config", configPath], { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  // If the test process dies without stop() (a runner timeout, an uncaught error), containerd must not
  // outlive it; exit handlers run synchronously, and kill is synchronous.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  const instance = new PrivateContainerd(child, { dir, root, state, socket, cniConfDir, configPath, logPath, keepDirs: options.keepDirs === true || process.env.TK8S_KEEP_CONTAINERD === "1" });
  try {
    await instance.waitReady();
  } catch (err) {
    await instance.stop();
    throw err;
  }
  return instance;
}

interface Paths {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly cniConfDir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly keepDirs: boolean;
}

class PrivateContainerd implements ContainerdProcess {
  readonly socket: string;
  readonly address: string;
  readonly root: string;
  readonly state: string;
  readonly cniConfDir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #paths: Paths;
  #exited: Promise<void>;
  #exitCode: number | null | undefined = undefined;
  #stopping: Promise<void> | null = null;

  constructor(child: ChildProcess, paths: Paths) {
    this.#child = child;
    this.#paths = paths;
    this.socket = paths.socket;
    this.address = `unix://${paths.socket}`;
    this.root = paths.root;
    this.state = paths.state;
    this.cniConfDir = paths.cniConfDir;
    this.configPath = paths.configPath;
    this.logPath = paths.logPath;
    this.pid = child.pid ?? -1;
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code) => { this.#exitCode = code; resolve(); });
      child.once("error", () => { this.#exitCode = null; resolve(); });
    });
  }

  logTail(): string {
    try {
      const text = readFileSync(this.logPath);
      return text.subarray(Math.max(0, text.length - LOG_TAIL_BYTES)).toString("utf8");
    } catch {
      return "";
    }
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + CONTAINERD_READY_TIMEOUT_MS;
    let lastError = "no answer yet";
    // Bounded by the deadline: polls until the CRI plugin answers or containerd exits.
    while (Date.now() < deadline) {
      if (this.#exitCode !== undefined) {
        throw new Error(`Cannot start containerd: it exited with code ${this.#exitCode} before its CRI answered; log tail:\n${this.logTail()}`);
      }
      if (existsSync(this.socket)) {
        try {
          const version = await criVersion(this.address, 1_000);
          if (version.runtimeApiVersion === "v1") return;
          lastError = `runtimeApiVersion is ${JSON.stringify(version.runtimeApiVersion)}, want "v1"`;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
        }
      }
      await sleep(READY_POLL_INTERVAL_MS);
    }
    throw new Error(`Cannot start containerd: its CRI did not answer within ${CONTAINERD_READY_TIMEOUT_MS} ms (${lastError}); log tail:\n${this.logTail()}`);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const problems: string[] = [];
    if (this.#exitCode === undefined) {
      problems.push(...await removeAllPodSandboxes(this.address));
      this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    // Backstop for a sandbox the CRI could not remove: shims that serve this instance (their command line
    // names its socket) and their containers are ours to end; nothing else is touched.
    const killed: number[] = [];
    for (const pid of shimPidsFor(this.socket)) {
      for (const descendant of descendantsOf(pid)) killed.push(descendant);
      killed.push(pid);
      problems.push(`killed leftover shim ${pid}`);
    }
    for (const pid of killed) tryKill(pid);
    await waitExited(killed, STOP_TIMEOUT_MS);
    // A container whose runc state is still here was not deleted through containerd: its processes are
    // gone now (above), so its empty cgroups can go too (runc's cgroupfs layout: <controller>/k8s.io/<id>).
    for (const id of safeReaddir(join(this.state, "runc", "k8s.io"))) {
      for (const controller of safeReaddir("/sys/fs/cgroup")) {
        const cgroup = join("/sys/fs/cgroup", controller, "k8s.io", id);
        if (!existsSync(cgroup)) continue;
        // The kernel lets go of a cgroup a moment after its last task exits; a few tries cover that.
        for (let attempt = 1; ; attempt++) {
          try {
            rmdirSync(cgroup);
            break;
          } catch (err) {
            if (attempt >= CGROUP_RMDIR_ATTEMPTS_MAX) {
              problems.push(`rmdir ${cgroup}: ${(err as Error).message}`);
              break;
            }
            await sleep(READY_POLL_INTERVAL_MS);
          }
        }
      }
      problems.push(`container ${id} was left in runc's state`);
    }
    for (const mountPoint of mountsUnder(this.#paths.dir)) {
      const r = spawnSync("umount", ["-l", mountPoint], { encoding: "utf8" });
      if (r.status !== 0) problems.push(`umount ${mountPoint}: ${r.stderr.trim()}`);
    }
    if (!this.#paths.keepDirs) rmSync(this.#paths.dir, { recursive: true, force: true });
    if (problems.length > 0) process.stderr.write(`containerd harness: stop of ${this.#paths.dir} had to clean up: ${problems.join("; ")}\n`);
  }
}

// ---------- a minimal CRI client: hand-encoded runtime.v1 messages ----------

/** `runtime.v1.VersionResponse` (fields 1–4, all strings). */
export interface CriVersion {
  readonly version: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

/** Calls `runtime.v1.RuntimeService/Version` on `address` (unix://…). */
export async function criVersion(address: string, timeoutMs = CRI_CALL_TIMEOUT_MS): Promise<CriVersion> {
  const body = await criUnary(address, "RuntimeService", "Version", new protobuf.Writer().uint32((1 << 3) | 2).string("v1").finish(), timeoutMs);
  const fields = decodeStringFields(body);
  return { version: fields.get(1)?.[0] ?? "", runtimeName: fields.get(2)?.[0] ?? "", runtimeVersion: fields.get(3)?.[0] ?? "", runtimeApiVersion: fields.get(4)?.[0] ?? "" };
}

/** The ids of every pod sandbox (`ListPodSandbox` with no filter). */
export async function criListPodSandboxIds(address: string): Promise<string[]> {
  const body = await criUnary(address, "RuntimeService", "ListPodSandbox", new Uint8Array(0), CRI_CALL_TIMEOUT_MS);
  // ListPodSandboxResponse { repeated PodSandbox items = 1 }, PodSandbox { string id = 1; … }
  const items = decodeBytesFields(body).get(1) ?? [];
  return items.map((item) => decodeStringFields(item).get(1)?.[0] ?? "").filter((id) => id !== "");
}

/**
 * StopPodSandbox then RemovePodSandbox for every sandbox: containers, netns and cgroups go with them.
 * Returns what failed (one sandbox failing does not keep the others); the shim backstop handles the rest.
 */
async function removeAllPodSandboxes(address: string): Promise<string[]> {
  const problems: string[] = [];
  let ids: string[];
  try {
    ids = await criListPodSandboxIds(address);
  } catch (err) {
    return [`listing pod sandboxes: ${err instanceof Error ? err.message : String(err)}`];
  }
  for (const id of ids.slice(0, SANDBOXES_REMOVED_MAX)) {
    const request = new protobuf.Writer().uint32((1 << 3) | 2).string(id).finish(); // { string pod_sandbox_id = 1 }
    try {
      await criUnary(address, "RuntimeService", "StopPodSandbox", request, CRI_CALL_TIMEOUT_MS);
      await criUnary(address, "RuntimeService", "RemovePodSandbox", request, CRI_CALL_TIMEOUT_MS);
    } catch (err) {
      problems.push(`removing pod sandbox ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

function criUnary(address: string, service: "RuntimeService" | "ImageService", method: string, request: Uint8Array, timeoutMs: number): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      `/runtime.v1.${service}/${method}`,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      request,
      { deadline: Date.now() + timeoutMs },
      (err, res) => (err || res === undefined ? reject(err ?? new Error("empty response")) : resolve(res)),
    );
  }).finally(() => client.close());
}

/** Length-delimited fields of a message, by field number (other wire types are skipped). */
function decodeBytesFields(body: Uint8Array): Map<number, Uint8Array[]> {
  const reader = protobuf.Reader.create(body);
  const fields = new Map<number, Uint8Array[]>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if ((tag & 7) === 2) {
      const list = fields.get(tag >>> 3) ?? [];
      list.push(reader.bytes());
      fields.set(tag >>> 3, list);
    } else {
      reader.skipType(tag & 7);
    }
  }
  return fields;
}

function decodeStringFields(body: Uint8Array): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [n, list] of decodeBytesFields(body)) out.set(n, list.map((b) => Buffer.from(b).toString("utf8")));
  return out;
}

// ---------- process and mount backstops (only what this instance started) ----------

function shimPidsFor(socket: string): number[] {
  const pids: number[] = [];
  for (const name of safeReaddir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string[];
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const exe = safeReadlink(`/proc/${name}/exe`);
    const isShim = (exe ?? cmdline[0] ?? "").includes("containerd-shim");
    if (isShim && cmdline.includes(socket)) pids.push(Number(name));
  }
  return pids;
}

function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of safeReaddir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // Exited while we looked.
    }
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  // Bounded: every pid is visited once and the process table is finite.
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/** Mount points at or below `dir`, deepest first (so a nested mount is unmounted before its parent). */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const points = text.split("\n").map((line) => line.split(" ")[4] ?? "").map((p) => p.replace(/\\040/g, " "))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Waits until every pid is gone or a zombie (it has left its cgroups), up to `timeoutMs`. */
async function waitExited(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
      return false;
    }
  };
  // Bounded by the deadline.
  while (pids.some(alive) && Date.now() < deadline) await sleep(READY_POLL_INTERVAL_MS);
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
