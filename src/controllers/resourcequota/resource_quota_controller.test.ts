import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Pod, ResourceQuota } from "kubernetes-types/core/v1.js";
import { startInProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import type { Env } from "../../env/env.js";
import { ResourceQuotaController } from "./resource_quota_controller.js";

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("ResourceQuotaController: a quota's status follows the namespace's pods, requests and counted objects", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const env: Env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const informers = new InformerFactory(env, client);
  const controller = new ResourceQuotaController({ env, client, informers });
  try {
    const quotas = client.resource<ResourceQuota>("", "v1", "resourcequotas").namespace("default");
    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
    controller.init();
    informers.start();
    assert.equal(await informers.waitForCacheSync({ timeoutMs: 10_000 }), true);
    const running = controller.run(2);

    await quotas.create({ metadata: { name: "q" }, spec: { hard: { pods: "10", "requests.cpu": "2", "limits.memory": "2Gi", configmaps: "20", "count/deployments.apps": "3" } } });
    const mk = (name: string): Pod => ({
      metadata: { name },
      spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "250m" }, limits: { cpu: "250m", memory: "256Mi" } } }] },
    });
    await pods.create(mk("a"));
    const b = await pods.create(mk("b"));
    await cms.create({ metadata: { name: "extra" }, data: {} });

    const want = async (used: Record<string, string>): Promise<ResourceQuota> =>
      poll(`used ${JSON.stringify(used)}`, async () => {
        const q = await quotas.get("q");
        return JSON.stringify(q.status?.used) === JSON.stringify(used) ? q : undefined;
      });
    // kube-root-ca.crt is published in every namespace, so default has two ConfigMaps.
    const cmCount = String((await cms.list()).items.length);
    const q = await want({ pods: "2", "requests.cpu": "500m", "limits.memory": "512Mi", configmaps: cmCount, "count/deployments.apps": "0" });
    assert.deepEqual(q.status?.hard, { pods: "10", "requests.cpu": "2", "limits.memory": "2Gi", configmaps: "20", "count/deployments.apps": "3" });

    // A pod that finished is no longer charged.
    await pods.updateStatus({ ...b, status: { phase: "Succeeded" } });
    await want({ pods: "1", "requests.cpu": "250m", "limits.memory": "256Mi", configmaps: cmCount, "count/deployments.apps": "0" });

    // Counted resources of other groups are watched on demand.
    await client.resource("apps", "v1", "deployments").namespace("default").create({
      metadata: { name: "web" },
      spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
    } as never);
    await want({ pods: "1", "requests.cpu": "250m", "limits.memory": "256Mi", configmaps: cmCount, "count/deployments.apps": "1" });

    // A change of spec.hard shows in status.hard.
    const cur = await quotas.get("q");
    await quotas.update({ ...cur, spec: { hard: { pods: "5" } } });
    await poll("hard updated", async () => {
      const q2 = await quotas.get("q");
      return JSON.stringify(q2.status) === JSON.stringify({ hard: { pods: "5" }, used: { pods: "1" } }) ? true : undefined;
    });
    controller.stop();
    await running;
  } finally {
    controller.stop();
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});
