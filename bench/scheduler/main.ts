/**
 * bench/scheduler: how many pods per second our kube-scheduler binds onto 100, 1000 and 5000 nodes that
 * exist only as API objects, as upstream's scheduler_perf measures it (SchedulingBasic,
 * SchedulingPodAntiAffinity, SchedulingPodAffinity, SchedulingPreferredPodAffinity, TopologySpreading).
 * An API-only `tk8s server` runs as a child process; the scheduler (KubeScheduler with its informers,
 * wired as src/cmd/server.ts does) runs in this process, against that server, with a client of its own.
 * For each node count the nodes are created once; for each shape a fresh scheduler starts and `init`
 * pods are created and bound; then two measured phases (see runCase): `precreated` (the scheduler's own
 * throughput over a full queue) and `concurrent` (pods created a few at a time while it runs). A phase
 * is timed from its start to the last binding this process's watch sees. Target (issue 5): ≥ 500
 * pods/s at 1000 nodes, basic.
 *
 *   node dist/bench/scheduler/main.js [--nodes 100,1000,5000] [--shape basic,spread,…|all] [--pods N] [--init-pods N]
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Namespace, Node, Pod } from "kubernetes-types/core/v1.js";
import { startApiServer, type ApiServerProcess } from "../../test/harness/apiserver_process.js";
import { loadKubeconfig } from "../../src/client/kubeconfig.js";
import { RestClient, type ResourceClient, type RestClientOptions } from "../../src/client/rest_client.js";
import { InformerFactory } from "../../src/client/informer_factory.js";
import { DEFAULT_SCHEDULER_NAME, KubeScheduler } from "../../src/scheduler/kube_scheduler.js";
import { ApiEventRecorder } from "../../src/controllers/events/recorder.js";
import { newNodeEnv, type LogLevel } from "../../src/platform/node/node_env.js";
import { benchNode, benchPod, defaultCounts, isShape, SHAPES, type Shape } from "./workloads.js";
import { phaseFigures, type PhaseFigures } from "./stats.js";

const TARGET_PODS_PER_SECOND = 500;
const TARGET_NODES = 1000;
const PHASE_TIMEOUT_MS_DEFAULT = 300_000;
const CREATE_CONCURRENCY_DEFAULT = 16;
const NODE_CREATE_CONCURRENCY = 32;
const PROGRESS_INTERVAL_MS = 2000;
const WATCH_RESTARTS_MAX = 20;

interface Config {
  readonly nodes: readonly number[];
  readonly shapes: readonly Shape[];
  readonly pods: number | null;
  readonly initPods: number | null;
  readonly createConcurrency: number;
  readonly phaseTimeoutMs: number;
  readonly schedulerLogLevel: LogLevel;
  readonly modes: readonly Mode[];
  /** RestClient socketsMax for the bench's and the scheduler's clients; null: the client's default. */
  readonly clientSockets: number | null;
}

function clientOptions(cfg: Config): RestClientOptions {
  return cfg.clientSockets === null ? {} : { socketsMax: cfg.clientSockets };
}

