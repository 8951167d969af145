import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from "./json_patch.js";

function deployment(): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" }, annotations: { "example.com/a~b": "x" } },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            { name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] },
            { name: "sidecar", image: "busybox" },
          ],
        },
      },
    },
  };
}

const applies: { name: string; patch: unknown[]; check: (d: any) => unknown; want: unknown }[] = [
  { name: "add sets a new object key", patch: [{ op: "add", path: "/metadata/labels/tier", value: "front" }], check: (d) => d.metadata.labels, want: { app: "web", tier: "front" } },
  { name: "add replaces an existing object key", patch: [{ op: "add", path: "/spec/replicas", value: 5 }], check: (d) => d.spec.replicas, want: 5 },
  {
    name: "add inserts into a list at an index",
    patch: [{ op: "add", path: "/spec/template/spec/containers/1", value: { name: "mid", image: "m" } }],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["nginx", "mid", "sidecar"],
  },
  {
    name: "add with - appends to a list",
    patch: [{ op: "add", path: "/spec/template/spec/containers/-", value: { name: "last", image: "l" } }],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["nginx", "sidecar", "last"],
  },
  {
    name: "add at index -1 inserts before the end as v4 counts from the end",
    patch: [{ op: "add", path: "/spec/template/spec/containers/-1", value: { name: "neg", image: "n" } }],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["nginx", "sidecar", "neg"],
  },
  { name: "add without a value adds null", patch: [{ op: "add", path: "/spec/paused" }], check: (d) => d.spec.paused, want: null },
  { name: "remove deletes an object key", patch: [{ op: "remove", path: "/metadata/labels/app" }], check: (d) => d.metadata.labels, want: {} },
  {
    name: "remove deletes a list item by index",
    patch: [{ op: "remove", path: "/spec/template/spec/containers/0" }],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["sidecar"],
  },
  {
    name: "replace changes one container's image",
    patch: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.27" }],
    check: (d) => d.spec.template.spec.containers[0].image,
    want: "nginx:1.27",
  },
  { name: "replace of a missing object key adds it as v4 does", patch: [{ op: "replace", path: "/spec/paused", value: true }], check: (d) => d.spec.paused, want: true },
  { name: "~1 and ~0 in a path segment are / and ~", patch: [{ op: "replace", path: "/metadata/annotations/example.com~1a~0b", value: "y" }], check: (d) => d.metadata.annotations, want: { "example.com/a~b": "y" } },
  {
    name: "move takes a value from one place to another",
    patch: [{ op: "move", from: "/metadata/labels/app", path: "/metadata/labels/name" }],
    check: (d) => d.metadata.labels,
    want: { name: "web" },
  },
  {
    name: "copy duplicates a value without sharing it",
    patch: [
      { op: "copy", from: "/spec/template/spec/containers/0", path: "/spec/template/spec/containers/-" },
      { op: "replace", path: "/spec/template/spec/containers/2/name", value: "copy" },
    ],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["nginx", "sidecar", "copy"],
  },
  { name: "copy from a missing key copies null as v4 does", patch: [{ op: "copy", from: "/spec/nothing", path: "/spec/copied" }], check: (d) => d.spec.copied, want: null },
  {
    name: "a passing test lets the following operations apply",
    patch: [
      { op: "test", path: "/spec/template/spec/containers/0", value: { image: "nginx:1.25", ports: [{ containerPort: 80 }], name: "nginx" } },
      { op: "replace", path: "/spec/replicas", value: 3 },
    ],
    check: (d) => d.spec.replicas,
    want: 3,
  },
  { name: "a test of a missing key against null passes", patch: [{ op: "test", path: "/spec/paused", value: null }], check: (d) => d.spec.replicas, want: 2 },
  { name: "replace of the root with an object swaps the document", patch: [{ op: "replace", path: "", value: { kind: "Other" } }], check: (d) => d, want: { kind: "Other" } },
  { name: "replace of the root with a primitive is ignored as v4 does", patch: [{ op: "replace", path: "", value: 7 }], check: (d) => d.kind, want: "Deployment" },
  {
    name: "remove at index -1 removes the last item",
    patch: [{ op: "remove", path: "/spec/template/spec/containers/-1" }],
    check: (d) => d.spec.template.spec.containers.map((c: any) => c.name),
    want: ["nginx"],
  },
  { name: "a test of the whole document compares structurally", patch: [{ op: "test", path: "", value: deployment() }], check: (d) => d.spec.replicas, want: 2 },
  { name: "a null patch changes nothing", patch: null as unknown as unknown[], check: (d) => d.spec.replicas, want: 2 },
];

for (const c of applies) {
  test(`applyJsonPatch: ${c.name}`, () => {
    assert.deepEqual(c.check(applyJsonPatch(deployment(), c.patch)), c.want);
  });
}

