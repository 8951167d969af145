/**
 * kube-proxy's iptables mode (upstream pkg/proxy/iptables Proxier): on every sync it reads the current
 * Services and EndpointSlices (from the informers' caches), builds the whole rule set and applies it with
 * one `iptables-restore --noflush`. Syncs are batched by a BoundedFrequencyRunner (--iptables-min-sync-period,
 * --iptables-sync-period). The jumps from the built-in chains (PREROUTING, OUTPUT, POSTROUTING, INPUT,
 * FORWARD) are checked with `iptables -C` and inserted when missing, on every full sync.
 */
import type { Env } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { BoundedFrequencyRunner } from "./bounded_frequency_runner.js";
import {
  KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_IPTABLES_HINT, KUBE_MARK_MASQ, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL,
  KUBE_SERVICES, PER_SERVICE_PREFIXES,
} from "./chain_names.js";
import type { Iptables, Table } from "./iptables.js";
import { buildIptablesRules, chainsInSave, renderRestoreData, type IptablesRuleSet, type IptablesRulesConfig } from "./iptables_rules.js";
import type { ProxyMetrics } from "./metrics.js";
import type { ProxierHealth } from "./proxier_health.js";
import type { ProxyState } from "./service_port.js";

/** A jump from a built-in chain into one of ours (upstream iptablesJumpChains). */
export interface JumpRule {
  readonly table: Table;
  readonly from: string;
  readonly to: string;
  readonly args: readonly string[];
}

function jump(table: Table, to: string, from: string, comment: string, extra: readonly string[] = []): JumpRule {
  return { table, from, to, args: [...extra, "-m", "comment", "--comment", comment, "-j", to] };
}
const NEW = ["-m", "conntrack", "--ctstate", "NEW"];

