/**
 * Build-time generator of our OpenAPI definitions. It reads the `.d.ts` files of the npm package
 * kubernetes-types with the TypeScript compiler API and writes Definitions JSON named as upstream
 * (`io.k8s.api.core.v1.Pod`), with descriptions from the JSDoc, `required` from non-optional
 * members, upstream's formats (formats.ts), the list/map extensions (patch_meta.ts) and
 * `x-kubernetes-group-version-kind` on the kinds we serve.
 *
 *   node dist/src/api/openapi/generate.js dist/openapi/definitions.json
 *
 * Only this file imports `typescript` (a devDependency); the server loads the JSON it wrote.
 */

import ts from "typescript";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix } from "node:path";
import { pathToFileURL } from "node:url";
import { BUILTIN_RESOURCES, groupVersionString } from "../resources.js";
import { FIELD_ENUMS, fieldEnum } from "./enums.js";
import { fieldFormat } from "./formats.js";
import { applyPatchMeta } from "./patch_meta.js";

/** Defaults of fields that key associative lists (upstream's `+default="TCP"` on the protocols). */
const KEY_DEFAULTS: readonly (readonly [definition: string, field: string, value: unknown])[] = [
  ["io.k8s.api.core.v1.ContainerPort", "protocol", "TCP"],
  ["io.k8s.api.core.v1.ServicePort", "protocol", "TCP"],
  ["io.k8s.api.core.v1.EndpointPort", "protocol", "TCP"],
  ["io.k8s.api.discovery.v1.EndpointPort", "protocol", "TCP"],
];
import { refsOf, type GroupVersionKind, type Schema } from "./schema.js";

