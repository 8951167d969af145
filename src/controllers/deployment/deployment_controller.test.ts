import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Event, Pod } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../../client/rest_client.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { ReplicaSetController } from "../replicaset/replica_set_controller.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";
import { DeploymentController } from "./deployment_controller.js";

const run = promisify(execFile);
const NS = "default";

function deployment(name: string, replicas: number, image: string, extra: Partial<NonNullable<Deployment["spec"]>> = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image }] } },
      ...extra,
    },
  };
}

/** Stands in for the kubelet: marks every pod of `app` Running and Ready shortly after it appears. */
function startPodStarter(client: RestClient, app: string, enabled: () => boolean = () => true): { stop(): Promise<void> } {
  const pods = client.resource<Pod>("", "v1", "pods").namespace(NS);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (enabled()) {
        try {
          for (const p of (await pods.list({ labelSelector: `app=${app}` })).items) {
            if (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true) continue;
            const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
            await pods.updateStatus({ ...p, status: { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] } }).catch(() => undefined);
          }
        } catch {
          // the server is going away
        }
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function setup(): Promise<{ t: ControllerTestEnv; dc: DeploymentController; dRecorder: ApiEventRecorder }> {
  const t = await startControllerTestEnv();
  const dRecorder = new ApiEventRecorder(t.env, t.client, { component: "deployment-controller" });
  const dc = new DeploymentController(t.ctx, { recorder: dRecorder });
  const rsc = new ReplicaSetController(t.ctx);
  await t.start(dc, rsc);
  return { t, dc, dRecorder };
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

test("a Deployment creates a ReplicaSet and pods, becomes Available, rolls within maxSurge/maxUnavailable, scales down, and kubectl reads its rollout", async () => {
  const { t, dRecorder } = await setup();
  const starter = { s: null as null | { stop(): Promise<void> } };
  try {
    const dClient = t.client.resource<Deployment>("apps", "v1", "deployments").namespace(NS);
    const rsClient = t.client.resource<ReplicaSet>("apps", "v1", "replicasets").namespace(NS);
    const podClient = t.client.resource<Pod>("", "v1", "pods").namespace(NS);
    const d = await dClient.create({ ...deployment("web", 3, "nginx:1.26"), metadata: { name: "web", annotations: { "kubernetes.io/change-cause": "first" } } });

    // One ReplicaSet named by the template hash, three pods.
    const rs1 = await pollUntil("the first ReplicaSet", async () => (await rsClient.list()).items.find((r) => r.spec?.replicas === 3));
    const hash = rs1.metadata!.labels!["pod-template-hash"]!;
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs1.metadata?.name, `web-${hash}`);
    assert.deepEqual(rs1.spec?.selector?.matchLabels, { app: "web", "pod-template-hash": hash });
    assert.equal(rs1.metadata?.annotations?.["deployment.kubernetes.io/revision"], "1");
    assert.equal(rs1.metadata?.annotations?.["deployment.kubernetes.io/desired-replicas"], "3");
    assert.equal(rs1.metadata?.annotations?.["deployment.kubernetes.io/max-replicas"], "4");
    assert.equal(rs1.metadata?.annotations?.["kubernetes.io/change-cause"], "first");
    assert.deepEqual(rs1.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [["Deployment", "web", d.metadata?.uid, true]]);
    await pollUntil("3 pods", async () => (await podClient.list({ labelSelector: "app=web" })).items.length === 3);
    await pollUntil("the revision annotation on the Deployment", async () => (await dClient.get("web")).metadata?.annotations?.["deployment.kubernetes.io/revision"] === "1");
    let st = (await dClient.get("web")).status;
    assert.equal(st?.conditions?.find((c) => c.type === "Available")?.status, "False");

    // Pods become ready: the Deployment is Available and its rollout complete.
    starter.s = startPodStarter(t.client, "web");
    const done = await pollUntil("the Deployment available", async () => {
      const cur = await dClient.get("web");
      const s = cur.status;
      return s?.availableReplicas === 3 && s.updatedReplicas === 3 && s.readyReplicas === 3 && s.observedGeneration === cur.metadata?.generation &&
        s.conditions?.find((c) => c.type === "Progressing")?.reason === "NewReplicaSetAvailable" ? cur : undefined;
    });
    const available = done.status!.conditions!.find((c) => c.type === "Available")!;
    assert.deepEqual([available.status, available.reason, available.message], ["True", "MinimumReplicasAvailable", "Deployment has minimum availability."]);
    assert.equal(done.status!.conditions!.find((c) => c.type === "Progressing")!.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
    await run("kubectl", ["--kubeconfig", t.server.kubeconfig, "rollout", "status", "deployment/web", "--timeout=20s"]);

    // A new image rolls out; at every observed step at most 3 + maxSurge(1) pods live and at least 3 - maxUnavailable(0) are ready.
    let maxAlive = 0;
    let minReady = Infinity;
    let watching = true;
    const observer = (async () => {
      while (watching) {
        const pods = (await podClient.list({ labelSelector: "app=web" })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
        maxAlive = Math.max(maxAlive, pods.length);
        minReady = Math.min(minReady, pods.filter(isReady).length);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await dClient.patch("web", "merge", { metadata: { annotations: { "kubernetes.io/change-cause": "second" } }, spec: { template: { spec: { containers: [{ name: "c", image: "nginx:1.27" }] } } } });
    const rolled = await pollUntil("the rollout to finish", async () => {
      const cur = await dClient.get("web");
      const s = cur.status;
      return cur.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "2" && s?.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3 &&
        s.observedGeneration === cur.metadata?.generation && s.conditions?.find((c) => c.type === "Progressing")?.reason === "NewReplicaSetAvailable" ? cur : undefined;
    });
    watching = false;
    await observer;
    assert.ok(maxAlive <= 4, `at most 4 pods alive during the rollout, saw ${maxAlive}`);
    assert.ok(minReady >= 3, `at least 3 pods ready during the rollout, saw ${minReady}`);
    const sets = (await rsClient.list()).items;
    assert.equal(sets.length, 2);
    const rs2 = sets.find((r) => r.metadata?.name !== rs1.metadata?.name)!;
    assert.equal(rs2.spec?.replicas, 3);
    assert.equal(rs2.metadata?.annotations?.["deployment.kubernetes.io/revision"], "2");
    assert.equal(rs2.metadata?.annotations?.["kubernetes.io/change-cause"], "second");
    assert.equal(sets.find((r) => r.metadata?.name === rs1.metadata?.name)!.spec?.replicas, 0);
    const images = (await podClient.list({ labelSelector: "app=web" })).items.map((p) => p.spec?.containers[0]?.image);
    assert.deepEqual(images, ["nginx:1.27", "nginx:1.27", "nginx:1.27"]);
    assert.equal(rolled.status?.unavailableReplicas ?? 0, 0);

    const history = (await run("kubectl", ["--kubeconfig", t.server.kubeconfig, "rollout", "history", "deployment/web"])).stdout;
    assert.match(history, /1\s+first/);
    assert.match(history, /2\s+second/);

    // kubectl rollout undo (client side) puts revision 1's template back: that ReplicaSet becomes revision 3.
    await run("kubectl", ["--kubeconfig", t.server.kubeconfig, "rollout", "undo", "deployment/web"]);
    await pollUntil("the rollback to finish", async () => {
      const rs = await rsClient.get(rs1.metadata!.name!);
      const cur = await dClient.get("web");
      return rs.spec?.replicas === 3 && rs.metadata?.annotations?.["deployment.kubernetes.io/revision"] === "3" &&
        rs.metadata?.annotations?.["deployment.kubernetes.io/revision-history"] === "1" && cur.status?.updatedReplicas === 3 && cur.status.availableReplicas === 3 && cur.status.replicas === 3;
    });
    await run("kubectl", ["--kubeconfig", t.server.kubeconfig, "rollout", "status", "deployment/web", "--timeout=20s"]);

    // Scaling down is a scaling event: the only active set shrinks, and its pods go, the not-ready one first.
    await starter.s.stop();
    const before = (await podClient.list({ labelSelector: "app=web" })).items;
    assert.equal(before.length, 3);
    const sick = before[1]!;
    await podClient.updateStatus({ ...sick, status: { phase: "Running", conditions: [{ type: "Ready", status: "False", lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") }] } });
    await pollUntil("the Deployment sees the unready pod", async () => (await dClient.get("web")).status?.readyReplicas === 2);
    await dClient.patch("web", "merge", { spec: { replicas: 2 } });
    const left = await pollUntil("two pods left", async () => {
      const pods = (await podClient.list({ labelSelector: "app=web" })).items;
      return pods.length === 2 ? pods : undefined;
    });
    assert.ok(!left.some((p) => p.metadata?.name === sick.metadata?.name), "the not-ready pod was deleted first");
    starter.s = startPodStarter(t.client, "web");
    await dClient.patch("web", "merge", { spec: { replicas: 1 } });
    await pollUntil("one pod left", async () => (await podClient.list({ labelSelector: "app=web" })).items.length === 1);
    await pollUntil("status for 1 replica", async () => {
      const s = (await dClient.get("web")).status;
      return s?.replicas === 1 && s.availableReplicas === 1 && s.updatedReplicas === 1;
    });

    await dRecorder.flush();
    const msgs = await pollUntil("scaling events", async () => {
      const evs = (await t.client.resource<Event>("", "v1", "events").namespace(NS).list()).items.filter((e) => e.involvedObject.kind === "Deployment" && e.reason === "ScalingReplicaSet");
      // After 10 distinct messages the correlator combines the rest, as upstream's does.
      const m = evs.map((e) => (e.message ?? "").replace(/^\(combined from similar events\): /, ""));
      return m.includes(`Scaled down replica set ${rs1.metadata!.name} to 1 from 2`) ? m : undefined;
    });
    assert.ok(msgs.includes(`Scaled up replica set ${rs1.metadata!.name} to 3 from 0`), msgs.join("\n"));
    assert.ok(msgs.includes(`Scaled down replica set ${rs1.metadata!.name} to 2 from 3`), msgs.join("\n"));
    assert.ok(msgs.includes(`Scaled up replica set ${rs2.metadata!.name} to 1 from 0`), msgs.join("\n"));
  } finally {
    await starter.s?.stop();
    await t.stop();
  }
});

test("a Recreate Deployment removes every old pod before it creates a new one", async () => {
  const { t } = await setup();
  const starter = startPodStarter(t.client, "batch");
  try {
    const dClient = t.client.resource<Deployment>("apps", "v1", "deployments").namespace(NS);
    const podClient = t.client.resource<Pod>("", "v1", "pods").namespace(NS);
    await dClient.create(deployment("batch", 2, "busybox:1", { strategy: { type: "Recreate" } }));
    await pollUntil("2 ready pods", async () => (await podClient.list({ labelSelector: "app=batch" })).items.filter(isReady).length === 2);
    let mixed = false;
    let watching = true;
    const observer = (async () => {
      while (watching) {
        const images = new Set((await podClient.list({ labelSelector: "app=batch" })).items.map((p) => p.spec?.containers[0]?.image));
        if (images.size > 1) mixed = true;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await dClient.patch("batch", "merge", { spec: { template: { spec: { containers: [{ name: "c", image: "busybox:2" }] } } } });
    await pollUntil("the new pods", async () => {
      const pods = (await podClient.list({ labelSelector: "app=batch" })).items;
      return pods.length === 2 && pods.every((p) => p.spec?.containers[0]?.image === "busybox:2");
    });
    watching = false;
    await observer;
    assert.equal(mixed, false, "old and new pods never ran together");
  } finally {
    await starter.stop();
    await t.stop();
  }
});

test("a rollout that makes no progress within progressDeadlineSeconds is marked ProgressDeadlineExceeded", async () => {
  const { t } = await setup();
  try {
    const dClient = t.client.resource<Deployment>("apps", "v1", "deployments").namespace(NS);
    await dClient.create(deployment("stuck", 1, "nginx", { progressDeadlineSeconds: 1 }));
    const cond = await pollUntil("the deadline condition", async () => {
      const c = (await dClient.get("stuck")).status?.conditions?.find((x) => x.type === "Progressing");
      return c?.reason === "ProgressDeadlineExceeded" ? c : undefined;
    });
    assert.equal(cond.status, "False");
    assert.match(cond.message ?? "", /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
  } finally {
    await t.stop();
  }
});

test("pausing a Deployment sets Progressing Unknown DeploymentPaused and holds the rollout", async () => {
  const { t } = await setup();
  try {
    const dClient = t.client.resource<Deployment>("apps", "v1", "deployments").namespace(NS);
    const rsClient = t.client.resource<ReplicaSet>("apps", "v1", "replicasets").namespace(NS);
    await dClient.create(deployment("p", 1, "nginx:1", { paused: true }));
    const c = await pollUntil("the paused condition", async () => (await dClient.get("p")).status?.conditions?.find((x) => x.type === "Progressing" && x.reason === "DeploymentPaused"));
    assert.deepEqual([c.status, c.message], ["Unknown", "Deployment is paused"]);
    assert.equal((await rsClient.list()).items.length, 0, "a paused Deployment creates no ReplicaSet");
    await dClient.patch("p", "merge", { spec: { paused: false } });
    await pollUntil("a ReplicaSet after resuming", async () => (await rsClient.list()).items.length === 1);
  } finally {
    await t.stop();
  }
});
