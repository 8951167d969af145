/**
 * The built-in process runtime: the CRI RuntimeService and ImageService on this host, without containers.
 *
 * - A sandbox is a directory under the runtime's root. There is no network namespace: every pod uses the
 *   host's network (its IP is the node's, `podIp`), and port-forward dials 127.0.0.1.
 * - A container is a host process group: `command + args` spawned detached (its own session and group),
 *   with the env, working dir and volumes of its config. Volumes are given "by path" (see mount_paths.ts).
 *   Nothing is isolated: the process sees the host's files, processes and network, runs as the kubelet's
 *   user, and resource limits are recorded, not enforced.
 * - Images are names only (image_store.ts): there is no image filesystem, so a container needs an explicit
 *   command; without one CreateContainer fails with a message the kubelet shows as CreateContainerError.
 * - Output goes to the container's log file in the CRI format (cri_log.ts) and to attached clients.
 * - State files (runtime_state.ts) let a restarted runtime list what it ran. A process still alive after a
 *   restart is adopted (stop works; its exit code and further output are lost: the pipes died with the
 *   old runtime); one that ended meanwhile is EXITED with exit code 255 and reason `Unknown`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Writable, type Duplex } from "node:stream";
import type { Clock, Logger, Timer } from "../../env/env.js";
import { assert, rethrowIfAssertion } from "../../util/assert.js";
import type {
  AttachRequest, AttachResponse, Container, ContainerFilter, ContainerRuntime, ContainerStatus,
  ContainerStatusResponse, CreateContainerRequest, CreateContainerResponse, ExecRequest, ExecResponse,
  ExecSyncRequest, ExecSyncResponse, Image, ImageFsInfoResponse, ImageSpec, ImageStatusResponse,
  PodSandbox, PodSandboxFilter, PodSandboxStatusResponse, PortForwardRequest, PortForwardResponse,
  PullImageRequest, PullImageResponse, RunPodSandboxRequest, RunPodSandboxResponse, StatusResponse,
  StreamSession, TerminalSize, VersionResponse,
} from "./cri.js";
import { CriLogWriter, type LogStream } from "./cri_log.js";
import {
  CreateContainerFailedError, CriError, ExecTimeoutError, FailedPreconditionError, NotFoundError,
  ResourceExhaustedError, StartContainerFailedError,
} from "./errors.js";
import {
  DEFAULT_PATH, childrenOf, exitCodeOf, isSameProcessAlive, lookPath, processStartTime, ptyArgv,
  signalGroup, terminalOf,
} from "./host_process.js";
import { ImageStore, imageIdOf, normalizeImageName } from "./image_store.js";
import { hostPathFor, linkMounts, rewriteMountPaths } from "./mount_paths.js";
import { OutputFanout } from "./output_fanout.js";
import { ProcessShim, ShimSpawnError, type ShimChild } from "./process_shim.js";
import {
  containerDir, loadState, sandboxDir, saveContainer, saveSandbox, type ContainerRecord, type SandboxRecord,
} from "./runtime_state.js";

export const RUNTIME_NAME = "tk8s-process";
export const RUNTIME_VERSION = "0.1.0";

/** Sandboxes kept at once (the kubelet's max-pods is 110; room for terminating ones). */
export const SANDBOXES_MAX_DEFAULT = 512;
/** Containers kept at once, exited ones included (the kubelet removes dead ones). */
export const CONTAINERS_MAX_DEFAULT = 2048;
/** Exec and ExecSync processes running at once, all containers together. */
export const EXEC_SESSIONS_MAX = 256;
/** Bytes ExecSync keeps of each of stdout and stderr; the rest is read and dropped. */
export const EXEC_SYNC_OUTPUT_BYTES_MAX = 4 * 1024 * 1024;
/** How long to wait for a process group after SIGKILL before reporting that it would not die. */
export const KILL_WAIT_MS = 10_000;
/** After the main process exits, how long its output pipes may stay open (a leftover holding them) before we stop reading. */
const PIPE_DRAIN_MS = 2_000;
/** A resize that comes before the pty exists is retried this often, this many times. */
const RESIZE_RETRY_MS = 20;
const RESIZE_ATTEMPTS_MAX = 25;
/** How often an adopted process (one a restarted runtime did not spawn) is checked for having ended. */
const ADOPTED_POLL_MS_DEFAULT = 1_000;

export interface ProcessRuntimeOptions {
  /** The runtime's own directory (e.g. `<kubelet root>/process-runtime`). */
  readonly root: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** What PodSandboxStatus reports as the pod IP: the node's, since pods share the host network. */
  readonly podIp?: string;
  readonly sandboxesMax?: number;
  readonly containersMax?: number;
  readonly adoptedPollMs?: number;
}

interface SandboxEntry {
  readonly record: SandboxRecord;
}

interface ContainerEntry {
  readonly record: ContainerRecord;
  child: ShimChild | null;
  writer: CriLogWriter | null;
  readonly fanout: OutputFanout;
  /** Resolves once the container is EXITED. */
  exited: Promise<void>;
  resolveExited: () => void;
  starting: boolean;
  adoptedTimer: Timer | null;
  /** Process groups of exec sessions in this container: they die with it. */
  readonly execPids: Set<number>;
}