/** One kubernetes-types declaration file: its path inside the package (`core/v1.d.ts`) and text. */
export interface TypesSource {
  readonly file: string;
  readonly text: string;
}

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
export const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/** The OpenAPI package (definition name prefix) of a kubernetes-types file, as upstream's Go packages. */
export function openApiPackage(file: string): string {
  const f = file.replace(/\.d\.ts$/, "");
  switch (f) {
    case "meta/v1":
      return META;
    case "api/resource":
      return "io.k8s.apimachinery.pkg.api.resource";
    case "runtime":
      return "io.k8s.apimachinery.pkg.runtime";
    case "version":
      return "io.k8s.apimachinery.pkg.version";
    case "util/intstr":
      return "io.k8s.apimachinery.pkg.util.intstr";
  }
  const m = /^([a-z0-9]+)\/(v[a-z0-9]+)$/.exec(f);
  if (m === null) throw new Error(`Cannot name the OpenAPI package of kubernetes-types file ${file}`);
  if (m[1] === "apiextensions") return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${m[2]}`;
  return `io.k8s.api.${m[1]}.${m[2]}`;
}

/** The kubernetes-types file holding an `io.k8s.api.*` definition (`io.k8s.api.apps.v1.Deployment` → `apps/v1.d.ts`). */
function typesFileOf(definition: string): string {
  const m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[a-z0-9]+)\.[A-Za-z0-9]+$/.exec(definition);
  if (m === null) throw new Error(`Cannot find the kubernetes-types file of definition ${definition}`);
  return `${m[1]}/${m[2]}.d.ts`;
}

/** The kubernetes-types files the served resources need, plus meta/v1 and its companions and apiextensions/v1. */
export function typesFiles(): string[] {
  const files = new Set<string>(["meta/v1.d.ts", "api/resource.d.ts", "runtime.d.ts", "version.d.ts", "apiextensions/v1.d.ts"]);
  for (const r of BUILTIN_RESOURCES) {
    files.add(typesFileOf(r.definition));
    for (const s of r.subresources) {
      if (s.kind !== undefined) files.add(typesFileOf(`${kindDefinitionPackage(s.kind.group, s.kind.version)}.${s.kind.kind}`));
    }
  }
  return [...files].sort();
}

/** Upstream's definition package for a served group/version (the Go package path of its types). */
function kindDefinitionPackage(group: string, version: string): string {
  if (group === "") return `io.k8s.api.core.${version}`;
  return `io.k8s.api.${group.replace(/\.k8s\.io$/, "")}.${version}`;
}

/** Upstream's descriptions for the types kubernetes-types spells as TS primitives. */
const INT_OR_STRING_DEFINITION: Schema = {
  description:
    "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.",
  type: "string",
  format: "int-or-string",
  "x-kubernetes-int-or-string": true,
};

/** Aliases of `string` whose wire format is a timestamp. */
const DATE_TIME_ALIASES = new Set([`${META}.Time`, `${META}.MicroTime`]);

/**
 * Types that hold any JSON value: upstream gives them no `type`, so nothing below them is checked
 * or merged field by field (apiextensions' JSON and the JSONSchemaProps unions).
 */
const UNTYPED_INTERFACES = new Set(["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"]);

/**
 * meta/v1 kinds the server returns that kubernetes-types does not declare (the Table and
 * PartialObjectMetadata forms of `kubectl get`). Upstream does not publish these in its
 * OpenAPI; we keep them so the server has one place for every kind's schema.
 */
const SUPPLEMENTARY_DEFINITIONS: Record<string, Schema> = {
  [`${META}.TableColumnDefinition`]: {
    description: "TableColumnDefinition contains information about a column returned in the Table.",
    type: "object",
    required: ["name", "type", "format", "description", "priority"],
    properties: {
      name: { description: "name is a human readable name for the column.", type: "string" },
      type: { description: "type is an OpenAPI type definition for this column, such as number, integer, string, or array.", type: "string" },
      format: { description: "format is an optional OpenAPI type modifier for this column. A format modifies the type and imposes additional rules, like date or time formatting for a string.", type: "string" },
      description: { description: "description is a human readable description of this column.", type: "string" },
      priority: { description: "priority is an integer defining the relative importance of this column compared to others. Lower numbers are considered higher priority. Columns that may be omitted in limited space scenarios should be given a higher priority.", type: "integer", format: "int32" },
    },
  },
  [`${META}.TableRow`]: {
    description: "TableRow is an individual row in a table.",
    type: "object",
    required: ["cells"],
    properties: {
      cells: { description: "cells will be as wide as the column definitions array and may contain strings, numbers (float64 or int64), booleans, simple maps, lists, or null.", type: "array", items: {} },
      conditions: { description: "conditions describe additional status of a row that are relevant for a human user.", type: "array", items: { $ref: `#/definitions/${META}.TableRowCondition` } },
      object: { description: "This field contains the requested additional information about each object based on the includeObject policy when requesting the Table.", $ref: "#/definitions/io.k8s.apimachinery.pkg.runtime.RawExtension" },
    },
  },
  [`${META}.TableRowCondition`]: {
    description: "TableRowCondition allows a row to be marked with additional information.",
    type: "object",
    required: ["type", "status"],
    properties: {
      type: { description: "Type of row condition. The only defined value is 'Completed' indicating that the object this row represents has reached a completed state.", type: "string" },
      status: { description: "Status of the condition, one of True, False, Unknown.", type: "string" },
      reason: { description: "(brief) machine readable reason for the condition's last transition.", type: "string" },
      message: { description: "Human readable message indicating details about last transition.", type: "string" },
    },
  },
  [`${META}.Table`]: {
    description: "Table is a tabular representation of a set of API resources. The server transforms the object into a set of preferred columns for quickly reviewing the objects.",
    type: "object",
    required: ["columnDefinitions", "rows"],
    properties: {
      apiVersion: { description: "APIVersion defines the versioned schema of this representation of an object.", type: "string" },
      kind: { description: "Kind is a string value representing the REST resource this object represents.", type: "string" },
      metadata: { description: "Standard list metadata.", $ref: `#/definitions/${META}.ListMeta` },
      columnDefinitions: { description: "columnDefinitions describes each column in the returned items array. The number of cells per row will always match the number of column definitions.", type: "array", items: { $ref: `#/definitions/${META}.TableColumnDefinition` } },
      rows: { description: "rows is the list of items in the table.", type: "array", items: { $ref: `#/definitions/${META}.TableRow` } },
    },
  },
  [`${META}.PartialObjectMetadata`]: {
    description: "PartialObjectMetadata is a generic representation of any object with ObjectMeta. It allows clients to get access to a particular ObjectMeta schema without knowing the details of the version.",
    type: "object",
    properties: {
      apiVersion: { description: "APIVersion defines the versioned schema of this representation of an object.", type: "string" },
      kind: { description: "Kind is a string value representing the REST resource this object represents.", type: "string" },
      metadata: { description: "Standard object's metadata.", $ref: `#/definitions/${META}.ObjectMeta` },
    },
  },
  [`${META}.PartialObjectMetadataList`]: {
    description: "PartialObjectMetadataList contains a list of objects containing only their metadata.",
    type: "object",
    required: ["items"],
    properties: {
      apiVersion: { description: "APIVersion defines the versioned schema of this representation of an object.", type: "string" },
      kind: { description: "Kind is a string value representing the REST resource this object represents.", type: "string" },
      metadata: { description: "Standard list metadata.", $ref: `#/definitions/${META}.ListMeta` },
      items: { description: "items contains each of the included items.", type: "array", items: { $ref: `#/definitions/${META}.PartialObjectMetadata` } },
    },
  },
};

