import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { DaemonSet } from "kubernetes-types/apps/v1.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { DaemonSetController } from "./daemonset_controller.js";
import { targetNodeName } from "./daemonset_core.js";
import { eventually, startControllerTestEnv } from "../job/integration_env.js";

test("DaemonSetController: one pod per Node object, pinned by node affinity; a new node gets its pod; status follows", async () => {
  const t = await startControllerTestEnv();
  const recorder = new ApiEventRecorder(t.ctx.env, t.client, { component: "daemonset-controller" });
  const dc = new DaemonSetController(t.ctx, { recorder });
  dc.init();
  t.informers.start();
  await t.informers.waitForCacheSync();
  const running = dc.run(1);
  try {
    const nodes = t.client.resource<Node>("", "v1", "nodes");
    const sets = t.client.resource<DaemonSet>("apps", "v1", "daemonsets").namespace("default");
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    for (const n of ["node-a", "node-b"]) await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name: n, labels: { "kubernetes.io/hostname": n } } });
    // A node the daemon must not run on.
    await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name: "node-tainted" }, spec: { taints: [{ key: "dedicated", value: "x", effect: "NoExecute" }] } });
    await sets.create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "a", image: "agent" }] } } },
    });
    const two = await eventually("two pods", async () => {
      const l = (await pods.list({ labelSelector: "app=agent" })).items;
      return l.length === 2 ? l : undefined;
    });
    assert.deepEqual(two.map(targetNodeName).sort(), ["node-a", "node-b"]);
    assert.ok(two.every((p) => p.spec?.nodeName === undefined)); // the scheduler binds them
    assert.ok(two.every((p) => p.metadata?.labels?.["controller-revision-hash"] !== undefined));
    assert.ok(two.every((p) => p.spec?.tolerations?.some((x) => x.key === "node.kubernetes.io/unschedulable")));
    await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name: "node-c" } });
    await eventually("a pod on node-c", async () => ((await pods.list({ labelSelector: "app=agent" })).items.some((p) => targetNodeName(p) === "node-c") ? true : undefined));
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const first = two[0]!;
    await pods.updateStatus({ ...first, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
    const s = await eventually("status", async () => {
      const d = await sets.get("agent");
      return d.status?.currentNumberScheduled === 3 && d.status.numberReady === 1 ? d : undefined;
    });
    assert.equal(s.status?.desiredNumberScheduled, 3);
    assert.equal(s.status?.numberAvailable, 1);
    assert.equal(s.status?.updatedNumberScheduled, 3);
    assert.equal(s.status?.numberMisscheduled, 0);
    assert.equal(s.status?.observedGeneration, 1);
  } finally {
    dc.stop();
    await running;
    await t.close();
  }
});
