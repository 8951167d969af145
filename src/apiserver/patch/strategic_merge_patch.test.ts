import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { applyStrategicMergePatch } from "./strategic_merge_patch.js";

// A hand-built slice of the generated definitions, with upstream's patch extensions on the same fields.
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str: Schema = { type: "string" };
const stringMap: Schema = { type: "object", additionalProperties: str };
const defs: Definitions = {
  "io.k8s.api.apps.v1.Deployment": {
    type: "object",
    properties: { apiVersion: str, kind: str, metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), spec: ref("io.k8s.api.apps.v1.DeploymentSpec") },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
    type: "object",
    properties: {
      name: str,
      labels: stringMap,
      annotations: stringMap,
      finalizers: { type: "array", items: str, "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set" },
    },
  },
  "io.k8s.api.apps.v1.DeploymentSpec": {
    type: "object",
    properties: {
      replicas: { type: "integer" },
      strategy: { ...ref("io.k8s.api.apps.v1.DeploymentStrategy"), "x-kubernetes-patch-strategy": "retainKeys" },
      template: ref("io.k8s.api.core.v1.PodTemplateSpec"),
    },
  },
  "io.k8s.api.apps.v1.DeploymentStrategy": {
    type: "object",
    properties: { type: str, rollingUpdate: { type: "object", properties: { maxSurge: str, maxUnavailable: str } } },
  },
  "io.k8s.api.core.v1.PodTemplateSpec": {
    type: "object",
    properties: { metadata: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), spec: ref("io.k8s.api.core.v1.PodSpec") },
  },
  "io.k8s.api.core.v1.PodSpec": {
    type: "object",
    properties: {
      containers: { type: "array", items: ref("io.k8s.api.core.v1.Container"), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] },
      volumes: { type: "array", items: ref("io.k8s.api.core.v1.Volume"), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge,retainKeys" },
      tolerations: { type: "array", items: { type: "object", properties: { key: str, operator: str } }, "x-kubernetes-list-type": "atomic" },
      nodeSelector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
      securityContext: { type: "object", properties: { runAsUser: { type: "integer" }, runAsGroup: { type: "integer" } } },
    },
  },
  "io.k8s.api.core.v1.Container": {
    type: "object",
    properties: {
      name: str,
      image: str,
      args: { type: "array", items: str, "x-kubernetes-list-type": "atomic" },
      env: { type: "array", items: ref("io.k8s.api.core.v1.EnvVar"), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge" },
      ports: {
        type: "array",
        items: ref("io.k8s.api.core.v1.ContainerPort"),
        "x-kubernetes-patch-merge-key": "containerPort",
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
      },
    },
  },
  "io.k8s.api.core.v1.EnvVar": { type: "object", properties: { name: str, value: str } },
  "io.k8s.api.core.v1.ContainerPort": { type: "object", properties: { containerPort: { type: "integer" }, protocol: str, name: str } },
  "io.k8s.api.core.v1.Volume": {
    type: "object",
    properties: { name: str, emptyDir: { type: "object", properties: { medium: str } }, hostPath: { type: "object", properties: { path: str } } },
  },
};
const deploymentSchema = ref("io.k8s.api.apps.v1.Deployment");

function deployment(): any {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web", tier: "front" }, finalizers: ["a", "b"] },
    spec: {
      replicas: 2,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.25",
              args: ["-g", "daemon off;"],
              env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
              ports: [{ containerPort: 80, protocol: "TCP" }],
            },
            { name: "sidecar", image: "busybox" },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
          tolerations: [{ key: "a", operator: "Exists" }],
          nodeSelector: { disk: "ssd", zone: "a" },
        },
      },
    },
  };
}

function smp(patch: unknown, original: unknown = deployment()): any {
  return applyStrategicMergePatch(original, patch, deploymentSchema, defs);
}

const podSpec = (spec: unknown) => ({ spec: { template: { spec } } });
const names = (list: { name: string }[]) => list.map((c) => c.name);

