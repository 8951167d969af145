/**
 * bench/proxy: how long kube-proxy's iptables mode takes to sync the rules of 1,000 Services × 10
 * endpoints (issue 7). Two parts, both printed:
 *  - build: the pure part (Services + EndpointSlices → ProxyState → rule set → restore text), p50/max;
 *  - sync: IptablesProxier.syncProxyRules() against real iptables in a network namespace of its own
 *    (nft and legacy backends): the first (full) sync onto an empty node; partial syncs (only changed
 *    service chains written, as upstream's MinimizeIPTablesRestore) with nothing changed and with one
 *    endpoint changed; a forced full resync (what happens once an hour and after a failure); and the
 *    sync that deletes every service's chains.
 * The namespace is deleted at the end; the host's rules are never touched.
 *
 *   node dist/bench/proxy/main.js [--services 1000] [--endpoints 10] [--runs 5] [--backends nft,legacy]
 */
import { parseArgs } from "node:util";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { nodeClock } from "../../src/platform/node/node_env.js";
import { ExecIptables, type Backend } from "../../src/proxy/iptables.js";
import { IptablesProxier } from "../../src/proxy/iptables_proxier.js";
import { buildIptablesRules, renderRestoreData, type IptablesRulesConfig } from "../../src/proxy/iptables_rules.js";
import { ProxyMetrics } from "../../src/proxy/metrics.js";
import { ProxierHealth } from "../../src/proxy/proxier_health.js";
import { makeService, makeSlice } from "../../src/proxy/proxy_fixtures.js";
import { buildProxyState, type ProxyState } from "../../src/proxy/service_port.js";
import { createTestNetns, netnsUnavailableReason } from "../../test/proxy/netns.js";

const RULES: IptablesRulesConfig = { clusterCIDR: "10.244.0.0/16", masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: false };

function fixtures(services: number, endpoints: number): { services: Service[]; slices: EndpointSlice[] } {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < services; i++) {
    // Every tenth service is a NodePort, as a mixed cluster.
    const nodePort = i % 10 === 0 ? { nodePort: 30000 + (i % 2768) } : {};
    svcs.push(makeService("bench", `svc-${i}`, {
      type: i % 10 === 0 ? "NodePort" : "ClusterIP",
      clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP", ...nodePort }],
    }));
    const eps = Array.from({ length: endpoints }, (_, j) => {
      const n = i * endpoints + j;
      return { ip: `10.244.${Math.floor(n / 250)}.${(n % 250) + 1}` };
    });
    slices.push(makeSlice("bench", `svc-${i}`, "0", eps, [{ name: "http", port: 8080 }]));
  }
  return { services: svcs, slices };
}

function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      services: { type: "string", default: "1000" },
      endpoints: { type: "string", default: "10" },
      runs: { type: "string", default: "5" },
      backends: { type: "string", default: "nft,legacy" },
    },
  });
  const nServices = Number(values.services);
  const nEndpoints = Number(values.endpoints);
  const runs = Math.max(1, Number(values.runs));
  const backends = values.backends.split(",").filter((b): b is Backend => b === "nft" || b === "legacy");
  const fx = fixtures(nServices, nEndpoints);
  console.log(`# bench/proxy: ${nServices} Services × ${nEndpoints} endpoints (every 10th a NodePort), ${runs} runs`);

  // The pure part.
  const build: number[] = [];
  let data = "";
  let state: ProxyState = buildProxyState(fx.services, fx.slices, "node-a");
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    state = buildProxyState(fx.services, fx.slices, "node-a");
    const rs = buildIptablesRules(state, RULES, []);
    data = renderRestoreData(rs);
    build.push(performance.now() - t0);
  }
  build.sort((a, b) => a - b);
  const lines = data.split("\n").length;
  console.log(`build (state + rules + text): p50 ${ms(build[Math.floor(build.length / 2)]!)}, max ${ms(build.at(-1)!)}; ${lines} lines, ${(data.length / 1024 / 1024).toFixed(1)} MiB`);

  const reason = netnsUnavailableReason();
  if (reason !== null) {
    console.log(`sync: skipped (${reason}); run as root with iptables installed`);
    return;
  }
  console.log("| backend | first sync (full) | partial, no change | partial, 1 endpoint changed | full resync | delete all |");
  console.log("|---|---|---|---|---|---|");
  for (const backend of backends) {
    const ns = await createTestNetns();
    try {
      const ipt = await ExecIptables.create({ commandPrefix: ns.exec, backend });
      let current = state;
      const proxier = new IptablesProxier({ clock: nodeClock, log: new MemoryLogger() }, ipt, () => current, { metrics: new ProxyMetrics({ defaultMetrics: false }), health: new ProxierHealth(nodeClock, 60_000) }, {
        ...RULES,
        minSyncPeriodMs: 0,
        syncPeriodMs: 3_600_000,
      });
      const timed = async (): Promise<number> => {
        const before = proxier.syncs;
        const t0 = performance.now();
        await proxier.syncProxyRules();
        const t = performance.now() - t0;
        if (proxier.syncs !== before + 1) throw new Error(`Cannot bench ${backend}: the sync failed`);
        return t;
      };
      const first = await timed();
      const resync: number[] = [];
      for (let r = 0; r < runs; r++) resync.push(await timed());
      const changed: number[] = [];
      for (let r = 0; r < runs; r++) {
        const slices = fx.slices.slice();
        slices[r % slices.length] = makeSlice("bench", `svc-${r % slices.length}`, "0", [{ ip: `10.250.0.${r + 1}` }], [{ name: "http", port: 8080 }]);
        current = buildProxyState(fx.services, slices, "node-a");
        changed.push(await timed());
      }
      const fullResync: number[] = [];
      for (let r = 0; r < Math.min(runs, 3); r++) {
        proxier.forceFullSync();
        fullResync.push(await timed());
      }
      current = { servicePorts: [], endpoints: new Map() };
      const del = await timed();
      const p50 = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      console.log(`| ${backend} | ${ms(first)} | ${ms(p50(resync))} | ${ms(p50(changed))} | ${ms(p50(fullResync))} | ${ms(del)} |`);
    } finally {
      await ns.destroy();
    }
  }
}

await main();
