/**
 * One simulation run from one seed: start the cluster, run clients and faults for `steps` ms of virtual
 * time, quiesce (stop faults, heal, restart everyone, let clients finish, one final write through the
 * leader, wait until every member applied it), then judge: Raft's properties from the observer hooks,
 * the client history (linearizable, revisions, the watch), convergence (equal hashes on all members).
 */
import { SimCluster, type SimClusterOptions } from "./cluster.js";
import { FaultSchedule, FAULT_DEFAULTS, type FaultOptions } from "./fault_schedule.js";
import { checkKvHistory } from "./kv_check.js";
import { etcdMemberFactory } from "./etcd_member.js";
import type { SimMemberFactory } from "./sim_member.js";
import type { KvOutput } from "./kv_model.js";
import { Workload, WORKLOAD_DEFAULTS, type WorkloadOptions } from "./workload.js";
import { Operator, OPERATOR_DEFAULTS, type OperatorOptions, type OperatorStats } from "./operator.js";

export interface RunOptions {
  readonly seed: number;
  readonly members?: number;
  /** Virtual ms of clients and faults before quiescing. */
  readonly steps?: number;
  readonly factory?: SimMemberFactory;
  readonly faults?: FaultOptions | null;
  readonly workload?: WorkloadOptions;
  /** Membership changes, leader transfers and compactions (for members with `admin`); null: none. */
  readonly operator?: OperatorOptions | null;
  readonly cluster?: Partial<Omit<SimClusterOptions, "seed" | "members" | "factory">>;
}

export interface RunResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly traceHash: string;
  readonly traceTail: readonly string[];
  readonly operations: number;
  readonly ok: number;
  readonly failed: number;
  readonly unknown: number;
  readonly finalRevision: number;
  readonly elections: number;
  readonly crashes: number;
  readonly faults: number;
  /** Snapshots delivered to followers. */
  readonly snapshotsSent: number;
  /** How the history was checked: exact, or partitioned when the exact search ran out of budget; unknown if neither decided. */
  readonly checkMode: string;
  readonly virtualMs: number;
  readonly admin: OperatorStats | null;
  /** Acknowledged puts with a lease (and of them with one that may expire in the run), acknowledged revokes. */
  readonly leases: { readonly puts: number; readonly expiring: number; readonly revokes: number };
}

/** Bounds the quiesce phase: a cluster that has not converged by then has a liveness problem. */
export const QUIESCE_MS_MAX = 20_000;

/**
 * The member the simulator runs by default: the real EtcdServer. The one place to switch (to
 * `raftKvMemberFactory` for the pure Raft core alone).
 */
export const DEFAULT_FACTORY: SimMemberFactory = etcdMemberFactory;

