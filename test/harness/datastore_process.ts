import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, appendFileSync, closeSync, constants, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { httpGet } from "./http.js";
import { freePorts } from "./ports.js";

/** Which server answers the etcd v3 API: the real one, or ours. */
export type DatastoreKind = "etcd" | "tk8s";
export const DATASTORE_KINDS: readonly DatastoreKind[] = ["etcd", "tk8s"];

/** A started etcd or `tk8s datastore` on loopback ports, with its data dir and captured output. */
export interface DatastoreProcess {
  readonly kind: DatastoreKind;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The pid of the current child; it changes on restart(). */
  readonly pid: number;
  /** Where the child's stdout and stderr are appended (inside dataDir). */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Sends `signal` (SIGTERM by default), waits for the exit; SIGKILL after STOP_TIMEOUT_MS. No-op if stopped. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** stop(), then start again on the same data dir and ports, and wait until healthy. */
  restart(): Promise<void>;
  /** The last bytes of stderr written by the current (or last) child, for error messages. */
  stderrTail(): string;
}

export interface StartDatastoreOptions {
  /** Defaults to a fresh temp dir, removed at exit if the process exits 0 (and CONTRACT_KEEP_DATA is unset). */
  dataDir?: string;
  /** Appended after the common etcd flags, e.g. ["--quota-backend-bytes=1048576"]. */
  extraArgs?: string[];
  /** Added to the child's environment (inherited ETCD_* and ETCDCTL_* variables are dropped first). */
  env?: Record<string, string>;
}

/** Debian's etcd-server package; the contract suite is pinned to the binary it installs (3.4.23). */
export const ETCD_BINARY = "/usr/bin/etcd";
/** As the brief for the suite: both servers must answer /health within this after spawn. */
export const READY_TIMEOUT_MS = 10_000;
/** A graceful stop longer than this is a hang; the child is then SIGKILLed. */
export const STOP_TIMEOUT_MS = 10_000;
const HEALTH_POLL_INTERVAL_MS = 100;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
/** Enough stderr to show the fatal line and its context, small enough to read in a test report. */
const STDERR_TAIL_BYTES = 4_096;
/** Ports are free when picked but may be taken before the child binds them; retry with new ones. */
const START_ATTEMPTS_MAX = 3;

/**
 * The repository root. This file runs compiled from `dist/test/harness/`, so the root is three levels up.
 * Computed, never hard-coded, so the suite runs from any checkout.
 */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The published `tk8s` entry point, which imports the compiled CLI from dist/. */
export const TK8S_ENTRY = join(REPO_ROOT, "bin", "tk8s.js");

/**
 * The absolute path of an executable: `name` itself if it contains a slash, else the first match on PATH.
 * Returns null if there is none, so callers decide between skipping and failing (see contract.ts).
 */
export function requireBinary(name: string): string | null {
  const candidates = name.includes("/") ? [name] : (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "").map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; try the next PATH entry.
    }
  }
  return null;
}

/** Starts `kind` with etcd's single-member flags on free loopback ports and waits until /health says true. */
export async function startDatastore(kind: DatastoreKind, options: StartDatastoreOptions = {}): Promise<DatastoreProcess> {
  if (!DATASTORE_KINDS.includes(kind)) {
    throw new TypeError(`Cannot start a datastore: kind must be one of ${DATASTORE_KINDS.join(", ")}: current value is ${JSON.stringify(kind)}`);
  }
  const command = commandFor(kind);
  const dataDir = options.dataDir ?? createOwnedTempDir(kind);
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= START_ATTEMPTS_MAX; attempt++) {
    const [clientPort, peerPort] = await freePorts(2);
    const datastore = new ChildDatastore(kind, command, dataDir, clientPort!, peerPort!, options);
    try {
      await datastore.launch();
      return datastore;
    } catch (err) {
      lastError = err;
      // Only a lost race for a port is worth another attempt; anything else is the server's failure.
      if (!(err instanceof DatastoreStartError) || !/address already in use/i.test(err.stderrTail)) throw err;
    }
  }
  throw lastError;
}

