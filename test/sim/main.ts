/**
 * The simulator's command line:
 *
 *   node dist/test/sim/main.js --seeds 1000 [--first 1] [--members 3|5|7] [--steps 3000] [--member etcd|raft-core|etcd-harsh-backend]
 *                              [--operator all|no-joins|none] [--no-disk-latency]
 *   node dist/test/sim/main.js --seed 42 --trace        # replay one seed, print the tail of its trace
 *
 * Prints seeds/s and the violations; each failing seed prints `SIM_SEED=n` and what the checkers said.
 * Exit code 1 if any seed failed. `SIM_SEED=n` in the environment replays that seed as `--seed n`.
 */
import { DEFAULT_FACTORY, runSeed, type RunResult } from "./run.js";
import { factoryNamed } from "./factories.js";
import { OPERATOR_DEFAULTS } from "./operator.js";
import { FAULT_DEFAULTS } from "./fault_schedule.js";

interface Args {
  seeds: number;
  first: number;
  seed: number | null;
  members: number;
  steps: number;
  member: string;
  trace: boolean;
  operator: string;
  diskLatency: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seeds: 100, first: 1, seed: null, members: 3, steps: 3000, member: DEFAULT_FACTORY.name, trace: false, operator: "all", diskLatency: true };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`Cannot parse ${flag}: expected a whole number: current value is ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    if (f === "--seeds") a.seeds = num(f, argv[++i]);
    else if (f === "--first") a.first = num(f, argv[++i]);
    else if (f === "--seed") a.seed = num(f, argv[++i]);
    else if (f === "--members") a.members = num(f, argv[++i]);
    else if (f === "--steps") a.steps = num(f, argv[++i]);
    else if (f === "--member") a.member = argv[++i] ?? "";
    else if (f === "--trace") a.trace = true;
    else if (f === "--operator") a.operator = argv[++i] ?? "";
    else if (f === "--no-disk-latency") a.diskLatency = false;
    else throw new Error(`Cannot parse arguments: unknown flag ${f}`);
  }
  if (![3, 5, 7].includes(a.members)) throw new Error(`Cannot run: --members must be 3, 5 or 7: current value is ${a.members}`);
  if (!["all", "no-joins", "none"].includes(a.operator)) throw new Error(`Cannot run: --operator must be all, no-joins or none: current value is ${a.operator}`);
  if (a.seed === null && process.env["SIM_SEED"] !== undefined) a.seed = num("SIM_SEED", process.env["SIM_SEED"]);
  return a;
}

function report(r: RunResult, trace: boolean): void {
  console.log(`SIM_SEED=${r.seed} FAILED (members run ${r.virtualMs} virtual ms; ${r.operations} ops, ${r.crashes} crashes, trace ${r.traceHash})`);
  for (const v of r.violations) console.log(`  ${v.replaceAll("\n", "\n  ")}`);
  if (trace) for (const line of r.traceTail) console.log(`  | ${line}`);
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  const factory = factoryNamed(a.member);
  const seeds = a.seed !== null ? [a.seed] : Array.from({ length: a.seeds }, (_, i) => a.first + i);
  const started = performance.now();
  let failed = 0;
  let ops = 0;
  let unchecked = 0;
  let partitioned = 0;
  let snapshots = 0;
  let crashes = 0;
  let elections = 0;
  const admin = { added: 0, removed: 0, promoted: 0, transfers: 0, compactions: 0, failed: 0 };
  const leases = { puts: 0, expiring: 0, revokes: 0 };
  for (const seed of seeds) {
    const r = await runSeed({
      seed,
      members: a.members,
      steps: a.steps,
      factory,
      operator: a.operator === "none" ? null : a.operator === "no-joins" ? { ...OPERATOR_DEFAULTS, addsMax: 0 } : OPERATOR_DEFAULTS,
      ...(a.diskLatency ? {} : { cluster: { diskLatency: null }, faults: { ...FAULT_DEFAULTS, slowDiskSyncMs: [] } }),
    });
    ops += r.operations;
    snapshots += r.snapshotsSent;
    crashes += r.crashes;
    elections += r.elections;
    for (const k of Object.keys(leases) as (keyof typeof leases)[]) leases[k] += r.leases[k];
    if (r.admin !== null) for (const k of Object.keys(admin) as (keyof typeof admin)[]) admin[k] += r.admin[k];
    if (r.checkMode === "unknown") unchecked++;
    if (r.checkMode === "partitioned") partitioned++;
    if (r.violations.length > 0) {
      failed++;
      report(r, a.trace);
    } else if (a.seed !== null) {
      console.log(`SIM_SEED=${seed} ok: ${r.operations} ops (${r.ok} ok, ${r.failed} failed, ${r.unknown} unknown), revision ${r.finalRevision}, ${r.elections} leaders, ${r.crashes} crashes, ${r.faults} faults, trace ${r.traceHash}`);
      if (a.trace) for (const line of r.traceTail) console.log(`  | ${line}`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `${seeds.length} seeds (${a.members} members, ${a.member}, ${a.steps} ms each, operator ${a.operator}${a.diskLatency ? "" : ", instant disks"}) in ${secs.toFixed(1)} s: ${(seeds.length / secs).toFixed(1)} seeds/s, ` +
      `${ops} client ops, ${elections} leaders, ${crashes} crashes, ${snapshots} snapshots sent, ${failed} with violations, ${partitioned} checked per key (exact search out of budget), ${unchecked} undecided; ` +
      `leases: ${leases.puts} puts with a lease (${leases.expiring} expiring), ${leases.revokes} revokes; ` +
      `operator: ${admin.added} added, ${admin.promoted} promoted, ${admin.removed} removed, ${admin.transfers} leader transfers, ${admin.compactions} compactions, ${admin.failed} refused or timed out`,
  );
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Bad flags are one clear line; anything else is a bug in the simulator, shown whole.
    console.error(err instanceof Error && err.message.startsWith("Cannot ") ? `sim: ${err.message}` : err);
    process.exit(2);
  },
);
