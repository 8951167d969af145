import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event, Pod, ReplicationController } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import { ApiError } from "../../api/status.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { pollUntil, startControllerTestEnv } from "../util/controller_test_env.js";
import { newReplicationManager, ReplicaSetController } from "./replica_set_controller.js";

const NS = "default";
const labels = { app: "web" };
const template = { metadata: { labels }, spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] } };

function rsObj(name: string, replicas: number): ReplicaSet {
  return { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name, namespace: NS }, spec: { replicas, selector: { matchLabels: labels }, template } };
}

async function markReady(client: import("../../client/rest_client.js").RestClient, pod: Pod): Promise<void> {
  const pods = client.resource<Pod>("", "v1", "pods").namespace(NS);
  const fresh = await pods.get(pod.metadata!.name!);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await pods.updateStatus({ ...fresh, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } });
}

function owned(pods: Pod[], uid: string | undefined): Pod[] {
  return pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === uid) === true && p.metadata?.deletionTimestamp === undefined);
}

test("a ReplicaSet creates, adopts, releases and deletes pods, keeps status and records events", async () => {
  const t = await startControllerTestEnv();
  try {
    const recorder = new ApiEventRecorder(t.env, t.client, { component: "replicaset-controller" });
    const rsc = new ReplicaSetController(t.ctx, undefined, { recorder });
    await t.start(rsc);
    const rsClient = t.client.resource<ReplicaSet>("apps", "v1", "replicasets").namespace(NS);
    const podClient = t.client.resource<Pod>("", "v1", "pods").namespace(NS);

    // An orphan that matches is adopted, so only two pods are created for three replicas.
    const orphan = await podClient.create({ metadata: { name: "orphan", labels }, spec: template.spec });
    const rs = await rsClient.create(rsObj("web", 3));
    const uid = rs.metadata?.uid;
    const pods = await pollUntil("3 owned pods", async () => {
      const ps = owned((await podClient.list()).items, uid);
      return ps.length === 3 ? ps : undefined;
    });
    assert.ok(pods.some((p) => p.metadata?.name === orphan.metadata?.name), "the orphan was adopted");
    for (const p of pods.filter((p) => p.metadata?.name !== "orphan")) {
      assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(p.metadata?.generateName, "web-");
      assert.deepEqual(p.metadata?.labels, labels);
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid, controller: true, blockOwnerDeletion: true }]);
    }
    await pollUntil("status replicas 3", async () => {
      const s = (await rsClient.get("web")).status;
      return s?.replicas === 3 && s.fullyLabeledReplicas === 3 && s.readyReplicas === 0 && s.observedGeneration === 1;
    });

    // Two pods become ready: status counts them ready and available.
    const [a, b, c] = pods.sort((x, y) => x.metadata!.name!.localeCompare(y.metadata!.name!));
    await markReady(t.client, a!);
    await markReady(t.client, b!);
    await pollUntil("2 ready and available", async () => {
      const s = (await rsClient.get("web")).status;
      return s?.readyReplicas === 2 && s.availableReplicas === 2;
    });

    // Scaling to 2 deletes the not-ready pod first.
    await rsClient.patch("web", "merge", { spec: { replicas: 2 } });
    await pollUntil("the not-ready pod deleted", async () => {
      try {
        await podClient.get(c!.metadata!.name!);
        return false;
      } catch (err) {
        return err instanceof ApiError && err.reason === "NotFound";
      }
    });
    await pollUntil("status replicas 2 for generation 2", async () => {
      const s = (await rsClient.get("web")).status;
      return s?.replicas === 2 && s.observedGeneration === 2;
    });

    // A pod whose labels stop matching is released and replaced.
    await podClient.patch(a!.metadata!.name!, "merge", { metadata: { labels: { app: "debug" } } });
    await pollUntil("the relabelled pod released", async () => ((await podClient.get(a!.metadata!.name!)).metadata?.ownerReferences ?? []).length === 0);
    await pollUntil("a replacement created", async () => owned((await podClient.list()).items, uid).length === 2);

    await recorder.flush();
    await pollUntil("events recorded", async () => {
      const evs = (await t.client.resource<Event>("", "v1", "events").namespace(NS).list()).items.filter((e) => e.involvedObject.uid === uid);
      const msgs = evs.map((e) => `${e.type} ${e.reason} ${e.message}`);
      return msgs.some((m) => /^Normal SuccessfulCreate Created pod: web-[a-z0-9]{5}$/.test(m)) && msgs.includes(`Normal SuccessfulDelete Deleted pod: ${c!.metadata!.name}`)
        ? evs
        : undefined;
    });
    const ev = (await t.client.resource<Event>("", "v1", "events").namespace(NS).list()).items.find((e) => e.reason === "SuccessfulDelete")!;
    assert.equal(ev.source?.component, "replicaset-controller");
    assert.equal(ev.involvedObject.kind, "ReplicaSet");
    assert.equal(ev.involvedObject.name, "web");
    assert.match(ev.metadata!.name!, /^web\.[0-9a-f]+$/);
    assert.equal(ev.count, 1);
  } finally {
    await t.stop();
  }
});

test("a ReplicationController manages pods by its map selector", async () => {
  const t = await startControllerTestEnv();
  try {
    const rm = newReplicationManager(t.ctx);
    await t.start(rm);
    const rcClient = t.client.resource<ReplicationController>("", "v1", "replicationcontrollers").namespace(NS);
    const podClient = t.client.resource<Pod>("", "v1", "pods").namespace(NS);
    const rc = await rcClient.create({ metadata: { name: "legacy" }, spec: { replicas: 2, selector: { app: "legacy" }, template: { metadata: { labels: { app: "legacy" } }, spec: template.spec } } });
    const pods = await pollUntil("2 pods", async () => {
      const ps = owned((await podClient.list()).items, rc.metadata?.uid);
      return ps.length === 2 ? ps : undefined;
    });
    assert.equal(pods[0]!.metadata?.ownerReferences?.[0]?.kind, "ReplicationController");
    assert.equal(pods[0]!.metadata?.ownerReferences?.[0]?.apiVersion, "v1");
    await pollUntil("status replicas 2", async () => (await rcClient.get("legacy")).status?.replicas === 2);
  } finally {
    await t.stop();
  }
});
