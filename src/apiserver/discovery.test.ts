import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList } from "./discovery.js";

test("discovery: /api/v1 lists pods with short names, verbs and subresources", () => {
  const list = apiResourceList("", "v1") as { groupVersion: string; resources: { name: string; kind: string; shortNames?: string[]; verbs: string[]; namespaced: boolean }[] };
  assert.equal(list.groupVersion, "v1");
  const pods = list.resources.find((r) => r.name === "pods")!;
  assert.deepEqual(pods.shortNames, ["po"]);
  assert.equal(pods.namespaced, true);
  assert.deepEqual(pods.verbs, ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
  assert.ok(list.resources.some((r) => r.name === "pods/status" && r.kind === "Pod"));
  assert.ok(list.resources.some((r) => r.name === "pods/eviction" && r.kind === "Eviction"));
  assert.equal(apiResourceList("nope", "v1"), null);
});

test("discovery: /apis names every served group once with its preferred version", () => {
  const groups = (apiGroupList() as { groups: { name: string; preferredVersion: { groupVersion: string } }[] }).groups;
  const names = groups.map((g) => g.name);
  for (const g of ["apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "policy", "scheduling.k8s.io", "storage.k8s.io"]) assert.ok(names.includes(g), g);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual((apiGroupDocument("apps") as { preferredVersion: unknown }).preferredVersion, { groupVersion: "apps/v1", version: "v1" });
});

test("discovery: the aggregated document for /apis carries deployments' scale subresource as autoscaling/v1 Scale", () => {
  const doc = aggregatedDiscovery(false, "apidiscovery.k8s.io/v2") as { kind: string; items: { metadata: { name: string }; versions: { resources: { resource: string; scope: string; subresources?: { subresource: string; responseKind: unknown }[] }[] }[] }[] };
  assert.equal(doc.kind, "APIGroupDiscoveryList");
  const deployments = doc.items.find((i) => i.metadata.name === "apps")!.versions[0]!.resources.find((r) => r.resource === "deployments")!;
  assert.equal(deployments.scope, "Namespaced");
  assert.deepEqual(deployments.subresources?.find((s) => s.subresource === "scale")?.responseKind, { group: "autoscaling", version: "v1", kind: "Scale" });
  const core = aggregatedDiscovery(true, "apidiscovery.k8s.io/v2") as { items: { metadata: { name: string } }[] };
  assert.deepEqual(core.items.map((i) => i.metadata.name), [""]);
});
