/**
 * Datastore benchmark: real etcd vs `tk8s datastore`, measured in the same run with the same
 * client (the npm `etcd3` client). See bench/datastore/README.md.
 *
 *   npm run bench:datastore -- [--targets etcd,tk8s] [--seconds 5] [--concurrency 1,16,256] ...
 *
 * Every loop ends by time or count, every server is started on free loopback ports with a fresh
 * data dir and is killed on exit (SIGINT/SIGTERM included).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Etcd3, type IOptions, type IRequestOp, type IWatchResponse, type Watcher } from "etcd3";

// ---------------------------------------------------------------------------------------------
// Options

const TARGETS = ["etcd", "tk8s"] as const;
type Target = (typeof TARGETS)[number];
const WORKLOADS = ["put", "range", "watch", "memory", "failover"] as const;
type Workload = (typeof WORKLOADS)[number];

interface Config {
  targets: Target[];
  workloads: Workload[];
  seconds: number;
  warmup: number;
  ops: number | null;
  concurrency: number[];
  valueBytes: number;
  keyspace: number;
  keys: number;
  clients: number;
  batch: number;
  loadConcurrency: number;
  timeoutMs: number;
  startTimeoutMs: number;
  etcdBin: string;
  tmpDir: string;
  json: string | null;
  keep: boolean;
  /** Members per datastore: 1 is a single server; more is a cluster on loopback. */
  members: number;
  /** Cluster mode: clients all go to the leader, or client i goes to member i mod N. */
  endpoints: "leader" | "all";
  /** Cluster mode: kill -9 leader trials per target. */
  failovers: number;
  /** Cluster mode: how long a fail-over trial may take before it counts as failed. */
  failoverTimeoutMs: number;
  /** Cluster mode: --heartbeat-interval and --election-timeout given to every member of both targets. */
  heartbeatMs: number;
  electionMs: number;
}

const USAGE = `usage: npm run bench:datastore -- [flags]

  --targets LIST          datastores to measure, in order (default etcd,tk8s)
  --workloads LIST        put,range,watch,memory,failover (default put,range,watch,memory;
                          with --members > 1: put,failover; memory needs 1 member, failover more)
  --seconds S             measured duration of each throughput cell (default 5)
  --warmup S              unmeasured warm-up before each cell (default 1)
  --ops N                 also end each cell after N operations (default: time only)
  --concurrency LIST      in-flight request loops per cell (default 1,16,256)
  --value-bytes B         value size for every put (default 256)
  --keyspace N            keys used by put/range (default 10000)
  --keys N                keys loaded for the memory/disk measurement; 0 skips it (default 1000000)
  --clients N             etcd3 clients (separate gRPC connections) the loops share (default 4)
  --batch N               puts per txn when loading keys (default 100; etcd allows 128)
  --load-concurrency N    in-flight txns when loading keys (default 64)
  --timeout-ms MS         deadline of every unary request (default 10000)
  --start-timeout-ms MS   how long a server may take to answer GET /health (default 30000)
  --etcd-bin PATH         etcd binary (default /usr/bin/etcd, else etcd on PATH)
  --tmp-dir DIR           where the temp data dirs go (default ${os.tmpdir()})
  --json FILE             also write the raw results as JSON
  --keep                  keep data dirs and server logs (their path is printed)
  --members N             members per datastore: 1 = one server (default); 3 = a 3-member cluster
  --endpoints MODE        cluster mode: clients to the "leader" (default) or spread over "all" members
  --failovers N           cluster mode: kill -9 leader trials per target (default 3)
  --failover-timeout-ms MS  cluster mode: a trial with no successful write by then fails (default 30000)
  --heartbeat-interval MS cluster mode: given to every member of both targets (default 100, etcd's)
  --election-timeout MS   cluster mode: given to every member of both targets (default 1000, etcd's)
  --help
`;

function parseList(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

function parseNum(name: string, s: string, min: number): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got "${s}"`);
  return n;
}

function parseConfig(argv: string[]): Config | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      targets: { type: "string", default: "etcd,tk8s" },
      workloads: { type: "string" },
      seconds: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      ops: { type: "string" },
      concurrency: { type: "string", default: "1,16,256" },
      "value-bytes": { type: "string", default: "256" },
      keyspace: { type: "string", default: "10000" },
      keys: { type: "string", default: "1000000" },
      clients: { type: "string", default: "4" },
      batch: { type: "string", default: "100" },
      "load-concurrency": { type: "string", default: "64" },
      "timeout-ms": { type: "string", default: "10000" },
      "start-timeout-ms": { type: "string", default: "30000" },
      "etcd-bin": { type: "string" },
      "tmp-dir": { type: "string", default: os.tmpdir() },
      json: { type: "string" },
      keep: { type: "boolean", default: false },
      members: { type: "string", default: "1" },
      endpoints: { type: "string", default: "leader" },
      failovers: { type: "string", default: "3" },
      "failover-timeout-ms": { type: "string", default: "30000" },
      "heartbeat-interval": { type: "string", default: "100" },
      "election-timeout": { type: "string", default: "1000" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const targets = parseList(values.targets!).map((t) => {
    if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`--targets: unknown target "${t}" (etcd, tk8s)`);
    return t as Target;
  });
  const members = Math.floor(parseNum("members", values.members!, 1));
  const workloads = parseList(values.workloads ?? (members > 1 ? "put,failover" : "put,range,watch,memory")).map((w) => {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--workloads: unknown workload "${w}"`);
    return w as Workload;
  });
  const concurrency = parseList(values.concurrency!).map((c) => Math.floor(parseNum("concurrency", c, 1)));
  if (targets.length === 0) throw new Error("--targets: empty");
  if (members > 1 && workloads.includes("memory")) throw new Error("--workloads: memory is measured with --members 1");
  if (members === 1 && workloads.includes("failover")) throw new Error("--workloads: failover needs --members > 1");
  if (values.endpoints !== "leader" && values.endpoints !== "all") throw new Error(`--endpoints: expected leader or all, got "${values.endpoints}"`);
  return {
    targets,
    workloads,
    seconds: parseNum("seconds", values.seconds!, 0.1),
    warmup: parseNum("warmup", values.warmup!, 0),
    ops: values.ops === undefined ? null : Math.floor(parseNum("ops", values.ops, 1)),
    concurrency,
    valueBytes: Math.floor(parseNum("value-bytes", values["value-bytes"]!, 0)),
    keyspace: Math.floor(parseNum("keyspace", values.keyspace!, 1)),
    keys: Math.floor(parseNum("keys", values.keys!, 0)),
    clients: Math.floor(parseNum("clients", values.clients!, 1)),
    batch: Math.floor(parseNum("batch", values.batch!, 1)),
    loadConcurrency: Math.floor(parseNum("load-concurrency", values["load-concurrency"]!, 1)),
    timeoutMs: parseNum("timeout-ms", values["timeout-ms"]!, 1),
    startTimeoutMs: parseNum("start-timeout-ms", values["start-timeout-ms"]!, 100),
    etcdBin: values["etcd-bin"] ?? (fs.existsSync("/usr/bin/etcd") ? "/usr/bin/etcd" : "etcd"),
    tmpDir: values["tmp-dir"]!,
    json: values.json ?? null,
    keep: values.keep!,
    members,
    endpoints: values.endpoints,
    failovers: Math.floor(parseNum("failovers", values.failovers!, 0)),
    failoverTimeoutMs: parseNum("failover-timeout-ms", values["failover-timeout-ms"]!, 100),
    heartbeatMs: Math.floor(parseNum("heartbeat-interval", values["heartbeat-interval"]!, 1)),
    electionMs: Math.floor(parseNum("election-timeout", values["election-timeout"]!, 1)),
  };
}

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every child is killed and every temp dir removed on exit.

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let keepTemp = false;