const APIEXTENSIONS = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

/**
 * Fields kubernetes-types leaves out: the `x-kubernetes-*` members of JSONSchemaProps (their JSON
 * names are not TypeScript identifiers). Without them a CRD schema using them would be rejected as
 * carrying unknown fields.
 */
const SUPPLEMENTARY_PROPERTIES: Record<string, Record<string, Schema>> = {
  [`${APIEXTENSIONS}.JSONSchemaProps`]: {
    "x-kubernetes-embedded-resource": { type: "boolean", description: "x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is allowed to further restrict the embedded object. kind, apiVersion and metadata are validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be true, but does not have to be if the object is fully specified (up to kind, apiVersion, metadata)." },
    "x-kubernetes-int-or-string": { type: "boolean", description: "x-kubernetes-int-or-string specifies that this value is either an integer or a string. If this is true, an empty type is allowed and type as child of anyOf is permitted if following one of the following patterns:\n\n1) anyOf:\n   - type: integer\n   - type: string\n2) allOf:\n   - anyOf:\n     - type: integer\n     - type: string\n   - ... zero or more" },
    "x-kubernetes-list-map-keys": { type: "array", items: { type: "string" }, description: "x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.\n\nThis tag MUST only be used on lists that have the \"x-kubernetes-list-type\" extension set to \"map\". Also, the values specified for this attribute must be a scalar typed field of the child structure (no nesting is supported).\n\nThe properties specified must either be required or have a default value, to ensure those properties are present for all list items." },
    "x-kubernetes-list-type": { type: "string", description: "x-kubernetes-list-type annotates an array to further describe its topology. This extension must only be used on lists and may have 3 possible values:\n\n1) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic lists will be entirely replaced when updated. This extension\n     may be used on any type of list (struct, scalar, ...).\n2) `set`:\n     Sets are lists that must not have multiple items with the same value. Each\n     value must be a scalar, an object with x-kubernetes-map-type `atomic` or an\n     array with x-kubernetes-list-type `atomic`.\n3) `map`:\n     These lists are like maps in that their elements have a non-index key\n     used to identify them. Order is preserved upon merge. The map tag\n     must only be used on a list with elements of type object.\nDefaults to atomic for arrays." },
    "x-kubernetes-map-type": { type: "string", description: "x-kubernetes-map-type annotates an object to further describe its topology. This extension must only be used when type is object and may have 2 possible values:\n\n1) `granular`:\n     These maps are actual maps (key-value pairs) and each fields are independent\n     from each other (they can each be manipulated by separate actors). This is\n     the default behaviour for all maps.\n2) `atomic`: the list is treated as a single entity, like a scalar.\n     Atomic maps will be entirely replaced when updated." },
    "x-kubernetes-preserve-unknown-fields": { type: "boolean", description: "x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema. This affects fields recursively, but switches back to normal pruning behaviour if nested properties or additionalProperties are specified in the schema. This can either be true or undefined. False is forbidden." },
    "x-kubernetes-validations": { type: "array", items: { $ref: `#/definitions/${APIEXTENSIONS}.ValidationRule` }, description: "x-kubernetes-validations describes a list of validation rules written in the CEL expression language." },
  },
};

