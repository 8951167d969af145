import { test } from "node:test";
import assert from "node:assert/strict";
import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { fieldElement, keyElement, pathString } from "./path_element.js";
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, withZeroStructs } from "./typed_value.js";
import { FieldSet } from "./field_set.js";
import { DEFS, DEPLOYMENT } from "./testing_definitions.js";

const SET_SCHEMA: Schema = { type: "object", properties: { setStr: { type: "array", items: { type: "string" }, "x-kubernetes-list-type": "set" } } };
const NO_DEFS: Definitions = {};

// Upstream's merge order vectors (structured-merge-diff typed/merge_test.go): live, config, merged.
// Live-only items stay where they stand, shared items follow the configuration's order.
const setMerges: [string[], string[], string[]][] = [
  [["a","b","c"], ["a","b"], ["a","b","c"]],
  [["a","b"], ["a","b","c"], ["a","b","c"]],
  [["a","b","c"], [], ["a","b","c"]],
  [[], ["a","b","c"], ["a","b","c"]],
  [["a","b"], ["b","a"], ["b","a"]],
  [["a","b","c"], ["d","e","f"], ["a","b","c","d","e","f"]],
  [["a","b","c"], ["c","d","e","f"], ["a","b","c","d","e","f"]],
  [["a","b","c","g","f"], ["c","d","e","f"], ["a","b","c","g","d","e","f"]],
  [["a","b","c"], ["d","e","f","x","y","z"], ["a","b","c","d","e","f","x","y","z"]],
  [["c","d","e","f"], ["a","c","e"], ["a","c","d","e","f"]],
  [["a","b","c","x","y","z"], ["d","e","f"], ["a","b","c","x","y","z","d","e","f"]],
  [["a","b","c","x","y","z"], ["d","e","f","x","y","z"], ["a","b","c","d","e","f","x","y","z"]],
  [["c","a","g","f"], ["c","f","a","g"], ["c","f","a","g"]],
  [["a","b","c","d"], ["d","e","f","a"], ["b","c","d","e","f","a"]],
  [["c","d","e","f","g","h","i","j"], ["2","h","3","e","4","k","l"], ["c","d","f","g","2","h","i","j","3","e","4","k","l"]],
  [["a","b","c","d","e","f","g","h","i","j"], ["1","b","2","h","3","e","4","k","l"], ["a","1","b","c","d","f","g","2","h","i","j","3","e","4","k","l"]],
  [["a","b","b"], ["c"], ["a","b","b","c"]],
  [["a","b","b"], ["b"], ["a","b"]],
  [["a","b","b"], ["a"], ["a","b","b"]],
  [["a","b","c","d","e","c"], ["1","b","2","e","d"], ["a","1","b","c","2","e","c","d"]],
  [["a","b","c","d","e","c"], ["1","b","2","c","e","d"], ["a","1","b","2","c","e","d"]],
  [["a","a","b","b"], ["b","c","d"], ["a","a","b","c","d"]],
  [["a","a","b","b"], [], ["a","a","b","b"]],
  [["c","a","g","f","c","a"], ["c","f","a","g"], ["c","f","a","g"]],
];
for (const [lhs, rhs, out] of setMerges) {
  test(`merge of set ${JSON.stringify(lhs)} with ${JSON.stringify(rhs)} gives ${JSON.stringify(out)}`, () => {
    assert.deepEqual(merge({ setStr: lhs }, { setStr: rhs }, SET_SCHEMA, NO_DEFS), { setStr: out });
  });
}

test("merge replaces scalars and atomic values and merges maps per key", () => {
  const live = { spec: { replicas: 1, selector: { matchLabels: { a: "1", b: "2" } }, template: { metadata: { labels: { a: "1" } } } } };
  const config = { spec: { replicas: 2, selector: { matchLabels: { c: "3" } }, template: { metadata: { labels: { b: "2" } } } } };
  assert.deepEqual(merge(live, config, DEPLOYMENT, DEFS), {
    spec: { replicas: 2, selector: { matchLabels: { c: "3" } }, template: { metadata: { labels: { a: "1", b: "2" } } } },
  });
});

test("compare reports added, modified and removed leaves, and non-leaf paths added whole", () => {
  const old = { spec: { replicas: 1, template: { spec: { containers: [{ name: "a", image: "x" }] } } } };
  const now = { spec: { template: { metadata: { labels: { app: "w" } }, spec: { containers: [{ name: "a", image: "y" }, { name: "b" }] } } } };
  const c = compare(old, now, DEPLOYMENT, DEFS);
  assert.deepEqual(c.added.paths().map(pathString), [
    ".spec.template.metadata",
    ".spec.template.metadata.labels",
    ".spec.template.metadata.labels.app",
    '.spec.template.spec.containers[name="b"]',
    '.spec.template.spec.containers[name="b"].name',
  ]);
  assert.deepEqual(c.modified.paths().map(pathString), ['.spec.template.spec.containers[name="a"].image']);
  assert.deepEqual(c.removed.paths().map(pathString), [".spec.replicas"]);
});

test("removeItems drops fields, list items and maps left empty", () => {
  const obj = { metadata: { labels: { a: "1" } }, spec: { template: { spec: { containers: [{ name: "a" }, { name: "b" }] } } } };
  const f = fieldElement;
  const toRemove = FieldSet.of([f("metadata"), f("labels"), f("a")], [f("spec"), f("template"), f("spec"), f("containers"), keyElement([["name", "a"]])]);
  assert.deepEqual(removeItems(obj, toRemove, DEPLOYMENT, DEFS), { spec: { template: { spec: { containers: [{ name: "b" }] } } } });
});

test("ensureNamedFieldsAreMembers adds struct fields on the way, not map entries or list items", () => {
  const f = fieldElement;
  const s = FieldSet.of([f("spec"), f("template"), f("metadata"), f("labels"), f("app")], [f("spec"), f("template"), f("spec"), f("containers"), keyElement([["name", "a"]]), f("image")]);
  assert.deepEqual(ensureNamedFieldsAreMembers(s, DEPLOYMENT, DEFS).paths().map(pathString), [
    ".spec",
    ".spec.template",
    ".spec.template.metadata",
    ".spec.template.spec",
    ".spec.template.metadata.labels",
    ".spec.template.metadata.labels.app",
    ".spec.template.spec.containers",
    '.spec.template.spec.containers[name="a"].image',
  ]);
});

test("withZeroStructs fills Go's non-pointer structs with {} and required lists with null", () => {
  assert.deepEqual(withZeroStructs({}, DEPLOYMENT, DEFS), {
    metadata: { creationTimestamp: null },
    spec: { selector: null, template: { metadata: { creationTimestamp: null }, spec: { containers: null } }, strategy: {} },
    status: {},
  });
});
