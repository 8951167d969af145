import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock } from "../platform/node/node_env.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import type { Iptables } from "./iptables.js";
import { HTTP_SERVER_RETRY_MS, startKubeProxy } from "./kube_proxy.js";

/** The iptables edge, in memory: this test is about kube-proxy's HTTP side, not the rules (test/proxy/ has those). */
function memoryIptables(): Iptables {
  return {
    backend: "nft",
    save: async () => "",
    restore: async () => {},
    ensureChain: async () => {},
    ensureRule: async () => false,
    deleteRule: async () => {},
    deleteChain: async () => {},
  } as Iptables;
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

test("a taken /healthz port does not stop kube-proxy: it says so, keeps trying, and serves once the port is free", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  const log = new MemoryLogger();
  const proxy = await startKubeProxy({
    env: { clock: nodeClock, log },
    kubeconfig: api.kubeconfig,
    mode: "iptables",
    iptables: memoryIptables(),
    nodeName: "n1",
    healthzBindAddress: `127.0.0.1:${port}`,
    metricsBindAddress: null,
  });
  try {
    assert.equal(proxy.healthzPort, 0, "not listening while the port is taken");
    assert.ok(log.records.some((r) => r.level === "warn" && r.msg === "failed to start the healthz server; retrying in 5 s"), "it says why");
    await new Promise<void>((r) => blocker.close(() => r()));
    const deadline = Date.now() + HTTP_SERVER_RETRY_MS * 2 + 2000;
    while (proxy.healthzPort === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(proxy.healthzPort, port, "listening once the port came free");
    assert.ok([200, 503].includes(await httpStatus(port, "/healthz")), "/healthz answers");
  } finally {
    await proxy.stop();
    await api.stop();
  }
});

test("a malformed bind address is still refused at once", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  try {
    await assert.rejects(
      startKubeProxy({ env: { clock: nodeClock, log: new MemoryLogger() }, kubeconfig: api.kubeconfig, mode: "iptables", iptables: memoryIptables(), nodeName: "n1", healthzBindAddress: "not-an-address", metricsBindAddress: null }),
      /healthz-bind-address/,
    );
  } finally {
    await api.stop();
  }
});
