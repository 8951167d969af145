/**
 * `tk8s server --datastore-endpoint a,b,c` over a 3-member tk8s datastore: the API server runs unchanged on
 * the replicated store, and keeps serving real kubectl — reads, writes and a watch — while the datastore's
 * leader is killed and another is elected.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { KUBECTL_BINARY, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { DatastoreCluster } from "../harness/datastore_cluster.js";
import { startKubectl } from "./background_kubectl.js";

/** How long kubectl may keep failing while the datastore elects a new leader (several election timeouts). */
const FAILOVER_WINDOW_MS = 15_000;

/** Runs kubectl asynchronously (the test's event loop keeps running); resolves with its exit code and output. */
function kubectlAsync(server: ApiServerProcess, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, "--request-timeout=5s", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Retries a kubectl command until it succeeds or the fail-over window closes; returns its stdout and the attempts it took. */
async function eventually(server: ApiServerProcess, args: readonly string[]): Promise<{ stdout: string; attempts: number }> {
  const deadline = Date.now() + FAILOVER_WINDOW_MS;
  for (let attempts = 1; ; attempts++) {
    const r = await kubectlAsync(server, args);
    if (r.code === 0) return { stdout: r.stdout, attempts };
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(" ")} still failing after ${FAILOVER_WINDOW_MS} ms: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

describe("tk8s server over a 3-member tk8s datastore", { timeout: 180_000 }, () => {
  let cluster: DatastoreCluster;
  let server: ApiServerProcess;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing: install it at /usr/bin/kubectl");
    cluster = await DatastoreCluster.start("tk8s", { size: 3 });
    server = await startApiServer({ datastoreEndpoint: cluster.endpoints().join(",") });
  }, { timeout: 90_000 });
  after(async () => {
    await server?.stop();
    await cluster?.stop();
  }, { timeout: 30_000 });

  it("serves kubectl reads, writes and a watch while the datastore's leader is killed", async () => {
    kubectlOk(server, ["create", "namespace", "ha"]);
    kubectlOk(server, ["-n", "ha", "create", "configmap", "before", "--from-literal=k=v"]);
    const watch = startKubectl(server, ["-n", "ha", "get", "configmaps", "--watch-only", "-o", "jsonpath={.metadata.name}{\"\\n\"}"]);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const old = await cluster.waitForLeader({ timeoutMs: 10_000 });
      await old.leader.kill();
      // Every write is retried until it succeeds; each must then be readable, and the watch must see it.
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        const name = `during-${i}`;
        await eventually(server, ["-n", "ha", "create", "configmap", name, "--from-literal=k=v"]);
        names.push(name);
      }
      const fresh = await cluster.waitForLeader({ timeoutMs: 10_000, notId: old.memberId });
      assert.notEqual(fresh.memberId, old.memberId, "a new leader was elected");
      const listed = (await eventually(server, ["-n", "ha", "get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"])).stdout.split(" ");
      for (const n of ["before", ...names]) assert.ok(listed.includes(n), `${n} is listed: ${listed.join(",")}`);
      await watch.waitFor((out) => names.every((n) => out.split("\n").includes(n)), 20_000);
      // The killed member comes back and catches up; the three converge.
      await old.leader.start();
      const hashes = await cluster.waitConverged(20_000);
      assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, JSON.stringify(hashes));
    } finally {
      await watch.stop();
    }
  });
});