const cases: { name: string; patch: unknown; check: (d: any) => unknown; want: unknown }[] = [
  {
    name: "changing one container's image by name keeps the others and their order",
    patch: podSpec({ containers: [{ name: "sidecar", image: "busybox:1.36" }] }),
    check: (d) => d.spec.template.spec.containers.map((c: any) => [c.name, c.image]),
    want: [["nginx", "nginx:1.25"], ["sidecar", "busybox:1.36"]],
  },
  {
    name: "a merged container keeps the fields the patch does not mention",
    patch: podSpec({ containers: [{ name: "nginx", image: "nginx:1.27" }] }),
    check: (d) => d.spec.template.spec.containers[0],
    want: { name: "nginx", image: "nginx:1.27", args: ["-g", "daemon off;"], env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80, protocol: "TCP" }] },
  },
  {
    // upstream's mergeSortedSlice takes an item the live list lacks before the remaining live items.
    name: "a container the live list lacks is placed before the live containers",
    patch: podSpec({ containers: [{ name: "log", image: "fluentd" }] }),
    check: (d) => names(d.spec.template.spec.containers),
    want: ["log", "nginx", "sidecar"],
  },
  {
    name: "a new container follows the patched container that precedes it in the patch",
    patch: podSpec({ containers: [{ name: "nginx", image: "nginx:1.27" }, { name: "log", image: "fluentd" }] }),
    check: (d) => names(d.spec.template.spec.containers),
    want: ["nginx", "log", "sidecar"],
  },
  {
    name: "$patch: delete removes the container with that name",
    patch: podSpec({ containers: [{ name: "sidecar", $patch: "delete" }] }),
    check: (d) => names(d.spec.template.spec.containers),
    want: ["nginx"],
  },
  {
    name: "$patch: replace in a list makes the patch items the whole list",
    patch: podSpec({ containers: [{ name: "only", image: "x" }, { $patch: "replace" }] }),
    check: (d) => d.spec.template.spec.containers,
    want: [{ name: "only", image: "x" }],
  },
  {
    name: "env vars merge by name inside the merged container",
    patch: podSpec({ containers: [{ name: "nginx", env: [{ name: "B", value: "20" }, { name: "C", value: "3" }] }] }),
    check: (d) => d.spec.template.spec.containers[0].env,
    want: [{ name: "A", value: "1" }, { name: "B", value: "20" }, { name: "C", value: "3" }],
  },
  {
    name: "an env var is removed with $patch: delete and a field of another with null",
    patch: podSpec({ containers: [{ name: "nginx", env: [{ name: "A", $patch: "delete" }, { name: "B", value: null }] }] }),
    check: (d) => d.spec.template.spec.containers[0].env,
    want: [{ name: "B" }],
  },
  {
    name: "ports merge by containerPort",
    patch: podSpec({ containers: [{ name: "nginx", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443, protocol: "TCP" }] }] }),
    check: (d) => d.spec.template.spec.containers[0].ports,
    want: [{ containerPort: 80, protocol: "TCP", name: "http" }, { containerPort: 443, protocol: "TCP" }],
  },
  {
    name: "a list without a patch strategy (args) is replaced",
    patch: podSpec({ containers: [{ name: "nginx", args: ["-v"] }] }),
    check: (d) => d.spec.template.spec.containers[0].args,
    want: ["-v"],
  },
  {
    name: "an atomic list of maps (tolerations) is replaced, list-type notwithstanding",
    patch: podSpec({ tolerations: [{ key: "b", operator: "Exists" }] }),
    check: (d) => d.spec.template.spec.tolerations,
    want: [{ key: "b", operator: "Exists" }],
  },
  {
    name: "finalizers are a union; new values come first, as upstream orders them",
    patch: { metadata: { finalizers: ["c", "a"] } },
    check: (d) => d.metadata.finalizers,
    want: ["c", "a", "b"],
  },
  {
    name: "$deleteFromPrimitiveList/finalizers removes those values",
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["a", "zzz"] } },
    check: (d) => d.metadata.finalizers,
    want: ["b"],
  },
  {
    name: "$setElementOrder/finalizers orders a union",
    patch: { metadata: { "$setElementOrder/finalizers": ["a", "b", "c"], finalizers: ["c"] } },
    check: (d) => d.metadata.finalizers,
    want: ["a", "b", "c"],
  },
  {
    name: "$setElementOrder/containers reorders the live containers",
    patch: podSpec({ "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }] }),
    check: (d) => names(d.spec.template.spec.containers),
    want: ["sidecar", "nginx"],
  },
  {
    name: "$setElementOrder/containers places an added container where it says",
    patch: podSpec({ "$setElementOrder/containers": [{ name: "nginx" }, { name: "log" }, { name: "sidecar" }], containers: [{ name: "log", image: "fluentd" }] }),
    check: (d) => names(d.spec.template.spec.containers),
    want: ["nginx", "log", "sidecar"],
  },
  {
    name: "$retainKeys on a volume clears the volume source it does not list",
    patch: podSpec({ volumes: [{ name: "data", $retainKeys: ["name", "hostPath"], hostPath: { path: "/srv" } }] }),
    check: (d) => d.spec.template.spec.volumes,
    want: [{ name: "data", hostPath: { path: "/srv" } }],
  },
  {
    name: "$retainKeys on the deployment strategy drops rollingUpdate when switching to Recreate",
    patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    check: (d) => d.spec.strategy,
    want: { type: "Recreate" },
  },
  {
    name: "a label set to null is removed",
    patch: { metadata: { labels: { tier: null, env: "prod" } } },
    check: (d) => d.metadata.labels,
    want: { app: "web", env: "prod" },
  },
  {
    name: "$patch: replace on a map makes the patch the map",
    patch: podSpec({ nodeSelector: { $patch: "replace", gpu: "true" } }),
    check: (d) => d.spec.template.spec.nodeSelector,
    want: { gpu: "true" },
  },
  {
    name: "$patch: delete on an existing map empties it",
    patch: podSpec({ nodeSelector: { $patch: "delete" } }),
    check: (d) => d.spec.template.spec.nodeSelector,
    want: {},
  },
  {
    name: "$patch: delete on a map the object lacks adds nothing",
    patch: podSpec({ securityContext: { $patch: "delete" } }),
    check: (d) => "securityContext" in d.spec.template.spec,
    want: false,
  },
  {
    name: "a new map is taken with its nulls and directives dropped",
    patch: podSpec({ securityContext: { $retainKeys: ["runAsUser"], runAsUser: 1000, runAsGroup: null } }),
    check: (d) => d.spec.template.spec.securityContext,
    want: { runAsUser: 1000 },
  },
  {
    name: "a scalar replaces a scalar and a null removes a field",
    patch: { spec: { replicas: 5, strategy: null } },
    check: (d) => [d.spec.replicas, "strategy" in d.spec],
    want: [5, false],
  },
];

for (const c of cases) {
  test(`applyStrategicMergePatch: ${c.name}`, () => {
    const patch = JSON.parse(JSON.stringify(c.patch)); // as the body decodes: no undefined values
    assert.deepEqual(c.check(smp(patch)), c.want);
  });
}

/** What apiserver sends for an error SMP returns as a plain Go error: 500 and no reason. */
function assertUnknown500(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    const status = err.toStatus();
    assert.equal(status.code, 500);
    assert.equal("reason" in status, false);
    if (typeof message === "string") assert.equal(status.message, message);
    else assert.match(status.message, message);
    return true;
  });
}

