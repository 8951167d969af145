/**
 * ResourceQuota admission charges what it admits: pods created at once against a quota with room for
 * two get exactly two through, and the quota's status.used says so before any controller runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, ResourceQuota } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { startInProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";

test("concurrent pod creates never overshoot a quota: each admitted pod is charged to status.used at once", async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig));
  try {
    const quotas = client.resource<ResourceQuota>("", "v1", "resourcequotas").namespace("default");
    await quotas.create({ metadata: { name: "q" }, spec: { hard: { pods: "2", "requests.cpu": "1" } } });
    // What the resource quota controller writes first (no controller runs here).
    const q = await quotas.get("q");
    await quotas.updateSubresource("q", "status", { ...q, status: { hard: { pods: "2", "requests.cpu": "1" }, used: { pods: "0", "requests.cpu": "0" } } });

    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    const pod = (i: number): Pod => ({ metadata: { name: `p${i}` }, spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "100m" } } }] } });
    // A dry run is checked but charges nothing.
    await pods.create(pod(9), { dryRun: true });
    assert.deepEqual((await quotas.get("q")).status?.used, { pods: "0", "requests.cpu": "0" });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => pods.create(pod(i))));
    const admitted = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    assert.equal(admitted, 2);
    assert.ok(refused.every((e) => e instanceof ApiError && e.code === 403 && /exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/.test(e.message)), String(refused[0]));
    assert.deepEqual((await quotas.get("q")).status?.used, { pods: "2", "requests.cpu": "200m" });
  } finally {
    client.close();
    await api.stop();
  }
});