export async function runSeed(options: RunOptions): Promise<RunResult> {
  // A promise rejected with no handler inside a member is a bug of this run, not a reason to kill the
  // whole batch: it ends the run and is reported with the seed.
  let current: SimCluster | null = null;
  const onUnhandled = (err: unknown) => current?.abort("an unhandled promise rejection", err);
  process.on("unhandledRejection", onUnhandled);
  try {
    current = new SimCluster({ seed: options.seed, members: options.members ?? 3, factory: options.factory ?? DEFAULT_FACTORY, ...options.cluster });
    return await runCluster(current, options);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
}

async function runCluster(c: SimCluster, options: RunOptions): Promise<RunResult> {
  const violations: string[] = [];
  const workload = new Workload(c, options.workload ?? WORKLOAD_DEFAULTS);
  const faults = options.faults === null ? null : new FaultSchedule(c, options.faults ?? FAULT_DEFAULTS);
  const operator = options.operator === null ? null : new Operator(c, () => workload.watchNext, options.operator ?? OPERATOR_DEFAULTS);
  await c.start();
  workload.start();
  faults?.start();
  operator?.start();
  await c.runFor(options.steps ?? 3000);

  // Quiesce.
  await faults?.stop();
  workload.stop();
  operator?.stop();
  const clientsDone = await c.runUntil(() => workload.idle && (operator?.idle ?? true), c.options.requestTimeoutMs * 4);
  if (!clientsDone) violations.push("liveness: clients still waiting after the faults stopped");
  await c.restartAll();
  let finalRevision = -1;
  const finalClient = (options.workload ?? WORKLOAD_DEFAULTS).clients;
  // A write through the leader commits an entry of its term, so every member can apply everything.
  for (let attempt = 0; attempt < 20 && finalRevision < 0 && !c.aborted; attempt++) {
    const leader = (await c.runUntil(() => c.leader() !== null, c.options.electionMs * 20)) ? c.leader() : null;
    if (leader === null) continue;
    // The request waits on virtual time, so time must run while it is in flight.
    let settled = false;
    let out: KvOutput | null = null;
    void workload.request(finalClient, leader, { kind: "put", key: "k0", value: `final-${attempt}` }).then(
      (o) => ((out = o), (settled = true)),
      (err: unknown) => c.abort("the final write", err),
    );
    await c.runUntil(() => settled, c.options.requestTimeoutMs * 2);
    const o = out as KvOutput | null;
    if (o !== null && o.kind === "put") finalRevision = o.revision;
  }
  if (finalRevision < 0) {
    violations.push(`liveness: no leader accepted a write after healing (${c.up().length}/${c.active().length} members up; ${c.active().map((s) => `${s.name}:${s.member === null ? "down" : `t${s.member.term()} lead ${s.member.leaderId()} applied ${s.member.appliedIndex()}`}`).join(" ")})`);
  } else {
    // Actions that timed out may have taken effect: the members that must converge are the cluster's.
    const admin = c.leader()?.member?.admin;
    if (operator !== null && admin !== undefined) {
      operator.reconcile(admin);
      await c.restartAll();
    }
    // Writes may still come after the final one (a lease expiring: the leader revokes it), so the members
    // are compared once they all applied the same log prefix; no time passes while the hashes are taken.
    const sameApplied = (): boolean => new Set(c.active().map((s) => s.member!.appliedIndex())).size === 1;
    const converged = await c.runUntil(
      () => c.up().length === c.active().length && c.active().every((s) => s.member!.revision() >= finalRevision) && workload.watchNext > finalRevision && sameApplied(),
      QUIESCE_MS_MAX,
    );
    if (!converged) {
      violations.push(`liveness: members did not converge on revision ${finalRevision}: ${c.active().map((s) => `${s.name}:${s.member === null ? "down" : `rev ${s.member.revision()} applied ${s.member.appliedIndex()}`}`).join(" ")}; watch at ${workload.watchNext}`);
    } else {
      const hashes = await Promise.all(c.active().map(async (s) => `${s.name}=${(await s.member!.hash()).toString(16)}`));
      if (new Set(hashes.map((h) => h.split("=")[1])).size !== 1) violations.push(`convergence: members' hashes differ after quiescing: ${hashes.join(" ")}`);
    }
  }

  for (const v of c.checker.violations) violations.push(`raft ${v.property}: ${v.message}`);
  for (const e of c.errors) violations.push(`member: ${e}`);
  const watch = workload.recordedWatch(finalRevision > 0 && workload.watchNext > finalRevision ? finalRevision : undefined);
  const history = workload.recorder.history();
  const r = checkKvHistory(history, { watches: [watch] });
  if (r.verdict === "illegal") violations.push(`history (${r.mode}):\n${r.text}`);
  for (const s of c.up()) s.member!.crash();
  return {
    seed: options.seed,
    violations,
    traceHash: c.trace.hex(),
    traceTail: c.trace.tail(),
    operations: history.length,
    ok: workload.ok,
    failed: workload.failed,
    unknown: workload.unknown,
    finalRevision,
    elections: c.checker.elections,
    crashes: c.slots.reduce((n, s) => n + s.crashes, 0),
    faults: faults?.faults ?? 0,
    snapshotsSent: c.network.stats.snapshots,
    checkMode: r.verdict === "unknown" ? "unknown" : r.mode,
    virtualMs: c.clock.nowMs(),
    admin: operator === null ? null : { ...operator.stats },
    leases: { ...workload.leases },
  };
}