/** The JSDoc text of a declaration, or undefined. */
function jsDocText(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  if (docs === undefined || docs.length === 0) return undefined;
  const text = ts.getTextOfJSDocComment(docs[docs.length - 1]!.comment);
  return text === undefined || text === "" ? undefined : text;
}

/** Converts declarations of one file; `refOf` names the definition a type name refers to. */
class FileConverter {
  readonly #pkg: string;
  readonly #imports = new Map<string, string>();

  constructor(readonly source: TypesSource, private readonly sf: ts.SourceFile) {
    this.#pkg = openApiPackage(source.file);
    for (const st of sf.statements) {
      if (!ts.isImportDeclaration(st) || st.importClause?.namedBindings === undefined) continue;
      if (!ts.isStringLiteral(st.moduleSpecifier) || !ts.isNamedImports(st.importClause.namedBindings)) continue;
      const target = posix.normalize(posix.join(posix.dirname(source.file), st.moduleSpecifier.text)) + ".d.ts";
      const pkg = openApiPackage(target);
      for (const el of st.importClause.namedBindings.elements) this.#imports.set(el.name.text, `${pkg}.${(el.propertyName ?? el.name).text}`);
    }
  }

  definitions(): Record<string, Schema> {
    const out: Record<string, Schema> = {};
    for (const st of this.sf.statements) {
      if (ts.isInterfaceDeclaration(st)) {
        const name = `${this.#pkg}.${st.name.text}`;
        out[name] = this.#interface(name, st);
      } else if (ts.isTypeAliasDeclaration(st)) {
        const name = `${this.#pkg}.${st.name.text}`;
        out[name] = this.#alias(name, st);
      }
    }
    return out;
  }

  #interface(name: string, decl: ts.InterfaceDeclaration): Schema {
    const s: Schema = {};
    const description = jsDocText(decl);
    if (description !== undefined) s.description = description;
    if (UNTYPED_INTERFACES.has(name)) return s;
    s.type = "object";
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const m of decl.members) {
      if (!ts.isPropertySignature(m) || m.type === undefined) throw new Error(`Cannot convert member of ${name}: ${m.getText(this.sf)}`);
      const field = ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(this.sf);
      const prop = this.#type(m.type, name, field);
      const doc = jsDocText(m);
      properties[field] = doc === undefined ? prop : { ...prop, description: doc };
      if (m.questionToken === undefined) required.push(field);
    }
    if (Object.keys(properties).length > 0) s.properties = properties;
    if (required.length > 0) s.required = required;
    return s;
  }

  #alias(name: string, decl: ts.TypeAliasDeclaration): Schema {
    const s: Schema = {};
    const description = jsDocText(decl);
    if (description !== undefined) s.description = description;
    if (decl.type.kind === ts.SyntaxKind.StringKeyword) {
      s.type = "string";
      if (DATE_TIME_ALIASES.has(name)) s.format = "date-time";
      return s;
    }
    // JSONSchemaPropsOrArray / OrBool / OrStringArray: a value of one of several shapes. Upstream
    // publishes them without a type; so do we.
    if (ts.isUnionTypeNode(decl.type)) return s;
    throw new Error(`Cannot convert type alias ${name}: ${decl.type.getText(this.sf)}`);
  }

  /** The schema of a member's type; `def`/`field` select format overrides. */
  #type(node: ts.TypeNode, def: string, field: string, at: "field" | "items" | "values" = "field"): Schema {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword: {
        const f = fieldFormat(def, field);
        if (f?.at === at && f.format === "byte") return { type: "string", format: "byte" };
        const e = fieldEnum(def, field);
        return e?.at === at ? { type: "string", enum: [...e.values] } : { type: "string" };
      }
      case ts.SyntaxKind.BooleanKeyword:
        return { type: "boolean" };
      case ts.SyntaxKind.NumberKeyword: {
        const f = fieldFormat(def, field);
        if (f?.at === at && (f.format === "double" || f.format === "float")) return { type: "number", format: f.format };
        return { type: "integer", format: f?.at === at && f.format === "int64" ? "int64" : "int32" };
      }
    }
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return { type: "string" };
    if (ts.isParenthesizedTypeNode(node)) return this.#type(node.type, def, field, at);
    if (ts.isArrayTypeNode(node)) return { type: "array", items: this.#type(node.elementType, def, field, "items") };
    if (ts.isUnionTypeNode(node)) {
      const kinds = node.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds[0] === ts.SyntaxKind.NumberKeyword && kinds[1] === ts.SyntaxKind.StringKeyword) {
        return { $ref: `#/definitions/${INT_OR_STRING}` };
      }
    }
    if (ts.isTypeLiteralNode(node) && node.members.length === 1) {
      const sig = node.members[0]!;
      if (ts.isIndexSignatureDeclaration(sig) && sig.type !== undefined) {
        return { type: "object", additionalProperties: this.#type(sig.type, def, field, "values") };
      }
    }
    if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
      const ref = node.typeName.text;
      if (ref === "Array" && node.typeArguments?.length === 1) {
        return { type: "array", items: this.#type(node.typeArguments[0]!, def, field, "items") };
      }
      if (node.typeArguments === undefined) {
        const target = this.#imports.get(ref) ?? `${this.#pkg}.${ref}`;
        return { $ref: `#/definitions/${target}` };
      }
    }
    throw new Error(`Cannot convert the type of ${def}.${field}: ${node.getText(this.sf)}`);
  }
}