function newContainerId(): string {
  return randomBytes(32).toString("hex");
}

function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  if (selector === undefined) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function sandboxNameKey(m: { name: string; namespace: string; uid: string; attempt?: number }): string {
  return `${m.name}_${m.namespace}_${m.uid}_${m.attempt ?? 0}`;
}

export class ProcessRuntime implements ContainerRuntime {
  readonly #root: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #podIp: string;
  readonly #sandboxesMax: number;
  readonly #containersMax: number;
  readonly #adoptedPollMs: number;
  readonly #sandboxes = new Map<string, SandboxEntry>();
  readonly #containers = new Map<string, ContainerEntry>();
  /** Reserved names (containerd's name index): name key → id. Two RunPodSandbox calls for one pod attempt get one sandbox. */
  readonly #names = new Map<string, string>();
  readonly #images: ImageStore;
  /** Forks and reaps our processes in a helper process, off this event loop (process_shim_main.ts). */
  readonly #shim: ProcessShim;
  #execSessions = 0;
  #closed = false;

  constructor(options: ProcessRuntimeOptions) {
    this.#root = path.resolve(options.root);
    this.#clock = options.clock;
    this.#log = options.log;
    this.#podIp = options.podIp ?? "127.0.0.1";
    this.#sandboxesMax = options.sandboxesMax ?? SANDBOXES_MAX_DEFAULT;
    this.#containersMax = options.containersMax ?? CONTAINERS_MAX_DEFAULT;
    this.#adoptedPollMs = options.adoptedPollMs ?? ADOPTED_POLL_MS_DEFAULT;
    fs.mkdirSync(path.join(this.#root, "sandboxes"), { recursive: true });
    this.#images = new ImageStore(this.#root);
    this.#shim = new ProcessShim({ clock: this.#clock, log: this.#log });
    this.#recover();
    this.#shim.start();
  }

  #nowNs(): bigint {
    return BigInt(Math.floor(this.#clock.wallMs())) * 1_000_000n;
  }

  /** Loads state files: the sandboxes and containers a previous runtime left. */
  #recover(): void {
    const { sandboxes, containers, skipped } = loadState(this.#root, { sandboxes: this.#sandboxesMax, containers: this.#containersMax });
    if (skipped > 0) this.#log.warn("skipped unreadable or excess runtime state", { skipped, root: this.#root });
    for (const record of sandboxes) {
      this.#sandboxes.set(record.id, { record });
      this.#names.set(sandboxNameKey(record.metadata), record.id);
    }
    let adopted = 0;
    let lost = 0;
    for (const record of containers) {
      const sandbox = this.#sandboxes.get(record.podSandboxId);
      if (sandbox === undefined) continue;
      const entry = this.#newEntry(record);
      this.#containers.set(record.id, entry);
      this.#names.set(this.#containerNameKey(record.metadata.name, record.metadata.attempt, sandbox.record), record.id);
      if (record.state !== "CONTAINER_RUNNING") {
        if (record.state === "CONTAINER_EXITED") entry.resolveExited();
        continue;
      }
      if (record.pid > 0 && isSameProcessAlive(record.pid, record.pidStartTime)) {
        adopted++;
        this.#pollAdopted(entry);
      } else {
        lost++;
        this.#finish(entry, {
          exitCode: 255,
          reason: "Unknown",
          message: "the container's process ended while the runtime was not running; its exit status is lost",
          finishedAt: this.#nowNs(),
        });
      }
    }
    this.#log.info("process runtime started", {
      root: this.#root, sandboxes: this.#sandboxes.size, containers: this.#containers.size, adopted, lost,
    });
  }

  #newEntry(record: ContainerRecord): ContainerEntry {
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    return {
      record, child: null, writer: null, fanout: new OutputFanout(), exited, resolveExited,
      starting: false, adoptedTimer: null, execPids: new Set(),
    };
  }

  #containerNameKey(name: string, attempt: number | undefined, sandbox: SandboxRecord): string {
    return `${name}_${sandboxNameKey(sandbox.metadata)}_${attempt ?? 0}`;
  }

  /** Watches a process a previous runtime spawned until it ends; its exit code cannot be known. */
  #pollAdopted(entry: ContainerEntry): void {
    entry.adoptedTimer = this.#clock.setTimer(this.#adoptedPollMs, () => {
      entry.adoptedTimer = null;
      if (entry.record.state !== "CONTAINER_RUNNING") return;
      if (isSameProcessAlive(entry.record.pid, entry.record.pidStartTime)) {
        this.#pollAdopted(entry);
        return;
      }
      this.#finish(entry, {
        exitCode: 255,
        reason: "Unknown",
        message: "the container's process was started by an earlier run of the runtime; its exit status is lost",
        finishedAt: this.#nowNs(),
      });
    });
  }

  #sandbox(id: string): SandboxEntry {
    const s = this.#sandboxes.get(id);
    if (s === undefined) throw new NotFoundError("sandbox", id);
    return s;
  }

  #container(id: string): ContainerEntry {
    const c = this.#containers.get(id);
    if (c === undefined) throw new NotFoundError("container", id);
    return c;
  }

  // ---------- runtime info ----------

  async version(_apiVersion: string): Promise<VersionResponse> {
    return { version: "0.1.0", runtimeName: RUNTIME_NAME, runtimeVersion: RUNTIME_VERSION, runtimeApiVersion: "v1" };
  }

  async status(_verbose?: boolean): Promise<StatusResponse> {
    return {
      status: {
        conditions: [
          { type: "RuntimeReady", status: !this.#closed, reason: this.#closed ? "RuntimeClosed" : "", message: "" },
          // Host network: there is no CNI to wait for.
          { type: "NetworkReady", status: true, reason: "", message: "" },
        ],
      },
      info: { root: this.#root, isolation: "none: containers are host processes on the host network" },
    };
  }

  // ---------- sandboxes ----------

  async runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse> {
    const { config } = req;
    const m = config.metadata;
    if (m === undefined || m.name === "" || m.namespace === "" || m.uid === "") {
      throw new CriError("InvalidArgument", "sandbox config must include metadata with name, namespace and uid");
    }
    const key = sandboxNameKey(m);
    const reserved = this.#names.get(key);
    if (reserved !== undefined) {
      throw new CriError("AlreadyExists", `failed to reserve sandbox name "${key}": name "${key}" is reserved for "${reserved}"`);
    }
    if (this.#sandboxes.size >= this.#sandboxesMax) {
      throw new ResourceExhaustedError(`Cannot run pod sandbox "${key}": the process runtime already has ${this.#sandboxesMax} sandboxes`);
    }
    const record: SandboxRecord = {
      id: newContainerId(),
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, attempt: m.attempt ?? 0 },
      state: "SANDBOX_READY",
      createdAt: this.#nowNs(),
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      hostname: config.hostname ?? m.name,
      logDirectory: config.logDirectory ?? "",
      dnsConfig: { ...config.dnsConfig },
      portMappings: [...(config.portMappings ?? [])],
      runtimeHandler: req.runtimeHandler ?? "",
    };
    saveSandbox(this.#root, record);
    if (record.logDirectory !== "") fs.mkdirSync(record.logDirectory, { recursive: true });
    this.#sandboxes.set(record.id, { record });
    this.#names.set(key, record.id);
    this.#log.info("ran pod sandbox", { pod: `${m.namespace}/${m.name}`, podSandboxId: record.id });
    return { podSandboxId: record.id };
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const s = this.#sandboxes.get(podSandboxId);
    if (s === undefined) return; // idempotent, as upstream: the kubelet may stop twice
    // The kubelet stopped the containers gracefully already; what is left is killed, as containerd does.
    await Promise.all(this.#sandboxContainers(podSandboxId).map((c) => this.stopContainer(c.record.id, 0)));
    if (s.record.state !== "SANDBOX_NOTREADY") {
      s.record.state = "SANDBOX_NOTREADY";
      saveSandbox(this.#root, s.record);
    }
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const s = this.#sandboxes.get(podSandboxId);
    if (s === undefined) return;
    for (const c of this.#sandboxContainers(podSandboxId)) await this.removeContainer(c.record.id);
    fs.rmSync(sandboxDir(this.#root, podSandboxId), { recursive: true, force: true });
    this.#sandboxes.delete(podSandboxId);
    this.#names.delete(sandboxNameKey(s.record.metadata));
    this.#log.info("removed pod sandbox", { podSandboxId });
  }

  #sandboxContainers(podSandboxId: string): ContainerEntry[] {
    return [...this.#containers.values()].filter((c) => c.record.podSandboxId === podSandboxId);
  }

  async podSandboxStatus(podSandboxId: string, _verbose?: boolean): Promise<PodSandboxStatusResponse> {
    const { record: r } = this.#sandbox(podSandboxId);
    return {
      status: {
        id: r.id,
        metadata: r.metadata,
        state: r.state,
        createdAt: r.createdAt,
        network: { ip: this.#podIp, additionalIps: [] },
        linux: { namespaces: { options: { network: "NODE", pid: "NODE", ipc: "NODE" } } },
        labels: { ...r.labels },
        annotations: { ...r.annotations },
        runtimeHandler: r.runtimeHandler,
      },
      info: { directory: sandboxDir(this.#root, r.id) },
      containersStatuses: this.#sandboxContainers(podSandboxId).map((c) => this.#statusOf(c)),
      timestamp: this.#nowNs(),
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const out: PodSandbox[] = [];
    for (const { record: r } of this.#sandboxes.values()) {
      if (filter?.id !== undefined && filter.id !== "" && r.id !== filter.id) continue;
      if (filter?.state !== undefined && r.state !== filter.state.state) continue;
      if (!matchesLabels(r.labels, filter?.labelSelector)) continue;
      out.push({
        id: r.id, metadata: r.metadata, state: r.state, createdAt: r.createdAt,
        labels: { ...r.labels }, annotations: { ...r.annotations }, runtimeHandler: r.runtimeHandler,
      });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id.localeCompare(b.id)));
  }

  // ---------- containers ----------

  async createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse> {
    const { config } = req;
    const sandbox = this.#sandbox(req.podSandboxId).record;
    if (config.metadata === undefined || config.metadata.name === "") {
      throw new CreateContainerFailedError("container config must include metadata with a name");
    }
    if (sandbox.state !== "SANDBOX_READY") {
      throw new CreateContainerFailedError(`failed to create container "${config.metadata.name}": sandbox "${sandbox.id}" is not ready`);
    }
    const key = this.#containerNameKey(config.metadata.name, config.metadata.attempt, sandbox);
    const reserved = this.#names.get(key);
    if (reserved !== undefined) {
      throw new CriError("AlreadyExists", `failed to reserve container name "${key}": name "${key}" is reserved for "${reserved}"`);
    }
    if (this.#containers.size >= this.#containersMax) {
      throw new ResourceExhaustedError(`Cannot create container "${key}": the process runtime already has ${this.#containersMax} containers`);
    }
    const image = config.image?.userSpecifiedImage || config.image?.image || "";
    const command = config.command ?? [];
    const args = config.args ?? [];
    // Without an image filesystem there is no ENTRYPOINT to run. Args alone are taken as the whole
    // command line, which is what an image without an ENTRYPOINT (busybox, alpine) does with them.
    if (command.length === 0 && args.length === 0) {
      throw new CreateContainerFailedError(
        `the process runtime cannot run image "${image}" without an explicit command: it has no image filesystem`,
      );
    }
    const mounts = config.mounts ?? [];
    for (const m of mounts) {
      if (!path.isAbsolute(m.containerPath)) {
        throw new CreateContainerFailedError(`mount path "${m.containerPath}" is not absolute`);
      }
      if (!fs.existsSync(m.hostPath)) {
        throw new CreateContainerFailedError(`cannot give the container "${m.containerPath}": host path "${m.hostPath}" does not exist`);
      }
    }
    const id = newContainerId();
    const dir = containerDir(this.#root, sandbox.id, id);
    try {
      return this.#createContainerIn(req, { id, dir, key, image, sandbox });
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true }); // nothing half-made stays behind
      throw err;
    }
  }

  #createContainerIn(
    req: CreateContainerRequest,
    at: { id: string; dir: string; key: string; image: string; sandbox: SandboxRecord },
  ): CreateContainerResponse {
    const { config } = req;
    const { id, dir, key, sandbox } = at;
    const command = config.command ?? [];
    const args = config.args ?? [];
    const mounts = config.mounts ?? [];
    const rootDir = path.join(dir, "root");
    linkMounts(rootDir, mounts);

    // A working dir under a volume becomes the volume's host path; one that does not exist on the host
    // (an image's WORKDIR such as /app) is made inside the container's own root directory instead of
    // on the host's.
    let workingDir = rootDir;
    if (config.workingDir !== undefined && config.workingDir !== "") {
      const mapped = hostPathFor(config.workingDir, mounts);
      if (mapped !== config.workingDir || fs.existsSync(mapped)) {
        workingDir = mapped;
      } else {
        workingDir = path.join(rootDir, config.workingDir.replace(/^\/+/, ""));
        fs.mkdirSync(workingDir, { recursive: true });
      }
    }

    const envs = new Map<string, string>([["PATH", DEFAULT_PATH], ["HOSTNAME", sandbox.hostname]]);
    if (config.tty === true) envs.set("TERM", "xterm");
    for (const kv of config.envs ?? []) envs.set(kv.key, rewriteMountPaths(kv.value, mounts));
    const argv = [...command, ...args].map((a) => rewriteMountPaths(a, mounts));

    let logPath = "";
    if (config.logPath !== undefined && config.logPath !== "") {
      logPath = sandbox.logDirectory !== "" ? path.join(sandbox.logDirectory, config.logPath) : path.resolve(config.logPath);
    }
    let imageRef = "";
    try {
      imageRef = this.#images.find(config.image?.image ?? "")?.id ?? imageIdOf(normalizeImageName(config.image?.image ?? ""));
    } catch (err) {
      rethrowIfAssertion(err); // an image name the kubelet resolved is not ours to refuse here
    }

    const record: ContainerRecord = {
      id,
      podSandboxId: sandbox.id,
      metadata: { name: config.metadata.name, attempt: config.metadata.attempt ?? 0 },
      image: { ...config.image, image: config.image?.image ?? "" },
      imageRef,
      labels: { ...config.labels },
      annotations: { ...config.annotations },
      mounts: mounts.map((m) => ({ ...m })),
      logPath,
      argv,
      envs: [...envs].map(([key, value]) => ({ key, value })),
      workingDir,
      stdin: config.stdin === true,
      stdinOnce: config.stdinOnce === true,
      tty: config.tty === true,
      resources: config.linux?.resources ?? null,
      runAsUser: config.linux?.securityContext?.runAsUser?.value ?? null,
      runAsGroup: config.linux?.securityContext?.runAsGroup?.value ?? null,
      state: "CONTAINER_CREATED",
      createdAt: this.#nowNs(),
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: "",
      message: "",
      pid: 0,
      pidStartTime: null,
    };
    // A container running as another user owns its own root (its default working dir).
    const identity = identityOf(record);
    if (identity.uid !== undefined) fs.chownSync(rootDir, identity.uid, identity.gid ?? -1);
    saveContainer(this.#root, record);
    this.#containers.set(id, this.#newEntry(record));
    this.#names.set(key, id);
    this.#log.info("created container", { containerId: id, container: record.metadata.name, podSandboxId: sandbox.id, image: at.image });
    return { containerId: id };
  }

  async startContainer(containerId: string): Promise<void> {
    const entry = this.#container(containerId);
    const r = entry.record;
    if (r.state !== "CONTAINER_CREATED" || entry.starting) {
      throw new FailedPreconditionError(`container "${containerId}" is in ${r.state} state`);
    }
    entry.starting = true;
    try {
      await this.#spawnContainer(entry);
    } finally {
      entry.starting = false;
    }
  }

  async #spawnContainer(entry: ContainerEntry): Promise<void> {
    const r = entry.record;
    const env = Object.fromEntries(r.envs.map((kv) => [kv.key, kv.value]));
    const failStart = (message: string, cause?: unknown): never => {
      this.#finish(entry, { exitCode: 128, reason: "StartError", message, finishedAt: this.#nowNs() });
      throw new StartContainerFailedError(message, { cause });
    };
    const executable = lookPath(r.argv[0]!, env["PATH"] ?? DEFAULT_PATH, r.workingDir);
    if (executable === null) failStart(`exec: "${r.argv[0]}": executable file not found in $PATH`);
    let argv = [executable!, ...r.argv.slice(1)];
    if (r.tty) argv = ptyArgv(argv) ?? failStart("the process runtime cannot give this container a tty: util-linux `script` is not installed");

    if (r.logPath !== "") {
      try {
        entry.writer = new CriLogWriter(r.logPath, this.#clock, this.#log);
      } catch (err) {
        failStart(`cannot open log file "${r.logPath}": ${String(err)}`, err);
      }
    }
    let child: ShimChild;
    try {
      // Detached (the helper always starts processes so): its own session and process group, so that
      // stop signals the whole group.
      child = await this.#shim.spawn(argv[0]!, argv.slice(1), {
        cwd: r.workingDir,
        env,
        stdio: [r.stdin ? "pipe" : "ignore", "pipe", "pipe"],
        argv0: r.argv[0]!,
        ...identityOf(r),
      });
    } catch (err) {
      entry.writer?.close();
      entry.writer = null;
      return failStart(`failed to start "${r.argv[0]}": ${(err as Error).message}`, err);
    }
    assert(child.pid > 0, "a spawned child has a pid");
    entry.child = child;
    r.pid = child.pid;
    r.pidStartTime = processStartTime(child.pid);
    r.startedAt = this.#nowNs();
    r.state = "CONTAINER_RUNNING";
    saveContainer(this.#root, r);
    this.#log.info("started container", { containerId: r.id, pid: r.pid });

    const onOutput = (stream: LogStream) => (chunk: Buffer): void => {
      entry.writer?.write(stream, chunk);
      entry.fanout.publish(stream, chunk);
    };
    child.stdout!.on("data", onOutput("stdout"));
    child.stderr!.on("data", onOutput("stderr"));
    // The helper died: the process may still run, but its exit status is lost. Watch it as a process an
    // earlier runtime started.
    child.once("lost", () => {
      entry.child = null;
      if (r.state === "CONTAINER_RUNNING" && !this.#closed) this.#pollAdopted(entry);
    });
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      const finishedAt = this.#nowNs();
      const exitCode = exitCodeOf(code, signal);
      // The main process is the container: what it leaves behind dies with it, as with a PID namespace.
      signalGroup(r.pid, "SIGKILL");
      for (const pid of entry.execPids) signalGroup(pid, "SIGKILL");
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        drain.cancel();
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.#finish(entry, {
          exitCode,
          reason: exitCode === 0 ? "Completed" : "Error",
          message: "",
          finishedAt,
        });
      };
      // Output still in the pipes is read before the container counts as exited (a reader of its
      // log after EXITED sees everything), but a process that escaped the group may hold the pipes.
      const drain = this.#clock.setTimer(PIPE_DRAIN_MS, finish);
      if (child.stdout!.readableEnded && child.stderr!.readableEnded) finish();
      else child.once("close", finish);
    });
  }

  /** Records the end of a container: EXITED with its code, files closed, waiters woken. */
  #finish(entry: ContainerEntry, end: { exitCode: number; reason: string; message: string; finishedAt: bigint }): void {
    const r = entry.record;
    // A closed runtime is inert: its successor owns the state files now.
    if (r.state === "CONTAINER_EXITED" || this.#closed) return;
    r.state = "CONTAINER_EXITED";
    r.exitCode = end.exitCode;
    r.reason = end.reason;
    r.message = end.message;
    r.finishedAt = end.finishedAt;
    entry.writer?.close();
    entry.writer = null;
    entry.child = null;
    entry.adoptedTimer?.cancel();
    entry.adoptedTimer = null;
    entry.fanout.end();
    if (this.#containers.get(r.id) === entry) saveContainer(this.#root, r);
    entry.resolveExited();
    this.#log.info("container exited", { containerId: r.id, exitCode: r.exitCode, reason: r.reason });
  }

  /** Waits for EXITED up to `ms`; true if it happened. */
  #waitExited(entry: ContainerEntry, ms: number): Promise<boolean> {
    if (entry.record.state === "CONTAINER_EXITED") return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.#clock.setTimer(ms, () => resolve(false), { keepProcessAlive: true });
      void entry.exited.then(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const entry = this.#container(containerId);
    const r = entry.record;
    if (r.state !== "CONTAINER_RUNNING") return;
    if (timeoutSeconds > 0) {
      signalGroup(r.pid, "SIGTERM");
      if (await this.#waitExited(entry, timeoutSeconds * 1000)) return;
      this.#log.info("container did not stop after SIGTERM; killing", { containerId, timeoutSeconds });
    }
    signalGroup(r.pid, "SIGKILL");
    if (entry.adoptedTimer !== null && !isSameProcessAlive(r.pid, r.pidStartTime)) {
      this.#finish(entry, { exitCode: 137, reason: "Error", message: "", finishedAt: this.#nowNs() });
    }
    if (!(await this.#waitExited(entry, KILL_WAIT_MS))) {
      throw new CriError("DeadlineExceeded", `container "${containerId}" (pid ${r.pid}) did not exit ${KILL_WAIT_MS / 1000}s after SIGKILL`);
    }
  }

  async removeContainer(containerId: string): Promise<void> {
    const entry = this.#containers.get(containerId);
    if (entry === undefined) return;
    if (entry.record.state === "CONTAINER_RUNNING") await this.stopContainer(containerId, 0);
    const r = entry.record;
    const sandbox = this.#sandboxes.get(r.podSandboxId);
    this.#containers.delete(containerId);
    if (sandbox !== undefined) this.#names.delete(this.#containerNameKey(r.metadata.name, r.metadata.attempt, sandbox.record));
    fs.rmSync(containerDir(this.#root, r.podSandboxId, containerId), { recursive: true, force: true });
    this.#log.info("removed container", { containerId });
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const out: Container[] = [];
    for (const { record: r } of this.#containers.values()) {
      if (filter?.id !== undefined && filter.id !== "" && r.id !== filter.id) continue;
      if (filter?.podSandboxId !== undefined && filter.podSandboxId !== "" && r.podSandboxId !== filter.podSandboxId) continue;
      if (filter?.state !== undefined && r.state !== filter.state.state) continue;
      if (!matchesLabels(r.labels, filter?.labelSelector)) continue;
      out.push({
        id: r.id, podSandboxId: r.podSandboxId, metadata: r.metadata, image: r.image, imageRef: r.imageRef,
        state: r.state, createdAt: r.createdAt, labels: { ...r.labels }, annotations: { ...r.annotations },
      });
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id.localeCompare(b.id)));
  }

  async containerStatus(containerId: string, _verbose?: boolean): Promise<ContainerStatusResponse> {
    const entry = this.#container(containerId);
    return { status: this.#statusOf(entry), info: { pid: String(entry.record.pid), workingDir: entry.record.workingDir } };
  }

  #statusOf(entry: ContainerEntry): ContainerStatus {
    const r = entry.record;
    return {
      id: r.id, metadata: r.metadata, state: r.state,
      createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt,
      exitCode: r.exitCode, image: r.image, imageRef: r.imageRef, reason: r.reason, message: r.message,
      labels: { ...r.labels }, annotations: { ...r.annotations }, mounts: r.mounts, logPath: r.logPath,
      ...(r.resources !== null ? { resources: { linux: r.resources } } : {}),
    };
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    const entry = this.#container(containerId);
    if (entry.record.state !== "CONTAINER_RUNNING") {
      throw new FailedPreconditionError("container is not running");
    }
    entry.writer?.reopen();
  }

  // ---------- exec, attach, port-forward ----------

  #runningContainer(containerId: string): ContainerEntry {
    const entry = this.#container(containerId);
    if (entry.record.state !== "CONTAINER_RUNNING") {
      throw new FailedPreconditionError(`container is in ${entry.record.state} state`);
    }
    return entry;
  }

  /** Spawns a process in a container's environment, as its own process group. */
  async #spawnInContainer(
    entry: ContainerEntry,
    cmd: readonly string[],
    stdio: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<ShimChild> {
    if (cmd.length === 0) throw new CriError("InvalidArgument", "cmd must not be empty");
    if (this.#execSessions >= EXEC_SESSIONS_MAX) {
      throw new ResourceExhaustedError(`Cannot exec: ${EXEC_SESSIONS_MAX} exec sessions already run`);
    }
    const r = entry.record;
    const env: Record<string, string> = Object.fromEntries(r.envs.map((kv) => [kv.key, kv.value]));
    if (stdio.tty) env["TERM"] ??= "xterm";
    const argv0 = rewriteMountPaths(cmd[0]!, r.mounts);
    const executable = lookPath(argv0, env["PATH"] ?? DEFAULT_PATH, r.workingDir);
    if (executable === null) {
      throw new CriError("Unknown", `exec failed: unable to start container process: exec: "${cmd[0]}": executable file not found in $PATH`);
    }
    let argv = [executable, ...cmd.slice(1).map((a) => rewriteMountPaths(a, r.mounts))];
    if (stdio.tty) {
      const wrapped = ptyArgv(argv);
      if (wrapped === null) throw new CriError("Unimplemented", "the process runtime cannot allocate a tty: util-linux `script` is not installed");
      argv = wrapped;
    }
    // Counted from the request on, so that the bound holds while starts wait for the helper.
    this.#execSessions++;
    let child: ShimChild;
    try {
      child = await this.#shim.spawn(argv[0]!, argv.slice(1), {
        cwd: r.workingDir,
        env,
        ...identityOf(r),
        stdio: [stdio.stdin ? "pipe" : "ignore", stdio.stdout || stdio.tty ? "pipe" : "ignore", stdio.stderr && !stdio.tty ? "pipe" : "ignore"],
      });
    } catch (err) {
      this.#execSessions--;
      rethrowIfAssertion(err);
      if (err instanceof ShimSpawnError && err.busy) throw new ResourceExhaustedError(`Cannot exec: ${err.message}`);
      throw new CriError("Unknown", `exec failed: unable to start container process: ${(err as Error).message}`, undefined, { cause: err });
    }
    const pid = child.pid;
    entry.execPids.add(pid);
    let ended = false;
    const onEnd = (): void => {
      if (ended) return;
      ended = true;
      this.#execSessions--;
      entry.execPids.delete(pid);
      signalGroup(pid, "SIGKILL"); // what the exec'd command left behind
      // A daemon that left the group may hold the pipes open: stop reading after a while so that
      // the session (and ExecSync) still ends.
      const drain = this.#clock.setTimer(PIPE_DRAIN_MS, () => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      });
      child.once("close", () => drain.cancel());
    };
    child.once("exit", onEnd);
    // The helper died: the session ends as if killed (exit code unknown: 255).
    child.once("lost", onEnd);
    return child;
  }

  async execSync(req: ExecSyncRequest): Promise<ExecSyncResponse> {
    const entry = this.#runningContainer(req.containerId);
    const child = await this.#spawnInContainer(entry, req.cmd, { stdin: false, stdout: true, stderr: true, tty: false });
    const collect = (stream: NodeJS.ReadableStream | null): (() => Buffer) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      stream?.on("data", (chunk: Buffer) => {
        const room = EXEC_SYNC_OUTPUT_BYTES_MAX - bytes;
        if (room <= 0) return; // keep reading so the process does not block on a full pipe
        const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
        parts.push(kept);
        bytes += kept.length;
      });
      return () => Buffer.concat(parts);
    };
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const timeoutSeconds = req.timeout ?? 0;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = timeoutSeconds > 0
        ? this.#clock.setTimer(timeoutSeconds * 1000, () => {
            timedOut = true;
            signalGroup(child.pid!, "SIGKILL");
          }, { keepProcessAlive: true })
        : null;
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        timer?.cancel();
        if (timedOut) reject(new ExecTimeoutError(req.cmd, timeoutSeconds));
        else resolve({ stdout: stdout(), stderr: stderr(), exitCode: exitCodeOf(code, signal) });
      });
    });
  }

  async exec(req: ExecRequest): Promise<ExecResponse> {
    const entry = this.#runningContainer(req.containerId);
    const tty = req.tty === true;
    const child = await this.#spawnInContainer(entry, req.cmd, {
      stdin: req.stdin === true, stdout: req.stdout === true, stderr: req.stderr === true, tty,
    });
    const pid = child.pid!;
    const done = new Promise<{ exitCode: number }>((resolve) => {
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolve({ exitCode: exitCodeOf(code, signal) }));
    });
    const session: StreamSession = {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: tty ? null : child.stderr,
      resize: (size) => (tty ? resizePty(this.#clock, pid, size) : undefined),
      done,
      close: () => void signalGroup(pid, "SIGKILL"),
    };
    return { stream: session };
  }

  async attach(req: AttachRequest): Promise<AttachResponse> {
    const entry = this.#runningContainer(req.containerId);
    const r = entry.record;
    const sub = entry.fanout.subscribe({ stdout: req.stdout === true, stderr: req.stderr === true, merge: r.tty });
    if (sub === null) throw new ResourceExhaustedError(`Cannot attach to container "${r.id}": too many clients are attached`);
    const containerStdin = entry.child?.stdin ?? null;
    let stdin: Writable | null = null;
    if (req.stdin === true && r.stdin && containerStdin !== null) {
      stdin = new Writable({
        write(chunk: Buffer, _enc, callback) {
          if (containerStdin.destroyed || containerStdin.writableEnded) return callback();
          containerStdin.write(chunk, () => callback());
        },
        final(callback) {
          // stdinOnce: the container's stdin closes when the first attached client's does.
          if (r.stdinOnce) containerStdin.end();
          callback();
        },
      });
    }
    let resolveDone!: (v: { exitCode: number }) => void;
    const done = new Promise<{ exitCode: number }>((resolve) => (resolveDone = resolve));
    void entry.exited.then(() => resolveDone({ exitCode: r.exitCode }));
    const pid = r.pid;
    const session: StreamSession = {
      stdin,
      stdout: sub.stdout,
      stderr: sub.stderr,
      resize: (size) => (r.tty ? resizePty(this.#clock, pid, size) : undefined),
      done,
      close: () => {
        sub.unsubscribe();
        resolveDone({ exitCode: 0 });
      },
    };
    return { stream: session };
  }

  async portForward(req: PortForwardRequest): Promise<PortForwardResponse> {
    const sandbox = this.#sandbox(req.podSandboxId).record;
    if (sandbox.state !== "SANDBOX_READY") throw new FailedPreconditionError(`sandbox "${sandbox.id}" is not ready`);
    return {
      forwarder: {
        ports: [...(req.port ?? [])],
        // Host network: the pod's port is the host's.
        connect: (port: number) =>
          new Promise<Duplex>((resolve, reject) => {
            if (!Number.isInteger(port) || port < 1 || port > 65535) {
              reject(new CriError("InvalidArgument", `invalid port ${port}`));
              return;
            }
            const socket = net.connect({ host: "127.0.0.1", port });
            socket.once("connect", () => {
              socket.removeAllListeners("error");
              resolve(socket);
            });
            socket.once("error", (err) => {
              reject(new CriError("Unknown", `failed to connect to localhost:${port} inside the host network of sandbox "${sandbox.id}": ${err.message}`, undefined, { cause: err }));
            });
          }),
      },
    };
  }

  // ---------- images ----------

  async listImages(filter?: { readonly image?: ImageSpec }): Promise<Image[]> {
    const all = this.#images.list();
    if (filter?.image?.image === undefined || filter.image.image === "") return all;
    const found = this.#images.find(filter.image.image);
    return found === null ? [] : [found];
  }

  async imageStatus(image: ImageSpec, _verbose?: boolean): Promise<ImageStatusResponse> {
    return {
      image: this.#images.find(image.image),
      info: { note: "the process runtime records image names only; it has no image filesystem" },
    };
  }

  async pullImage(req: PullImageRequest): Promise<PullImageResponse> {
    const imageRef = this.#images.pull(req.image.image);
    this.#log.info("recorded image name (nothing is downloaded)", { image: req.image.image, imageRef });
    return { imageRef };
  }

  async removeImage(image: ImageSpec): Promise<void> {
    this.#images.remove(image.image);
  }

  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    // Images take no bytes: they are names. Containers write wherever on the host they like.
    return {
      imageFilesystems: [{
        timestamp: this.#nowNs(),
        fsId: { mountpoint: this.#root },
        usedBytes: { value: 0 },
        inodesUsed: { value: 0 },
      }],
      containerFilesystems: [],
    };
  }

  // ---------- lifecycle ----------

  /** Stops every running container (SIGTERM, SIGKILL after `timeoutSeconds`): for a node's shutdown and for tests. */
  async stopAll(timeoutSeconds: number): Promise<void> {
    if (this.#closed) return; // its containers belong to the next runtime now
    const running = [...this.#containers.values()].filter((c) => c.record.state === "CONTAINER_RUNNING");
    await Promise.all(running.map((c) => this.stopContainer(c.record.id, timeoutSeconds)));
  }

  /** Stops timers and closes log files; running containers keep running and are adopted by the next runtime. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#containers.values()) {
      c.adoptedTimer?.cancel();
      c.adoptedTimer = null;
      // Containers keep running but no longer keep this process alive: it may exit and leave them.
      c.child?.unref();
    }
    // The helper stays until this process exits (it dies with it); the containers stay after both.
    this.#shim.close();
  }
}

/**
 * The user and group a container runs as: its securityContext's when the runtime runs as root (it can
 * switch), none otherwise (every process runs as the kubelet's user; the docs say so).
 */
function identityOf(r: ContainerRecord): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return {
    ...(r.runAsUser != null ? { uid: r.runAsUser } : {}),
    ...(r.runAsGroup != null ? { gid: r.runAsGroup } : {}),
  };
}

/**
 * Resizes the pty of a `script`-wrapped process: the command (script's child) has the pty slave as its
 * stdin; `stty` sets the size there, and the kernel sends SIGWINCH to its foreground group.
 */
function resizePty(clock: Clock, scriptPid: number, size: TerminalSize, attemptsLeft = RESIZE_ATTEMPTS_MAX): void {
  if (!(size.width > 0 && size.height > 0)) return;
  const child = childrenOf(scriptPid)[0];
  const tty = child === undefined ? null : terminalOf(child);
  if (tty === null) {
    // kubectl sends the first size as soon as the session opens, before `script` has forked the
    // command: look again a little later, a bounded number of times.
    if (attemptsLeft > 1) clock.setTimer(RESIZE_RETRY_MS, () => resizePty(clock, scriptPid, size, attemptsLeft - 1));
    return;
  }
  const p = spawn("stty", ["-F", tty, "rows", String(Math.floor(size.height)), "cols", String(Math.floor(size.width))], { stdio: "ignore" });
  p.on("error", () => undefined);
}