function killAllChildrenSync(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
}

function removeTempDirsSync(): void {
  if (keepTemp) return;
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

process.on("exit", () => {
  killAllChildrenSync();
  removeTempDirsSync();
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, killing ${children.size} server(s) and exiting\n`);
    killAllChildrenSync();
    removeTempDirsSync();
    process.exit(sig === "SIGINT" ? 130 : 143);
  });
}

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

function errMsg(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0]!.slice(0, 300);
  return String(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve());
      });
      ports.push((s.address() as net.AddressInfo).port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return ports;
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < 4096) body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** The pid and all its descendants (a server may run helper processes); [pid] if /proc is unreadable. */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  try {
    for (const e of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        parentOf.set(Number(e), ppid);
      } catch {
        /* exited meanwhile */
      }
    }
  } catch {
    return [pid];
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parentOf) if (pp === out[i]) out.push(p);
  return out;
}

/** VmRSS of the server process plus its descendants, in bytes (shared pages counted per process). */
function readRssBytes(pid: number): number | null {
  let total = 0;
  let any = false;
  for (const p of processTree(pid)) {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (m) {
        total += Number(m[1]) * 1024;
        any = true;
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return any ? total : null;
}

/** utime+stime of the server process plus its descendants (all threads), in seconds. */
function readCpuSeconds(pid: number): number | null {
  let total = 0;
  let any = false;
  for (const p of processTree(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is field 3 (state); utime is field 14, stime field 15.
      total += (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
      any = true;
    } catch {
      /* exited meanwhile */
    }
  }
  return any ? total : null;
}

/** Recursive du: allocated bytes (st_blocks*512) and apparent bytes, symlinks not followed. */
function diskUsage(p: string): { allocated: number; apparent: number } {
  let allocated = 0;
  let apparent = 0;
  const walk = (q: string): void => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(q);
    } catch {
      return;
    }
    allocated += st.blocks * 512;
    apparent += st.size;
    if (st.isDirectory()) for (const e of fs.readdirSync(q)) walk(path.join(q, e));
  };
  walk(p);
  return { allocated, apparent };
}

function tailFile(file: string, lines: number): string {
  try {
    const all = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return all.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  target: Target;
  proc: ChildProcess;
  pid: number;
  clientUrl: string;
  dataDir: string;
  logFile: string;
  version: string | null;
  exited: () => string | null;
}

/** Where the cells send requests and whose CPU they measure: one server, or a cluster's members. */
interface Endpoints {
  /** The client URL for client number i. */
  url: (i: number) => string;
  /** utime+stime of every live server process, in seconds. */
  cpuSeconds: () => number | null;
}

function singleEndpoints(s: Server): Endpoints {
  return { url: () => s.clientUrl, cpuSeconds: () => readCpuSeconds(s.pid) };
}

function serverCommand(target: Target, cfg: Config): { cmd: string; prefix: string[] } {
  if (target === "etcd") return { cmd: cfg.etcdBin, prefix: [] };
  // The entry point itself, as `npx tk8s` runs it, so its shebang's V8 flags apply.
  return { cmd: path.join(REPO_ROOT, "bin", "tk8s.js"), prefix: ["datastore"] };
}

/** Spawns one server process (its output appended to `logFile`) and tracks its exit. */
function spawnServer(target: Target, cfg: Config, flags: string[], dataDir: string, logFile: string, clientUrl: string, runDir: string): Server {
  const { cmd, prefix } = serverCommand(target, cfg);
  const logFd = fs.openSync(logFile, "a");
  let proc: ChildProcess;
  try {
    proc = spawn(cmd, [...prefix, ...flags], { stdio: ["ignore", logFd, logFd], cwd: runDir });
  } finally {
    fs.closeSync(logFd);
  }
  children.add(proc);
  let exitInfo: string | null = null;
  proc.on("error", (e) => {
    exitInfo = `could not run ${cmd}: ${errMsg(e)}`;
  });
  proc.on("exit", (code, signal) => {
    exitInfo ??= signal ? `exited on ${signal}` : `exited with code ${code}`;
    children.delete(proc);
  });
  return { target, proc, pid: proc.pid ?? -1, clientUrl, dataDir, logFile, version: null, exited: () => exitInfo };
}

/** Waits (until `deadline`, a Date.now() value) for GET /health to return 200, then reads /version. */
async function waitHealthy(s: Server, deadline: number, cfg: Config): Promise<void> {
  const fail = (why: string): Error => {
    const tail = tailFile(s.logFile, 15);
    const last = tail.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("(run with")).pop() ?? "";
    return new Error(
      `${s.target} did not start: ${why}${last ? ` (log: ${last.trim().slice(0, 200)})` : ""}\n` +
        `--- last lines of ${s.logFile} ---\n${tail}`,
    );
  };
  for (;;) {
    const dead = s.exited();
    if (dead !== null) throw fail(dead);
    try {
      const r = await httpGet(`${s.clientUrl}/health`, 1000);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      s.proc.kill("SIGKILL");
      throw fail(`GET ${s.clientUrl}/health did not return 200 within ${cfg.startTimeoutMs} ms`);
    }
    await sleep(100);
  }
  try {
    const r = await httpGet(`${s.clientUrl}/version`, 1000);
    if (r.status === 200) s.version = r.body.trim();
  } catch {
    /* optional */
  }
}

async function startServer(target: Target, phase: string, cfg: Config, runDir: string): Promise<Server> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = path.join(runDir, `${target}-${phase}.data`);
  const logFile = path.join(runDir, `${target}-${phase}.log`);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  // The same flags for both targets: tk8s datastore takes etcd's flags.
  const flags = [
    "--name", "default",
    "--data-dir", dataDir,
    "--listen-client-urls", clientUrl,
    "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl,
    "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `default=${peerUrl}`,
  ];
  fs.writeFileSync(logFile, "");
  const s = spawnServer(target, cfg, flags, dataDir, logFile, clientUrl, runDir);
  await waitHealthy(s, Date.now() + cfg.startTimeoutMs, cfg);
  return s;
}

async function stopServer(s: Server): Promise<void> {
  if (s.exited() === null) {
    const gone = new Promise<void>((r) => {
      if (s.proc.exitCode !== null || s.proc.signalCode !== null) r();
      else s.proc.once("exit", () => r());
    });
    s.proc.kill("SIGTERM");
    const t = setTimeout(() => s.proc.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(t);
  }
  if (!keepTemp) fs.rmSync(s.dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Clients

/** Used in place of etcd3's default retry + circuit-breaker policies: every error is counted. */
type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;
const passThrough = {
  execute: <T>(fn: () => T | PromiseLike<T>): Promise<T> => Promise.resolve().then(fn),
} as unknown as Policy;

function makeClients(ep: Endpoints, n: number, cfg: Config, first = 0): Etcd3[] {
  const out: Etcd3[] = [];
  for (let i = first; i < first + n; i++) {
    out.push(
      new Etcd3({
        hosts: ep.url(i),
        dialTimeout: 5000,
        // A local subchannel pool gives each client its own HTTP/2 connection
        // (grpc-js otherwise shares one connection between channels with equal options).
        grpcOptions: { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 << 20 },
        faultHandling: { global: passThrough, host: () => passThrough },
        defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + cfg.timeoutMs }),
      }),
    );
  }
  return out;
}

function closeClients(cs: Etcd3[]): void {
  for (const c of cs) c.close();
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function latencyStats(samples: number[]): LatencyStats | null {
  if (samples.length === 0) return null;
  const a = Float64Array.from(samples).sort();
  const q = (p: number): number => a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))]!;
  let sum = 0;
  for (const x of a) sum += x;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: a[a.length - 1]!, mean: sum / a.length };
}

interface CellResult {
  workload: "put" | "range" | "watch";
  concurrency: number;
  clients: number;
  ops: number; // completed ops (watch: events delivered to the watcher)
  errors: number;
  firstError: string | null;
  seconds: number;
  opsPerSec: number;
  latencyMs: LatencyStats | null; // watch: put-ack -> event-received
  serverCpuPercent: number | null;
  clientCpuPercent: number;
  watch?: {
    putsAcked: number;
    putsPerSec: number;
    eventsInWindow: number;
    eventsAfterWindow: number;
    eventsBeforeAck: number;
    lost: number;
    sendToEventMs: LatencyStats | null;
  };
}

interface LoopResult {
  ops: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  latencies: number[];
}

/** N loops, each issuing one request at a time, until the time (or op budget) is used up. */
async function runLoops(
  concurrency: number,
  seconds: number,
  opsLimit: number | null,
  record: boolean,
  op: (loop: number) => Promise<void>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let ops = 0;
  let started = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async (i: number): Promise<void> => {
    while (performance.now() < end && (opsLimit === null || started < opsLimit)) {
      started++;
      const s = performance.now();
      try {
        await op(i);
        ops++;
        if (record) latencies.push(performance.now() - s);
      } catch (e) {
        errors++;
        firstError ??= errMsg(e);
        // An error is usually immediate; do not spin on a broken server.
        await sleep(1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  return { ops, errors, firstError, seconds: (performance.now() - t0) / 1000, latencies };
}

function randInt(n: number): number {
  return Math.floor(Math.random() * n);
}

/** Values are slices of a random pool, so no two consecutive puts carry the same bytes. */
function valueSource(bytes: number): () => Buffer {
  const pool = randomBytes(Math.max(bytes * 64, 4096));
  return () => {
    const off = randInt(pool.length - bytes + 1);
    return pool.subarray(off, off + bytes);
  };
}

const keyOf = (prefix: string, i: number, width: number): string => `${prefix}${String(i).padStart(width, "0")}`;

/** Load `count` keys through txns of `batch` puts with `concurrency` txns in flight. */
async function loadKeys(
  clients: Etcd3[],
  prefix: string,
  count: number,
  cfg: Config,
  progress: ((done: number) => void) | null,
): Promise<number> {
  const value = valueSource(cfg.valueBytes);
  const width = String(Math.max(count - 1, 1)).length;
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    const client = clients[w % clients.length]!;
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + cfg.batch);
      next = to;
      const success: IRequestOp[] = [];
      for (let i = from; i < to; i++) {
        success.push({ request_put: { key: Buffer.from(keyOf(prefix, i, width)), value: value() } });
      }
      await client.kv.txn({ compare: [], success, failure: [] });
      done += to - from;
      progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.loadConcurrency, Math.ceil(count / cfg.batch)) }, (_, w) => worker(w)));
  return (performance.now() - t0) / 1000;
}

async function cellPutOrRange(
  workload: "put" | "range",
  server: Endpoints,
  clients: Etcd3[],
  concurrency: number,
  cfg: Config,
): Promise<CellResult> {
  const value = valueSource(cfg.valueBytes);
  const width = String(cfg.keyspace - 1).length;
  const op =
    workload === "put"
      ? async (i: number): Promise<void> => {
          await clients[i % clients.length]!.put(keyOf("/bench/put/", randInt(cfg.keyspace), width)).value(value()).exec();
        }
      : async (i: number): Promise<void> => {
          const key = keyOf("/bench/range/", randInt(cfg.keyspace), width);
          // Linearizable (the default: serializable=false) single-key range.
          const r = await clients[i % clients.length]!.get(key).serializable(false).exec();
          if (r.kvs.length !== 1) throw new Error(`range ${key}: expected 1 kv, got ${r.kvs.length}`);
        };
  if (cfg.warmup > 0) await runLoops(concurrency, cfg.warmup, null, false, op);
  const cpu0 = server.cpuSeconds();
  const ccpu0 = process.cpuUsage();
  const r = await runLoops(concurrency, cfg.seconds, cfg.ops, true, op);
  const cpu1 = server.cpuSeconds();
  const ccpu = process.cpuUsage(ccpu0);
  return {
    workload,
    concurrency,
    clients: clients.length,
    ops: r.ops,
    errors: r.errors,
    firstError: r.firstError,
    seconds: r.seconds,
    opsPerSec: r.ops / r.seconds,
    latencyMs: latencyStats(r.latencies),
    serverCpuPercent: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) / r.seconds) * 100 : null,
    clientCpuPercent: ((ccpu.user + ccpu.system) / 1e6 / r.seconds) * 100,
  };
}

/**
 * One watcher on a prefix; `concurrency` writer loops put into the prefix. Latency is from the
 * put's ack (its response arriving at the client) to the event with that put's revision arriving
 * at the watcher; ops/s is events delivered per second of the measured window.
 */
async function cellWatch(server: Endpoints, clients: Etcd3[], concurrency: number, cfg: Config, seq: number): Promise<CellResult> {
  const value = valueSource(cfg.valueBytes);
  const prefix = `/bench/watch/${seq}/`;
  const width = String(cfg.keyspace - 1).length;
  // The watcher has its own client (HTTP/2 connection), apart from the writers'.
  const watchClient = makeClients(server, 1, cfg, clients.length)[0]!;
  let watcher: Watcher;
  try {
    watcher = await withTimeout(watchClient.watch().prefix(prefix).create(), cfg.timeoutMs, "creating the watcher");
  } catch (e) {
    watchClient.close();
    throw e;
  }
  let recording = false;
  let windowOpen = false;
  let eventsInWindow = 0;
  let eventsAfterWindow = 0;
  let eventsBeforeAck = 0;
  let watchError: string | null = null;
  const ackAt = new Map<string, number>(); // revision -> ack time (event not seen yet)
  const sentAt = new Map<string, number>(); // revision -> send time
  const eventAt = new Map<string, number>(); // revision -> event time (ack not seen yet)
  const ackToEvent: number[] = [];
  const sendToEvent: number[] = [];
  let outstanding = 0; // acked puts whose event has not arrived
  let maxSeenRev = 0; // highest revision the watcher has delivered
  let maxWarmupRev = 0; // highest revision acked during the warm-up

  watcher.on("data", (res: IWatchResponse) => {
    const now = performance.now();
    for (const ev of res.events) {
      if (ev.type !== "Put") continue;
      maxSeenRev = Math.max(maxSeenRev, Number(ev.kv.mod_revision));
      if (windowOpen) eventsInWindow++;
      else if (recording) eventsAfterWindow++;
      if (!recording) continue;
      const rev = ev.kv.mod_revision;
      const a = ackAt.get(rev);
      if (a !== undefined) {
        ackAt.delete(rev);
        outstanding--;
        ackToEvent.push(now - a);
        const s = sentAt.get(rev);
        if (s !== undefined) sendToEvent.push(now - s);
        sentAt.delete(rev);
      } else {
        eventAt.set(rev, now);
      }
    }
  });
  watcher.on("error", (e: Error) => {
    watchError ??= `watcher: ${errMsg(e)}`;
  });

  const put = async (i: number): Promise<void> => {
    const s = performance.now();
    const r = await clients[i % clients.length]!.put(keyOf(prefix, randInt(cfg.keyspace), width)).value(value()).exec();
    if (!recording) {
      maxWarmupRev = Math.max(maxWarmupRev, Number(r.header.revision));
      return;
    }
    const now = performance.now();
    const rev = r.header.revision;
    const e = eventAt.get(rev);
    if (e !== undefined) {
      // The event overtook the ack (they travel on different streams): count it as 0 ms.
      eventAt.delete(rev);
      eventsBeforeAck++;
      ackToEvent.push(0);
      sendToEvent.push(e - s);
    } else {
      ackAt.set(rev, now);
      sentAt.set(rev, s);
      outstanding++;
    }
  };

  try {
    if (cfg.warmup > 0) await runLoops(concurrency, cfg.warmup, null, false, put);
    // Let the watcher catch up with the warm-up, so the window counts only its own puts' events.
    const catchUpEnd = performance.now() + Math.max(5000, cfg.timeoutMs);
    while (maxSeenRev < maxWarmupRev && performance.now() < catchUpEnd && watchError === null) await sleep(10);
    recording = true;
    windowOpen = true;
    const cpu0 = server.cpuSeconds();
    const ccpu0 = process.cpuUsage();
    const r = await runLoops(concurrency, cfg.seconds, cfg.ops, false, put);
    windowOpen = false;
    const cpu1 = server.cpuSeconds();
    const ccpu = process.cpuUsage(ccpu0);
    // Drain: wait (bounded) for the events of puts acked in the window.
    const drainEnd = performance.now() + Math.max(5000, cfg.timeoutMs);
    while (outstanding > 0 && performance.now() < drainEnd && watchError === null) await sleep(10);
    recording = false;
    const errors = r.errors + (watchError ? 1 : 0);
    return {
      workload: "watch",
      concurrency,
      clients: clients.length,
      ops: eventsInWindow,
      errors,
      firstError: watchError ?? r.firstError,
      seconds: r.seconds,
      opsPerSec: eventsInWindow / r.seconds,
      latencyMs: latencyStats(ackToEvent),
      serverCpuPercent: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) / r.seconds) * 100 : null,
      clientCpuPercent: ((ccpu.user + ccpu.system) / 1e6 / r.seconds) * 100,
      watch: {
        putsAcked: r.ops,
        putsPerSec: r.ops / r.seconds,
        eventsInWindow,
        eventsAfterWindow,
        eventsBeforeAck,
        lost: outstanding,
        sendToEventMs: latencyStats(sendToEvent),
      },
    };
  } finally {
    await withTimeout(watcher.cancel(), 5000, "cancelling the watcher").catch(() => undefined);
    watchClient.close();
  }
}

interface MemoryResult {
  keys: number;
  valueBytes: number;
  batch: number;
  loadConcurrency: number;
  loadSeconds: number | null;
  keysPerSec: number | null;
  rssIdleBytes: number | null;
  rssLoadedBytes: number | null;
  diskIdle: { allocated: number; apparent: number } | null;
  diskLoaded: { allocated: number; apparent: number } | null;
  diskLoadedByEntry: Record<string, number> | null;
  countedKeys: number | null;
  error: string | null;
}

async function measureMemory(server: Server, cfg: Config): Promise<MemoryResult> {
  const res: MemoryResult = emptyMemory(cfg);
  const clients = makeClients(singleEndpoints(server), Math.min(cfg.clients, cfg.loadConcurrency), cfg);
  try {
    await sleep(1000);
    res.rssIdleBytes = readRssBytes(server.pid);
    res.diskIdle = diskUsage(server.dataDir);
    let nextMark = 1;
    const t0 = performance.now();
    res.loadSeconds = await loadKeys(clients, "/bench/mem/", cfg.keys, cfg, (done) => {
      while (nextMark <= 10 && done >= (cfg.keys * nextMark) / 10) {
        const el = (performance.now() - t0) / 1000;
        const rss = readRssBytes(server.pid);
        log(
          `[${server.target}] loading ${String(nextMark * 10).padStart(3)}%  ${done}/${cfg.keys} keys  ` +
            `${el.toFixed(1)}s  ${(done / el).toFixed(0)} keys/s  rss ${rss === null ? "?" : mib(rss)} MiB`,
        );
        nextMark++;
      }
    });
    res.keysPerSec = cfg.keys / res.loadSeconds;
    await sleep(1000); // let the backend's periodic commit land
    res.rssLoadedBytes = readRssBytes(server.pid);
    res.diskLoaded = diskUsage(server.dataDir);
    res.diskLoadedByEntry = {};
    for (const e of fs.readdirSync(server.dataDir, { recursive: true }) as string[]) {
      const full = path.join(server.dataDir, e);
      if (fs.lstatSync(full).isFile()) res.diskLoadedByEntry[e] = diskUsage(full).allocated;
    }
    res.countedKeys = await clients[0]!.getAll().prefix("/bench/mem/").count();
    if (res.countedKeys !== cfg.keys) res.error = `count after load: ${res.countedKeys}, expected ${cfg.keys}`;
  } catch (e) {
    res.error = errMsg(e);
  } finally {
    closeClients(clients);
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Clusters (--members > 1)

interface ClusterMember extends Server {
  name: string;
  /** The flags it was started with, so a killed member restarts as itself. */
  flags: string[];
}

interface Cluster {
  target: Target;
  members: ClusterMember[];
}

/** Starts N members on loopback with the same flags for both targets and waits for a leader. */
async function startCluster(target: Target, phase: string, cfg: Config, runDir: string): Promise<Cluster> {
  const n = cfg.members;
  const ports = await freePorts(2 * n);
  const names = Array.from({ length: n }, (_, i) => `m${i}`);
  const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[2 * i + 1]}`);
  const initialCluster = names.map((name, i) => `${name}=${peerUrls[i]}`).join(",");
  const cluster: Cluster = { target, members: [] };
  for (let i = 0; i < n; i++) {
    const name = names[i]!;
    const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
    const dataDir = path.join(runDir, `${target}-${phase}-${name}.data`);
    const logFile = path.join(runDir, `${target}-${phase}-${name}.log`);
    const flags = [
      "--name", name,
      "--data-dir", dataDir,
      "--listen-client-urls", clientUrl,
      "--advertise-client-urls", clientUrl,
      "--listen-peer-urls", peerUrls[i]!,
      "--initial-advertise-peer-urls", peerUrls[i]!,
      "--initial-cluster", initialCluster,
      "--initial-cluster-state", "new",
      "--initial-cluster-token", `bench-${target}-${phase}`,
      "--heartbeat-interval", String(cfg.heartbeatMs),
      "--election-timeout", String(cfg.electionMs),
    ];
    fs.writeFileSync(logFile, "");
    cluster.members.push({ ...spawnServer(target, cfg, flags, dataDir, logFile, clientUrl, runDir), name, flags });
  }
  try {
    const deadline = Date.now() + cfg.startTimeoutMs;
    // etcd answers /health 200 only once there is a leader; waiting for a leader below covers tk8s too.
    await Promise.all(cluster.members.map((m) => waitHealthy(m, deadline, cfg)));
    await findLeader(cluster, cluster.members, deadline, cfg);
  } catch (e) {
    await stopCluster(cluster);
    throw e;
  }
  return cluster;
}

async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(c.members.map((m) => stopServer(m)));
}

