/**
 * How server-side apply reads the OpenAPI schema: each value is a scalar, a list (atomic, a set, or an
 * associative list keyed by some fields) or a map (atomic, or granular). This is what upstream's
 * kube-openapi `schemaconv` derives from the same extensions:
 *
 *   x-kubernetes-list-type: atomic | set | map (+ x-kubernetes-list-map-keys)
 *   else x-kubernetes-patch-strategy: merge (+ x-kubernetes-patch-merge-key) → associative by that key,
 *        merge without a key → set; retainKeys alone → atomic
 *   else → atomic list
 *   x-kubernetes-map-type: atomic → atomic map (or struct); otherwise granular
 *
 * A value without a schema is "deduced" from its shape as upstream does for unknown types: maps are
 * granular, lists are atomic.
 */

import { resolveSchema, type Definitions, type Schema } from "../../api/openapi/schema.js";
import { keyElement, type PathElement } from "./path_element.js";

export type Atom =
  | { readonly kind: "scalar" }
  | {
      readonly kind: "list";
      readonly atomic: boolean;
      /** The key fields of an associative list; empty for a set (items are keyed by value). */
      readonly keys: readonly string[];
      readonly item: Schema | undefined;
    }
  | {
      readonly kind: "map";
      readonly atomic: boolean;
      /** Declared fields of a struct; a key that is not one is a map entry. */
      readonly fields: Readonly<Record<string, Schema>>;
      /** The schema of entries that are not declared fields (additionalProperties), if any. */
      readonly element: Schema | undefined;
    };

const SCALAR: Atom = { kind: "scalar" };
const UNTYPED_MAP: Atom = { kind: "map", atomic: false, fields: {}, element: undefined };
const UNTYPED_LIST: Atom = { kind: "list", atomic: true, keys: [], item: undefined };

/** The atom a schema declares, or undefined when the schema says nothing about the shape. */
export function schemaAtom(schema: Schema | undefined, defs: Definitions): Atom | undefined {
  const s = resolveSchema(schema, defs);
  if (s === undefined) return undefined;
  // Resolved schemas are shared and never changed (see resolveSchema): one atom per schema.
  const known = atoms.get(s);
  if (known !== undefined) return known;
  const atom = atomOfResolved(s);
  if (atom !== undefined) atoms.set(s, atom);
  return atom;
}

const atoms = new WeakMap<Schema, Atom>();

function atomOfResolved(s: Schema): Atom | undefined {
  if (s.type === "array" || s.items !== undefined) return listAtom(s);
  if (s.type === "object" || s.properties !== undefined || typeof s.additionalProperties === "object") {
    return {
      kind: "map",
      atomic: s["x-kubernetes-map-type"] === "atomic",
      fields: s.properties ?? {},
      element: typeof s.additionalProperties === "object" ? s.additionalProperties : undefined,
    };
  }
  if (s.type !== undefined || s["x-kubernetes-int-or-string"] === true || s.format !== undefined) return SCALAR;
  return undefined;
}

function listAtom(s: Schema): Atom {
  const listType = s["x-kubernetes-list-type"];
  if (listType !== undefined) {
    if (listType === "map") return { kind: "list", atomic: false, keys: s["x-kubernetes-list-map-keys"] ?? [], item: s.items };
    if (listType === "set") return { kind: "list", atomic: false, keys: [], item: s.items };
    return { kind: "list", atomic: true, keys: [], item: s.items };
  }
  const strategy = s["x-kubernetes-patch-strategy"];
  if (strategy === "merge" || strategy === "merge,retainKeys") {
    const key = s["x-kubernetes-patch-merge-key"];
    return { kind: "list", atomic: false, keys: key === undefined ? [] : [key], item: s.items };
  }
  return { kind: "list", atomic: true, keys: [], item: s.items };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The atom to walk `value` with: the schema's, unless the schema is unknown or disagrees with the
 * value's shape, then the shape's (untyped maps are granular, untyped lists atomic). JSON null takes
 * the schema's atom: a null map or list is an empty one.
 */
export function atomFor(schema: Schema | undefined, value: unknown, defs: Definitions): Atom {
  const declared = schemaAtom(schema, defs);
  if (value === null || value === undefined) return declared ?? SCALAR;
  const shape = Array.isArray(value) ? "list" : isPlainObject(value) ? "map" : "scalar";
  if (declared !== undefined && declared.kind === shape) return declared;
  return shape === "list" ? UNTYPED_LIST : shape === "map" ? UNTYPED_MAP : SCALAR;
}

/** The schema of map key `key` under a map atom (undefined = untyped). */
export function mapChildSchema(atom: Atom & { kind: "map" }, key: string): Schema | undefined {
  return Object.hasOwn(atom.fields, key) ? atom.fields[key] : atom.element;
}

/** Whether `key` is a declared struct field (upstream's `FindField`). */
export function isDeclaredField(atom: Atom & { kind: "map" }, key: string): boolean {
  return Object.hasOwn(atom.fields, key);
}

/** A list item that has no path element: the list cannot be walked granularly. */
export class ListItemError extends Error {
  override readonly name = "ListItemError";
}

/**
 * The path element of a list item (upstream's `listItemToPathElement`): its keys for an associative
 * list (a missing key takes the key field's schema default), its value for a set.
 */
export function listItemElement(atom: Atom & { kind: "list" }, item: unknown, defs: Definitions): PathElement {
  if (atom.keys.length === 0) {
    // Upstream keys set items by value and rejects maps there.
    if (isPlainObject(item)) throw new ListItemError("associative list without keys has an element that's a map type");
    return { kind: "value", value: item };
  }
  if (item === null) throw new ListItemError("associative list with keys may not have a null element");
  if (!isPlainObject(item)) throw new ListItemError("associative list with keys may not have non-map elements");
  const fields: [string, unknown][] = [];
  for (const k of atom.keys) {
    if (Object.hasOwn(item, k)) {
      fields.push([k, item[k]]);
      continue;
    }
    const itemSchema = resolveSchema(atom.item, defs);
    const keySchema = resolveSchema(itemSchema?.properties?.[k], defs);
    if (keySchema?.default !== undefined) {
      fields.push([k, keySchema.default]);
      continue;
    }
    throw new ListItemError(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
  }
  return keyElement(fields);
}
