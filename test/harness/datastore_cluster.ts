/**
 * A multi-member datastore on one machine: N `tk8s datastore` (or real etcd 3.4) processes started with etcd's
 * clustering flags, and the operations the fault tests need: kill -9 / stop / restart one member, add and remove
 * members through `etcdctl member add/remove`, find and wait for the leader (`endpoint status`), and compare
 * `endpoint hashkv` across members. Members listen on loopback by default; datastore_cluster_netns.ts gives each
 * member its own network namespace so a test can cut one off from its peers.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ETCD_BINARY, TK8S_ENTRY, requireBinary, spawnLogged, type DatastoreKind } from "./datastore_process.js";
import { etcdctl, etcdctlJson, jsonText, toBigInt, EtcdctlError, type EndpointHashKvJson, type EndpointStatusJson, type MemberListJson } from "./etcdctl.js";
import { httpGet } from "./http.js";
import { freePorts } from "./ports.js";

/** etcd's odd sizes plus room for a member added on top of five. */
export const CLUSTER_SIZE_MAX = 7;
/** Every member of a new cluster must answer /health within this (they start together and elect a leader). */
export const CLUSTER_READY_TIMEOUT_MS = 20_000;
/** A graceful stop longer than this is a hang; the member is then SIGKILLed. */
export const MEMBER_STOP_TIMEOUT_MS = 10_000;
/** A removed member stops itself (etcd: "the member has been permanently removed"); this bounds the wait. */
export const REMOVED_EXIT_TIMEOUT_MS = 10_000;
/** etcd refuses reconfiguration until every started member has been connected for 5 s ("unhealthy cluster"). */
const RECONFIG_RETRY_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 100;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
const STDERR_TAIL_BYTES = 4_096;
/** The whole log of a member is read for a log-line assertion; a test's members write far less than this. */
const LOG_BYTES_MAX = 64 * 1024 * 1024;
/** A lost race for a free port restarts the whole cluster on new ports, at most this many times. */
const START_ATTEMPTS_MAX = 3;

/** Where one member listens and how its command is wrapped (e.g. `ip netns exec NS`). */
export interface MemberAddress {
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Prepended to the server's command line; empty on loopback. */
  readonly wrapper: readonly string[];
}

/** Hands out member addresses: loopback ports (below) or network namespaces (datastore_cluster_netns.ts). */
export interface ClusterNetwork {
  allocate(name: string): Promise<MemberAddress>;
  /** Removes what allocate() created (namespaces, links); called once by DatastoreCluster.stop(). */
  release(): Promise<void>;
}

/** Every member on 127.0.0.1 with its own free client and peer ports. */
export class LoopbackNetwork implements ClusterNetwork {
  async allocate(_name: string): Promise<MemberAddress> {
    const [clientPort, peerPort] = await freePorts(2);
    return { clientUrl: `http://127.0.0.1:${clientPort}`, peerUrl: `http://127.0.0.1:${peerPort}`, wrapper: [] };
  }

  async release(): Promise<void> {}
}

export interface ClusterOptions {
  /** Number of members, 1..CLUSTER_SIZE_MAX; names are m1, m2, …. */
  readonly size: number;
  /** etcd's --heartbeat-interval (ms); default 100 as etcd's. */
  readonly heartbeatIntervalMs?: number;
  /** etcd's --election-timeout (ms); default 1000 as etcd's. */
  readonly electionTimeoutMs?: number;
  /** Appended to every member's command line, e.g. ["--snapshot-count=50"]. */
  readonly extraArgs?: readonly string[];
  /** Defaults to a LoopbackNetwork. */
  readonly network?: ClusterNetwork;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One member process; it keeps its data dir and address across stop/restart. */
export class ClusterMember {
  readonly stdoutPath: string;
  readonly stderrPath: string;
  #child: ChildProcess | null = null;
  #exited: Promise<ExitInfo> | null = null;
  #exitInfo: ExitInfo | null = null;
  #stderrOffset = 0;
  #launches = 0;

  constructor(
    readonly kind: DatastoreKind,
    readonly name: string,
    readonly address: MemberAddress,
    readonly dataDir: string,
    readonly args: readonly string[],
  ) {
    this.stdoutPath = join(dataDir, "..", `${name}.stdout.log`);
    this.stderrPath = join(dataDir, "..", `${name}.stderr.log`);
  }

