/**
 * kube-proxy's userspace mode with a real API server: the proxy listens on ClusterIPs (added to the
 * kube-ipvs0 dummy device, or to lo where the kernel has no dummy driver) and NodePorts on this host, and
 * forwards to endpoint servers on loopback. The test uses ClusterIPs from a corner of the service range
 * (10.111.222.0/24) and removes every address it added.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { loadKubeconfig } from "../../src/client/kubeconfig.js";
import { RestClient, type ResourceClient } from "../../src/client/rest_client.js";
import { waitUntil } from "../../src/client/testing_wait.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { nodeClock } from "../../src/platform/node/node_env.js";
import { startKubeProxy, type KubeProxy } from "../../src/proxy/kube_proxy.js";
import { DummyDeviceAddresses } from "../../src/proxy/local_addresses.js";
import { makeSlice } from "../../src/proxy/proxy_fixtures.js";
import type { UserspaceProxier } from "../../src/proxy/userspace_proxier.js";
import { startInProcessApiServer, type InProcessApiServer } from "../harness/inprocess_apiserver.js";
import { netnsSuiteSkip } from "./netns.js";

const WEB_IP = "10.111.222.10";
const EMPTY_IP = "10.111.222.11";
const NODEPORT = 30081;
const EP_A = "127.0.0.1";
const EP_B = "127.0.0.2";

function get(host: string, port: number, timeoutMs = 2000): Promise<{ ok: boolean; body?: string; code?: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ ok: true, body }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? String(err) }));
    req.end();
  });
}

function hostHasAddress(ip: string): boolean {
  return execFileSync("ip", ["-o", "addr", "show"], { encoding: "utf8" }).includes(` ${ip}/32 `);
}

/** Polls (bounded) until a request answers with a body that `ok` accepts: the proxy has synced that far. */
async function answersWith(host: string, port: number, ok: (body: string) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const r = await get(host, port, 500);
    if (r.ok && ok(r.body!)) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`Cannot get an expected answer from ${host}:${port} in 200 attempts`);
}

// Same requirements as the netns tests: root and `ip`.
describe("kube-proxy userspace mode", { skip: netnsSuiteSkip(), timeout: 60_000 }, () => {
  let api: InProcessApiServer;
  let proxy: KubeProxy;
  let services: ResourceClient<Service>;
  let slices: ResourceClient<EndpointSlice>;
  const endpoints: Server[] = [];
  let port = 0;
  const addresses = new DummyDeviceAddresses({ device: "tk8s-test-ipvs0" });
  const userspace = () => proxy.proxier as UserspaceProxier;

  before(async () => {
    api = await startInProcessApiServer();
    // Both endpoint servers on one port number, on two loopback addresses (as pods share a port).
    const a = createServer((_req, res) => res.end("ep-a"));
    await new Promise<void>((r) => a.listen(0, EP_A, () => r()));
    port = (a.address() as AddressInfo).port;
    const b = createServer((_req, res) => res.end("ep-b"));
    await new Promise<void>((r) => b.listen(port, EP_B, () => r()));
    endpoints.push(a, b);
    const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "kube-proxy" }));
    services = client.resource<Service>("", "v1", "services").namespace("default");
    slices = client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("default");
    proxy = await startKubeProxy({
      env: { clock: nodeClock, log: new MemoryLogger() },
      kubeconfig: api.kubeconfig,
      mode: "userspace",
      nodeName: "node-a",
      minSyncPeriodMs: 50,
      syncPeriodMs: 10_000,
      healthzBindAddress: null,
      metricsBindAddress: null,
      localAddresses: addresses,
      nodePortAddress: "127.0.0.1",
    });
  });

  after(async () => {
    await proxy?.stop();
    await proxy?.cleanup();
    for (const s of endpoints) s.close();
    await api?.stop();
    assert.ok(!hostHasAddress(WEB_IP) && !hostHasAddress(EMPTY_IP), "the test's addresses are gone from the host");
  });

  test("the ClusterIP forwards to both endpoints in turn", async () => {
    await services.create({ metadata: { name: "web" }, spec: { type: "NodePort", clusterIP: WEB_IP, ports: [{ name: "http", port: 80, targetPort: port, nodePort: NODEPORT }] } });
    await slices.create(makeSlice("default", "web", "1", [{ ip: EP_A }, { ip: EP_B }], [{ name: "http", port }]));
    await waitUntil("web's listeners", () => userspace().listening().includes(`${WEB_IP}:80`), 10_000);
    await answersWith(WEB_IP, 80, (b) => b === "ep-a" || b === "ep-b");
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(WEB_IP, 80)).body ?? "error");
    assert.deepEqual(new Set(bodies), new Set(["ep-a", "ep-b"]));
    assert.equal(bodies.filter((b) => b === "ep-a").length, 3, `round-robin: ${bodies.join(",")}`);
  });

  test("the NodePort forwards too", async () => {
    await waitUntil("the node port listener", () => userspace().listening().includes(`127.0.0.1:${NODEPORT}`), 10_000);
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await get("127.0.0.1", NODEPORT)).body ?? "error");
    assert.deepEqual(bodies, new Set(["ep-a", "ep-b"]));
  });

  test("an endpoint that does not answer is skipped: the connection goes to the next one", async () => {
    const slice = await slices.get("web-1");
    const before = userspace().syncs;
    await slices.update({ ...slice, endpoints: [...slice.endpoints, { addresses: ["127.0.0.3"], conditions: { ready: true } }] });
    await waitUntil("three endpoints synced", () => userspace().syncs > before && proxy.health.status().healthy, 10_000);
    for (let i = 0; i < 6; i++) assert.equal((await get(WEB_IP, 80)).ok, true);
  });

  test("removing an endpoint takes it out of rotation", async () => {
    const slice = await slices.get("web-1");
    const before = userspace().syncs;
    await slices.update({ ...slice, endpoints: [{ addresses: [EP_B], conditions: { ready: true } }] });
    await waitUntil("one endpoint synced", () => userspace().syncs > before && proxy.health.status().healthy, 10_000);
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(WEB_IP, 80)).body ?? "error");
    assert.deepEqual(bodies, Array(6).fill("ep-b"));
  });

  test("a Service without endpoints refuses connections", async () => {
    await services.create({ metadata: { name: "empty" }, spec: { clusterIP: EMPTY_IP, ports: [{ name: "http", port: 80, targetPort: port }] } });
    await waitUntil("empty's listener", () => userspace().listening().includes(`${EMPTY_IP}:80`), 10_000);
    const r = await get(EMPTY_IP, 80);
    assert.equal(r.ok, false);
    assert.equal(r.code, "ECONNRESET");
  });

  test("deleting a Service closes its listeners and removes its ClusterIP from the host", async () => {
    assert.ok(hostHasAddress(EMPTY_IP));
    await services.delete("empty");
    await waitUntil("empty's listener closed", () => !userspace().listening().includes(`${EMPTY_IP}:80`), 10_000);
    await waitUntil("empty's address removed", () => !hostHasAddress(EMPTY_IP), 10_000);
  });
});
