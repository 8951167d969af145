import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import { GarbageCollector } from "./garbagecollector.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";

/** True when the read fails with NotFound: the object is gone. */
async function isGone(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return false;
  } catch (err) {
    if ((err as { reason?: string }).reason === "NotFound") return true;
    throw err;
  }
}

let c: ControllerTestEnv;
before(async () => {
  c = await startControllerTestEnv();
  await c.start(new GarbageCollector(c.ctx));
});
after(async () => c.stop());

const configMaps = () => c.client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
const secrets = () => c.client.resource<Secret>("", "v1", "secrets").namespace("default");

async function ownerAndDependent(prefix: string, dependentMeta: Record<string, unknown> = {}, block = true) {
  const owner = await configMaps().create({ metadata: { name: `${prefix}-owner` } });
  const dependent = await secrets().create({
    metadata: {
      name: `${prefix}-dependent`,
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: owner.metadata!.name!, uid: owner.metadata!.uid!, ...(block ? { blockOwnerDeletion: true } : {}) }],
      ...dependentMeta,
    },
  });
  return { owner, dependent };
}

test("background: deleting the owner deletes its dependent", async () => {
  await ownerAndDependent("bg");
  await configMaps().delete("bg-owner", { propagationPolicy: "Background" });
  await pollUntil("the dependent to be collected", async () => ((await isGone(secrets().get("bg-dependent"))) ? true : undefined));
});

test("foreground: the owner waits for its blocking dependent, then goes", async () => {
  // The dependent holds a finalizer of its own, so it cannot go until the test lets it.
  await ownerAndDependent("fg", { finalizers: ["example.com/hold"] });
  await configMaps().delete("fg-owner", { propagationPolicy: "Foreground" });
  await pollUntil("the dependent to be marked deleted", async () => ((await secrets().get("fg-dependent")).metadata?.deletionTimestamp ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  const owner = await configMaps().get("fg-owner");
  assert.ok(owner.metadata?.deletionTimestamp !== undefined);
  assert.deepEqual(owner.metadata?.finalizers, ["foregroundDeletion"]);

  await secrets().patch("fg-dependent", "merge", { metadata: { finalizers: null } });
  await pollUntil("the dependent to be gone", async () => ((await isGone(secrets().get("fg-dependent"))) ? true : undefined));
  await pollUntil("the owner to be gone", async () => ((await isGone(configMaps().get("fg-owner"))) ? true : undefined));
});

test("orphan: the dependent stays and loses its owner reference", async () => {
  await ownerAndDependent("or");
  await configMaps().delete("or-owner", { propagationPolicy: "Orphan" });
  await pollUntil("the owner to be gone", async () => ((await isGone(configMaps().get("or-owner"))) ? true : undefined));
  const dep = await secrets().get("or-dependent");
  // Upstream serializes an emptied list as absent (omitempty); ours may keep `[]`: either way, no owner.
  assert.deepEqual(dep.metadata?.ownerReferences ?? [], []);
  assert.equal(dep.metadata?.deletionTimestamp, undefined);
});

test("a dependent whose owner never existed is collected, one with a live owner is kept", async () => {
  const live = await configMaps().create({ metadata: { name: "live-owner" } });
  await secrets().create({ metadata: { name: "phantom-child", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "nobody", uid: "00000000-0000-0000-0000-000000000000" }] } });
  await secrets().create({ metadata: { name: "live-child", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "live-owner", uid: live.metadata!.uid! }] } });
  await pollUntil("the phantom's child to be collected", async () => ((await isGone(secrets().get("phantom-child"))) ? true : undefined));
  assert.equal((await secrets().get("live-child")).metadata?.name, "live-child");
});

test("a reference to an owner with the right name but another uid is dangling", async () => {
  await configMaps().create({ metadata: { name: "reborn" } });
  await secrets().create({ metadata: { name: "stale-child", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "reborn", uid: "11111111-1111-1111-1111-111111111111" }] } });
  await pollUntil("the stale child to be collected", async () => ((await isGone(secrets().get("stale-child"))) ? true : undefined));
  assert.equal((await configMaps().get("reborn")).metadata?.name, "reborn");
});

test("foreground deletion of a ReplicaSet deletes its pods first", async () => {
  const rsClient = c.client.resource<ReplicaSet>("apps", "v1", "replicasets").namespace("default");
  const podClient = c.client.resource<Pod>("", "v1", "pods").namespace("default");
  const rs = await rsClient.create({
    metadata: { name: "fg-rs" },
    spec: { replicas: 0, selector: { matchLabels: { app: "fg" } }, template: { metadata: { labels: { app: "fg" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
  });
  const ownerRef = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "fg-rs", uid: rs.metadata!.uid!, controller: true, blockOwnerDeletion: true };
  for (const n of ["fg-a", "fg-b"]) await podClient.create({ metadata: { name: n, labels: { app: "fg" }, ownerReferences: [ownerRef] }, spec: { containers: [{ name: "c", image: "busybox" }] } });
  await rsClient.delete("fg-rs", { propagationPolicy: "Foreground" });
  await pollUntil("the ReplicaSet and its pods to be gone", async () => {
    const podsLeft = (await podClient.list({ labelSelector: "app=fg" })).items.length;
    return podsLeft === 0 && (await isGone(rsClient.get("fg-rs"))) ? true : undefined;
  });
});
