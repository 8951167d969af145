import { test } from "node:test";
import assert from "node:assert/strict";
import { definitionForKind, indexByKind, loadDefinitions } from "./definitions.js";

test("loadDefinitions: reads the generated definitions once and returns the same object after", () => {
  const defs = loadDefinitions();
  assert.ok(defs["io.k8s.api.core.v1.Pod"] !== undefined);
  assert.equal(loadDefinitions(), defs);
});

const kinds = [
  { gvk: { group: "apps", version: "v1", kind: "Deployment" }, want: "io.k8s.api.apps.v1.Deployment" },
  { gvk: { group: "", version: "v1", kind: "PodList" }, want: "io.k8s.api.core.v1.PodList" },
  { gvk: { group: "autoscaling", version: "v1", kind: "Scale" }, want: "io.k8s.api.autoscaling.v1.Scale" },
  { gvk: { group: "apps", version: "v1", kind: "DeleteOptions" }, want: "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions" },
  { gvk: { group: "apps", version: "v1", kind: "Pod" }, want: undefined },
];
for (const c of kinds) {
  test(`definitionForKind: ${JSON.stringify(c.gvk)} is ${c.want ?? "not served"}`, () => assert.equal(definitionForKind(c.gvk)?.name, c.want));
}

test("indexByKind: a kind tagged on two definitions is an error", () => {
  const gvk = [{ group: "", version: "v1", kind: "X" }];
  assert.throws(() => indexByKind({ a: { "x-kubernetes-group-version-kind": gvk }, b: { "x-kubernetes-group-version-kind": gvk } }), /\/v1\/X is tagged on a and b/);
});