const HELP = `usage: node dist/bench/scheduler/main.js [flags]
  --nodes LIST              node counts, comma-separated (default 100,1000,5000)
  --shape LIST|all          ${SHAPES.join(", ")} (default all)
  --pods N                  measured pods per case (default: by shape and node count, see README)
  --init-pods N             pods bound before the measured phase (default: by shape and node count)
  --create-concurrency N    pod creates in flight (default ${CREATE_CONCURRENCY_DEFAULT})
  --timeout-s N             give up on a phase after N seconds (default ${PHASE_TIMEOUT_MS_DEFAULT / 1000})
  --mode LIST|both          precreated (pods exist before the scheduler starts: its throughput alone),
                            concurrent (created while it runs: create → bound latency) (default both)
  --client-sockets N        sockets per client (RestClient socketsMax; default the client's own)
  --scheduler-log-level L   the in-process scheduler's log level (default error)`;

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string" },
      shape: { type: "string" },
      pods: { type: "string" },
      "init-pods": { type: "string" },
      "create-concurrency": { type: "string" },
      "timeout-s": { type: "string" },
      "scheduler-log-level": { type: "string" },
      mode: { type: "string" },
      "client-sockets": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help === true) {
    console.log(HELP);
    process.exit(0);
  }
  const positive = (flag: string, v: string | undefined, dflt: number | null): number | null => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`Cannot run as '--${flag}' must be a non-negative integer: current value is ${v}`);
    return n;
  };
  const nodes = (values.nodes ?? "100,1000,5000").split(",").map((s) => positive("nodes", s.trim(), 0)!);
  const shapeArg = values.shape ?? "all";
  const shapes = shapeArg === "all" ? SHAPES : shapeArg.split(",").map((s) => s.trim());
  for (const s of shapes) if (!isShape(s)) throw new Error(`Cannot run as '--shape' must be one of ${SHAPES.join(", ")}, all: current value is ${s}`);
  const modeArg = values.mode ?? "both";
  const modes = modeArg === "both" ? MODES : modeArg.split(",").map((m) => m.trim());
  for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new Error(`Cannot run as '--mode' must be one of ${MODES.join(", ")}, both: current value is ${m}`);
  return {
    modes: modes as Mode[],
    clientSockets: positive("client-sockets", values["client-sockets"], null),
    nodes,
    shapes: shapes as Shape[],
    pods: positive("pods", values.pods, null),
    initPods: positive("init-pods", values["init-pods"], null),
    createConcurrency: Math.max(1, positive("create-concurrency", values["create-concurrency"], CREATE_CONCURRENCY_DEFAULT)!),
    phaseTimeoutMs: positive("timeout-s", values["timeout-s"], PHASE_TIMEOUT_MS_DEFAULT / 1000)! * 1000,
    schedulerLogLevel: (values["scheduler-log-level"] ?? "error") as LogLevel,
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench/scheduler ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The server child's pid, found by its data dir on its command line (the harness does not expose it). */
function serverPid(server: ApiServerProcess): number | null {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes(server.dataDir) && cmd.includes("server")) return Number(d);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return null;
}

