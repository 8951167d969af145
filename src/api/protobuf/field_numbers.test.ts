import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDefinitions } from "../openapi/definitions.js";
import { refsOf } from "../openapi/schema.js";
import { BUILTIN_RESOURCES } from "../resources.js";
import { FIELD_NUMBERS, INLINE_MESSAGES, WRAPPED_LISTS, ZERO_VALUE_FIELDS } from "./field_numbers.js";

// Decoded by decode.ts itself: their JSON form is not a message's.
const SPECIAL = new Set([
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
  "io.k8s.apimachinery.pkg.api.resource.Quantity",
  "io.k8s.apimachinery.pkg.runtime.RawExtension",
]);

/** Every definition a served kind (or a subresource body kubectl sends) reaches. */
function reachableDefinitions(): string[] {
  const defs = loadDefinitions();
  const roots = [
    ...BUILTIN_RESOURCES.map((r) => r.definition),
    ...BUILTIN_RESOURCES.map((r) => `${r.definition}List`).filter((n) => defs[n] !== undefined),
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.core.v1.Binding",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
  ];
  const seen = new Set<string>();
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    if (seen.has(name) || SPECIAL.has(name)) continue;
    seen.add(name);
    const schema = defs[name];
    assert.ok(schema !== undefined, `definition ${name} exists`);
    queue.push(...refsOf(schema));
  }
  return [...seen].sort();
}

/** The field numbers a definition's JSON fields have, its inline structs' included: name → number. */
function numbersOf(table: string): Map<string, number> {
  const out = new Map<string, number>(Object.entries(FIELD_NUMBERS[table] ?? {}));
  for (const inner of Object.values(INLINE_MESSAGES[table] ?? {})) for (const [k, v] of numbersOf(inner)) out.set(k, v);
  return out;
}

test("FIELD_NUMBERS: every field of every definition the served kinds reach has a number", () => {
  const defs = loadDefinitions();
  const missing: string[] = [];
  for (const name of reachableDefinitions()) {
    assert.ok(FIELD_NUMBERS[name] !== undefined, `${name} has a table entry`);
    const numbers = numbersOf(name);
    for (const field of Object.keys(defs[name]!.properties ?? {})) {
      // A kind's apiVersion and kind travel in the envelope, not in its message.
      if (field === "apiVersion" || field === "kind") continue;
      if (!numbers.has(field)) missing.push(`${name}.${field}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("FIELD_NUMBERS: no two fields of one message share a number", () => {
  for (const [table, fields] of Object.entries(FIELD_NUMBERS)) {
    const numbers = [...Object.values(fields), ...Object.keys(INLINE_MESSAGES[table] ?? {}).map(Number)];
    assert.equal(new Set(numbers).size, numbers.length, table);
    for (const n of numbers) assert.ok(Number.isInteger(n) && n > 0, `${table}: ${n}`);
  }
});

test("FIELD_NUMBERS: the zero-value, inline and wrapped-list tables name only fields and messages it has", () => {
  for (const [table, names] of [...Object.entries(ZERO_VALUE_FIELDS), ...Object.entries(WRAPPED_LISTS)]) {
    for (const name of names) assert.ok(FIELD_NUMBERS[table]?.[name] !== undefined, `${table}.${name}`);
  }
  for (const [table, inline] of Object.entries(INLINE_MESSAGES)) {
    assert.ok(FIELD_NUMBERS[table] !== undefined, table);
    for (const inner of Object.values(inline)) assert.ok(FIELD_NUMBERS[inner] !== undefined, `${table} inlines ${inner}`);
  }
});

// Spot checks against upstream's generated.proto, so a regenerated table that shifted numbers fails here.
const knownNumbers = [
  { definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", field: "name", number: 1 },
  { definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", field: "labels", number: 11 },
  { definition: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", field: "managedFields", number: 17 },
  { definition: "io.k8s.api.core.v1.PodSpec", field: "containers", number: 2 },
  { definition: "io.k8s.api.core.v1.PodSpec", field: "automountServiceAccountToken", number: 21 },
  { definition: "io.k8s.api.core.v1.Container", field: "image", number: 2 },
  { definition: "io.k8s.api.apps.v1.DeploymentSpec", field: "template", number: 3 },
  { definition: "io.k8s.api.core.v1.Secret", field: "data", number: 2 },
  { definition: "io.k8s.api.core.v1.VolumeSource", field: "configMap", number: 19 },
];
for (const c of knownNumbers) {
  test(`FIELD_NUMBERS: ${c.definition.split(".").pop()}.${c.field} is field ${c.number}`, () => {
    assert.equal(FIELD_NUMBERS[c.definition]?.[c.field], c.number);
  });
}
