/**
 * A kubelet that restarts (as `tk8s server` after Ctrl-C) adopts the containers its runtime still runs
 * and removes those of pods deleted while it was away. Real API server and process runtime.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { RestClient } from "../client/rest_client.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeRng } from "../platform/node/node_env.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { Kubelet } from "./kubelet.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a restarted kubelet keeps running containers as they are and removes pods deleted meanwhile", async () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-kubelet-restart-"));
  const api = await startInProcessApiServer();
  const client = new RestClient({ server: api.url, ca: api.ca, cert: api.clientCert, key: api.clientKey, userAgent: "tk8s-kubelet-test/0.1.0" });
  const log = new MemoryLogger();
  const runtime = new ProcessRuntime({ root: path.join(dir, "runtime"), clock: nodeClock, log, podIp: "127.0.0.1" });
  cleanups.push(async () => {
    await runtime.stopAll(0);
    await runtime.close();
    client.close();
    await api.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const newKubelet = () => new Kubelet({ nodeName: "n1", client, runtime, env: { clock: nodeClock, rng: nodeRng, log }, rootDir: path.join(dir, "kubelet"), nodeIP: "127.0.0.1", relistPeriodMs: 200 });
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  const spec = (name: string): Pod => ({ metadata: { name, namespace: "default" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox:1", command: ["sleep", "30"] }] } });

  let kubelet = newKubelet();
  await kubelet.start();
  await pods.create(spec("stays"));
  await pods.create(spec("goes"));
  const running = async (name: string) => {
    const p = await pods.get(name);
    return p.status?.phase === "Running" ? p : null;
  };
  const before = await waitFor("stays Running", () => running("stays"));
  const goes = await waitFor("goes Running", () => running("goes"));
  await kubelet.stop();

  await pods.delete("goes", { gracePeriodSeconds: 0 }); // gone while no kubelet watches
  kubelet = newKubelet();
  cleanups.push(() => kubelet.stop());
  await kubelet.start();
  const goesSandbox = async () => (await runtime.listPodSandbox({ labelSelector: { "io.kubernetes.pod.uid": goes.metadata!.uid! } })).length === 0;
  await waitFor("the deleted pod's sandbox removed", goesSandbox);
  await new Promise((r) => setTimeout(r, 1000));
  const now = (await pods.get("stays")).status!.containerStatuses![0]!;
  assert.equal(now.containerID, before.status!.containerStatuses![0]!.containerID, "the same container, adopted");
  assert.equal(now.restartCount, 0);
  assert.equal(now.state?.running !== undefined, true);
});
