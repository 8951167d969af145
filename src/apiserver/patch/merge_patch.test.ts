import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch } from "./merge_patch.js";

const cm = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cfg", labels: { app: "web", tier: "front" }, finalizers: ["a", "b"] },
  data: { "a.conf": "1", "b.conf": "2" },
};

const cases: { name: string; doc: unknown; patch: unknown; want: unknown }[] = [
  {
    name: "a null value removes a label and others stay",
    doc: cm,
    patch: { metadata: { labels: { tier: null } } },
    want: { ...cm, metadata: { ...cm.metadata, labels: { app: "web" } } },
  },
  {
    name: "objects merge recursively and new keys are added",
    doc: cm,
    patch: { metadata: { annotations: { note: "x" } }, data: { "c.conf": "3" } },
    want: { ...cm, metadata: { ...cm.metadata, annotations: { note: "x" } }, data: { "a.conf": "1", "b.conf": "2", "c.conf": "3" } },
  },
  {
    name: "a list replaces the whole list (finalizers are not merged)",
    doc: cm,
    patch: { metadata: { finalizers: ["c"] } },
    want: { ...cm, metadata: { ...cm.metadata, finalizers: ["c"] } },
  },
  { name: "a scalar replaces an object", doc: { a: { b: 1 } }, patch: { a: "x" }, want: { a: "x" } },
  { name: "an object replaces a scalar with its nulls pruned", doc: { a: "x" }, patch: { a: { b: null, c: 1 } }, want: { a: { c: 1 } } },
  { name: "a new key's nested nulls are pruned", doc: {}, patch: { a: { b: { c: null, d: 2 } } }, want: { a: { b: { d: 2 } } } },
  {
    name: "nulls inside objects within a new list are pruned as v4 does, while null items stay",
    doc: {},
    patch: { a: [{ b: null, c: 1 }, null] },
    want: { a: [{ c: 1 }, null] },
  },
  { name: "a null for a missing key changes nothing", doc: { a: 1 }, patch: { b: null }, want: { a: 1 } },
  { name: "an empty patch changes nothing", doc: cm, patch: {}, want: cm },
  { name: "a list patch becomes the document", doc: cm, patch: [1, { a: null }], want: [1, {}] },
];

for (const c of cases) {
  test(`applyMergePatch: ${c.name}`, () => {
    assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want);
  });
}

for (const patch of [null, "x", 3, true]) {
  test(`applyMergePatch: the patch ${JSON.stringify(patch)} is 400 "Invalid JSON Patch"`, () => {
    assert.throws(() => applyMergePatch(cm, patch), { name: "ApiError", code: 400, reason: "BadRequest", message: "Invalid JSON Patch" });
  });
}

test("applyMergePatch: neither the document nor the patch is modified", () => {
  const doc = structuredClone(cm);
  const patch = { metadata: { labels: { app: null, x: "1" } }, data: { new: { a: null } } };
  const patchBefore = structuredClone(patch);
  const out = applyMergePatch(doc, patch) as any;
  assert.deepEqual(doc, cm);
  assert.deepEqual(patch, patchBefore);
  assert.deepEqual(out.metadata.labels, { tier: "front", x: "1" });
  assert.deepEqual(out.data.new, {});
});