function clusterExited(c: Cluster): string | null {
  for (const m of c.members) {
    const d = m.exited();
    if (d !== null) return `${m.name} ${d}`;
  }
  return null;
}

function clusterCpuSeconds(c: Cluster): number | null {
  let total = 0;
  for (const m of c.members) {
    if (m.exited() !== null) continue;
    const x = readCpuSeconds(m.pid);
    if (x === null) return null;
    total += x;
  }
  return total;
}

function clusterRss(c: Cluster): number | null {
  let total = 0;
  for (const m of c.members) total += readRssBytes(m.pid) ?? 0;
  return total > 0 ? total : null;
}

interface MemberStatus {
  memberId: string;
  leader: string;
  raftTerm: number;
  raftIndex: number;
}

async function memberStatus(url: string, cfg: Config, timeoutMs: number): Promise<MemberStatus> {
  const [client] = makeClients({ url: () => url, cpuSeconds: () => null }, 1, cfg);
  try {
    const s = await client!.maintenance.status({ deadline: Date.now() + timeoutMs });
    return { memberId: s.header.member_id, leader: s.leader, raftTerm: Number(s.raftTerm), raftIndex: Number(s.raftIndex) };
  } finally {
    client!.close();
  }
}

/**
 * Polls `among` (live members) until a majority of the whole cluster names the same leader and
 * that leader is one of them and reports itself as the leader; returns it with its term.
 */
