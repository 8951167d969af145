import { test } from "node:test";
import assert from "node:assert/strict";
import { applyPatchMeta, FIELD_PATCH_META, patchMetaExtensions, TYPE_MAP_TYPE, type FieldPatchMeta } from "./patch_meta.js";

const CORE = "io.k8s.api.core.v1";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

// The facts strategic merge patch and server-side apply depend on most: checked one by one so a
// regenerated table that loses one fails here.
const facts: { def: string; field: string; want: FieldPatchMeta }[] = [
  { def: `${CORE}.PodSpec`, field: "containers", want: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] } },
  { def: `${CORE}.PodSpec`, field: "initContainers", want: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] } },
  { def: `${CORE}.PodSpec`, field: "volumes", want: { mergeKey: "name", strategy: "merge,retainKeys", listType: "map", listMapKeys: ["name"] } },
  { def: `${CORE}.PodSpec`, field: "tolerations", want: { listType: "atomic" } },
  { def: `${CORE}.PodSpec`, field: "imagePullSecrets", want: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] } },
  { def: `${CORE}.Container`, field: "ports", want: { mergeKey: "containerPort", strategy: "merge", listType: "map", listMapKeys: ["containerPort", "protocol"] } },
  { def: `${CORE}.Container`, field: "env", want: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] } },
  { def: `${CORE}.Container`, field: "volumeMounts", want: { mergeKey: "mountPath", strategy: "merge", listType: "map", listMapKeys: ["mountPath"] } },
  { def: `${CORE}.ServiceSpec`, field: "ports", want: { mergeKey: "port", strategy: "merge", listType: "map", listMapKeys: ["port", "protocol"] } },
  { def: `${CORE}.PodStatus`, field: "conditions", want: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] } },
  { def: `${CORE}.NodeStatus`, field: "addresses", want: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] } },
  { def: `${META}.ObjectMeta`, field: "finalizers", want: { strategy: "merge", listType: "set" } },
  { def: `${META}.ObjectMeta`, field: "ownerReferences", want: { mergeKey: "uid", strategy: "merge", listType: "map", listMapKeys: ["uid"] } },
  { def: "io.k8s.api.apps.v1.DeploymentSpec", field: "strategy", want: { strategy: "retainKeys" } },
  { def: "io.k8s.api.apps.v1.DeploymentStatus", field: "conditions", want: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] } },
];
for (const c of facts) {
  test(`FIELD_PATCH_META: ${c.def.split(".").pop()}.${c.field} is ${JSON.stringify(c.want)}`, () => {
    assert.deepEqual(FIELD_PATCH_META[c.def]?.[c.field], c.want);
  });
}

test("FIELD_PATCH_META: every map list names its keys and every merge key belongs to a merge strategy", () => {
  for (const [def, fields] of Object.entries(FIELD_PATCH_META)) {
    for (const [field, m] of Object.entries(fields)) {
      if (m.listType === "map") assert.ok((m.listMapKeys?.length ?? 0) > 0, `${def}.${field}`);
      if (m.listMapKeys !== undefined) assert.equal(m.listType, "map", `${def}.${field}`);
      if (m.mergeKey !== undefined) assert.match(m.strategy ?? "", /merge/, `${def}.${field}`);
    }
  }
});

test("patchMetaExtensions: names each fact as upstream's extension", () => {
  assert.deepEqual(patchMetaExtensions({ mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"], mapType: "atomic" }), {
    "x-kubernetes-patch-merge-key": "name",
    "x-kubernetes-patch-strategy": "merge",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
    "x-kubernetes-map-type": "atomic",
  });
});

test("applyPatchMeta: sets the extensions on the field, keeps the field's own schema, and reports what it could not find", () => {
  const { defs, missing } = applyPatchMeta({
    [`${CORE}.PodSpec`]: { type: "object", properties: { containers: { type: "array", description: "d" } } },
    [`${META}.LabelSelector`]: { type: "object" },
  });
  const containers = defs[`${CORE}.PodSpec`]!.properties!.containers!;
  assert.equal(containers.description, "d");
  assert.equal(containers["x-kubernetes-patch-merge-key"], "name");
  assert.equal(defs[`${META}.LabelSelector`]!["x-kubernetes-map-type"], "atomic");
  assert.ok(missing.includes(`${CORE}.PodSpec.volumes`));
  assert.ok(missing.includes(`${META}.ObjectMeta`));
  assert.ok(Object.keys(TYPE_MAP_TYPE).length > 0);
});
