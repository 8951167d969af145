import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_RESOURCES } from "../resources.js";
import { convertTypes, generateDefinitions, INT_OR_STRING, openApiPackage, readTypesSources, typesFiles } from "./generate.js";
import { refsOf, type Schema } from "./schema.js";

const defs = generateDefinitions(readTypesSources());
const CORE = "io.k8s.api.core.v1";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

function prop(def: string, field: string): Schema {
  const s = defs[def]?.properties?.[field];
  assert.ok(s !== undefined, `${def}.${field} exists`);
  return s;
}

const packages = [
  { file: "core/v1.d.ts", want: "io.k8s.api.core.v1" },
  { file: "apps/v1.d.ts", want: "io.k8s.api.apps.v1" },
  { file: "meta/v1.d.ts", want: "io.k8s.apimachinery.pkg.apis.meta.v1" },
  { file: "api/resource.d.ts", want: "io.k8s.apimachinery.pkg.api.resource" },
  { file: "runtime.d.ts", want: "io.k8s.apimachinery.pkg.runtime" },
  { file: "version.d.ts", want: "io.k8s.apimachinery.pkg.version" },
  { file: "apiextensions/v1.d.ts", want: "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1" },
];
for (const c of packages) {
  test(`openApiPackage: ${c.file} is named after upstream's Go package ${c.want}`, () => assert.equal(openApiPackage(c.file), c.want));
}

test("typesFiles: every served resource's group/version file is read, with meta and the subresource kinds' groups", () => {
  const files = typesFiles();
  for (const f of ["core/v1.d.ts", "apps/v1.d.ts", "meta/v1.d.ts", "autoscaling/v1.d.ts", "policy/v1.d.ts", "storage/v1.d.ts"]) assert.ok(files.includes(f), f);
});

const synthetic = convertTypes([
  {
    file: "core/v1.d.ts",
    text: `import { Quantity } from "../api/resource";
/** Thing does things. */
export interface Thing {
    /** count of things */
    count?: number;
    names: Array<string>;
    limits?: { [name: string]: Quantity };
    port?: number | string;
    kind?: "Thing";
    other?: Other;
    flags?: boolean[];
}
export interface Other {
}`,
  },
]);

const conversions: { name: string; field: string; want: Schema }[] = [
  { name: "a number is an int32 integer by default", field: "count", want: { type: "integer", format: "int32", description: "count of things" } },
  { name: "Array<T> is an array of T", field: "names", want: { type: "array", items: { type: "string" } } },
  { name: "an index signature is a map with additionalProperties, imports resolved", field: "limits", want: { type: "object", additionalProperties: { $ref: "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity" } } },
  { name: "number | string is IntOrString", field: "port", want: { $ref: `#/definitions/${INT_OR_STRING}` } },
  { name: "a string literal is a string", field: "kind", want: { type: "string" } },
  { name: "a local interface is a ref into the same package", field: "other", want: { $ref: "#/definitions/io.k8s.api.core.v1.Other" } },
  { name: "T[] is an array of T", field: "flags", want: { type: "array", items: { type: "boolean" } } },
];
for (const c of conversions) {
  test(`convertTypes: ${c.name}`, () => assert.deepEqual(synthetic["io.k8s.api.core.v1.Thing"]?.properties?.[c.field], c.want));
}

test("convertTypes: the interface's JSDoc is its description and non-optional members are required", () => {
  const thing = synthetic["io.k8s.api.core.v1.Thing"]!;
  assert.equal(thing.description, "Thing does things.");
  assert.deepEqual(thing.required, ["names"]);
  assert.equal(thing.type, "object");
});

test("convertTypes: a type it cannot express is an error, not a silent hole", () => {
  assert.throws(() => convertTypes([{ file: "core/v1.d.ts", text: "export interface X { f?: Map<string, string>; }" }]), /Cannot convert the type of io\.k8s\.api\.core\.v1\.X\.f/);
});

test("generate: Pod's spec is a ref to PodSpec with its description", () => {
  const spec = prop(`${CORE}.Pod`, "spec");
  assert.equal(spec.$ref, `#/definitions/${CORE}.PodSpec`);
  assert.match(spec.description ?? "", /Specification of the desired behavior of the pod/);
});

test("generate: PodSpec.containers is a list of Container merged by name, and required", () => {
  const containers = prop(`${CORE}.PodSpec`, "containers");
  assert.equal(containers.type, "array");
  assert.deepEqual(containers.items, { $ref: `#/definitions/${CORE}.Container` });
  assert.equal(containers["x-kubernetes-patch-merge-key"], "name");
  assert.equal(containers["x-kubernetes-patch-strategy"], "merge");
  assert.equal(containers["x-kubernetes-list-type"], "map");
  assert.deepEqual(containers["x-kubernetes-list-map-keys"], ["name"]);
  assert.ok(defs[`${CORE}.PodSpec`]!.required!.includes("containers"));
  assert.ok((defs[`${CORE}.Container`]!.description ?? "").length > 0);
});