async function findLeader(c: Cluster, among: ClusterMember[], deadline: number, cfg: Config): Promise<{ leader: ClusterMember; term: number }> {
  const quorum = Math.floor(c.members.length / 2) + 1;
  let last = "no status answered";
  for (;;) {
    const st = await Promise.all(among.map((m) => memberStatus(m.clientUrl, cfg, 1000).catch((e: unknown) => errMsg(e))));
    const votes = new Map<string, number>();
    for (const s of st) if (typeof s !== "string" && s.leader !== "0") votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
    for (const [id, count] of votes) {
      if (count < quorum) continue;
      const i = st.findIndex((s) => typeof s !== "string" && s.memberId === id && s.leader === id);
      if (i >= 0) return { leader: among[i]!, term: (st[i] as MemberStatus).raftTerm };
    }
    last = st.map((s, i) => `${among[i]!.name}: ${typeof s === "string" ? s : `leader ${s.leader} term ${s.raftTerm}`}`).join("; ");
    if (Date.now() > deadline) throw new Error(`${c.target}: no leader agreed by ${quorum} member(s) in time (${last})`);
    await sleep(50);
  }
}

function clusterEndpoints(c: Cluster, leader: ClusterMember, cfg: Config): Endpoints {
  return {
    url: (i) => (cfg.endpoints === "leader" ? leader.clientUrl : c.members[i % c.members.length]!.clientUrl),
    cpuSeconds: () => clusterCpuSeconds(c),
  };
}

