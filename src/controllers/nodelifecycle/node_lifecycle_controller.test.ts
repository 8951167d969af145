import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod, Toleration } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { startInProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient, type ResourceClient } from "../../client/rest_client.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { ApiError } from "../../api/status.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import type { Env } from "../../env/env.js";
import { NodeLifecycleController } from "./node_lifecycle_controller.js";
import { TaintEvictionController } from "./taint_eviction_controller.js";

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deleted(pods: ResourceClient<Pod>, name: string): Promise<true | undefined> {
  try {
    return (await pods.get(name)).metadata?.deletionTimestamp === undefined ? undefined : true;
  } catch (err) {
    if (err instanceof ApiError && err.reason === "NotFound") return true;
    throw err;
  }
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

function pod(name: string, nodeName: string, tolerations?: Toleration[]): Pod {
  return { metadata: { name, namespace: "default" }, spec: { nodeName, containers: [{ name: "c", image: "busybox" }], ...(tolerations === undefined ? {} : { tolerations }) } };
}

test("NodeLifecycleController: a node whose lease stops being renewed becomes Ready=Unknown, tainted unreachable, and intolerant pods are evicted", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const env: Env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const informers = new InformerFactory(env, client);
  const ctx = { env, client, informers };
  const lifecycle = new NodeLifecycleController(ctx, { nodeMonitorPeriodMs: 200, nodeMonitorGracePeriodMs: 1_500 });
  const eviction = new TaintEvictionController(ctx);
  try {
    const nodes = client.resource<Node>("", "v1", "nodes");
    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    const leases = client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace("kube-node-lease");
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    for (const name of ["n1", "n2"]) {
      const n = await nodes.create({ metadata: { name }, spec: name === "n2" ? { taints: [{ key: "dedicated", value: "x", effect: "NoExecute" }] } : {} });
      await nodes.updateStatus({ ...n, status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now }] } });
    }
    let lease = await leases.create({ metadata: { name: "n1", namespace: "kube-node-lease" }, spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: microTime(Date.now()) } });
    // Admission gives every pod 300 s for unreachable; these override it.
    await pods.create(pod("short", "n1", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }]));
    const forever = await pods.create(pod("forever", "n1", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }]));
    await pods.updateStatus({ ...forever, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
    await pods.create(pod("intolerant", "n2"));

    lifecycle.init();
    eviction.init();
    informers.start();
    assert.equal(await informers.waitForCacheSync({ timeoutMs: 10_000 }), true);
    const running = [lifecycle.run(1), eviction.run(1)];

    // A pod without a toleration for a node's NoExecute taint is deleted at once.
    // A pod without a toleration for a node's NoExecute taint is deleted at once (gracefully: with no
    // kubelet to finish it, it stays with a deletionTimestamp).
    await poll("the intolerant pod to be deleted", () => deleted(pods, "intolerant"));
    const disrupted = await pods.get("intolerant");
    assert.equal(disrupted.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason, "DeletionByTaintManager");

    // Renew n1's lease for a while: it stays Ready.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 500));
      lease = await leases.update({ ...lease, spec: { ...lease.spec, renewTime: microTime(Date.now()) } });
    }
    const stillReady = await nodes.get("n1");
    assert.equal(stillReady.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");

    // Stop renewing: Ready becomes Unknown, then the unreachable taint follows.
    const unknown = await poll("n1 Ready=Unknown", async () => {
      const n = await nodes.get("n1");
      return n.status?.conditions?.find((c) => c.type === "Ready" && c.status === "Unknown");
    });
    assert.equal(unknown.reason, "NodeStatusUnknown");
    assert.equal(unknown.message, "Kubelet stopped posting node status.");
    const taint = await poll("the unreachable taint", async () => (await nodes.get("n1")).spec?.taints?.find((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute"));
    assert.match(taint.timeAdded ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await poll("the NoSchedule unreachable taint", async () => (await nodes.get("n1")).spec?.taints?.find((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoSchedule"));

    // The pod that tolerates 1 s goes; the one that tolerates forever stays, marked not Ready.
    await poll("the short-toleration pod to be deleted", () => deleted(pods, "short"));
    assert.equal((await pods.get("forever")).metadata?.deletionTimestamp, undefined);
    const notReady = await poll("forever marked not ready", async () => {
      const p = await pods.get("forever");
      return p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "False") === undefined ? undefined : p;
    });
    assert.equal(notReady.metadata?.deletionTimestamp, undefined);
    const events = await client.resource("", "v1", "events").namespace("default").list();
    assert.ok(events.items.some((e) => (e as { reason?: string }).reason === "TaintManagerEviction"), "an eviction event was recorded");

    // The node comes back: the NoExecute taint is removed.
    lease = await leases.update({ ...lease, spec: { ...lease.spec, renewTime: microTime(Date.now()) } });
    const back = await nodes.get("n1");
    const t2 = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await nodes.updateStatus({ ...back, status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: t2, lastTransitionTime: t2 }] } });
    await poll("the unreachable taints to be removed", async () => ((await nodes.get("n1")).spec?.taints ?? []).length === 0 ? true : undefined);

    lifecycle.stop();
    eviction.stop();
    await Promise.all(running);
  } catch (err) {
    for (const r of (env.log as MemoryLogger).records.slice(-40)) console.log(JSON.stringify(r));
    throw err;
  } finally {
    lifecycle.stop();
    eviction.stop();
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});