/** The 422 every failing operation gets; upstream's own message travels only as the cause. */
const failures: { name: string; patch: unknown[]; cause: string }[] = [
  { name: "a failing test", patch: [{ op: "test", path: "/spec/replicas", value: 3 }], cause: "testing value /spec/replicas failed: test failed" },
  { name: "a test of a missing key against a value", patch: [{ op: "test", path: "/spec/paused", value: true }], cause: "testing value /spec/paused failed: test failed" },
  { name: "an add under a missing parent", patch: [{ op: "add", path: "/status/conditions/0", value: {} }], cause: 'add operation does not apply: doc is missing path: "/status/conditions/0": missing value' },
  { name: "a remove of a missing key", patch: [{ op: "remove", path: "/metadata/labels/tier" }], cause: "error in remove for path: '/metadata/labels/tier': Unable to remove nonexistent key: tier: missing value" },
  {
    name: "a remove past the end of a list",
    patch: [{ op: "remove", path: "/spec/template/spec/containers/5" }],
    cause: "error in remove for path: '/spec/template/spec/containers/5': Unable to access invalid index: 5: invalid index referenced",
  },
  {
    name: "a replace past the end of a list",
    patch: [{ op: "replace", path: "/spec/template/spec/containers/2", value: {} }],
    cause: "replace operation does not apply: doc is missing key: /spec/template/spec/containers/2: missing value",
  },
  {
    name: "an add at a list index that is not a number",
    patch: [{ op: "add", path: "/spec/template/spec/containers/x", value: {} }],
    cause: `error in add for path: '/spec/template/spec/containers/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
  },
  { name: "a move from a missing parent", patch: [{ op: "move", from: "/nope/a", path: "/spec/a" }], cause: "move operation does not apply: doc is missing from path: /nope/a: missing value" },
  { name: "an operation without a path", patch: [{ op: "remove" }], cause: "remove operation failed to decode path: missing value" },
  { name: "a replace whose path is a number", patch: [{ op: "replace", path: 3, value: 1 }], cause: "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string" },
  { name: "a copy without from", patch: [{ op: "copy", path: "/spec/a" }], cause: "copy operation failed to decode from: operation, missing from field: missing value" },
  { name: "an unknown op", patch: [{ op: "frob", path: "/spec" }], cause: "Unexpected kind: frob" },
  { name: "an operation without op", patch: [{ path: "/spec" }], cause: "Unexpected kind: unknown" },
  { name: "a null operation", patch: [null], cause: "Unexpected kind: unknown" },
];

for (const c of failures) {
  test(`applyJsonPatch: ${c.name} is 422 Invalid with upstream's generic message`, () => {
    assert.throws(
      () => applyJsonPatch(deployment(), c.patch),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.deepEqual(err.toStatus(), {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "the server rejected our request due to an error in our request",
          reason: "Invalid",
          details: {},
          code: 422,
        });
        assert.equal((err.cause as Error).message, c.cause);
        return true;
      },
    );
  });
}

const malformed: { name: string; patch: unknown; message: string }[] = [
  { name: "an object", patch: { op: "add" }, message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch" },
  { name: "a string", patch: "add", message: "json: cannot unmarshal string into Go value of type jsonpatch.Patch" },
  { name: "a list holding a number", patch: [{ op: "test", path: "/a" }, 7], message: "json: cannot unmarshal number into Go value of type jsonpatch.Operation" },
];

for (const c of malformed) {
  test(`applyJsonPatch: a body that is ${c.name} is 400 BadRequest with encoding/json's message`, () => {
    assert.throws(() => applyJsonPatch(deployment(), c.patch), { name: "ApiError", code: 400, reason: "BadRequest", message: c.message });
  });
}

test("applyJsonPatch: more operations than upstream's limit is 413 before any is applied", () => {
  const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: "test", path: "/nope", value: 1 }));
  assert.throws(() => applyJsonPatch(deployment(), ops), {
    code: 413,
    reason: "RequestEntityTooLarge",
    message: "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
  });
  const atLimit = Array.from({ length: MAX_JSON_PATCH_OPERATIONS }, () => ({ op: "test", path: "/spec/replicas", value: 2 }));
  assert.equal((applyJsonPatch(deployment(), atLimit) as any).spec.replicas, 2);
});

test("applyJsonPatch: copies that grow the document past the copy budget fail with upstream's message", () => {
  const doc = { data: { blob: "x".repeat(100) } };
  const ops = [
    { op: "copy", from: "/data/blob", path: "/data/b1" },
    { op: "copy", from: "/data/blob", path: "/data/b2" },
  ];
  assert.throws(
    () => applyJsonPatch(doc, ops, { maxCopyBytes: 150 }),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 422 &&
      (err.cause as Error).message === "Unable to complete the copy, the accumulated size increase of copy is 204, exceeding the limit 150",
  );
  assert.deepEqual(Object.keys((applyJsonPatch(doc, ops, { maxCopyBytes: 204 }) as any).data), ["blob", "b1", "b2"]);
});

test("applyJsonPatch: a failing operation leaves the input untouched, as does a successful patch", () => {
  const doc = deployment();
  const before = structuredClone(doc);
  applyJsonPatch(doc, [{ op: "remove", path: "/metadata/labels/app" }, { op: "add", path: "/spec/template/spec/containers/-", value: { name: "x" } }]);
  assert.throws(() => applyJsonPatch(doc, [{ op: "remove", path: "/metadata/labels/app" }, { op: "test", path: "/spec/replicas", value: 9 }]));
  assert.deepEqual(doc, before);
});