interface FailoverTrial {
  killed: string | null;
  termBefore: number | null;
  /** kill -9 of the leader -> first put acknowledged by a surviving member, in ms. */
  failoverMs: number | null;
  newLeader: string | null;
  termAfter: number | null;
  /** Puts sent by the probes before (and including) the first that succeeded. */
  attempts: number;
  errors: number;
  firstError: string | null;
  /** Restart of the killed member -> it follows the leader again, in ms. */
  rejoinMs: number | null;
  error: string | null;
}

/** A new probe put every PROBE_INTERVAL_MS per survivor, at most PROBE_MAX_IN_FLIGHT pending each. */
const PROBE_INTERVAL_MS = 10;
const PROBE_MAX_IN_FLIGHT = 256;
const PROBE_DEADLINE_MS = 2000;

/**
 * One trial: kill -9 the leader, then every survivor gets a new put every 10 ms (each with a 2 s
 * deadline, so a put lost with the old leader does not hold the measurement up) until the first
 * one is acknowledged. Then the killed member restarts from its data dir and must rejoin.
 */
async function failoverTrial(c: Cluster, trial: number, cfg: Config, runDir: string): Promise<FailoverTrial> {
  const t: FailoverTrial = {
    killed: null, termBefore: null, failoverMs: null, newLeader: null, termAfter: null,
    attempts: 0, errors: 0, firstError: null, rejoinMs: null, error: null,
  };
  const { leader, term } = await findLeader(c, c.members, Date.now() + cfg.startTimeoutMs, cfg);
  t.killed = leader.name;
  t.termBefore = term;
  const survivors = c.members.filter((m) => m !== leader);
  const probes = survivors.map((m) => makeClients({ url: () => m.clientUrl, cpuSeconds: () => null }, 1, cfg)[0]!);
  const value = valueSource(cfg.valueBytes);
  try {
    // Connect every probe client first, so connection set-up is not part of the figure.
    await Promise.all(probes.map((p, i) => p.kv.put({ key: Buffer.from(`/bench/failover/warm/${i}`), value: value() }, { deadline: Date.now() + cfg.timeoutMs })));
    const gone = new Promise<void>((r) => leader.proc.once("exit", () => r()));
    const t0 = performance.now();
    leader.proc.kill("SIGKILL");
    let doneAt: number | null = null;
    const inFlight = probes.map(() => 0);
    let seq = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (doneAt !== null || now - t0 > cfg.failoverTimeoutMs) {
          clearInterval(timer);
          resolve();
          return;
        }
        probes.forEach((p, k) => {
          if (inFlight[k]! >= PROBE_MAX_IN_FLIGHT) return;
          inFlight[k]!++;
          t.attempts++;
          const key = Buffer.from(`/bench/failover/${trial}/${seq++}`);
          p.kv
            .put({ key, value: value() }, { deadline: Date.now() + PROBE_DEADLINE_MS })
            .then(() => {
              if (doneAt === null) {
                doneAt = performance.now();
                t.failoverMs = doneAt - t0;
              }
            })
            .catch((e: unknown) => {
              if (doneAt !== null) return; // cancelled by closing the probes
              t.errors++;
              t.firstError ??= errMsg(e);
            })
            .finally(() => inFlight[k]!--);
        });
      };
      const timer = setInterval(tick, PROBE_INTERVAL_MS);
      tick();
    });
    await gone;
    if (t.failoverMs === null) {
      t.error = `no put acknowledged within ${cfg.failoverTimeoutMs} ms of the kill`;
      return t;
    }
    const after = await findLeader(c, survivors, Date.now() + cfg.startTimeoutMs, cfg);
    t.newLeader = after.leader.name;
    t.termAfter = after.term;
  } catch (e) {
    t.error = errMsg(e);
    return t;
  } finally {
    closeClients(probes);
  }
  // Restart the killed member as itself (same data dir and flags) and wait until it follows the leader.
  try {
    const r0 = performance.now();
    const idx = c.members.indexOf(leader);
    const again: ClusterMember = {
      ...spawnServer(c.target, cfg, leader.flags, leader.dataDir, leader.logFile, leader.clientUrl, runDir),
      name: leader.name,
      flags: leader.flags,
    };
    c.members[idx] = again;
    const deadline = Date.now() + cfg.startTimeoutMs;
    await waitHealthy(again, deadline, cfg);
    for (;;) {
      const cur = await findLeader(c, c.members, deadline, cfg);
      const mine = await memberStatus(again.clientUrl, cfg, 1000).catch(() => null);
      const lead = await memberStatus(cur.leader.clientUrl, cfg, 1000).catch(() => null);
      // Caught up: it names the leader and has the leader's log up to (about) now.
      if (mine && lead && mine.leader === lead.memberId && mine.raftIndex >= lead.raftIndex - 1) break;
      if (Date.now() > deadline) throw new Error(`${again.name} restarted but did not catch up with the leader in time`);
      await sleep(50);
    }
    t.rejoinMs = performance.now() - r0;
  } catch (e) {
    t.error = `restart of ${leader.name}: ${errMsg(e)}`;
  }
  return t;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

