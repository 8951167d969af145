import { test } from "node:test";
import assert from "node:assert/strict";
import type { Definitions } from "../../api/openapi/schema.js";
import { applyPatchBody } from "./apply_patch.js";

const defs: Definitions = {
  "io.k8s.api.core.v1.Pod": { type: "object", properties: { metadata: { $ref: "#/definitions/meta" }, spec: { $ref: "#/definitions/io.k8s.api.core.v1.PodSpec" } } },
  meta: { type: "object", properties: { labels: { type: "object", additionalProperties: { type: "string" } } } },
  "io.k8s.api.core.v1.PodSpec": {
    type: "object",
    properties: {
      containers: { type: "array", items: { type: "object", properties: { name: { type: "string" }, image: { type: "string" } } }, "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge" },
    },
  },
};
const podSchema = { $ref: "#/definitions/io.k8s.api.core.v1.Pod" };
const opts = (kind: "json" | "merge" | "strategic") => ({ kind, schema: podSchema, defs });
const pod = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "a", image: "1" }, { name: "b", image: "1" }] } };

test("applyPatchBody: each kind applies its own semantics to the same intent", () => {
  const bump = (kind: "json" | "merge" | "strategic", body: string) => (applyPatchBody(pod, body, opts(kind)) as any).spec.containers;
  assert.deepEqual(bump("json", '[{"op":"replace","path":"/spec/containers/1/image","value":"2"}]'), [{ name: "a", image: "1" }, { name: "b", image: "2" }]);
  assert.deepEqual(bump("strategic", '{"spec":{"containers":[{"name":"b","image":"2"}]}}'), [{ name: "a", image: "1" }, { name: "b", image: "2" }]);
  // A merge patch replaces the list.
  assert.deepEqual(bump("merge", '{"spec":{"containers":[{"name":"b","image":"2"}]}}'), [{ name: "b", image: "2" }]);
});

test("applyPatchBody: a body that is not JSON is 400 with the wording of each kind", () => {
  const bad = "{spec:}";
  assert.throws(() => applyPatchBody(pod, bad, opts("json")), { code: 400, message: "invalid character 's' looking for beginning of object key string" });
  assert.throws(() => applyPatchBody(pod, bad, opts("strategic")), { code: 400, message: "invalid character 's' looking for beginning of object key string" });
  assert.throws(() => applyPatchBody(pod, bad, opts("merge")), { code: 400, message: "Invalid JSON Patch" });
});

test("applyPatchBody: a body given as bytes is decoded as UTF-8", () => {
  const body = new TextEncoder().encode('{"metadata":{"labels":{"café":"oui"}}}');
  assert.deepEqual((applyPatchBody(pod, body, opts("merge")) as any).metadata.labels, { app: "web", café: "oui" });
});

test("applyPatchBody: a patch nested past our depth bound is 400 instead of exhausting the stack", () => {
  const deep = '{"a":'.repeat(5000) + "1" + "}".repeat(5000);
  assert.throws(() => applyPatchBody(pod, deep, opts("merge")), {
    code: 400,
    message: "Cannot apply patch: the patch nests deeper than 1000 levels: current value is more than 1000",
  });
  const ok = '{"x":'.repeat(900) + "1" + "}".repeat(900);
  assert.equal(JSON.stringify(applyPatchBody(pod, ok, opts("merge"))).length > 900 * 5, true);
});