test("applyStrategicMergePatch: a container without its merge key is upstream's 500 naming the map", () => {
  assertUnknown500(() => smp(podSpec({ containers: [{ image: "nginx:1.27" }] })), "map: map[image:nginx:1.27] does not contain declared merge key: name");
});

test("applyStrategicMergePatch: a nested map in the missing-key message prints as Go does", () => {
  assertUnknown500(
    () => smp(podSpec({ volumes: [{ hostPath: { path: "/var/lib/kubelet/pods" } }] })),
    "map: map[hostPath:map[path:/var/lib/kubelet/pods]] does not contain declared merge key: name",
  );
});

test("applyStrategicMergePatch: $patch: delete without the merge key is the same 500", () => {
  assertUnknown500(() => smp(podSpec({ containers: [{ $patch: "delete" }] })), "map: map[$patch:delete] does not contain declared merge key: name");
});

test("applyStrategicMergePatch: $patch: merge in a map is an unknown patch type", () => {
  assertUnknown500(() => smp({ metadata: { labels: { $patch: "merge", app: "x" } } }), "unknown patch type: merge in map: map[$patch:merge app:x]");
});

test("applyStrategicMergePatch: $patch: merge in a list is refused", () => {
  assertUnknown500(() => smp(podSpec({ containers: [{ $patch: "merge" }] })), "merging lists cannot yet be specified in the patch");
});

