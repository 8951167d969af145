import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldSet, FieldsV1Error, fieldsOf, TypedValueError } from "./field_set.js";
import { fieldElement, keyElement, pathString, type Path, type PathElement } from "./path_element.js";
import { DEFS, DEPLOYMENT } from "./testing_definitions.js";

const f = fieldElement;
const k = (fields: Record<string, unknown>): PathElement => keyElement(Object.entries(fields));
const v = (value: unknown): PathElement => ({ kind: "value", value });
const enc = (s: FieldSet) => JSON.stringify(s.toFieldsV1());

test("FieldSet encodes FieldsV1 as upstream: sorted keys, '.' for a path that is also a parent", () => {
  const s = FieldSet.of(
    [f("spec"), f("template"), f("spec"), f("containers"), k({ name: "web" }), f("image")],
    [f("metadata"), f("labels"), f("app")],
    [f("spec"), f("template"), f("spec"), f("containers"), k({ name: "web" })],
    [f("spec"), f("replicas")],
  );
  assert.equal(
    enc(s),
    '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{}}}}}}}',
  );
});

const orderCases: { name: string; paths: Path[]; want: string }[] = [
  { name: "fields sort before keys, keys before values", paths: [[v("b")], [k({ name: "a" })], [f("z")]], want: '{"f:z":{},"k:{\\"name\\":\\"a\\"}":{},"v:\\"b\\"":{}}' },
  { name: "field names sort by bytes", paths: [[f("b")], [f("B")], [f("a")]], want: '{"f:B":{},"f:a":{},"f:b":{}}' },
  { name: "multi-field keys are written with sorted names", paths: [[keyElement([["protocol", "TCP"], ["containerPort", 80]])]], want: '{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{}}' },
  { name: "numbers sort before strings among set values", paths: [[v("a")], [v(2)], [v(1)]], want: '{"v:1":{},"v:2":{},"v:\\"a\\"":{}}' },
  { name: "HTML characters in values are escaped as Go does", paths: [[v("a<b&c")]], want: '{"v:\\"a\\\\u003cb\\\\u0026c\\"":{}}' },
];
for (const c of orderCases) {
  test(`FieldSet encoding: ${c.name}`, () => {
    assert.equal(enc(FieldSet.of(...c.paths)), c.want);
  });
}

test("FieldSet round-trips through FieldsV1", () => {
  const json = {
    "f:metadata": { "f:finalizers": { ".": {}, 'v:"a"': {} }, "f:labels": { ".": {}, "f:app": {} } },
    "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:name": {} } } } } },
  };
  const s = FieldSet.fromFieldsV1(json);
  assert.equal(s.has([f("metadata"), f("labels")]), true);
  assert.equal(s.has([f("metadata")]), false);
  assert.equal(s.has([f("metadata"), f("finalizers"), v("a")]), true);
  assert.equal(s.has([f("spec"), f("containers"), k({ name: "web" }), f("ports"), keyElement([["containerPort", 80], ["protocol", "TCP"]]), f("name")]), true);
  assert.equal(enc(s), JSON.stringify(json));
});

const badFields: { name: string; json: unknown }[] = [
  { name: "an unknown element prefix", json: { "x:foo": {} } },
  { name: "a key that is not JSON", json: { "k:{name": {} } },
  { name: "a missing colon", json: { fx: {} } },
  { name: "a non-object child", json: { "f:a": 1 } },
  { name: "a non-object document", json: [] },
];
for (const c of badFields) {
  test(`FieldSet.fromFieldsV1 rejects ${c.name}`, () => {
    assert.throws(() => FieldSet.fromFieldsV1(c.json), FieldsV1Error);
  });
}

test("FieldSet algebra is path-wise: a parent and its child are different paths", () => {
  const a = FieldSet.of([f("a")], [f("a"), f("b")], [f("c")]);
  const b = FieldSet.of([f("a")], [f("d")]);
  assert.deepEqual(a.difference(b).paths().map(pathString), [".c", ".a.b"]);
  assert.deepEqual(a.recursiveDifference(b).paths().map(pathString), [".c"]);
  assert.deepEqual(a.intersection(b).paths().map(pathString), [".a"]);
  assert.deepEqual(a.union(b).paths().map(pathString), [".a", ".c", ".d", ".a.b"]);
  assert.equal(a.difference(a).empty, true);
  assert.equal(a.union(b).equals(b.union(a)), true);
});

test("fieldsOf owns leaves, list items and map entries, not the structs around them", () => {
  const obj = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" }, finalizers: ["a"] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: { spec: { containers: [{ name: "web", image: "nginx", args: ["-x"], resources: {}, ports: [{ containerPort: 80 }] }] } },
    },
  };
  const s = fieldsOf(obj, DEPLOYMENT, DEFS);
  assert.equal(
    enc(s),
    JSON.stringify({
      "f:apiVersion": {},
      "f:kind": {},
      "f:metadata": { "f:finalizers": { 'v:"a"': {} }, "f:labels": { "f:app": {} }, "f:name": {} },
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
          "f:spec": {
            "f:containers": {
              'k:{"name":"web"}': {
                ".": {},
                "f:args": {},
                "f:image": {},
                "f:name": {},
                // The protocol key comes from the schema default, as upstream fills it.
                "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                "f:resources": {},
              },
            },
          },
        },
      },
    }),
  );
});

test("fieldsOf keys lists without list-type by their strategic merge key", () => {
  const s = fieldsOf({ spec: { template: { spec: { containers: [{ name: "c", env: [{ name: "A", value: "1" }] }] } } } }, DEPLOYMENT, DEFS);
  assert.equal(s.has([f("spec"), f("template"), f("spec"), f("containers"), k({ name: "c" }), f("env"), k({ name: "A" }), f("value")]), true);
});

test("fieldsOf treats unknown fields as untyped: maps granular, lists atomic", () => {
  const s = fieldsOf({ spec: { extra: { a: 1, list: [1, 2] } } }, DEPLOYMENT, DEFS);
  assert.deepEqual(s.paths().map(pathString), [".spec.extra", ".spec.extra.a", ".spec.extra.list"]);
});

const invalid = [
  {
    name: "duplicate keys",
    obj: { spec: { template: { spec: { containers: [{ name: "a" }, { name: "a" }] } } } },
    message: '.spec.template.spec.containers: duplicate entries for key [name="a"]',
  },
  {
    name: "an item without its key",
    obj: { spec: { template: { spec: { containers: [{ image: "x" }] } } } },
    message: '.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
  },
];
for (const c of invalid) {
  test(`fieldsOf rejects ${c.name} with upstream's message`, () => {
    assert.throws(() => fieldsOf(c.obj, DEPLOYMENT, DEFS), (err: unknown) => err instanceof TypedValueError && err.message === c.message);
  });
}