interface FailoverResult {
  trials: FailoverTrial[];
  medianMs: number | null;
  minMs: number | null;
  maxMs: number | null;
}

async function runCluster(target: Target, cfg: Config, runDir: string, result: TargetResult): Promise<void> {
  log(`[${target}] starting a ${cfg.members}-member cluster: ${result.command}`);
  let cluster: Cluster;
  try {
    cluster = await startCluster(target, "cluster", cfg, runDir);
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    log(`[${target}] ${result.error}`);
    return;
  }
  result.version = cluster.members[0]!.version;
  try {
    const { leader, term } = await findLeader(cluster, cluster.members, Date.now() + cfg.startTimeoutMs, cfg);
    log(
      `[${target}] up: ${cluster.members.map((m) => `${m.name} pid ${m.pid} ${m.clientUrl}`).join(", ")}; ` +
        `leader ${leader.name} (term ${term})${result.version ? `; version ${result.version}` : ""}`,
    );
    const throughput = cfg.workloads.filter((w): w is "put" | "range" | "watch" => w === "put" || w === "range" || w === "watch");
    if (throughput.length > 0) {
      const ep = clusterEndpoints(cluster, leader, cfg);
      const maxClients = Math.max(...cfg.concurrency.map((c) => Math.min(c, cfg.clients)));
      const allClients = makeClients(ep, maxClients, cfg);
      try {
        await runCells(target, throughput, ep, allClients, () => clusterExited(cluster), cfg, result.cells);
      } finally {
        closeClients(allClients);
      }
      result.rssAfterWorkloadsBytes = clusterRss(cluster);
      const dead = clusterExited(cluster);
      if (dead !== null) throw new Error(`member ${dead} during the workloads`);
    }
    if (cfg.workloads.includes("failover") && cfg.failovers > 0) {
      const trials: FailoverTrial[] = [];
      for (let i = 0; i < cfg.failovers; i++) {
        let t: FailoverTrial;
        try {
          t = await failoverTrial(cluster, i, cfg, runDir);
        } catch (e) {
          t = { killed: null, termBefore: null, failoverMs: null, newLeader: null, termAfter: null, attempts: 0, errors: 0, firstError: null, rejoinMs: null, error: errMsg(e) };
        }
        trials.push(t);
        log(
          `[${target}] fail-over ${i + 1}/${cfg.failovers}: killed leader ${t.killed ?? "?"} (term ${t.termBefore ?? "?"}); ` +
            `first write after ${fmtMs(t.failoverMs)} ms (${t.attempts} probe puts, ${t.errors} failed${t.firstError ? `, first: ${t.firstError}` : ""}); ` +
            `new leader ${t.newLeader ?? "?"} (term ${t.termAfter ?? "?"}); rejoined in ${fmtMs(t.rejoinMs)} ms` +
            (t.error ? `; ERROR ${t.error}` : ""),
        );
        if (t.error !== null && i + 1 < cfg.failovers) {
          // The cluster is in an unknown state: the next trial gets a fresh one.
          for (const m of cluster.members) if (m.exited() !== null && m.exited() !== "exited on SIGKILL") log(`[${target}] ${m.name} ${m.exited()}; last log lines:\n${tailFile(m.logFile, 15)}`);
          await stopCluster(cluster);
          cluster = await startCluster(target, `failover${i + 1}`, cfg, runDir);
        }
      }
      const ok = trials.map((t) => t.failoverMs).filter((x): x is number => x !== null);
      result.failover = {
        trials,
        medianMs: ok.length === trials.length ? median(ok) : null,
        minMs: ok.length > 0 ? Math.min(...ok) : null,
        maxMs: ok.length > 0 ? Math.max(...ok) : null,
      };
      if (ok.length < trials.length) result.error ??= `${trials.length - ok.length} fail-over trial(s) failed`;
    }
  } catch (e) {
    result.error ??= errMsg(e);
    log(`[${target}] ${errMsg(e)}`);
  } finally {
    for (const m of cluster.members) {
      const d = m.exited();
      if (d !== null) log(`[${target}] ${m.name} ${d}; last log lines:\n${tailFile(m.logFile, 15)}`);
    }
    await stopCluster(cluster);
  }
}

// ---------------------------------------------------------------------------------------------
// Run

interface TargetResult {
  target: Target;
  command: string;
  version: string | null;
  error: string | null;
  cells: CellResult[];
  rssAfterWorkloadsBytes: number | null;
  memory: MemoryResult | null;
  failover: FailoverResult | null;
}

/** Every throughput workload at every concurrency, in order; a cell that fails is recorded, not thrown. */
async function runCells(
  target: Target,
  throughput: ("put" | "range" | "watch")[],
  ep: Endpoints,
  allClients: Etcd3[],
  exited: () => string | null,
  cfg: Config,
  out: CellResult[],
): Promise<void> {
  if (throughput.includes("range")) {
    log(`[${target}] preloading ${cfg.keyspace} keys for range`);
    await loadKeys(allClients, "/bench/range/", cfg.keyspace, cfg, null);
  }
  let seq = 0;
  for (const w of throughput) {
    for (const c of cfg.concurrency) {
      const clients = allClients.slice(0, Math.min(c, cfg.clients));
      const dead = exited();
      let cell: CellResult;
      if (dead !== null) {
        cell = failedCell(w, c, clients.length, `server ${dead}`);
      } else {
        try {
          cell = w === "watch" ? await cellWatch(ep, clients, c, cfg, seq++) : await cellPutOrRange(w, ep, clients, c, cfg);
        } catch (e) {
          cell = failedCell(w, c, clients.length, errMsg(e));
        }
      }
      out.push(cell);
      log(
        `[${target}] ${w.padEnd(5)} conc ${String(c).padStart(3)}: ${fmtRate(cell.opsPerSec)} ${w === "watch" ? "events" : "ops"}/s` +
          `  p50 ${fmtMs(cell.latencyMs?.p50)}  p99 ${fmtMs(cell.latencyMs?.p99)} ms` +
          `  server cpu ${cell.serverCpuPercent === null ? "?" : cell.serverCpuPercent.toFixed(0)}%` +
          `  client cpu ${cell.clientCpuPercent.toFixed(0)}%` +
          (cell.errors > 0 ? `  ERRORS ${cell.errors}: ${cell.firstError}` : ""),
      );
    }
  }
}

