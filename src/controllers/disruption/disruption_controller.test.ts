import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { startInProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import type { Env } from "../../env/env.js";
import { DisruptionController } from "./disruption_controller.js";

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("DisruptionController: a PDB's status follows its Ready pods and their ReplicaSet's scale", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const env: Env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const informers = new InformerFactory(env, client);
  const controller = new DisruptionController({ env, client, informers });
  try {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    const rss = client.resource<ReplicaSet>("apps", "v1", "replicasets").namespace("default");
    const pdbs = client.resource<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets").namespace("default");
    controller.init();
    informers.start();
    assert.equal(await informers.waitForCacheSync({ timeoutMs: 10_000 }), true);
    const running = controller.run(2);

    const rs = await rss.create({
      metadata: { name: "web" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
    });
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const created: Pod[] = [];
    for (const name of ["web-a", "web-b", "web-c"]) {
      created.push(
        await pods.create({
          metadata: { name, labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: rs.metadata!.uid!, controller: true }] },
          spec: { containers: [{ name: "c", image: "nginx" }] },
        }),
      );
    }
    for (const p of created.slice(0, 2)) await pods.updateStatus({ ...p, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });

    await pdbs.create({ metadata: { name: "web-max" }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } } });
    await pdbs.create({ metadata: { name: "web-min" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } } });

    const statusOf = (name: string, want: Partial<NonNullable<PodDisruptionBudget["status"]>>) =>
      poll(`${name} status ${JSON.stringify(want)}`, async () => {
        const b = await pdbs.get(name);
        const s = b.status;
        if (s === undefined) return undefined;
        return Object.entries(want).every(([k, v]) => JSON.stringify((s as unknown as Record<string, unknown>)[k]) === JSON.stringify(v)) ? b : undefined;
      });
    const max = await statusOf("web-max", { expectedPods: 3, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0, observedGeneration: 1 });
    assert.deepEqual(max.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [["DisruptionAllowed", "False", "InsufficientPods"]]);
    await statusOf("web-min", { expectedPods: 3, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });

    // The third pod becomes Ready: one disruption is allowed.
    await pods.updateStatus({ ...(await pods.get("web-c")), status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
    const allowed = await statusOf("web-max", { currentHealthy: 3, disruptionsAllowed: 1 });
    assert.deepEqual(allowed.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [["DisruptionAllowed", "True", "SufficientPods"]]);

    // Scaling the ReplicaSet up raises the expected count.
    const cur = await rss.get("web");
    await rss.update({ ...cur, spec: { ...cur.spec!, replicas: 5 } });
    await statusOf("web-max", { expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });

    controller.stop();
    await running;
  } finally {
    controller.stop();
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});
