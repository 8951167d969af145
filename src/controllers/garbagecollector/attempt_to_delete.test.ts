import { test } from "node:test";
import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../../client/rest_client.js";
import { AbsentOwnerCache } from "./absent_owner_cache.js";
import { classifyOwner, decideItem, deleteOwnerRefsPatch, finalizersPatch, type OwnerState } from "./attempt_to_delete.js";

const ref = (uid: string): OwnerReference => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name: `rs-${uid}`, uid });
const obj = (refs: OwnerReference[], finalizers?: string[]): KubeObject => ({ metadata: { name: "x", uid: "x1", ownerReferences: refs, ...(finalizers ? { finalizers } : {}) } });

const classifyCases = [
  { name: "an absent owner is dangling", owner: undefined, want: "dangling" },
  { name: "another incarnation (uid differs) is dangling", owner: { metadata: { uid: "other" } }, want: "dangling" },
  { name: "an owner in foreground deletion is waited on", owner: { metadata: { uid: "1", deletionTimestamp: "t", finalizers: ["foregroundDeletion"] } }, want: "waitingForDependentsDeletion" },
  { name: "an owner deleted in the background is still solid until it goes", owner: { metadata: { uid: "1", deletionTimestamp: "t" } }, want: "solid" },
  { name: "a live owner is solid", owner: { metadata: { uid: "1" } }, want: "solid" },
] as const;
for (const c of classifyCases) test(`classifyOwner: ${c.name}`, () => assert.equal(classifyOwner(ref("1"), c.owner as KubeObject | undefined), c.want));

const decideCases: { name: string; latest: KubeObject; owners: [string, OwnerState][]; dependents?: number; cycle?: boolean; want: unknown }[] = [
  { name: "no owners: nothing to do", latest: obj([]), owners: [], want: { kind: "none", why: "object doesn't have any owner" } },
  { name: "one live owner: kept", latest: obj([ref("1")]), owners: [["1", "solid"]], want: { kind: "none", why: "object has at least one existing owner" } },
  { name: "a live and a dead owner: only the dead reference goes", latest: obj([ref("1"), ref("2")]), owners: [["1", "solid"], ["2", "dangling"]], want: { kind: "removeOwnerReferences", uids: ["2"] } },
  { name: "all owners gone: background delete", latest: obj([ref("1")]), owners: [["1", "dangling"]], want: { kind: "delete", policy: "Background", unblockFirst: false } },
  { name: "all owners gone and the item orphans its own dependents", latest: obj([ref("1")], ["orphan"]), owners: [["1", "dangling"]], want: { kind: "delete", policy: "Orphan", unblockFirst: false } },
  { name: "an owner waits and the item has dependents: foreground delete", latest: obj([ref("1")]), owners: [["1", "waitingForDependentsDeletion"]], dependents: 2, want: { kind: "delete", policy: "Foreground", unblockFirst: false } },
  { name: "a foreground cycle unblocks first", latest: obj([ref("1")]), owners: [["1", "waitingForDependentsDeletion"]], dependents: 1, cycle: true, want: { kind: "delete", policy: "Foreground", unblockFirst: true } },
  { name: "an owner waits and the item has no dependents: background delete", latest: obj([ref("1")]), owners: [["1", "waitingForDependentsDeletion"]], want: { kind: "delete", policy: "Background", unblockFirst: false } },
];
for (const c of decideCases) {
  test(`decideItem: ${c.name}`, () => {
    assert.deepEqual(decideItem({ latest: c.latest, owners: new Map(c.owners), dependents: c.dependents ?? 0, dependentDeletingDependents: c.cycle ?? false }), c.want);
  });
}

test("the owner-reference patch deletes by uid and names the dependent", () => {
  assert.deepEqual(deleteOwnerRefsPatch("d1", ["o1"]), { metadata: { ownerReferences: [{ $patch: "delete", uid: "o1" }], uid: "d1" } });
});

test("the finalizers patch is guarded by resourceVersion and nulls an empty list", () => {
  assert.deepEqual(finalizersPatch({ metadata: { resourceVersion: "7", finalizers: ["orphan"] } }, "orphan"), { metadata: { resourceVersion: "7", finalizers: null } });
  assert.deepEqual(finalizersPatch({ metadata: { resourceVersion: "7", finalizers: ["a", "orphan"] } }, "orphan"), { metadata: { resourceVersion: "7", finalizers: ["a"] } });
});

test("the absent-owner cache forgets its least recently used entry at its bound", () => {
  const c = new AbsentOwnerCache(2);
  const id = (n: string) => ({ apiVersion: "v1", kind: "Pod", name: n, uid: n, namespace: "" });
  c.add(id("a"));
  c.add(id("b"));
  assert.ok(c.has(id("a")));
  c.add(id("c"));
  assert.equal(c.size, 2);
  assert.ok(c.has(id("a")));
  assert.ok(!c.has(id("b")));
});

test("the collector watches the workload, config and discovery resources, and never events", async () => {
  const { monitoredResources } = await import("./garbagecollector.js");
  const names = new Set(monitoredResources().map((r) => `${r.resource}.${r.group}`));
  for (const want of [
    "pods.",
    "replicasets.apps",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "cronjobs.batch",
    "controllerrevisions.apps",
    "endpointslices.discovery.k8s.io",
    "configmaps.",
    "secrets.",
    "services.",
  ]) {
    assert.ok(names.has(want), `${want} is monitored`);
  }
  assert.ok(!names.has("events."));
  assert.ok(!names.has("events.events.k8s.io"));
  assert.ok(!names.has("bindings."));
});