  get clientUrl(): string {
    return this.address.clientUrl;
  }

  get peerUrl(): string {
    return this.address.peerUrl;
  }

  /** True from spawn until the process exits. */
  get running(): boolean {
    return this.#child !== null && this.#exitInfo === null;
  }

  /** How the last process ended, or null while it runs (or before the first start). */
  get exitInfo(): ExitInfo | null {
    return this.#exitInfo;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) throw new Error(`member ${this.name} has no running process`);
    return pid;
  }

  /** Spawns the process without waiting; see waitHealthy(). */
  spawn(): void {
    if (this.running) throw new Error(`Cannot start member ${this.name}: pid ${this.#child?.pid} is still running`);
    const command = commandFor(this.kind);
    this.#launches += 1;
    const full = [...this.address.wrapper, command.file, ...command.leadingArgs, ...this.args];
    const banner = `--- datastore cluster harness: launch #${this.#launches} at ${new Date().toISOString()}: ${full.join(" ")}\n`;
    appendFileSync(this.stdoutPath, banner);
    appendFileSync(this.stderrPath, banner);
    this.#stderrOffset = statSync(this.stderrPath).size;
    // pdeathsig is set first, then `ip netns exec` (if any) and the server are exec'd: the pid is the server's.
    const { child, exited } = spawnLogged(full[0]!, full.slice(1), { stdoutPath: this.stdoutPath, stderrPath: this.stderrPath, env: hermeticEnv() });
    this.#child = child;
    this.#exitInfo = null;
    this.#exited = exited.then((info) => {
      this.#exitInfo = info;
      liveChildren.delete(child);
      return info;
    });
    liveChildren.add(child);
    registerExitCleanup();
  }

  /** Waits until /health answers {"health":"true"}; throws with the stderr tail if the process exits or the time runs out. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = "no /health answer yet";
    // Bounded by the deadline: each iteration waits at most HEALTH_REQUEST_TIMEOUT_MS + POLL_INTERVAL_MS.
    while (Date.now() < deadline) {
      if (this.#exitInfo !== null) {
        throw new MemberStartError(`member ${this.name} (${this.kind}) exited with ${describeExit(this.#exitInfo)} before it was healthy`, this.stderrTail());
      }
      try {
        const res = await httpGet(`${this.clientUrl}/health`, { timeoutMs: HEALTH_REQUEST_TIMEOUT_MS });
        if (res.status === 200 && /"health"\s*:\s*"true"/.test(res.body)) return;
        lastProblem = `GET /health returned ${res.status}: ${res.body.slice(0, 200)}`;
      } catch (err) {
        lastProblem = `GET /health failed: ${errorText(err)}`;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    throw new MemberStartError(`member ${this.name} (${this.kind}) was not healthy within ${timeoutMs} ms (${lastProblem})`, this.stderrTail());
  }

  /** spawn() and waitHealthy(). */
  async start(timeoutMs = CLUSTER_READY_TIMEOUT_MS): Promise<void> {
    this.spawn();
    await this.waitHealthy(timeoutMs);
  }

  /** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after MEMBER_STOP_TIMEOUT_MS. No-op if not running. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (child === null || exited === null || this.#exitInfo !== null) return;
    child.kill(signal);
    if ((await raceTimeout(exited, MEMBER_STOP_TIMEOUT_MS)) === "timeout") {
      child.kill("SIGKILL");
      await exited;
    }
  }

  /** kill -9. */
  kill(): Promise<void> {
    return this.stop("SIGKILL");
  }

  /** Waits for the process to exit by itself; "timeout" if it is still running after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ExitInfo | "timeout"> {
    if (this.#exited === null) throw new Error(`member ${this.name} was never started`);
    return raceTimeout(this.#exited, timeoutMs);
  }

  /** Everything the member printed on stdout and stderr over all its launches (pino JSON lines for tk8s). */
  logText(): string {
    return [this.stdoutPath, this.stderrPath].map((path) => readBounded(path, LOG_BYTES_MAX)).join("\n");
  }

  /** The last bytes of stderr from the current (or last) launch. */
  stderrTail(): string {
    const text = readBounded(this.stderrPath, LOG_BYTES_MAX);
    return text.slice(Math.max(this.#stderrOffset, text.length - STDERR_TAIL_BYTES));
  }
}

/** A member did not become healthy; carries what it printed. */
export class MemberStartError extends Error {
  override readonly name = "MemberStartError";
  constructor(message: string, readonly stderrTail: string) {
    super(`${message}\n--- stderr tail ---\n${stderrTail}`);
  }
}

/** One member's `endpoint status`, flattened. */
export interface MemberStatus {
  readonly name: string;
  readonly memberId: bigint;
  readonly leader: bigint;
  readonly raftTerm: number;
  readonly raftIndex: number;
  readonly raftAppliedIndex: number;
  readonly revision: number;
  readonly isLearner: boolean;
  readonly raw: EndpointStatusJson["Status"];
}

/** One member's `endpoint hashkv`. */
export interface MemberHashKv {
  readonly name: string;
  readonly hash: number;
  readonly revision: number;
  readonly compactRevision: number;
}

/** The leader all asked members agree on. */
export interface LeaderInfo {
  readonly leader: ClusterMember;
  readonly memberId: bigint;
  readonly term: number;
}

/** A running multi-member datastore; stop() it in an after() hook. */
export class DatastoreCluster {
  readonly #members = new Map<string, ClusterMember>();
  /** Removed members, still stopped by stop() in case one outlived its removal. */
  readonly #removed: ClusterMember[] = [];
  #nextOrdinal: number;
  #stopped = false;

  private constructor(
    readonly kind: DatastoreKind,
    readonly baseDir: string,
    readonly token: string,
    readonly network: ClusterNetwork,
    readonly options: ClusterOptions,
    members: readonly ClusterMember[],
  ) {
    for (const m of members) this.#members.set(m.name, m);
    this.#nextOrdinal = members.length + 1;
  }

  /** Starts `options.size` members together and waits until every one is healthy and they agree on a leader. */
  static async start(kind: DatastoreKind, options: ClusterOptions): Promise<DatastoreCluster> {
    if (!Number.isInteger(options.size) || options.size < 1 || options.size > CLUSTER_SIZE_MAX) {
      throw new RangeError(`Cannot start a cluster: size must be an integer in [1, ${CLUSTER_SIZE_MAX}]: current value is ${options.size}`);
    }
    const network = options.network ?? new LoopbackNetwork();
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= START_ATTEMPTS_MAX; attempt++) {
      const baseDir = mkdtempSync(join(tmpdir(), `tk8s-cluster-${kind}-`));
      ownedTempDirs.add(baseDir);
      // A fresh token per attempt: etcd derives the cluster ID from it, so two attempts never mix.
      const token = `tk8s-test-${randomBytes(4).toString("hex")}`;
      const names = Array.from({ length: options.size }, (_, i) => `m${i + 1}`);
      const addresses = new Map<string, MemberAddress>();
      for (const name of names) addresses.set(name, await network.allocate(name));
      const initialCluster = names.map((name) => `${name}=${addresses.get(name)!.peerUrl}`).join(",");
      const members = names.map((name) => newMember(kind, name, addresses.get(name)!, baseDir, token, initialCluster, "new", options));
      const cluster = new DatastoreCluster(kind, baseDir, token, network, options, members);
      try {
        for (const m of members) m.spawn();
        await Promise.all(members.map((m) => m.waitHealthy(CLUSTER_READY_TIMEOUT_MS)));
        await cluster.waitForLeader({ timeoutMs: CLUSTER_READY_TIMEOUT_MS });
        return cluster;
      } catch (err) {
        lastError = err;
        await Promise.all(members.map((m) => m.kill()));
        const portRace = err instanceof MemberStartError && /address already in use/i.test(err.stderrTail);
        if (!portRace) {
          await network.release();
          throw err;
        }
      }
    }
    await network.release();
    throw lastError;
  }

  /** Current members (removed ones are gone), in the order they were created. */
  members(): ClusterMember[] {
    return [...this.#members.values()];
  }

  /** Members whose process is running. */
  running(): ClusterMember[] {
    return this.members().filter((m) => m.running);
  }

  member(name: string): ClusterMember {
    const m = this.#members.get(name);
    if (m === undefined) throw new Error(`No member ${name} in the cluster (members: ${[...this.#members.keys()].join(", ")})`);
    return m;
  }

  /** Client URLs of the running members. */
  endpoints(): string[] {
    return this.running().map((m) => m.clientUrl);
  }

  /** `etcdctl endpoint status` of one member. */
  async status(member: ClusterMember, timeoutMs?: number): Promise<MemberStatus> {
    const [entry] = await etcdctlJson<EndpointStatusJson[]>(member.clientUrl, ["endpoint", "status"], timeoutMs === undefined ? {} : { timeoutMs });
    if (entry === undefined) throw new Error(`endpoint status of ${member.name} returned no entry`);
    const s = entry.Status;
    return {
      name: member.name,
      memberId: toBigInt(s.header.member_id),
      leader: toBigInt(s.leader),
      raftTerm: s.raftTerm ?? 0,
      raftIndex: s.raftIndex ?? 0,
      raftAppliedIndex: s.raftAppliedIndex ?? 0,
      revision: s.header.revision ?? 0,
      isLearner: s.isLearner ?? false,
      raw: s,
    };
  }

  /** endpoint status of each of `members` (default: the running ones); a member that fails to answer is left out. */
  async statuses(members: readonly ClusterMember[] = this.running()): Promise<MemberStatus[]> {
    const results = await Promise.all(members.map((m) => this.status(m).catch(() => null)));
    return results.filter((s): s is MemberStatus => s !== null);
  }

  /**
   * The leader, once every member in `among` (default: the running ones) answers endpoint status and all
   * name the same leader, which is one of them and reports itself as leader. Null while they disagree.
   */
  async agreedLeader(among: readonly ClusterMember[] = this.running()): Promise<LeaderInfo | null> {
    const statuses = await this.statuses(among);
    if (statuses.length !== among.length || statuses.length === 0) return null;
    const leaderId = statuses[0]!.leader;
    if (leaderId === 0n || statuses.some((s) => s.leader !== leaderId)) return null;
    const own = statuses.find((s) => s.memberId === leaderId);
    if (own === undefined) return null;
    return { leader: this.member(own.name), memberId: leaderId, term: own.raftTerm };
  }

  /** Polls agreedLeader() until it is non-null (and, with `notId`, not that member); throws after `timeoutMs`. */
  async waitForLeader(opts: { timeoutMs: number; among?: readonly ClusterMember[]; notId?: bigint }): Promise<LeaderInfo & { waitedMs: number }> {
    const started = Date.now();
    const deadline = started + opts.timeoutMs;
    let last = "no status yet";
    // Bounded by the deadline; each round runs one etcdctl per member (itself bounded by ETCDCTL_TIMEOUT_MS).
    for (;;) {
      const among = opts.among ?? this.running();
      const info = await this.agreedLeader(among);
      if (info !== null && (opts.notId === undefined || info.memberId !== opts.notId)) return { ...info, waitedMs: Date.now() - started };
      const statuses = await this.statuses(among);
      last = jsonText(statuses.map((s) => ({ name: s.name, id: s.memberId.toString(16), leader: s.leader.toString(16), term: s.raftTerm })));
      if (Date.now() >= deadline) throw new Error(`No agreed leader among ${among.map((m) => m.name).join(",")} within ${opts.timeoutMs} ms; last statuses ${last}`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** `etcdctl member list` through one running member (the first by default). */
  async memberList(via?: ClusterMember): Promise<MemberListJson> {
    const through = via ?? this.running()[0];
    if (through === undefined) throw new Error("Cannot list members: no member is running");
    return etcdctlJson<MemberListJson>(through.clientUrl, ["member", "list"]);
  }

  /** The member ID (as etcd prints it in hex) of `name`, from member list. */
  async memberId(name: string, via?: ClusterMember): Promise<bigint> {
    const list = await this.memberList(via);
    const peerUrl = this.member(name).peerUrl;
    const found = list.members.find((m) => m.name === name || (m.peerURLs ?? []).includes(peerUrl));
    if (found === undefined) throw new Error(`member list has no ${name} (${peerUrl}): ${jsonText(list)}`);
    return toBigInt(found.ID);
  }

  /**
   * `etcdctl member add NAME --peer-urls=…` through a running member, then starts the new member with
   * --initial-cluster-state existing and the cluster etcd printed, and waits until it is healthy.
   */
  async addMember(opts: { name?: string; start?: boolean } = {}): Promise<ClusterMember> {
    const name = opts.name ?? `m${this.#nextOrdinal}`;
    this.#nextOrdinal += 1;
    if (this.#members.has(name)) throw new Error(`Cannot add ${name}: the cluster already has a member of that name`);
    const address = await this.network.allocate(name);
    const args = ["member", "add", name, `--peer-urls=${address.peerUrl}`];
    const added = await this.#reconfigure(args);
    const list = parseMemberAddOutput(added);
    const initialCluster = list.map((m) => `${m.name === "" ? name : m.name}=${m.peerUrl}`).join(",");
    const member = newMember(this.kind, name, address, this.baseDir, this.token, initialCluster, "existing", this.options);
    this.#members.set(name, member);
    if (opts.start ?? true) await member.start();
    return member;
  }

  /**
   * `etcdctl member remove ID` through another running member, then waits for the removed process to stop
   * itself, as etcd's does ("the member has been permanently removed from the cluster"). A process still
   * running after REMOVED_EXIT_TIMEOUT_MS is killed; the result says which happened, for the caller to assert.
   */
  async removeMember(name: string): Promise<{ exitedByItself: boolean; waitedMs: number }> {
    const member = this.member(name);
    const via = this.running().find((m) => m !== member);
    if (via === undefined) throw new Error(`Cannot remove ${name}: no other member is running`);
    const id = await this.memberId(name, via);
    await this.#reconfigure(["member", "remove", id.toString(16)], member);
    this.#members.delete(name);
    this.#removed.push(member);
    const started = Date.now();
    if (!member.running) return { exitedByItself: true, waitedMs: 0 };
    const exit = await member.waitExit(REMOVED_EXIT_TIMEOUT_MS);
    if (exit === "timeout") await member.kill();
    return { exitedByItself: exit !== "timeout", waitedMs: Date.now() - started };
  }

  /** Runs a member add/remove, retrying while etcd says the cluster is not ready for reconfiguration. */
  async #reconfigure(args: readonly string[], avoid?: ClusterMember): Promise<string> {
    const deadline = Date.now() + RECONFIG_RETRY_TIMEOUT_MS;
    // Bounded by the deadline; each etcdctl run is bounded by ETCDCTL_TIMEOUT_MS.
    for (;;) {
      const via = this.running().find((m) => m !== avoid);
      if (via === undefined) throw new Error(`Cannot run etcdctl ${args.join(" ")}: no member is running`);
      const result = await etcdctl(via.clientUrl, args);
      if (result.code === 0) return result.stdout;
      const retryable = /unhealthy cluster|not enough started members|leader changed|no leader|request timed out/.test(result.stderr);
      if (!retryable || Date.now() >= deadline) throw new EtcdctlError(args, result);
      await sleep(500);
    }
  }

  /** `endpoint hashkv` of each running member. */
  async hashKvs(members: readonly ClusterMember[] = this.running()): Promise<MemberHashKv[]> {
    return Promise.all(
      members.map(async (m) => {
        const [entry] = await etcdctlJson<EndpointHashKvJson[]>(m.clientUrl, ["endpoint", "hashkv"]);
        if (entry === undefined) throw new Error(`endpoint hashkv of ${m.name} returned no entry`);
        return { name: m.name, hash: entry.HashKV.hash ?? 0, revision: entry.HashKV.header.revision ?? 0, compactRevision: entry.HashKV.compact_revision ?? 0 };
      }),
    );
  }

  /** Polls hashKvs() until every running member reports the same hash and revision; throws with the last answers after `timeoutMs`. */
  async waitConverged(timeoutMs: number): Promise<MemberHashKv[]> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    // Bounded by the deadline.
    for (;;) {
      try {
        const all = await this.hashKvs();
        if (all.length > 0 && all.every((h) => h.hash === all[0]!.hash && h.revision === all[0]!.revision)) return all;
        last = jsonText(all);
      } catch (err) {
        last = errorText(err);
      }
      if (Date.now() >= deadline) throw new Error(`Members did not converge to one hashkv and revision within ${timeoutMs} ms; last: ${last}`);
      await sleep(200);
    }
  }

  /** Stops every member (SIGTERM, then SIGKILL after the bound) and releases the network. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([...this.members(), ...this.#removed].map((m) => m.stop()));
    await this.network.release();
  }
}

/** The members `member add` printed (text mode: ETCD_INITIAL_CLUSTER="a=url,b=url,…"). */
export function parseMemberAddOutput(stdout: string): Array<{ name: string; peerUrl: string }> {
  const match = /ETCD_INITIAL_CLUSTER="([^"]*)"/.exec(stdout);
  if (match === null) throw new Error(`member add printed no ETCD_INITIAL_CLUSTER: ${stdout}`);
  return match[1]!
    .split(",")
    .filter((part) => part !== "")
    .map((part) => {
      const eq = part.indexOf("=");
      return { name: part.slice(0, eq), peerUrl: part.slice(eq + 1) };
    });
}

function newMember(
  kind: DatastoreKind,
  name: string,
  address: MemberAddress,
  baseDir: string,
  token: string,
  initialCluster: string,
  state: "new" | "existing",
  options: ClusterOptions,
): ClusterMember {
  const dataDir = join(baseDir, name);
  const clientHost = new URL(address.clientUrl);
  const args = [
    "--name", name,
    "--data-dir", dataDir,
    "--listen-client-urls", address.clientUrl,
    "--advertise-client-urls", address.clientUrl,
    "--listen-peer-urls", address.peerUrl,
    "--initial-advertise-peer-urls", address.peerUrl,
    "--initial-cluster", initialCluster,
    "--initial-cluster-state", state,
    "--initial-cluster-token", token,
    "--heartbeat-interval", String(options.heartbeatIntervalMs ?? 100),
    "--election-timeout", String(options.electionTimeoutMs ?? 1000),
    ...(options.extraArgs ?? []),
  ];
  if (clientHost.protocol !== "http:") throw new Error(`Only http:// client URLs are supported: ${address.clientUrl}`);
  return new ClusterMember(kind, name, address, dataDir, args);
}

function commandFor(kind: DatastoreKind): { file: string; leadingArgs: string[] } {
  if (kind === "etcd") {
    if (requireBinary(ETCD_BINARY) === null) throw new Error(`Cannot start etcd: ${ETCD_BINARY} is not installed (Debian package etcd-server)`);
    return { file: ETCD_BINARY, leadingArgs: [] };
  }
  return { file: TK8S_ENTRY, leadingArgs: ["datastore"] };
}

/** The parent's environment without ETCD_* / ETCDCTL_*: etcd reads flags from them and refuses duplicates. */
function hermeticEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("ETCD_") && !name.startsWith("ETCDCTL_")) env[name] = value;
  }
  return env;
}

function readBounded(path: string, bytesMax: number): string {
  try {
    const size = statSync(path).size;
    const text = readFileSync(path);
    return text.subarray(Math.max(0, size - bytesMax)).toString("utf8");
  } catch {
    return "";
  }
}

function describeExit(info: ExitInfo): string {
  return info.signal !== null ? `signal ${info.signal}` : `code ${info.code}`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function raceTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

// Members never outlive the test process (pdeathsig covers crashes; this covers a normal exit with members up).
const liveChildren = new Set<ChildProcess>();
const ownedTempDirs = new Set<string>();
let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.on("exit", (code) => {
    for (const child of liveChildren) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // Keep the data dirs and logs of a failed run for the post-mortem.
    if (code === 0 && process.env.CONTRACT_KEEP_DATA === undefined) {
      for (const dir of ownedTempDirs) rmSync(dir, { recursive: true, force: true });
    } else if (ownedTempDirs.size > 0) {
      process.stderr.write(`datastore cluster dirs kept (mN.stdout.log, mN.stderr.log inside): ${[...ownedTempDirs].join(" ")}\n`);
    }
  });
}