/** The child failed to become healthy; carries what it printed so the test report explains why. */
export class DatastoreStartError extends Error {
  override readonly name = "DatastoreStartError";
  constructor(message: string, readonly stderrTail: string, options?: ErrorOptions) {
    super(`${message}\n--- stderr tail ---\n${stderrTail}`, options);
  }
}

interface Command {
  readonly file: string;
  readonly leadingArgs: readonly string[];
}

function commandFor(kind: DatastoreKind): Command {
  if (kind === "etcd") {
    if (requireBinary(ETCD_BINARY) === null) {
      throw new Error(`Cannot start etcd: ${ETCD_BINARY} is not installed (Debian package etcd-server)`);
    }
    return { file: ETCD_BINARY, leadingArgs: [] };
  }
  if (!existsSync(TK8S_ENTRY)) throw new Error(`Cannot start tk8s datastore: ${TK8S_ENTRY} does not exist`);
  // Run the entry point itself, as `npx tk8s` does, so its shebang's V8 flags apply.
  return { file: TK8S_ENTRY, leadingArgs: ["datastore"] };
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

class ChildDatastore implements DatastoreProcess {
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly #args: readonly string[];
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcess | null = null;
  #exited: Promise<ExitInfo> | null = null;
  #exitInfo: ExitInfo | null = null;
  #stderrOffset = 0;
  #launches = 0;

  constructor(
    readonly kind: DatastoreKind,
    readonly command: Command,
    readonly dataDir: string,
    clientPort: number,
    peerPort: number,
    options: StartDatastoreOptions,
  ) {
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
    this.stdoutPath = join(dataDir, "stdout.log");
    this.stderrPath = join(dataDir, "stderr.log");
    // The same flags for both kinds: tk8s datastore accepts etcd's command line.
    this.#args = [
      ...command.leadingArgs,
      "--name", "default",
      "--data-dir", dataDir,
      "--listen-client-urls", this.clientUrl,
      "--advertise-client-urls", this.clientUrl,
      "--listen-peer-urls", this.peerUrl,
      "--initial-advertise-peer-urls", this.peerUrl,
      "--initial-cluster", `default=${this.peerUrl}`,
      ...(options.extraArgs ?? []),
    ];
    this.#env = { ...hermeticEnv(), ...(options.env ?? {}) };
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`${this.kind} at ${this.clientUrl} has no running process`);
    return pid;
  }

  async launch(): Promise<void> {
    if (this.#child !== null && this.#exitInfo === null) throw new Error(`Cannot launch ${this.kind}: pid ${this.#child.pid} is still running`);
    this.#launches += 1;
    const banner = `--- tk8s contract harness: launch #${this.#launches} at ${new Date().toISOString()}: ${this.command.file} ${this.#args.join(" ")}\n`;
    appendFileSync(this.stdoutPath, banner);
    appendFileSync(this.stderrPath, banner);
    this.#stderrOffset = statSync(this.stderrPath).size;
    const { child, exited } = spawnLogged(this.command.file, this.#args, { stdoutPath: this.stdoutPath, stderrPath: this.stderrPath, env: this.#env });
    this.#child = child;
    this.#exitInfo = null;
    this.#exited = exited.then((info) => {
      this.#exitInfo = info;
      liveChildren.delete(child);
      return info;
    });
    liveChildren.add(child);
    registerExitCleanup();
    try {
      await this.#waitHealthy();
    } catch (err) {
      await this.stop("SIGKILL");
      throw err;
    }
  }

  async #waitHealthy(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastProblem = "no /health answer yet";
    // Bounded by the deadline: every iteration sleeps or waits at most HEALTH_REQUEST_TIMEOUT_MS.
    while (Date.now() < deadline) {
      if (this.#exitInfo !== null) {
        const how = this.#exitInfo.signal !== null ? `signal ${this.#exitInfo.signal}` : `code ${this.#exitInfo.code}`;
        throw new DatastoreStartError(`${this.kind} exited with ${how} before it was healthy at ${this.clientUrl}/health`, this.stderrTail());
      }
      try {
        const res = await httpGet(`${this.clientUrl}/health`, { timeoutMs: HEALTH_REQUEST_TIMEOUT_MS });
        if (res.status === 200 && isHealthy(res.body)) return;
        lastProblem = `GET /health returned ${res.status}: ${res.body.slice(0, 200)}`;
      } catch (err) {
        lastProblem = `GET /health failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      await sleep(HEALTH_POLL_INTERVAL_MS);
    }
    throw new DatastoreStartError(`${this.kind} was not healthy within ${READY_TIMEOUT_MS} ms (${lastProblem})`, this.stderrTail());
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (child === null || exited === null || this.#exitInfo !== null) return;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS);
    });
    try {
      if ((await Promise.race([exited, timedOut])) === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  stderrTail(): string {
    return readTail(this.stderrPath, this.#stderrOffset, STDERR_TAIL_BYTES);
  }
}

/**
 * Runs the server under `setpriv --pdeathsig KILL` (util-linux, essential on Debian) where available, so the
 * kernel kills it when the test process dies by any means. The exit hooks below do not run when Node dies of
 * an error thrown inside its own uncaughtException handler, which node:test does on EPIPE (e.g. `| head`).
 * setpriv execs the server, so the pid is the server's.
 */
/**
 * Spawns a server with its stdout and stderr appended to log files (the child holds its own copies of the
 * descriptors) and under a parent-death signal; `exited` resolves on exit, or at once if the spawn failed
 * (ENOENT, EACCES: there is no process to wait for; the reason goes to the stderr log).
 */
export function spawnLogged(
  file: string,
  args: readonly string[],
  o: { stdoutPath: string; stderrPath: string; env: NodeJS.ProcessEnv },
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const stdoutFd = openSync(o.stdoutPath, "a");
  const stderrFd = openSync(o.stderrPath, "a");
  let child: ChildProcess;
  try {
    const [f, a] = withParentDeathSignal(file, args);
    child = spawn(f, a, { stdio: ["ignore", stdoutFd, stderrFd], env: o.env });
  } finally {
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("error", (err) => {
      appendFileSync(o.stderrPath, `spawn failed: ${err.message}\n`);
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, exited };
}

export function withParentDeathSignal(file: string, args: readonly string[]): [string, string[]] {
  const setpriv = process.platform === "linux" ? requireBinary("setpriv") : null;
  return setpriv === null ? [file, [...args]] : [setpriv, ["--pdeathsig", "KILL", "--", file, ...args]];
}

function isHealthy(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null && (parsed as { health?: unknown }).health === "true";
  } catch {
    return false;
  }
}

/** The parent's environment without ETCD_* / ETCDCTL_* variables: etcd reads flags from them and refuses duplicates. */
function hermeticEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("ETCD_") && !name.startsWith("ETCDCTL_")) env[name] = value;
  }
  return env;
}

function readTail(path: string, fromOffset: number, bytesMax: number): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "(no stderr captured)";
  }
  try {
    const size = statSync(path).size;
    const start = Math.max(fromOffset, size - bytesMax);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Children must never outlive the test process: a leaked etcd keeps its ports and data dir.
const liveChildren = new Set<ChildProcess>();
const ownedTempDirs = new Set<string>();
let exitCleanupRegistered = false;

function createOwnedTempDir(kind: DatastoreKind): string {
  const dir = mkdtempSync(join(tmpdir(), `tk8s-contract-${kind}-`));
  ownedTempDirs.add(dir);
  registerExitCleanup();
  return dir;
}

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.on("exit", (code) => {
    killAllChildren();
    // Keep the data dirs (with stdout.log / stderr.log) of a failed run for the post-mortem.
    if (code === 0 && process.env.CONTRACT_KEEP_DATA === undefined) {
      for (const dir of ownedTempDirs) rmSync(dir, { recursive: true, force: true });
    } else if (ownedTempDirs.size > 0) {
      process.stderr.write(`datastore data dirs kept (stdout.log, stderr.log inside): ${[...ownedTempDirs].join(" ")}\n`);
    }
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // once(): the handler is gone when it runs, so re-raising the signal gets the default action (exit).
    process.once(signal, () => {
      killAllChildren();
      process.kill(process.pid, signal);
    });
  }
}

function killAllChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  liveChildren.clear();
}
