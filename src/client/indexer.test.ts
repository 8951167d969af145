import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc } from "./indexer.js";
import { Lister } from "./lister.js";
import { podNodeNameIndexFunc, NODE_NAME_INDEX } from "./informer_factory.js";
import { DeletedFinalStateUnknown, metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "./store.js";

function pod(ns: string, name: string, node?: string, labels?: Record<string, string>): Pod {
  return { metadata: { namespace: ns, name, ...(labels ? { labels } : {}) }, spec: { containers: [], ...(node ? { nodeName: node } : {}) } };
}

function newPodIndexer(): Indexer<Pod> {
  return new Indexer<Pod>({ [NAMESPACE_INDEX]: namespaceIndexFunc, [NODE_NAME_INDEX]: podNodeNameIndexFunc });
}

test("metaNamespaceKey: namespaced objects key as ns/name, cluster-scoped as name, tombstones by their key", () => {
  assert.equal(metaNamespaceKey(pod("default", "web")), "default/web");
  assert.equal(metaNamespaceKey({ metadata: { name: "node-1" } }), "node-1");
  assert.equal(metaNamespaceKey(new DeletedFinalStateUnknown("a/b", pod("a", "b"))), "a/b");
  assert.deepEqual(splitMetaNamespaceKey("default/web"), ["default", "web"]);
  assert.deepEqual(splitMetaNamespaceKey("node-1"), ["", "node-1"]);
  assert.throws(() => splitMetaNamespaceKey("a/b/c"), /unexpected key format/);
  assert.equal(objectOfDelete(new DeletedFinalStateUnknown("a/b", pod("a", "b"))).metadata?.name, "b");
});

test("Indexer: objects are found by namespace and by a custom index, and the indices follow updates and deletes", () => {
  const ix = newPodIndexer();
  ix.upsert(pod("default", "a", "node-1"));
  ix.upsert(pod("default", "b", "node-2"));
  ix.upsert(pod("kube-system", "c", "node-1"));
  ix.upsert(pod("default", "pending"));
  const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name).sort();
  assert.deepEqual(names(ix.byIndex(NAMESPACE_INDEX, "default")), ["a", "b", "pending"]);
  assert.deepEqual(names(ix.byIndex(NODE_NAME_INDEX, "node-1")), ["a", "c"]);
  // Moving b to node-1 takes it out of node-2's entry.
  ix.upsert(pod("default", "b", "node-1"));
  assert.deepEqual(names(ix.byIndex(NODE_NAME_INDEX, "node-1")), ["a", "b", "c"]);
  assert.deepEqual(ix.byIndex(NODE_NAME_INDEX, "node-2"), []);
  assert.deepEqual(ix.listIndexFuncValues(NODE_NAME_INDEX), ["node-1"]);
  ix.deleteByKey("default/a");
  assert.deepEqual(names(ix.byIndex(NODE_NAME_INDEX, "node-1")), ["b", "c"]);
  assert.equal(ix.getByKey("default/a"), undefined);
  assert.throws(() => ix.byIndex("nope", "x"), /Index with name nope does not exist/);
});

test("Indexer: replace swaps the whole content and an index added later covers existing objects", () => {
  const ix = new Indexer<Pod>();
  ix.upsert(pod("default", "old", "node-9"));
  ix.replace([pod("default", "x", "node-1"), pod("other", "y", "node-1")]);
  assert.deepEqual(ix.listKeys().sort(), ["default/x", "other/y"]);
  ix.addIndexers({ [NODE_NAME_INDEX]: podNodeNameIndexFunc });
  assert.equal(ix.byIndex(NODE_NAME_INDEX, "node-1").length, 2);
  assert.deepEqual(ix.byIndex(NODE_NAME_INDEX, "node-9"), []);
  assert.throws(() => ix.addIndexers({ [NODE_NAME_INDEX]: podNodeNameIndexFunc }), /indexer conflict/);
});

test("Lister: lists by selector, gets by namespace and name, and scopes to a namespace", () => {
  const ix = newPodIndexer();
  ix.upsert(pod("default", "web-1", "node-1", { app: "web", tier: "front" }));
  ix.upsert(pod("default", "db-1", "node-1", { app: "db" }));
  ix.upsert(pod("prod", "web-2", undefined, { app: "web" }));
  const lister = new Lister<Pod>(ix);
  const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name).sort();
  assert.deepEqual(names(lister.list()), ["db-1", "web-1", "web-2"]);
  assert.deepEqual(names(lister.list("app=web")), ["web-1", "web-2"]);
  assert.deepEqual(names(lister.list("app in (web,db),tier!=front")), ["db-1", "web-2"]);
  assert.equal(lister.get("prod", "web-2")?.metadata?.name, "web-2");
  assert.equal(lister.get("default", "web-2"), undefined);
  assert.deepEqual(names(lister.namespace("default").list("app=web")), ["web-1"]);
  assert.equal(lister.namespace("prod").get("web-2")?.metadata?.namespace, "prod");
  assert.deepEqual(names(lister.byIndex(NODE_NAME_INDEX, "node-1")), ["db-1", "web-1"]);
});
