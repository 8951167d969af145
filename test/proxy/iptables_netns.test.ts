/**
 * kube-proxy's iptables mode against real iptables, in a network namespace of its own: a real API server
 * (in-process), Services and EndpointSlices written through it, kube-proxy syncing rules into the
 * namespace with `iptables-restore`, and HTTP traffic from inside the namespace to ClusterIPs and
 * NodePorts. Nothing touches the host's rules: the namespace is deleted at the end.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { loadKubeconfig } from "../../src/client/kubeconfig.js";
import { RestClient, type ResourceClient } from "../../src/client/rest_client.js";
import { waitUntil } from "../../src/client/testing_wait.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { nodeClock } from "../../src/platform/node/node_env.js";
import { PER_SERVICE_PREFIXES, servicePortPolicyClusterChain } from "../../src/proxy/chain_names.js";
import { chainsInSave, renderRestoreData } from "../../src/proxy/iptables_rules.js";
import { ExecIptables } from "../../src/proxy/iptables.js";
import { IptablesProxier } from "../../src/proxy/iptables_proxier.js";
import { startKubeProxy, type KubeProxy } from "../../src/proxy/kube_proxy.js";
import { makeSlice } from "../../src/proxy/proxy_fixtures.js";
import { startInProcessApiServer, type InProcessApiServer } from "../harness/inprocess_apiserver.js";
import { createTestNetns, linkNetns, netnsSuiteSkip, type TestNetns } from "./netns.js";

const EP_A = "10.244.0.2";
const EP_B = "10.244.0.3";
const EP_PORT = 8080;
const WEB_IP = "10.96.100.10";
const WEB_NODEPORT = 30080;
const EMPTY_IP = "10.96.100.11";
const STICKY_IP = "10.96.100.12";
const EXT_IP = "10.96.100.13";
const EXT_NODEPORT = 30082;

for (const backend of ["nft", "legacy"] as const) describe(`kube-proxy iptables mode (${backend}) in a network namespace`, { skip: netnsSuiteSkip(), timeout: 120_000 }, () => {
  let api: InProcessApiServer;
  let ns: TestNetns;
  let proxy: KubeProxy;
  let services: ResourceClient<Service>;
  let slices: ResourceClient<EndpointSlice>;
  const log = new MemoryLogger();

  const save = (table?: string) => ns.sh([`iptables-${backend}-save`, ...(table === undefined ? [] : ["-t", table])]);
  const proxier = () => proxy.proxier as IptablesProxier;
  /** Waits until a sync has applied rules that satisfy `cond` (the rules, not the traffic, are waited on). */
  const waitForRules = (what: string, cond: (data: string) => boolean) =>
    waitUntil(what, () => proxier().lastRuleSet !== null && cond(renderRestoreData(proxier().lastRuleSet!)), 10_000);

  async function hits(host: string, port: number, n: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await ns.get(host, port);
      const key = r.ok ? r.body! : `error:${r.code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  before(async () => {
    api = await startInProcessApiServer();
    ns = await createTestNetns();
    ns.addAddress(EP_A);
    ns.addAddress(EP_B);
    await ns.listen(EP_A, EP_PORT, "ep-a");
    await ns.listen(EP_B, EP_PORT, "ep-b");
    const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "kube-proxy" }));
    services = client.resource<Service>("", "v1", "services").namespace("default");
    slices = client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("default");
    proxy = await startKubeProxy({
      env: { clock: nodeClock, log },
      client,
      mode: "iptables",
      nodeName: "node-a",
      clusterCIDR: "10.244.0.0/16",
      minSyncPeriodMs: 100,
      syncPeriodMs: 10_000,
      healthzBindAddress: "127.0.0.1:0",
      metricsBindAddress: "127.0.0.1:0",
      iptables: await ExecIptables.create({ commandPrefix: ns.exec, backend }),
    });
  });

  after(async () => {
    await proxy?.stop();
    await ns?.destroy();
    await api?.stop();
  });

  test("a Service's ClusterIP reaches its endpoints, and both endpoints get traffic", async () => {
    await services.create({
      metadata: { name: "web" },
      spec: { type: "NodePort", clusterIP: WEB_IP, ports: [{ name: "http", port: 80, targetPort: EP_PORT, nodePort: WEB_NODEPORT }], selector: { app: "web" } },
    });
    await slices.create(makeSlice("default", "web", "1", [{ ip: EP_A }, { ip: EP_B }], [{ name: "http", port: EP_PORT }]));
    await waitForRules("rules for web with two endpoints", (d) => d.includes(`${EP_A}:${EP_PORT}`) && d.includes(`${EP_B}:${EP_PORT}`));
    const counts = await hits(WEB_IP, 80, 40);
    assert.deepEqual([...counts.keys()].sort(), ["ep-a", "ep-b"], `got ${JSON.stringify([...counts])}`);
  });

  test("the NodePort on the node's address reaches the endpoints", async () => {
    const counts = await hits(ns.nodeIP!, WEB_NODEPORT, 30);
    assert.deepEqual([...counts.keys()].sort(), ["ep-a", "ep-b"], `got ${JSON.stringify([...counts])}`);
  });

  test("removing an endpoint takes it out of rotation", async () => {
    const slice = await slices.get("web-1");
    await slices.update({ ...slice, endpoints: slice.endpoints.filter((e) => e.addresses[0] === EP_A) });
    await waitForRules("rules without endpoint b", (d) => !d.includes(`${EP_B}:${EP_PORT}`));
    const counts = await hits(WEB_IP, 80, 20);
    assert.deepEqual([...counts], [["ep-a", 20]]);
  });

  test("an endpoint that is not ready gets no traffic", async () => {
    const slice = await slices.get("web-1");
    await slices.update({ ...slice, endpoints: [{ addresses: [EP_A], conditions: { ready: false } }, { addresses: [EP_B], conditions: { ready: true } }] });
    await waitForRules("rules with only b ready", (d) => d.includes(`${EP_B}:${EP_PORT}`) && !d.includes(`${EP_A}:${EP_PORT}`));
    const counts = await hits(WEB_IP, 80, 10);
    assert.deepEqual([...counts], [["ep-b", 10]]);
  });

  test("outside traffic to a NodePort is forwarded to a pod in its own namespace and masqueraded; a pod reaching itself through its Service is too (hairpin)", async () => {
    // node ⇄ pod (10.244.1.0/24, inside the cluster CIDR) and node ⇄ an outside client (192.168.78.0/24).
    const pod = await createTestNetns({ nodeIP: null });
    const outside = await createTestNetns({ nodeIP: null });
    try {
      linkNetns(ns, pod, { aDev: "pod-host", aCidr: "10.244.1.1/24", bDev: "pod-eth", bCidr: "10.244.1.2/24", bDefaultVia: "10.244.1.1" });
      linkNetns(ns, outside, { aDev: "ext-host", aCidr: "192.168.78.1/24", bDev: "ext-eth", bCidr: "192.168.78.2/24", bDefaultVia: "192.168.78.1" });
      ns.sh(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]); // this namespace's own setting
      await pod.listen("10.244.1.2", EP_PORT, "pod");
      await services.create({ metadata: { name: "ext" }, spec: { type: "NodePort", clusterIP: EXT_IP, ports: [{ name: "http", port: 80, targetPort: EP_PORT, nodePort: EXT_NODEPORT }] } });
      await slices.create(makeSlice("default", "ext", "1", [{ ip: "10.244.1.2" }], [{ name: "http", port: EP_PORT }]));
      await waitForRules("rules for ext", (d) => d.includes(`10.244.1.2:${EP_PORT}`) && d.includes(`--dport ${EXT_NODEPORT}`));
      const fromOutside = await outside.get("192.168.78.1", EXT_NODEPORT);
      assert.equal(fromOutside.body, "pod", JSON.stringify(fromOutside));
      // KUBE-EXT marked it, KUBE-POSTROUTING masqueraded it: the pod sees the node, so its reply returns through the node.
      assert.equal(fromOutside.remote, "10.244.1.1");
      const hairpin = await pod.get(EXT_IP, 80);
      assert.equal(hairpin.body, "pod", JSON.stringify(hairpin));
      assert.equal(hairpin.remote, "10.244.1.1", "the endpoint chain masquerades a pod reaching itself");
    } finally {
      await pod.destroy();
      await outside.destroy();
    }
  });

  test("a Service without endpoints rejects connections at once", async () => {
    await services.create({ metadata: { name: "empty" }, spec: { clusterIP: EMPTY_IP, ports: [{ name: "http", port: 80, targetPort: EP_PORT }] } });
    await waitForRules("REJECT rule for empty", (d) => d.includes('"default/empty:http has no endpoints"'));
    const started = performance.now();
    const r = await ns.get(EMPTY_IP, 80, 3000);
    assert.equal(r.ok, false);
    assert.equal(r.code, "ECONNREFUSED");
    assert.ok(performance.now() - started < 1500, "refused, not timed out");
  });

  test("ClientIP session affinity sends one client to one endpoint", async () => {
    await services.create({ metadata: { name: "sticky" }, spec: { clusterIP: STICKY_IP, sessionAffinity: "ClientIP", ports: [{ name: "http", port: 80, targetPort: EP_PORT }] } });
    await slices.create(makeSlice("default", "sticky", "1", [{ ip: EP_A }, { ip: EP_B }], [{ name: "http", port: EP_PORT }]));
    await waitForRules("rules for sticky", (d) => d.includes("--rcheck"));
    const counts = await hits(STICKY_IP, 80, 20);
    assert.equal(counts.size, 1, `got ${JSON.stringify([...counts])}`);
  });

  test("a deleted Service's chains are removed from the node and its ClusterIP stops answering", async () => {
    const webChain = servicePortPolicyClusterChain({ nameString: "default/web:http", protocol: "TCP" });
    assert.ok(save("nat").includes(`:${webChain} `), "the chain exists before");
    await services.delete("web");
    await slices.delete("web-1");
    await waitForRules("rules without web", (d) => !d.includes(WEB_IP));
    await waitUntil("web's chains deleted", () => !save("nat").includes(webChain), 10_000);
    const nat = save("nat");
    assert.ok(!nat.includes(WEB_IP));
    // Every per-service chain left is one the current rules declare (sticky's): nothing stale.
    const left = chainsInSave(nat).filter((c) => PER_SERVICE_PREFIXES.some((p) => c.startsWith(p)));
    assert.ok(left.length > 0);
    for (const c of left) assert.ok(proxier().lastRuleSet!.activeNatChains.has(c), `stale chain ${c} left`);
    const r = await ns.get(WEB_IP, 80, 500);
    assert.equal(r.ok, false);
  });

  test("after the first sync only changed chains are written, and a forced full sync rewrites every chain", async () => {
    assert.equal(proxier().fullSyncs, 1, "one full sync at start");
    assert.ok(proxier().syncs > 1);
    proxier().forceFullSync();
    const before = proxier().syncs;
    proxy.requestSync();
    await waitUntil("a full sync", () => proxier().syncs > before, 10_000);
    assert.equal(proxier().fullSyncs, 2);
    for (const c of proxier().lastRuleSet!.serviceChains.keys()) assert.ok(proxier().lastRestoreData.includes(`:${c} - [0:0]`));
  });

  test("rules flushed by someone else come back with the next full sync", async () => {
    ns.sh([`iptables-${backend}`, "-t", "nat", "-F", "OUTPUT"]);
    assert.equal((await ns.get(STICKY_IP, 80, 500)).ok, false, "the jump from OUTPUT is gone");
    proxier().forceFullSync();
    proxy.requestSync();
    await waitUntil("the jump back", () => save("nat").includes("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"), 10_000);
    assert.equal((await ns.get(STICKY_IP, 80)).ok, true);
  });

  test("/healthz says healthy with upstream's body and /metrics has the sync latency", async () => {
    const h = await fetch(`http://127.0.0.1:${proxy.healthzPort}/healthz`);
    assert.equal(h.status, 200);
    const body = (await h.json()) as { lastUpdated: string; currentTime: string };
    assert.ok(Date.parse(body.lastUpdated) > Date.now() - 60_000);
    const m = await (await fetch(`http://127.0.0.1:${proxy.metricsPort}/metrics`)).text();
    assert.match(m, /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
    assert.match(m, /^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} [1-9]/m);
    assert.match(m, /^kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/m);
  });

  test("cleanup removes every kube-proxy chain and jump", async () => {
    await proxy.stop();
    await proxy.cleanup();
    const all = save();
    assert.ok(!all.includes("KUBE-"), all);
  });
});
