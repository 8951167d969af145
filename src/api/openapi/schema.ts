/**
 * The OpenAPI schema shapes the API machinery reads (upstream's `spec.Schema` subset plus the
 * Kubernetes extensions that drive strategic merge patch, server-side apply and `kubectl explain`).
 * Definitions are keyed by their OpenAPI names (`io.k8s.api.core.v1.Pod`); `$ref`s point at
 * `#/definitions/<name>` (v2) and are rewritten to `#/components/schemas/<name>` when v3 is served.
 */

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface Schema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  default?: unknown;
  $ref?: string;
  allOf?: Schema[];
  "x-kubernetes-patch-merge-key"?: string;
  /** Comma-separated: "merge", "retainKeys", "merge,retainKeys", "replace". */
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-group-version-kind"?: GroupVersionKind[];
  "x-kubernetes-unions"?: unknown[];
}

/** Every definition by name. */
export type Definitions = Readonly<Record<string, Schema>>;

const REF_PREFIXES = ["#/definitions/", "#/components/schemas/"];

/** The definition name a `$ref` points at. */
export function refName(ref: string): string {
  for (const p of REF_PREFIXES) if (ref.startsWith(p)) return ref.slice(p.length);
  return ref;
}

/**
 * Follows `$ref` (and a single-element `allOf`, how v3 wraps a ref that carries a description) until
 * a schema with content; undefined when the schema is unknown (then callers treat the value as
 * untyped: maps merge, lists are atomic).
 */
export function resolveSchema(schema: Schema | undefined, defs: Definitions): Schema | undefined {
  if (schema === undefined) return undefined;
  // Schemas and definitions are never changed once built, so a resolution holds for as long as both
  // objects live; remembering it spares the field manager and validation a merge per visited node.
  let byDefs = resolved.get(defs);
  if (byDefs === undefined) {
    byDefs = new WeakMap();
    resolved.set(defs, byDefs);
  }
  const known = byDefs.get(schema);
  if (known !== undefined) return known;
  const out = resolveUncached(schema, defs);
  if (out !== undefined) byDefs.set(schema, out);
  return out;
}

const resolved = new WeakMap<Definitions, WeakMap<Schema, Schema>>();

function resolveUncached(schema: Schema, defs: Definitions): Schema | undefined {
  let s: Schema | undefined = schema;
  for (let depth = 0; s !== undefined && depth < 16; depth++) {
    if (s.$ref !== undefined) {
      const target: Schema | undefined = defs[refName(s.$ref)];
      if (target === undefined) return undefined;
      // Extensions on the referring schema (a list's merge key) win over the target's.
      const { $ref: _ref, ...rest } = s;
      s = Object.keys(rest).length === 0 ? target : { ...target, ...rest };
      continue;
    }
    if (s.allOf !== undefined && s.allOf.length === 1) {
      const { allOf, ...rest }: Schema = s;
      s = { ...allOf[0]!, ...rest };
      continue;
    }
    return s;
  }
  return s;
}

/** The schema of field `name` of an object schema (resolved), or undefined. */
export function fieldSchema(schema: Schema | undefined, name: string, defs: Definitions): Schema | undefined {
  const s = resolveSchema(schema, defs);
  if (s === undefined) return undefined;
  const prop = s.properties?.[name];
  if (prop !== undefined) return resolveSchema(prop, defs);
  if (typeof s.additionalProperties === "object") return resolveSchema(s.additionalProperties, defs);
  return undefined;
}

/** The schema of a list's items (resolved), or undefined. */
export function itemSchema(schema: Schema | undefined, defs: Definitions): Schema | undefined {
  const s = resolveSchema(schema, defs);
  return s?.items === undefined ? undefined : resolveSchema(s.items, defs);
}

/** The names of every definition a schema refers to (through properties, items, maps and allOf), added to `out`. */
export function refsOf(schema: Schema, out: Set<string> = new Set()): Set<string> {
  if (schema.$ref !== undefined) out.add(refName(schema.$ref));
  for (const p of Object.values(schema.properties ?? {})) refsOf(p, out);
  if (schema.items !== undefined) refsOf(schema.items, out);
  if (typeof schema.additionalProperties === "object") refsOf(schema.additionalProperties, out);
  for (const a of schema.allOf ?? []) refsOf(a, out);
  return out;
}