test("applyStrategicMergePatch: a patch list out of $setElementOrder's order is refused", () => {
  assertUnknown500(
    () => smp(podSpec({ "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }], containers: [{ name: "sidecar", image: "b" }, { name: "nginx", image: "n" }] })),
    "The order in patch list:\n[map[image:b name:sidecar] map[image:n name:nginx]]\n doesn't match $setElementOrder list:\n[map[name:nginx] map[name:sidecar]]\n",
  );
});

const badRequests: { name: string; patch: unknown; message: string }[] = [
  { name: "a patch key missing from $retainKeys", patch: { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: {} } } }, message: "invalid patch format of retainKeys" },
  { name: "$retainKeys that is not a list", patch: { spec: { strategy: { $retainKeys: "type" } } }, message: "invalid patch format of retainKeys" },
  { name: "a delete list without a field name", patch: { metadata: { $deleteFromPrimitiveListfinalizers: ["a"] } }, message: "invalid patch format of primitive list" },
  { name: "an order list without a field name", patch: { metadata: { $setElementOrderfinalizers: ["a"] } }, message: "invalid patch format of setElementOrder list" },
  { name: "a patch that is a list", patch: [{ metadata: {} }], message: "json: cannot unmarshal array into Go value of type map[string]interface {}" },
];

for (const c of badRequests) {
  test(`applyStrategicMergePatch: ${c.name} is 400 BadRequest`, () => {
    assert.throws(() => smp(c.patch), { name: "ApiError", code: 400, reason: "BadRequest", message: c.message });
  });
}

test("applyStrategicMergePatch: a list of lists in a merging list is 422 Invalid", () => {
  const original = { metadata: { finalizers: [["a"]] } };
  assert.throws(() => smp({ metadata: { finalizers: [["b"]] } }, original), {
    code: 422,
    reason: "Invalid",
    message: "the server rejected our request due to an error in our request",
  });
});

test("applyStrategicMergePatch: a null patch leaves the object as it was", () => {
  assert.deepEqual(smp(null), deployment());
});

test("applyStrategicMergePatch: with no schema, maps merge, lists are replaced and null deletes", () => {
  const original = { spec: { items: [{ name: "a", v: 1 }], tags: ["x"], size: { cpu: "1", mem: "1Gi" } } };
  const patch = { spec: { items: [{ name: "b" }], tags: ["y"], size: { mem: null, disk: "5Gi" } } };
  assert.deepEqual(applyStrategicMergePatch(original, patch, undefined, {}), {
    spec: { items: [{ name: "b" }], tags: ["y"], size: { cpu: "1", disk: "5Gi" } },
  });
});

test("applyStrategicMergePatch: neither the original nor the patch is modified", () => {
  const original = deployment();
  const patch = podSpec({
    "$setElementOrder/containers": [{ name: "nginx" }, { name: "log" }],
    containers: [{ name: "log", image: "f", env: [{ name: "X", value: null }] }, { name: "sidecar", $patch: "delete" }],
  });
  const patchBefore = structuredClone(patch);
  smp(patch, original);
  assert.deepEqual(original, deployment());
  assert.deepEqual(patch, patchBefore);
});

// The shapes of apimachinery's own SMP test type (mergingList merges by name, mergingIntList is a union,
// retainKeysMap has strategy retainKeys), to check our ordering and directives on the cases it documents.
const itemDefs: Definitions = {
  item: {
    type: "object",
    properties: {
      name: str,
      value: str,
      other: str,
      mergingList: { type: "array", items: ref("item"), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge" },
      nonMergingList: { type: "array", items: ref("item") },
      mergingIntList: { type: "array", items: { type: "integer" }, "x-kubernetes-patch-strategy": "merge" },
      simpleMap: stringMap,
      retainKeysMap: { ...ref("item"), "x-kubernetes-patch-strategy": "retainKeys" },
    },
  },
};

const documented: { name: string; original: unknown; patch: unknown; want: unknown }[] = [
  { name: "a union of ints keeps each value once", original: { mergingIntList: [1, 2] }, patch: { mergingIntList: [2, 3] }, want: { mergingIntList: [1, 2, 3] } },
  { name: "$patch: delete on a nested map leaves it empty", original: { simpleMap: { key1: "1", key2: "1" } }, patch: { simpleMap: { $patch: "delete" } }, want: { simpleMap: {} } },
  { name: "a lone $patch: replace item empties a merging list", original: { mergingList: [{ name: "1" }, { name: "2" }] }, patch: { mergingList: [{ $patch: "replace" }] }, want: { mergingList: [] } },
  { name: "$patch: replace at the root keeps only the patch's keys", original: { name: "1", value: "1" }, patch: { other: "a", $patch: "replace" }, want: { other: "a" } },
  {
    name: "$patch: delete removes every duplicate with that key",
    original: { mergingList: [{ name: "1" }, { name: "1" }, { name: "2", value: "a" }, { name: "3" }, { name: "3" }] },
    patch: { mergingList: [{ name: "1", $patch: "delete" }, { name: "3", $patch: "delete" }] },
    want: { mergingList: [{ name: "2", value: "a" }] },
  },
  {
    name: "the patch's order wins for the items it names",
    original: { mergingList: [{ name: "1" }, { name: "2", value: "b" }, { name: "3" }] },
    patch: { mergingList: [{ name: "3", value: "c" }, { name: "1", value: "a" }, { name: "2", other: "x" }] },
    want: { mergingList: [{ name: "3", value: "c" }, { name: "1", value: "a" }, { name: "2", value: "b", other: "x" }] },
  },
  {
    name: "a server-only item keeps its place before the patched items that followed it",
    original: { mergingList: [{ name: "1" }, { name: "2", value: "b" }, { name: "3" }] },
    patch: { mergingList: [{ name: "3", value: "c" }, { name: "1", value: "a" }] },
    want: { mergingList: [{ name: "2", value: "b" }, { name: "3", value: "c" }, { name: "1", value: "a" }] },
  },
  { name: "the patch's order wins in an int union", original: { mergingIntList: [1, 2, 3] }, patch: { mergingIntList: [3, 1] }, want: { mergingIntList: [2, 3, 1] } },
  { name: "a retainKeys map still merges without the directive", original: { retainKeysMap: { name: "foo", value: "a" } }, patch: { retainKeysMap: { value: null } }, want: { retainKeysMap: { name: "foo" } } },
  {
    name: "$setElementOrder with server-only items interleaves them by the live order",
    original: { mergingIntList: [1, 2, 4] },
    patch: { "$setElementOrder/mergingIntList": [1, 2, 3], mergingIntList: [3] },
    want: { mergingIntList: [1, 2, 3, 4] },
  },
];

for (const c of documented) {
  test(`applyStrategicMergePatch (apimachinery's examples): ${c.name}`, () => {
    assert.deepEqual(applyStrategicMergePatch(c.original, c.patch, ref("item"), itemDefs), c.want);
  });
}