async function runTarget(target: Target, cfg: Config, runDir: string): Promise<TargetResult> {
  const { cmd, prefix } = serverCommand(target, cfg);
  const result: TargetResult = {
    target,
    command: [cmd, ...prefix].join(" "),
    version: null,
    error: null,
    cells: [],
    rssAfterWorkloadsBytes: null,
    memory: null,
    failover: null,
  };
  if (cfg.members > 1) {
    await runCluster(target, cfg, runDir, result);
    return result;
  }
  const throughput = cfg.workloads.filter((w): w is "put" | "range" | "watch" => w === "put" || w === "range" || w === "watch");
  if (throughput.length > 0) {
    log(`[${target}] starting ${result.command}`);
    let server: Server;
    try {
      server = await startServer(target, "workloads", cfg, runDir);
    } catch (e) {
      result.error = e instanceof Error ? e.message : String(e);
      log(`[${target}] ${result.error}`);
      return result;
    }
    result.version = server.version;
    log(`[${target}] up: pid ${server.pid} ${server.clientUrl}${server.version ? ` version ${server.version}` : ""}`);
    const maxClients = Math.max(...cfg.concurrency.map((c) => Math.min(c, cfg.clients)));
    const allClients = makeClients(singleEndpoints(server), maxClients, cfg);
    try {
      await runCells(target, throughput, singleEndpoints(server), allClients, () => server.exited(), cfg, result.cells);
      result.rssAfterWorkloadsBytes = readRssBytes(server.pid);
    } catch (e) {
      result.error = errMsg(e);
      log(`[${target}] ${result.error}`);
    } finally {
      closeClients(allClients);
      const died = server.exited();
      if (died !== null) {
        result.error ??= `server ${died} during the run`;
        log(`[${target}] server ${died}; last log lines:\n${tailFile(server.logFile, 15)}`);
      }
      await stopServer(server);
    }
  }
  if (cfg.workloads.includes("memory") && cfg.keys > 0) {
    log(`[${target}] memory/disk: fresh server, loading ${cfg.keys} keys of ${cfg.valueBytes} B`);
    let server: Server;
    try {
      server = await startServer(target, "memory", cfg, runDir);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      result.error ??= msg;
      result.memory = { ...emptyMemory(cfg), error: msg.split("\n")[0]! };
      log(`[${target}] ${msg}`);
      return result;
    }
    result.version ??= server.version;
    try {
      result.memory = await measureMemory(server, cfg);
      const m = result.memory;
      log(
        `[${target}] memory: rss idle ${fmtMiB(m.rssIdleBytes)} MiB, loaded ${fmtMiB(m.rssLoadedBytes)} MiB; ` +
          `disk ${fmtMiB(m.diskLoaded?.allocated)} MiB; ${fmtRate(m.keysPerSec)} keys/s` +
          (m.error ? `; ERROR ${m.error}` : ""),
      );
    } finally {
      const died = server.exited();
      if (died !== null) log(`[${target}] server ${died}; last log lines:\n${tailFile(server.logFile, 15)}`);
      await stopServer(server);
    }
  }
  return result;
}

function emptyMemory(cfg: Config): MemoryResult {
  return {
    keys: cfg.keys,
    valueBytes: cfg.valueBytes,
    batch: cfg.batch,
    loadConcurrency: cfg.loadConcurrency,
    loadSeconds: null,
    keysPerSec: null,
    rssIdleBytes: null,
    rssLoadedBytes: null,
    diskIdle: null,
    diskLoaded: null,
    diskLoadedByEntry: null,
    countedKeys: null,
    error: null,
  };
}

