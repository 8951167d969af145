import { test } from "node:test";
import assert from "node:assert/strict";
import { generateDefinitions, readTypesSources } from "./generate.js";
import { unknownFieldMessage, unknownFields, UNKNOWN_FIELDS_DEPTH_MAX } from "./unknown_fields.js";
import type { Schema } from "./schema.js";

const defs = generateDefinitions(readTypesSources());
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const POD = ref("io.k8s.api.core.v1.Pod");
const DEPLOYMENT = ref("io.k8s.api.apps.v1.Deployment");
const CRD = ref("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition");

const cases: { name: string; schema: Schema; obj: unknown; want: string[] }[] = [
  { name: "a valid pod has none", schema: POD, obj: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }] }] } }, want: [] },
  { name: "a field inside a list item is spelled with its index", schema: POD, obj: { spec: { containers: [{ name: "a" }, { name: "b", foo: 1 }] } }, want: ["spec.containers[1].foo"] },
  { name: "a top-level unknown field is its bare name", schema: POD, obj: { kind: "Pod", bogus: true }, want: ["bogus"] },
  { name: "several are reported in document order", schema: DEPLOYMENT, obj: { spec: { zz: 1, template: { spec: { containers: [{ name: "c", envv: [] }] } }, aa: 2 } }, want: ["spec.zz", "spec.template.spec.containers[0].envv", "spec.aa"] },
  { name: "an unknown field with a null value is still unknown", schema: POD, obj: { metadata: { nam: null } }, want: ["metadata.nam"] },
  { name: "map values are checked against the value schema, the key in the path", schema: ref("io.k8s.api.core.v1.ResourceQuotaStatus"), obj: { hard: { cpu: "1" } }, want: [] },
  { name: "label maps accept any key", schema: POD, obj: { metadata: { labels: { anything: "x" }, annotations: { "a/b": "c" } } }, want: [] },
  { name: "a RawExtension holds anything", schema: ref("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"), obj: { type: "ADDED", object: { any: { thing: 1 } } }, want: [] },
  { name: "managedFields' fieldsV1 is opaque", schema: POD, obj: { metadata: { managedFields: [{ manager: "m", fieldsV1: { "f:spec": {} } }] } }, want: [] },
  { name: "an IntOrString holds a number or a string", schema: DEPLOYMENT, obj: { spec: { strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } } } }, want: [] },
  { name: "a CRD's schema may use x-kubernetes-* fields and nests through properties", schema: CRD, obj: { spec: { versions: [{ name: "v1", schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { spec: { type: "object", bogus: 1 } } } } }] } }, want: ["spec.versions[0].schema.openAPIV3Schema.properties.spec.bogus"] },
  { name: "x-kubernetes-preserve-unknown-fields stops the check", schema: { type: "object", properties: { a: { type: "object", properties: {}, "x-kubernetes-preserve-unknown-fields": true } } }, obj: { a: { b: 1 } }, want: [] },
  { name: "an embedded resource may carry apiVersion, kind and metadata", schema: { type: "object", "x-kubernetes-embedded-resource": true, properties: { spec: { type: "object" } } }, obj: { apiVersion: "v1", kind: "X", metadata: {}, spec: {}, other: 1 }, want: ["other"] },
  { name: "an unknown schema checks nothing", schema: ref("io.k8s.api.core.v1.NoSuchThing"), obj: { a: 1 }, want: [] },
];
for (const c of cases) test(`unknownFields: ${c.name}`, () => assert.deepEqual(unknownFields(c.obj, c.schema, defs), c.want));

test("unknownFields: stops descending at the depth limit instead of recursing without bound", () => {
  const schema: Schema = { type: "object", properties: { a: { $ref: "#/definitions/Loop" } } };
  const loopDefs = { Loop: schema };
  let obj: Record<string, unknown> = { bad: 1 };
  for (let i = 0; i < UNKNOWN_FIELDS_DEPTH_MAX + 10; i++) obj = { a: obj };
  assert.deepEqual(unknownFields(obj, schema, loopDefs), []);
  let shallow: Record<string, unknown> = { bad: 1 };
  for (let i = 0; i < 3; i++) shallow = { a: shallow };
  assert.deepEqual(unknownFields(shallow, schema, loopDefs), ["a.a.a.bad"]);
});

test("unknownFieldMessage: quotes the path as upstream's strict decoder", () => {
  assert.equal(unknownFieldMessage("spec.containers[0].foo"), 'unknown field "spec.containers[0].foo"');
});
