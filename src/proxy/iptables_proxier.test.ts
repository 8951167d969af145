import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { MemoryLogger } from "../env/memory_logger.js";
import type { Iptables, Table } from "./iptables.js";
import { IptablesError } from "./iptables.js";
import { IptablesProxier, JUMP_RULES } from "./iptables_proxier.js";
import { chainsInSave } from "./iptables_rules.js";
import { ProxyMetrics } from "./metrics.js";
import { ProxierHealth } from "./proxier_health.js";
import { makeService, makeSlice } from "./proxy_fixtures.js";
import { buildProxyState, type ProxyState } from "./service_port.js";

/** An in-memory iptables that keeps the nat table's chain names and records every call. */
class RecordingIptables implements Iptables {
  readonly backend = "nft" as const;
  readonly natChains = new Set<string>(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]);
  readonly restores: string[] = [];
  readonly calls: string[] = [];
  failNextRestore = false;
  async save(table: Table): Promise<string> {
    this.calls.push(`save ${table}`);
    return table === "nat" ? `*nat\n${[...this.natChains].map((c) => `:${c} - [0:0]`).join("\n")}\nCOMMIT\n` : "";
  }
  async restore(data: string): Promise<void> {
    this.calls.push("restore");
    if (this.failNextRestore) {
      this.failNextRestore = false;
      throw new IptablesError("Cannot restore rules: line 3 failed", 1, "line 3 failed");
    }
    this.restores.push(data);
    const nat = data.slice(data.indexOf("*nat"));
    for (const c of chainsInSave(nat)) this.natChains.add(c);
    for (const m of nat.matchAll(/^-X (\S+)$/gm)) this.natChains.delete(m[1]!);
  }
  async ensureChain(table: Table, chain: string): Promise<void> {
    this.calls.push(`ensureChain ${table} ${chain}`);
  }
  async ensureRule(table: Table, chain: string): Promise<boolean> {
    this.calls.push(`ensureRule ${table} ${chain}`);
    return false;
  }
  async deleteRule(): Promise<void> {}
  async deleteChain(): Promise<void> {}
}

const svc = (name: string, ip: string) => makeService("ns", name, { clusterIP: ip, ports: [{ name: "http", port: 80, protocol: "TCP" }] });
const slice = (name: string, ips: string[]) => makeSlice("ns", name, "a", ips.map((ip) => ({ ip })), [{ name: "http", port: 8080 }]);

function setup(initial: ProxyState) {
  const clock = new ManualClock();
  const ipt = new RecordingIptables();
  const metrics = new ProxyMetrics({ defaultMetrics: false });
  let state = initial;
  const proxier = new IptablesProxier({ clock, log: new MemoryLogger() }, ipt, () => state, { metrics, health: new ProxierHealth(clock, 60_000) }, {
    clusterCIDR: "10.244.0.0/16", masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: false, minSyncPeriodMs: 1000, syncPeriodMs: 30_000,
  });
  return { clock, ipt, metrics, proxier, set: (s: ProxyState) => void (state = s) };
}

test("the first sync is full: jumps ensured, nat chains read, every chain written", async () => {
  const { ipt, proxier } = setup(buildProxyState([svc("a", "10.96.0.1")], [slice("a", ["10.244.0.1"])], "n"));
  await proxier.syncProxyRules();
  assert.equal(proxier.fullSyncs, 1);
  assert.equal(ipt.calls.filter((c) => c.startsWith("ensureRule")).length, JUMP_RULES.length);
  assert.ok(ipt.calls.includes("save nat"));
  assert.ok(ipt.restores[0]!.includes("DNAT --to-destination 10.244.0.1:8080"));
});

test("later syncs neither save nor re-check jumps, write only what changed, and delete what is gone", async () => {
  const { ipt, proxier, set } = setup(buildProxyState([svc("a", "10.96.0.1"), svc("b", "10.96.0.2")], [slice("a", ["10.244.0.1"]), slice("b", ["10.244.0.2"])], "n"));
  await proxier.syncProxyRules();
  ipt.calls.length = 0;
  set(buildProxyState([svc("a", "10.96.0.1")], [slice("a", ["10.244.0.1"])], "n"));
  await proxier.syncProxyRules();
  assert.deepEqual(ipt.calls, ["restore"]);
  const data = ipt.restores.at(-1)!;
  assert.ok(!data.includes("DNAT --to-destination 10.244.0.1:8080"), "a's unchanged chains are not rewritten");
  assert.equal(data.match(/^-X /gm)?.length, 2, "b's service and endpoint chains are deleted");
  const perService = [...ipt.natChains].filter((c) => /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(c));
  assert.deepEqual(new Set(perService), new Set(proxier.lastRuleSet!.activeNatChains), "no stale chain is left");
});

test("a failed restore counts, keeps the last rule set, and makes the next sync full", async () => {
  const { ipt, proxier, metrics, set } = setup(buildProxyState([svc("a", "10.96.0.1")], [slice("a", ["10.244.0.1"])], "n"));
  await proxier.syncProxyRules();
  const applied = proxier.lastRuleSet;
  ipt.failNextRestore = true;
  set(buildProxyState([svc("a", "10.96.0.1")], [slice("a", ["10.244.0.9"])], "n"));
  await proxier.syncProxyRules();
  assert.equal(proxier.lastRuleSet, applied);
  assert.equal((await metrics.iptablesRestoreFailures.get()).values[0]!.value, 1);
  ipt.calls.length = 0;
  await proxier.syncProxyRules();
  assert.equal(proxier.fullSyncs, 2);
  assert.ok(ipt.calls.includes("save nat"));
  assert.ok(ipt.restores.at(-1)!.includes("DNAT --to-destination 10.244.0.9:8080"));
});

test("changes are batched: many requests within the min sync period cost one sync", async () => {
  const { clock, ipt, proxier } = setup(buildProxyState([], [], "n"));
  proxier.start();
  clock.advance(0);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const after1 = ipt.restores.length;
  assert.equal(after1, 1);
  for (let i = 0; i < 50; i++) proxier.requestSync();
  clock.advance(0);
  await new Promise((r) => setImmediate(r));
  clock.advance(1000);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.ok(ipt.restores.length - after1 <= 2, `${ipt.restores.length - after1} syncs for 50 requests`);
  await proxier.stop();
});