/** Every group/version we serve, core first then by group, as upstream lists a meta kind's GVKs. */
function servedGroupVersionsSorted(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of BUILTIN_RESOURCES) {
    seen.set(groupVersionString(r.group, r.version), { group: r.group, version: r.version });
    for (const s of r.subresources) if (s.kind !== undefined) seen.set(groupVersionString(s.kind.group, s.kind.version), s.kind);
  }
  return [...seen.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
}

/**
 * The GVK tags: each served kind and its list, the kinds of subresource bodies (Scale, Eviction,
 * Binding), and the meta kinds, which upstream registers in every group/version (DeleteOptions,
 * WatchEvent) or only in core v1 (Status, the discovery documents).
 */
export function groupVersionKinds(): Map<string, GroupVersionKind[]> {
  const tags = new Map<string, GroupVersionKind[]>();
  const add = (definition: string, gvk: GroupVersionKind): void => {
    const list = tags.get(definition) ?? [];
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) list.push(gvk);
    tags.set(definition, list);
  };
  for (const r of BUILTIN_RESOURCES) {
    add(r.definition, { group: r.group, version: r.version, kind: r.kind });
    if (r.verbs.includes("list")) add(`${r.definition}List`, { group: r.group, version: r.version, kind: r.listKind });
    for (const s of r.subresources) {
      // The connect subresources' kinds (PodExecOptions…) are query parameters, not bodies: upstream
      // has no definitions for them either.
      if (s.kind !== undefined && !s.kind.kind.endsWith("Options")) add(`${kindDefinitionPackage(s.kind.group, s.kind.version)}.${s.kind.kind}`, s.kind);
    }
  }
  for (const kind of ["Status", "APIResourceList", "APIGroup", "APIGroupList", "APIVersions"]) {
    add(`${META}.${kind}`, { group: "", version: "v1", kind });
  }
  for (const gv of servedGroupVersionsSorted()) {
    add(`${META}.DeleteOptions`, { ...gv, kind: "DeleteOptions" });
    add(`${META}.WatchEvent`, { ...gv, kind: "WatchEvent" });
  }
  for (const kind of ["Table", "PartialObjectMetadata", "PartialObjectMetadataList"]) {
    add(`${META}.${kind}`, { group: "meta.k8s.io", version: "v1", kind });
  }
  return tags;
}