/** Upstream's jumps, in its order (each is prepended, so the last listed per chain ends up first). */
export const JUMP_RULES: readonly JumpRule[] = [
  jump("filter", KUBE_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals", NEW),
  jump("filter", KUBE_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals", NEW),
  jump("filter", KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports"),
  jump("filter", KUBE_SERVICES, "FORWARD", "kubernetes service portals", NEW),
  jump("filter", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", NEW),
  jump("filter", KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules"),
  jump("filter", KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", NEW),
  jump("filter", KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", NEW),
  jump("filter", KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", NEW),
  jump("nat", KUBE_SERVICES, "OUTPUT", "kubernetes service portals"),
  jump("nat", KUBE_SERVICES, "PREROUTING", "kubernetes service portals"),
  jump("nat", KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules"),
];

export interface IptablesProxierOptions extends IptablesRulesConfig {
  /** --iptables-min-sync-period (upstream default 1 s). */
  readonly minSyncPeriodMs: number;
  /** --iptables-sync-period (upstream default 30 s). */
  readonly syncPeriodMs: number;
}

/** After a failed restore, try again this soon (upstream: the min sync period; we bound it below too). */
const RETRY_AFTER_FAILURE_MS_MIN = 1_000;
/**
 * Upstream's FullSyncPeriod: at least this often every chain is rewritten and the jumps re-checked,
 * repairing whatever someone else changed. Between full syncs only changed service chains are written.
 */
export const FULL_SYNC_PERIOD_MS = 3_600_000;

export class IptablesProxier {
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #ipt: Iptables;
  readonly #source: () => ProxyState;
  readonly #metrics: ProxyMetrics;
  readonly #health: ProxierHealth;
  readonly #o: IptablesProxierOptions;
  readonly #runner: BoundedFrequencyRunner;
  #lastFullSyncMs = -Infinity;
  #needFullSync = true;
  /** The rule set of the last successful restore: what is on the node now. */
  lastRuleSet: IptablesRuleSet | null = null;
  /** Syncs that succeeded (tests wait on this), and how many of them were full. */
  syncs = 0;
  fullSyncs = 0;
  /** The last restore input applied (for debugging). */
  lastRestoreData = "";

  constructor(env: Pick<Env, "clock" | "log">, ipt: Iptables, source: () => ProxyState, deps: { metrics: ProxyMetrics; health: ProxierHealth }, options: IptablesProxierOptions) {
    this.#env = env;
    this.#ipt = ipt;
    this.#source = source;
    this.#metrics = deps.metrics;
    this.#health = deps.health;
    this.#o = options;
    this.#runner = new BoundedFrequencyRunner(env.clock, () => this.syncProxyRules(), {
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      burstRuns: 2,
    });
  }

  /** Starts the periodic syncs and asks for the first one. */
  start(): void {
    this.#runner.start();
    this.requestSync();
  }

  /** Something changed: sync as soon as the rate allows. */
  requestSync(): void {
    this.#health.queuedUpdate();
    this.#metrics.syncProxyRulesLastQueuedTimestamp.set(this.#env.clock.wallMs() / 1000);
    this.#runner.run();
  }

  async stop(): Promise<void> {
    await this.#runner.stop();
  }

  async #ensureJumps(): Promise<void> {
    for (const t of ["filter", "nat"] as const) {
      for (const c of new Set(JUMP_RULES.filter((j) => j.table === t).map((j) => j.to))) await this.#ipt.ensureChain(t, c);
    }
    for (const j of JUMP_RULES) await this.#ipt.ensureRule(j.table, j.from, j.args);
    // Tells iptables wrappers (and our own detectBackend) which backend this node's rules are in.
    await this.#ipt.ensureChain("mangle", KUBE_IPTABLES_HINT);
  }

  /** Asks for the next sync to rewrite everything (after someone flushed our rules). */
  forceFullSync(): void {
    this.#needFullSync = true;
  }

  /**
   * One sync: read state, build every rule, apply in one restore. A full sync (the first, after a
   * failure, and every FULL_SYNC_PERIOD_MS) re-checks the jumps, reads the node's chains with
   * iptables-save and writes every chain; the others write only the service chains that changed and
   * delete those no longer used. Never throws; failures retry.
   */
  async syncProxyRules(): Promise<void> {
    const startMs = this.#env.clock.nowMs();
    const full = this.#needFullSync || this.lastRuleSet === null || startMs - this.#lastFullSyncMs >= FULL_SYNC_PERIOD_MS;
    try {
      let existing: Iterable<string>;
      if (full) {
        await this.#ensureJumps();
        existing = chainsInSave(await this.#ipt.save("nat"));
      } else {
        existing = this.lastRuleSet!.activeNatChains;
      }
      const state = this.#source();
      const rules = buildIptablesRules(state, this.#o, existing);
      const data = renderRestoreData(rules, full ? null : this.lastRuleSet);
      try {
        await this.#ipt.restore(data);
      } catch (err) {
        this.#metrics.iptablesRestoreFailures.inc();
        throw err;
      }
      this.lastRuleSet = rules;
      this.lastRestoreData = data;
      this.syncs++;
      if (full) {
        this.fullSyncs++;
        this.#needFullSync = false;
        this.#lastFullSyncMs = startMs;
      }
      this.#health.updated();
      this.#metrics.syncProxyRulesLastTimestamp.set(this.#env.clock.wallMs() / 1000);
      this.#metrics.iptablesRulesTotal.set({ table: "filter" }, rules.ruleCount.filter);
      this.#metrics.iptablesRulesTotal.set({ table: "nat" }, rules.ruleCount.nat);
      const elapsedMs = this.#env.clock.nowMs() - startMs;
      this.#metrics.syncProxyRulesLatency.observe(elapsedMs / 1000);
      (full ? this.#metrics.syncFullProxyRulesLatency : this.#metrics.syncPartialProxyRulesLatency).observe(elapsedMs / 1000);
      this.#env.log.debug("synced proxy rules", { full, servicePorts: state.servicePorts.length, natRules: rules.ruleCount.nat, restoreBytes: data.length, elapsedMs });
    } catch (err) {
      rethrowIfAssertion(err);
      // A failed restore leaves the old rules in place (each table commits atomically), but what is on
      // the node is no longer known for sure: the next sync is a full one.
      this.#needFullSync = true;
      this.#env.log.error("failed to sync proxy rules; will retry", { error: String(err) });
      this.#runner.retryAfter(Math.max(RETRY_AFTER_FAILURE_MS_MIN, this.#o.minSyncPeriodMs));
    }
  }

  /** Removes every rule and chain kube-proxy made (upstream `kube-proxy --cleanup`). */
  async cleanup(): Promise<void> {
    await cleanupIptables(this.#ipt);
  }
}

/** Deletes the jumps, then our chains (per-service ones first: they are referenced by the base ones). */
export async function cleanupIptables(ipt: Iptables): Promise<void> {
  for (const j of JUMP_RULES) await ipt.deleteRule(j.table, j.from, j.args);
  const nat = chainsInSave(await ipt.save("nat"));
  const base = new Set([KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]);
  const perService = nat.filter((c) => PER_SERVICE_PREFIXES.some((p) => c.startsWith(p)));
  // Flush everything first so no chain is still referenced when it is deleted.
  for (const c of [...base, ...perService]) if (nat.includes(c)) await ipt.restore(`*nat\n:${c} - [0:0]\nCOMMIT\n`);
  for (const c of [...perService, ...base]) if (nat.includes(c)) await ipt.deleteChain("nat", c);
  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_NODEPORTS, KUBE_FORWARD, KUBE_PROXY_FIREWALL]) await ipt.deleteChain("filter", c);
  await ipt.deleteChain("mangle", KUBE_IPTABLES_HINT);
}
