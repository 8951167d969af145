import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { selectorFromSet } from "../../client/label_selector.js";
import { startControllerTestEnv } from "./controller_test_env.js";
import { ControllerRefManager, getControllerOf, recheckDeletionTimestamp, REPLICA_SET_KIND } from "./controller_ref.js";

const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web", namespace: "default", uid: "owner-uid" } };
const otherRef = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "other", uid: "other-uid", controller: true };
const ownRef = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "owner-uid", controller: true, blockOwnerDeletion: true };
const spec = { containers: [{ name: "c", image: "i" }] };

test("claiming keeps owned matches, adopts orphans, releases owned non-matches and ignores others' objects", async () => {
  const t = await startControllerTestEnv();
  try {
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    const mk = (name: string, labels: Record<string, string>, refs: object[] = []): Promise<Pod> =>
      pods.create({ metadata: { name, labels, ownerReferences: refs as never }, spec });
    const all = [
      await mk("owned", { app: "web" }, [ownRef]),
      await mk("orphan", { app: "web" }),
      await mk("strayed", { app: "other" }, [ownRef]),
      await mk("theirs", { app: "web" }, [otherRef]),
      await mk("unrelated", { app: "db" }),
    ];
    let rechecks = 0;
    const m = new ControllerRefManager<Pod>({
      controller: owner,
      controllerKind: REPLICA_SET_KIND,
      selector: selectorFromSet({ app: "web" }),
      client: pods,
      canAdopt: async () => void rechecks++,
    });
    const claimed = await m.claim(all);
    assert.deepEqual(claimed.map((p) => p.metadata?.name).sort(), ["orphan", "owned"]);
    assert.equal(rechecks, 1);
    assert.deepEqual(getControllerOf(await pods.get("orphan")), ownRef);
    assert.deepEqual((await pods.get("strayed")).metadata?.ownerReferences ?? [], []);
    assert.equal(getControllerOf(await pods.get("theirs"))?.uid, "other-uid");
    assert.equal(getControllerOf(await pods.get("unrelated")), undefined);
  } finally {
    await t.stop();
  }
});

test("a controller being deleted neither adopts nor releases", async () => {
  const t = await startControllerTestEnv();
  try {
    const pods = t.client.resource<Pod>("", "v1", "pods").namespace("default");
    const orphan = await pods.create({ metadata: { name: "orphan", labels: { app: "web" } }, spec });
    const strayed = await pods.create({ metadata: { name: "strayed", labels: { app: "x" }, ownerReferences: [ownRef] }, spec });
    const deleting = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    const m = new ControllerRefManager<Pod>({ controller: deleting, controllerKind: REPLICA_SET_KIND, selector: selectorFromSet({ app: "web" }), client: pods, canAdopt: async () => undefined });
    assert.deepEqual(await m.claim([orphan, strayed]), []);
    assert.equal(getControllerOf(await pods.get("orphan")), undefined);
    assert.equal(getControllerOf(await pods.get("strayed"))?.uid, "owner-uid");
  } finally {
    await t.stop();
  }
});

test("adoption stops when a fresh read shows the controller was replaced", async () => {
  const recheck = recheckDeletionTimestamp(owner, REPLICA_SET_KIND, async () => ({ metadata: { name: "web", namespace: "default", uid: "new-uid" } }));
  await assert.rejects(recheck(), { message: "original ReplicaSet default/web is gone: got uid new-uid, wanted owner-uid" });
  const gone = recheckDeletionTimestamp(owner, REPLICA_SET_KIND, async () => ({ metadata: { uid: "owner-uid", deletionTimestamp: "2026-01-01T00:00:00Z" } }));
  await assert.rejects(gone(), { message: "ReplicaSet default/web has just been deleted at 2026-01-01T00:00:00Z" });
});