function failedCell(workload: CellResult["workload"], concurrency: number, clients: number, why: string): CellResult {
  return {
    workload,
    concurrency,
    clients,
    ops: 0,
    errors: 1,
    firstError: why,
    seconds: 0,
    opsPerSec: 0,
    latencyMs: null,
    serverCpuPercent: null,
    clientCpuPercent: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

const mib = (b: number): string => (b / (1024 * 1024)).toFixed(1);
const fmtMiB = (b: number | null | undefined): string => (b === null || b === undefined ? "n/a" : mib(b));
function fmtRate(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
function fmtMs(x: number | null | undefined): string {
  if (x === null || x === undefined) return "n/a";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
function fmtRatio(num: number | null | undefined, den: number | null | undefined): string {
  if (num === null || num === undefined || den === null || den === undefined || !(den > 0) || !Number.isFinite(num)) return "n/a";
  return `${(num / den).toFixed(2)}x`;
}

function table(header: string[], rows: string[][], leftCols: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

function report(cfg: Config, results: Map<Target, TargetResult>): string {
  const out: string[] = [];
  const etcd = results.get("etcd");
  const tk8s = results.get("tk8s");
  const cellOf = (r: TargetResult | undefined, w: string, c: number): CellResult | undefined =>
    r?.cells.find((x) => x.workload === w && x.concurrency === c);
  const usable = (x: CellResult | undefined): CellResult | undefined => (x && x.ops > 0 ? x : undefined);

  out.push(
    `datastore benchmark: ${cfg.seconds}s per cell (+${cfg.warmup}s warm-up)${cfg.ops ? `, at most ${cfg.ops} ops` : ""}, ` +
      `values ${cfg.valueBytes} B, keyspace ${cfg.keyspace}`,
  );
  out.push(
    `client: this one Node process; N in-flight request loops share min(N, ${cfg.clients}) etcd3 clients ` +
      `(one HTTP/2 connection each), round-robin; the watcher gets a client of its own; no retries.`,
  );
  out.push(`machine: ${os.cpus().length} CPU(s) shared by client and server; node ${process.version}`);
  if (cfg.members > 1) {
    out.push(
      `cluster: ${cfg.members} members per target on loopback, every member started with --heartbeat-interval ${cfg.heartbeatMs} ` +
        `--election-timeout ${cfg.electionMs}; ` +
        (cfg.endpoints === "leader"
          ? "every client connects to the leader (found with Status before the cells); "
          : `client i connects to member i mod ${cfg.members}; `) +
        "server cpu = all members together.",
    );
  }
  for (const t of cfg.targets) {
    const r = results.get(t)!;
    out.push(`${t}: ${r.command}${r.version ? `  (${r.version})` : ""}${r.error ? `  FAILED: ${r.error.split("\n")[0]}` : ""}`);
  }
  out.push("");

  const throughput = cfg.workloads.filter((w) => w === "put" || w === "range" || w === "watch");
  if (throughput.length > 0) {
    const rows: string[][] = [];
    const notes: string[] = [];
    for (const w of throughput) {
      for (const c of cfg.concurrency) {
        const e = cellOf(etcd, w, c);
        const k = cellOf(tk8s, w, c);
        const eu = usable(e);
        const ku = usable(k);
        const pp = (x: CellResult | undefined): string =>
          x?.latencyMs ? `${fmtMs(x.latencyMs.p50)}/${fmtMs(x.latencyMs.p99)}` : "n/a";
        rows.push([
          w === "watch" ? "watch (events)" : w === "range" ? "range (lin.)" : w,
          String(c),
          eu ? fmtRate(eu.opsPerSec) : "n/a",
          ku ? fmtRate(ku.opsPerSec) : "n/a",
          fmtRatio(ku?.opsPerSec, eu?.opsPerSec),
          pp(eu),
          pp(ku),
          fmtRatio(ku?.latencyMs?.p99, eu?.latencyMs?.p99),
        ]);
        for (const [t, x] of [["etcd", e], ["tk8s", k]] as const) {
          if (x && x.errors > 0) notes.push(`  ${t} ${w} conc ${c}: ${x.errors} error(s), first: ${x.firstError}`);
          if (x?.watch && x.watch.lost > 0) notes.push(`  ${t} watch conc ${c}: ${x.watch.lost} acked put(s) never delivered`);
        }
      }
    }
    out.push(
      table(
        ["workload", "conc", "etcd ops/s", "tk8s ops/s", "ratio", "etcd p50/p99 ms", "tk8s p50/p99 ms", "p99 ratio"],
        rows,
        1,
      ),
    );
    out.push(
      "ratio = tk8s/etcd ops/s (higher is better for tk8s); p99 ratio = tk8s/etcd p99 (lower is better)." +
        (throughput.includes("watch")
          ? "\nwatch: ops/s = events delivered per second to one prefix watcher while N writers put; latency = put ack -> event received."
          : ""),
    );
    if (throughput.includes("watch")) {
      const detail: string[] = [];
      for (const c of cfg.concurrency) {
        for (const [t, x] of [["etcd", cellOf(etcd, "watch", c)], ["tk8s", cellOf(tk8s, "watch", c)]] as const) {
          const w = x?.watch;
          if (!x || !w) continue;
          const s2e = w.sendToEventMs;
          detail.push(
            `  ${t} conc ${c}: puts ${fmtRate(w.putsPerSec)}/s, events ${fmtRate(x.opsPerSec)}/s in window + ` +
              `${w.eventsAfterWindow} after (backlog), ${w.eventsBeforeAck} before their ack, ` +
              `put-send->event p50/p99 ${s2e ? `${fmtMs(s2e.p50)}/${fmtMs(s2e.p99)}` : "n/a"} ms`,
          );
        }
      }
      if (detail.length > 0) out.push(`watch detail (events that beat their put's ack count as 0 ms above):\n${detail.join("\n")}`);
    }
    if (notes.length > 0) out.push(`errors:\n${notes.join("\n")}`);
    out.push("");
  }

  if (cfg.members > 1 && cfg.workloads.includes("failover") && cfg.failovers > 0) {
    const ef = etcd?.failover ?? null;
    const kf = tk8s?.failover ?? null;
    const trialsOf = (f: FailoverResult | null): string =>
      f ? f.trials.map((t) => (t.failoverMs === null ? "failed" : fmtMs(t.failoverMs))).join(", ") : "n/a";
    const rejoinOf = (f: FailoverResult | null): number | null =>
      f ? median(f.trials.map((t) => t.rejoinMs).filter((x): x is number => x !== null)) : null;
    out.push(
      table(
        [`leader fail-over (${cfg.failovers} trials)`, "etcd", "tk8s", "ratio"],
        [
          ["kill -9 -> first write, median (ms)", fmtMs(ef?.medianMs), fmtMs(kf?.medianMs), fmtRatio(kf?.medianMs, ef?.medianMs)],
          ["min / max (ms)", `${fmtMs(ef?.minMs)} / ${fmtMs(ef?.maxMs)}`, `${fmtMs(kf?.minMs)} / ${fmtMs(kf?.maxMs)}`, ""],
          ["each trial (ms)", trialsOf(ef), trialsOf(kf), ""],
          ["restart -> caught up, median (ms)", fmtMs(rejoinOf(ef)), fmtMs(rejoinOf(kf)), fmtRatio(rejoinOf(kf), rejoinOf(ef))],
        ],
        1,
      ),
    );
    out.push(
      `fail-over: the leader is killed with SIGKILL; every survivor then gets a new put every ${PROBE_INTERVAL_MS} ms ` +
        `(${PROBE_DEADLINE_MS} ms deadline each) until the first is acknowledged; the figure is kill -> that ack. ` +
        "The killed member then restarts from its data dir and must follow the leader with its log caught up " +
        "before the next trial (ratio: lower is better for tk8s).",
    );
    for (const [t, f] of [["etcd", ef], ["tk8s", kf]] as const) {
      for (const [i, x] of (f?.trials ?? []).entries()) if (x.error) out.push(`  ${t} trial ${i + 1}: ${x.error}`);
    }
    out.push("");
  }

  if (cfg.workloads.includes("memory") && cfg.keys > 0) {
    const em = etcd?.memory ?? null;
    const km = tk8s?.memory ?? null;
    const ok = (m: MemoryResult | null): MemoryResult | null => (m && m.error === null ? m : null);
    const eo = ok(em);
    const ko = ok(km);
    const rowsM: [string, number | null | undefined, number | null | undefined, (v: number) => string][] = [
      ["RSS idle (MiB)", eo?.rssIdleBytes ?? em?.rssIdleBytes, ko?.rssIdleBytes ?? km?.rssIdleBytes, mib],
      ["RSS loaded (MiB)", eo?.rssLoadedBytes, ko?.rssLoadedBytes, mib],
      ["disk du loaded (MiB)", eo?.diskLoaded?.allocated, ko?.diskLoaded?.allocated, mib],
      ["disk apparent (MiB)", eo?.diskLoaded?.apparent, ko?.diskLoaded?.apparent, mib],
      ["load (keys/s)", eo?.keysPerSec, ko?.keysPerSec, (v) => fmtRate(v)],
    ];
    out.push(
      table(
        [`memory/disk: ${cfg.keys} keys x ${cfg.valueBytes} B`, "etcd", "tk8s", "ratio"],
        rowsM.map(([name, a, b, f]) => [
          name,
          a === null || a === undefined ? "n/a" : f(a),
          b === null || b === undefined ? "n/a" : f(b),
          fmtRatio(b, a),
        ]),
        1,
      ),
    );
    out.push(
      `loaded with txns of ${cfg.batch} puts, ${cfg.loadConcurrency} in flight, into a fresh server; ` +
        "RSS = VmRSS of the server process (+ any child processes); disk = recursive du of its data dir (WAL preallocation included).",
    );
    for (const [t, m] of [["etcd", em], ["tk8s", km]] as const) if (m?.error) out.push(`  ${t} memory: ${m.error}`);
    out.push("");
  }
  return out.join("\n");
}

function etcdVersionLine(bin: string): string | null {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 }).split("\n")[0]!.trim();
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  let cfg: Config | null;
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${errMsg(e)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (cfg === null) return;
  keepTemp = cfg.keep;
  fs.mkdirSync(cfg.tmpDir, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(cfg.tmpDir, "tk8s-bench-"));
  tempDirs.add(runDir);
  if (cfg.keep) log(`bench: data dirs and logs kept in ${runDir}`);

  const results = new Map<Target, TargetResult>();
  const startedAt = new Date().toISOString();
  for (const t of cfg.targets) results.set(t, await runTarget(t, cfg, runDir));

  const text = report(cfg, results);
  process.stdout.write(`\n${text}`);
  if (cfg.json) {
    const raw = {
      startedAt,
      finishedAt: new Date().toISOString(),
      config: cfg,
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        memBytes: os.totalmem(),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        etcdBinVersion: cfg.targets.includes("etcd") ? etcdVersionLine(cfg.etcdBin) : null,
      },
      targets: Object.fromEntries(results),
    };
    fs.writeFileSync(cfg.json, `${JSON.stringify(raw, null, 2)}\n`);
    log(`bench: raw results written to ${cfg.json}`);
  }
  if ([...results.values()].every((r) => r.error !== null)) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