/**
 * The definitions declared by kubernetes-types sources as they are: one per interface or type
 * alias, no extensions. Throws on a type it cannot express.
 */
export function convertTypes(sources: readonly TypesSource[]): Record<string, Schema> {
  const defs: Record<string, Schema> = {};
  for (const source of sources) {
    const sf = ts.createSourceFile(source.file, source.text, ts.ScriptTarget.ES2022, true);
    Object.assign(defs, new FileConverter(source, sf).definitions());
  }
  return defs;
}

/** Builds the definitions from kubernetes-types sources. Throws on anything it cannot convert or a dangling ref. */
export function generateDefinitions(sources: readonly TypesSource[]): Record<string, Schema> {
  let defs: Record<string, Schema> = { [INT_OR_STRING]: INT_OR_STRING_DEFINITION, ...convertTypes(sources) };
  Object.assign(defs, SUPPLEMENTARY_DEFINITIONS);
  for (const [name, props] of Object.entries(SUPPLEMENTARY_PROPERTIES)) {
    const def = defs[name];
    if (def === undefined) throw new Error(`Cannot add fields to ${name}: no such definition`);
    defs[name] = { ...def, properties: { ...def.properties, ...props } };
  }
  for (const [name, gvks] of groupVersionKinds()) {
    const def = defs[name];
    if (def === undefined) throw new Error(`Cannot tag ${name} with its group/version/kind: no such definition`);
    defs[name] = { ...def, "x-kubernetes-group-version-kind": gvks };
  }
  const applied = applyPatchMeta(defs);
  // Every table entry must land: one that names nothing means the table and the types drifted.
  if (applied.missing.length > 0) throw new Error(`Cannot apply patch metadata: not in the types: ${applied.missing.join(", ")}`);
  defs = applied.defs;
  // Upstream's `+default=` markers on list-map keys: server-side apply needs them to key an item
  // that omits the field (a port without a protocol is a TCP port).
  for (const [name, field, value] of KEY_DEFAULTS) {
    const prop = defs[name]?.properties?.[field];
    if (prop === undefined) throw new Error(`Cannot set the default of ${name}.${field}: no such field`);
    defs[name] = { ...defs[name]!, properties: { ...defs[name]!.properties, [field]: { ...prop, default: value } } };
  }
  // Enums are applied during conversion; one that did not land names a field the types lack.
  const lostEnums: string[] = [];
  for (const [name, fields] of Object.entries(FIELD_ENUMS)) {
    for (const field of Object.keys(fields)) {
      const p = defs[name]?.properties?.[field];
      if (p?.enum === undefined && p?.items?.enum === undefined) lostEnums.push(`${name}.${field}`);
    }
  }
  if (lostEnums.length > 0) throw new Error(`Cannot apply enums: not string fields of the types: ${lostEnums.join(", ")}`);
  const dangling: string[] = [];
  for (const [name, def] of Object.entries(defs)) for (const ref of refsOf(def)) if (defs[ref] === undefined) dangling.push(`${name} -> ${ref}`);
  if (dangling.length > 0) throw new Error(`Cannot generate definitions: dangling refs: ${dangling.join(", ")}`);
  const sorted: Record<string, Schema> = {};
  for (const name of Object.keys(defs).sort()) sorted[name] = defs[name]!;
  return sorted;
}

/** Reads the installed kubernetes-types files we need. */
export function readTypesSources(files: readonly string[] = typesFiles()): TypesSource[] {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("kubernetes-types/package.json"));
  return files.map((file) => ({ file, text: readFileSync(join(root, file), "utf8") }));
}

function main(argv: readonly string[]): void {
  const out = argv[0];
  if (out === undefined) throw new Error("Cannot generate: usage: generate.js OUT.json");
  const defs = generateDefinitions(readTypesSources());
  mkdirSync(dirname(out), { recursive: true });
  const json = JSON.stringify(defs);
  writeFileSync(out, json);
  process.stdout.write(`wrote ${Object.keys(defs).length} definitions (${json.length} bytes) to ${out}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