/** utime+stime of a process in seconds (clock ticks of 100 Hz, as on Linux). */
function processCpuSeconds(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight; the first error stops it. */
async function forEachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function createNodes(client: RestClient, count: number): Promise<void> {
  const nodes = client.resource<Node>("", "v1", "nodes");
  const started = performance.now();
  let done = 0;
  let lastLog = started;
  await forEachLimited(Array.from({ length: count }, (_, i) => i), NODE_CREATE_CONCURRENCY, async (i) => {
    const want = benchNode(i);
    const got = await nodes.create(want);
    // A server that drops status on create would leave the node without allocatable: set it then.
    if (got.status?.allocatable?.cpu === undefined) await nodes.updateStatus({ ...got, status: want.status! });
    done++;
    const now = performance.now();
    if (now - lastLog >= PROGRESS_INTERVAL_MS) {
      lastLog = now;
      log(`nodes: ${done}/${count} created (${((done * 1000) / (now - started)).toFixed(0)}/s)`);
    }
  });
  log(`nodes: ${count} created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Watches the namespace's pods and stamps the first time each is seen bound; restarts a watch that ends. */
class BindingWatcher {
  readonly boundMs = new Map<string, number>();
  #stopped = false;
  #stop: (() => void) | null = null;
  #waiters: { count: () => number; want: number; resolve: () => void }[] = [];
  readonly #pods: ResourceClient<Pod>;
  #done: Promise<void> = Promise.resolve();

  constructor(pods: ResourceClient<Pod>) {
    this.#pods = pods;
  }

  async start(): Promise<void> {
    const list = await this.#pods.list({ labelSelector: "bench=scheduler" });
    let rv = list.metadata?.resourceVersion ?? "";
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    this.#done = (async () => {
      for (let restarts = 0; !this.#stopped && restarts <= WATCH_RESTARTS_MAX; restarts++) {
        const w = await this.#pods.watch({ labelSelector: "bench=scheduler", resourceVersion: rv });
        this.#stop = () => w.stop();
        ready();
        for await (const ev of w) {
          if (ev.type === "ERROR") throw new Error(`bench watch failed: ${JSON.stringify(ev.object)}`);
          const p = ev.object as Pod;
          rv = p.metadata?.resourceVersion ?? rv;
          const name = p.metadata?.name ?? "";
          if ((p.spec?.nodeName ?? "") !== "" && !this.boundMs.has(name)) {
            this.boundMs.set(name, performance.now());
            this.#check();
          }
        }
      }
    })();
    await started;
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (w.count() < w.want) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves true once `count()` reaches `want`, false after `timeoutMs`. */
  waitFor(count: () => number, want: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push({ count, want, resolve: () => { clearTimeout(timer); resolve(true); } });
      this.#check();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop?.();
    await this.#done.catch(() => undefined);
  }
}

type Mode = "concurrent" | "precreated";
const MODES: readonly Mode[] = ["precreated", "concurrent"];

interface CaseResult {
  readonly shape: Shape;
  readonly nodes: number;
  readonly mode: Mode;
  readonly init: number;
  readonly figures: PhaseFigures;
  readonly createPerSecond: number | null;
  readonly benchCpuPercent: number;
  readonly serverCpuPercent: number | null;
  readonly timedOut: boolean;
}

async function createPods(pods: ResourceClient<Pod>, shape: Shape, names: readonly string[], concurrency: number, createdMs: Map<string, number> | null, label: string): Promise<void> {
  const started = performance.now();
  let lastLog = started;
  let done = 0;
  await forEachLimited(names, concurrency, async (name) => {
    const t = performance.now();
    await pods.create(benchPod(shape, name));
    createdMs?.set(name, t);
    done++;
    const now = performance.now();
    if (now - lastLog >= PROGRESS_INTERVAL_MS) {
      lastLog = now;
      log(`${label}: ${done}/${names.length} created`);
    }
  });
}

/** Our KubeScheduler with informers and an event recorder, on a client of its own, as if it were its own process. */
class BenchScheduler {
  readonly #client: RestClient;
  readonly #informers: InformerFactory;
  readonly #recorder: ApiEventRecorder;
  readonly #scheduler: KubeScheduler;
  #loop: Promise<void> | null = null;

  constructor(server: ApiServerProcess, cfg: Config) {
    const env = newNodeEnv({ logLevel: cfg.schedulerLogLevel, logFields: { component: "bench-scheduler" } });
    this.#client = new RestClient(loadKubeconfig(server.kubeconfig, { component: "kube-scheduler" }), clientOptions(cfg));
    this.#informers = new InformerFactory(env, this.#client);
    // Our own recorder (the scheduler's default is the same kind) so its queue can be drained before the client closes.
    this.#recorder = new ApiEventRecorder(env, this.#client, { component: DEFAULT_SCHEDULER_NAME });
    this.#scheduler = new KubeScheduler({ env, client: this.#client, informers: this.#informers, recorder: this.#recorder });
    this.#scheduler.init();
  }

  /** Lists and watches; resolves when the informers are synced (every pending pod is queued). */
  async sync(): Promise<void> {
    this.#informers.start();
    if (!(await this.#informers.waitForCacheSync({ timeoutMs: 60_000 }))) throw new Error("scheduler informers did not sync in 60 s");
  }

  run(): void {
    this.#loop = this.#scheduler.run();
  }

  async stop(): Promise<void> {
    this.#scheduler.stop();
    await this.#loop?.catch(() => undefined);
    await this.#recorder.flush();
    await this.#informers.shutdown();
    this.#client.close();
  }
}

interface PhaseInput {
  readonly label: string;
  readonly names: readonly string[];
  readonly watcher: BindingWatcher;
  readonly pid: number | null;
  readonly timeoutMs: number;
  /** Starts the phase's work; resolves when every create is sent. The phase clock starts just before. */
  readonly start: (createdMs: Map<string, number>) => Promise<void>;
}

async function measurePhase(p: PhaseInput): Promise<{ figures: PhaseFigures; createPerSecond: number; benchCpuPercent: number; serverCpuPercent: number | null; timedOut: boolean }> {
  const want = new Set(p.names);
  const bound = (): number => {
    let n = 0;
    for (const k of p.watcher.boundMs.keys()) if (want.has(k)) n++;
    return n;
  };
  const createdMs = new Map<string, number>();
  const progress = setInterval(() => log(`${p.label}: ${createdMs.size}/${p.names.length} created, ${bound()} bound`), PROGRESS_INTERVAL_MS);
  const cpu0 = process.cpuUsage();
  const srv0 = processCpuSeconds(p.pid);
  const t0 = performance.now();
  let createdAt = t0;
  const creating = p.start(createdMs).then(() => (createdAt = performance.now()));
  const ok = await p.watcher.waitFor(bound, p.names.length, p.timeoutMs);
  await creating;
  const t1 = performance.now();
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  const srv1 = processCpuSeconds(p.pid);
  const wallMs = t1 - t0;
  const boundMs = new Map([...p.watcher.boundMs].filter(([k]) => want.has(k)));
  return {
    figures: phaseFigures({ createdMs, boundMs }),
    createPerSecond: (p.names.length * 1000) / Math.max(1, createdAt - t0),
    benchCpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    serverCpuPercent: srv0 === null || srv1 === null ? null : (((srv1 - srv0) * 1000) / wallMs) * 100,
    timedOut: !ok,
  };
}

/**
 * One shape on the node set: init pods bound by a first scheduler, then
 *  - concurrent: measured pods created while that scheduler runs (latency = create → bound);
 *  - precreated: the scheduler stopped, measured pods created, a fresh scheduler started over all of
 *    them (scheduler_perf's steady queue: throughput is the scheduler's alone; latency = scheduler
 *    start → bound, time spent waiting in the queue included).
 */
async function runCase(server: ApiServerProcess, pid: number | null, benchClient: RestClient, cfg: Config, shape: Shape, nodeCount: number): Promise<CaseResult[]> {
  const counts = defaultCounts(shape, nodeCount, cfg.modes.length);
  const init = cfg.initPods ?? counts.init;
  const measured = cfg.pods ?? counts.measured;
  const ns = `bench-${shape}`;
  const label = `${shape}/${nodeCount} nodes`;
  await benchClient.resource<Namespace>("", "v1", "namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const pods = benchClient.resource<Pod>("", "v1", "pods").namespace(ns);
  const watcher = new BindingWatcher(pods);
  await watcher.start();
  const results: CaseResult[] = [];
  let sched: BenchScheduler | null = new BenchScheduler(server, cfg);
  try {
    await sched.sync();
    sched.run();
    const initNames = Array.from({ length: init }, (_, i) => `init-${i}`);
    await createPods(pods, shape, initNames, cfg.createConcurrency, null, `${label} init`);
    const initOk = await watcher.waitFor(() => initNames.filter((n) => watcher.boundMs.has(n)).length, init, cfg.phaseTimeoutMs);
    if (!initOk) log(`${label}: only ${initNames.filter((n) => watcher.boundMs.has(n)).length}/${init} init pods bound in ${cfg.phaseTimeoutMs / 1000} s`);
    else log(`${label}: ${init} init pods bound`);

    if (cfg.modes.includes("concurrent")) {
      const names = Array.from({ length: measured }, (_, i) => `c-${i}`);
      log(`${label}: concurrent phase, ${measured} pods`);
      const r = await measurePhase({
        label: `${label} concurrent`, names, watcher, pid, timeoutMs: cfg.phaseTimeoutMs,
        start: (createdMs) => createPods(pods, shape, names, cfg.createConcurrency, createdMs, `${label} concurrent`),
      });
      results.push({ shape, nodes: nodeCount, mode: "concurrent", init, ...r });
      log(row(results.at(-1)!));
    }
    await sched.stop();
    sched = null;

    if (cfg.modes.includes("precreated")) {
      const names = Array.from({ length: measured }, (_, i) => `p-${i}`);
      log(`${label}: precreated phase, creating ${measured} pods with no scheduler running`);
      await createPods(pods, shape, names, cfg.createConcurrency, null, `${label} precreated`);
      sched = new BenchScheduler(server, cfg);
      await sched.sync();
      const s = sched;
      const r = await measurePhase({
        label: `${label} precreated`, names, watcher, pid, timeoutMs: cfg.phaseTimeoutMs,
        start: async (createdMs) => {
          const t = performance.now();
          for (const n of names) createdMs.set(n, t);
          s.run();
        },
      });
      results.push({ shape, nodes: nodeCount, mode: "precreated", init, ...r, createPerSecond: null });
      log(row(results.at(-1)!));
    }
    return results;
  } finally {
    await sched?.stop();
    await watcher.stop();
    // Gone at once (no kubelet to confirm): the next shape starts on empty nodes.
    await pods.deleteCollection({}, { gracePeriodSeconds: 0 });
    const left = await pods.list({});
    if (left.items.length > 0) log(`${label}: ${left.items.length} pods still present after delete`);
  }
}

function row(r: CaseResult): string {
  const f = r.figures;
  const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : "-");
  return `| ${r.shape} | ${r.nodes} | ${r.mode} | ${r.init} | ${f.bound}/${f.pods}${r.timedOut ? " (timeout)" : ""} | ${fmt(f.podsPerSecond)} | ${fmt(f.windowAveragePodsPerSecond)} | ${fmt(f.p50Ms)} | ${fmt(f.p99Ms)} | ${r.createPerSecond === null ? "-" : fmt(r.createPerSecond)} | ${fmt(r.benchCpuPercent)}% | ${r.serverCpuPercent === null ? "-" : fmt(r.serverCpuPercent) + "%"} |`;
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  const results: CaseResult[] = [];
  for (const nodeCount of cfg.nodes) {
    const server = await startApiServer();
    const pid = serverPid(server);
    const client = new RestClient(loadKubeconfig(server.kubeconfig, { component: "bench-scheduler" }), clientOptions(cfg));
    try {
      log(`server ${server.url} (pid ${pid ?? "?"}); creating ${nodeCount} nodes`);
      await createNodes(client, nodeCount);
      for (const shape of cfg.shapes) {
        results.push(...(await runCase(server, pid, client, cfg, shape, nodeCount)));
      }
    } finally {
      client.close();
      await server.stop();
    }
  }
  console.log(`scheduler throughput (target ≥ ${TARGET_PODS_PER_SECOND} pods/s at ${TARGET_NODES} nodes, basic). Latency: concurrent = create → bound seen by a watch; precreated = scheduler start → bound`);
  console.log("| shape | nodes | mode | init pods | bound/measured | pods/s | pods/s (1 s windows) | p50 ms | p99 ms | creates/s | bench CPU | server CPU |");
  console.log("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) console.log(row(r));
  for (const target of results.filter((r) => r.shape === "basic" && r.nodes === TARGET_NODES)) {
    const v = target.figures.podsPerSecond;
    console.log(`basic at ${TARGET_NODES} nodes, ${target.mode}: ${v.toFixed(0)} pods/s — ${v >= TARGET_PODS_PER_SECOND ? "meets" : "misses"} the ≥ ${TARGET_PODS_PER_SECOND} target (${(v / TARGET_PODS_PER_SECOND).toFixed(2)}×)`);
  }
}

await main();
