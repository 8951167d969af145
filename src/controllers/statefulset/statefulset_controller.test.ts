import { test } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { StatefulSetController } from "./statefulset_controller.js";
import { eventually, startControllerTestEnv } from "../job/integration_env.js";

test("StatefulSetController: web-0 comes first, web-1 only after web-0 is Running and Ready, with claims and a revision", async () => {
  const t = await startControllerTestEnv();
  const recorder = new ApiEventRecorder(t.ctx.env, t.client, { component: "statefulset-controller" });
  const sc = new StatefulSetController(t.ctx, { recorder });
  sc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = sc.run(1);
  try {
    const sets = t.client.resource<StatefulSet>("apps", "v1", "statefulsets").namespace("default");
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    const claims = t.client.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims").namespace("default");
    const revisions = t.client.resource<ControllerRevision>("apps", "v1", "controllerrevisions").namespace("default");
    await sets.create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 2,
        serviceName: "nginx",
        selector: { matchLabels: { app: "nginx" } },
        template: { metadata: { labels: { app: "nginx" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } },
        volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    });
    const web0 = await eventually("web-0", async () => (await pods.list()).items.find((p) => p.metadata?.name === "web-0"));
    assert.equal(web0.spec?.hostname, "web-0");
    assert.equal(web0.spec?.subdomain, "nginx");
    const hash = web0.metadata?.labels?.["controller-revision-hash"];
    assert.ok(hash !== undefined);
    const claim = await claims.get("www-web-0");
    assert.equal(claim.status?.phase, "Pending");
    const revs = (await revisions.list()).items;
    assert.equal(revs.length, 1);
    assert.equal(revs[0]?.metadata?.name, `web-${hash}`);
    // Not Ready yet: web-1 must not appear.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await pods.list()).items.map((p) => p.metadata?.name), ["web-0"]);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await pods.updateStatus({ ...web0, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
    await eventually("web-1", async () => ((await pods.list()).items.some((p) => p.metadata?.name === "web-1") ? true : undefined));
    const s = await eventually("status", async () => {
      const x = await sets.get("web");
      return x.status?.replicas === 2 ? x : undefined;
    });
    assert.equal(s.status?.readyReplicas, 1);
    assert.equal(s.status?.updateRevision, `web-${hash}`);
    assert.equal(s.status?.currentRevision, `web-${hash}`);
    assert.equal(s.status?.observedGeneration, 1);
  } finally {
    sc.stop();
    await running;
    await t.close();
  }
});
