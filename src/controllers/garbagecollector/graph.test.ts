import { test } from "node:test";
import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../../client/rest_client.js";
import { DependencyGraph, referencesDiffs, type GraphNode, type ObjectIdentity } from "./graph.js";

function harness() {
  const log: string[] = [];
  const absent: ObjectIdentity[] = [];
  const g = new DependencyGraph({
    attemptToDelete: (n: GraphNode) => log.push(`delete ${n.identity.name}`),
    attemptToOrphan: (n: GraphNode) => log.push(`orphan ${n.identity.name}`),
    ownerAbsent: (id) => absent.push(id),
    ownerNamespace: (ref, ns) => (ref.kind === "Node" ? "" : ns),
  });
  return { g, log, absent };
}

const ref = (name: string, uid: string, block = false): OwnerReference => ({ apiVersion: "apps/v1", kind: "ReplicaSet", name, uid, ...(block ? { blockOwnerDeletion: true } : {}) });
const rs = (name: string, uid: string, meta: Partial<KubeObject["metadata"]> = {}): KubeObject => ({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name, uid, namespace: "ns", ...meta } });
const pod = (name: string, uid: string, owners: OwnerReference[], meta: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, uid, namespace: "ns", ownerReferences: owners, ...meta },
});

test("a dependent seen before its owner creates a virtual owner that is queued for a GET", () => {
  const { g, log } = harness();
  g.processGraphChange({ type: "add", obj: pod("p", "p1", [ref("web", "r1")]), namespaced: true });
  const owner = g.get("r1")!;
  assert.equal(owner.virtual, true);
  assert.equal(owner.identity.namespace, "ns");
  assert.deepEqual(log, ["delete web"]);
  g.processGraphChange({ type: "add", obj: rs("web", "r1"), namespaced: true });
  assert.equal(owner.virtual, false);
  assert.equal(owner.observed, true);
  assert.equal(owner.dependents.size, 1);
});

test("deleting an owner queues its dependents and records it absent", () => {
  const { g, log, absent } = harness();
  g.processGraphChange({ type: "add", obj: rs("web", "r1"), namespaced: true });
  g.processGraphChange({ type: "add", obj: pod("a", "a1", [ref("web", "r1")]), namespaced: true });
  g.processGraphChange({ type: "add", obj: pod("b", "b1", [ref("web", "r1")]), namespaced: true });
  g.processGraphChange({ type: "delete", obj: rs("web", "r1"), namespaced: true });
  assert.deepEqual(log.sort(), ["delete a", "delete b"]);
  assert.equal(absent.length, 1);
  assert.equal(g.get("r1"), undefined);
});

test("an owner entering foreground deletion is marked and queued with all its dependents", () => {
  const { g, log } = harness();
  g.processGraphChange({ type: "add", obj: rs("web", "r1"), namespaced: true });
  g.processGraphChange({ type: "add", obj: pod("a", "a1", [ref("web", "r1", true)]), namespaced: true });
  const old = rs("web", "r1");
  const deleting = rs("web", "r1", { deletionTimestamp: "2024-01-01T00:00:00Z", finalizers: ["foregroundDeletion"] });
  g.processGraphChange({ type: "update", obj: deleting, old, namespaced: true });
  assert.equal(g.get("r1")!.deletingDependents, true);
  assert.deepEqual(log, ["delete a", "delete web"]);
  assert.deepEqual(g.get("r1")!.blockingDependents().map((d) => d.identity.name), ["a"]);
  // The same state again is no transition: nothing more queued.
  g.processGraphChange({ type: "update", obj: deleting, old: deleting, namespaced: true });
  assert.equal(log.length, 2);
  // The blocking dependent goes: the owner is looked at again.
  g.processGraphChange({ type: "delete", obj: pod("a", "a1", [ref("web", "r1", true)]), namespaced: true });
  assert.deepEqual(log, ["delete a", "delete web", "delete web"]);
});

test("an owner entering deletion with the orphan finalizer is queued for orphaning", () => {
  const { g, log } = harness();
  g.processGraphChange({ type: "add", obj: rs("web", "r1", { deletionTimestamp: "t", finalizers: ["orphan"] }), namespaced: true });
  assert.deepEqual(log, ["orphan web"]);
});

test("a dependent dropping its blocking reference unblocks an owner waiting in the foreground", () => {
  const { g, log } = harness();
  g.processGraphChange({ type: "add", obj: rs("web", "r1", { deletionTimestamp: "t", finalizers: ["foregroundDeletion"] }), namespaced: true });
  g.processGraphChange({ type: "add", obj: pod("a", "a1", [ref("web", "r1", true)]), namespaced: true });
  log.length = 0;
  g.processGraphChange({ type: "update", obj: pod("a", "a1", []), old: pod("a", "a1", [ref("web", "r1", true)]), namespaced: true });
  assert.deepEqual(log, ["delete web"]);
  assert.equal(g.get("r1")!.dependents.size, 0);
});

test("a virtual delete removes a virtual owner and queues its dependents", () => {
  const { g, log, absent } = harness();
  g.processGraphChange({ type: "add", obj: pod("p", "p1", [ref("gone", "r9")]), namespaced: true });
  log.length = 0;
  g.processGraphChange({ type: "virtualDelete", identity: g.get("r9")!.identity });
  assert.equal(g.get("r9"), undefined);
  assert.deepEqual(log, ["delete p"]);
  assert.equal(absent[0]!.name, "gone");
});

test("a virtual delete under other coordinates leaves an observed owner in place", () => {
  const { g, log } = harness();
  g.processGraphChange({ type: "add", obj: rs("web", "r1"), namespaced: true });
  g.processGraphChange({ type: "virtualDelete", identity: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "other", uid: "r1", namespace: "ns" } });
  assert.ok(g.get("r1") !== undefined);
  assert.deepEqual(log, []);
});

test("a cluster-scoped owner kind gets a virtual node without a namespace", () => {
  const { g } = harness();
  g.processGraphChange({ type: "add", obj: pod("p", "p1", [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "n1" }]), namespaced: true });
  assert.equal(g.get("n1")!.identity.namespace, "");
});

const diffCases = [
  { name: "nothing changed", old: [ref("a", "1")], now: [ref("a", "1")], want: [0, 0, 0] },
  { name: "one added, one removed", old: [ref("a", "1")], now: [ref("b", "2")], want: [1, 1, 0] },
  { name: "blockOwnerDeletion flipped is a change", old: [ref("a", "1", true)], now: [ref("a", "1")], want: [0, 0, 1] },
];
for (const c of diffCases) {
  test(`referencesDiffs: ${c.name}`, () => {
    const d = referencesDiffs(c.old, c.now);
    assert.deepEqual([d.added.length, d.removed.length, d.changed.length], c.want);
  });
}