const formats: { name: string; def: string; field: string; want: Schema }[] = [
  { name: "ObjectMeta.generation is int64", def: `${META}.ObjectMeta`, field: "generation", want: { type: "integer", format: "int64" } },
  { name: "Container ports' containerPort is int32", def: `${CORE}.ContainerPort`, field: "containerPort", want: { type: "integer", format: "int32" } },
  { name: "Secret data values are bytes", def: `${CORE}.Secret`, field: "data", want: { type: "object", additionalProperties: { type: "string", format: "byte" } } },
  { name: "supplementalGroups items are int64", def: `${CORE}.PodSecurityContext`, field: "supplementalGroups", want: { type: "array", items: { type: "integer", format: "int64" } } },
];
for (const c of formats) {
  test(`generate: ${c.name}`, () => {
    const { description: _d, "x-kubernetes-list-type": _l, ...rest } = prop(c.def, c.field);
    assert.deepEqual(rest, c.want);
  });
}

test("generate: Time is a date-time string, Quantity a string and IntOrString a string of format int-or-string", () => {
  assert.equal(defs[`${META}.Time`]!.type, "string");
  assert.equal(defs[`${META}.Time`]!.format, "date-time");
  assert.equal(defs[`${META}.MicroTime`]!.format, "date-time");
  assert.equal(defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]!.type, "string");
  assert.deepEqual(
    { type: defs[INT_OR_STRING]!.type, format: defs[INT_OR_STRING]!.format, x: defs[INT_OR_STRING]!["x-kubernetes-int-or-string"] },
    { type: "string", format: "int-or-string", x: true },
  );
  assert.equal(prop("io.k8s.api.apps.v1.RollingUpdateDeployment", "maxSurge").$ref, `#/definitions/${INT_OR_STRING}`);
});

test("generate: every served kind and its list carry their group/version/kind", () => {
  for (const r of BUILTIN_RESOURCES) {
    assert.deepEqual(defs[r.definition]?.["x-kubernetes-group-version-kind"], [{ group: r.group, version: r.version, kind: r.kind }], r.definition);
  }
  assert.deepEqual(defs["io.k8s.api.apps.v1.DeploymentList"]!["x-kubernetes-group-version-kind"], [{ group: "apps", version: "v1", kind: "DeploymentList" }]);
  assert.deepEqual(defs["io.k8s.api.autoscaling.v1.Scale"]!["x-kubernetes-group-version-kind"], [{ group: "autoscaling", version: "v1", kind: "Scale" }]);
});

test("generate: DeleteOptions is tagged in every served group/version, core first", () => {
  const gvks = defs[`${META}.DeleteOptions`]!["x-kubernetes-group-version-kind"]!;
  assert.deepEqual(gvks[0], { group: "", version: "v1", kind: "DeleteOptions" });
  assert.ok(gvks.some((g) => g.group === "apps" && g.version === "v1"));
  assert.ok(gvks.some((g) => g.group === "autoscaling" && g.version === "v1"));
});

test("generate: atomic structs are marked as maps of type atomic", () => {
  assert.equal(defs[`${META}.LabelSelector`]!["x-kubernetes-map-type"], "atomic");
  assert.equal(defs[`${CORE}.ObjectReference`]!["x-kubernetes-map-type"], "atomic");
});

test("generate: JSONSchemaProps declares the x-kubernetes-* fields kubernetes-types leaves out", () => {
  const p = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
  assert.equal(prop(p, "x-kubernetes-preserve-unknown-fields").type, "boolean");
  assert.equal(prop(p, "x-kubernetes-validations")["x-kubernetes-patch-merge-key"], "rule");
});

test("generate: no ref dangles", () => {
  for (const [name, def] of Object.entries(defs)) for (const ref of refsOf(def)) assert.ok(defs[ref] !== undefined, `${name} -> ${ref}`);
});

test("generate: a ref to a type no source declares fails generation", () => {
  const sources = readTypesSources().map((s) => (s.file === "coordination/v1.d.ts" ? { ...s, text: `${s.text}\nexport interface Dangling { x?: Nowhere; }` } : s));
  assert.throws(() => generateDefinitions(sources), /dangling refs: io\.k8s\.api\.coordination\.v1\.Dangling -> io\.k8s\.api\.coordination\.v1\.Nowhere/);
});

test("generate: enum-typed fields list their values, on the items for a list of them", () => {
  assert.deepEqual(prop(`${CORE}.PodSpec`, "restartPolicy").enum, ["Always", "Never", "OnFailure"]);
  assert.deepEqual(prop(`${CORE}.PersistentVolumeClaimSpec`, "accessModes").items?.enum, ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]);
  assert.equal(prop(`${CORE}.Container`, "name").enum, undefined);
});
