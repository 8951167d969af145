/**
 * Schema-aware operations on plain JSON objects, as structured-merge-diff's `typed` package: compare
 * two versions field by field, merge an apply configuration into a live object, remove a set of
 * fields, and widen a set with the struct fields its paths go through.
 *
 * `undefined` means absent; JSON `null` is a value (a null map or list counts as an empty one).
 */

import { resolveSchema, type Definitions, type Schema } from "../../api/openapi/schema.js";
import { FieldSet, TypedValueError } from "./field_set.js";
import { pathString, serializePathElement, type Path, type PathElement } from "./path_element.js";
import { atomFor, isDeclaredField, ListItemError, listItemElement, mapChildSchema, schemaAtom, type Atom } from "./typed_schema.js";
import { jsonEqual } from "../../util/json_equal.js";
export { jsonEqual };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}


/** Which fields an edit added, changed or removed (upstream's `typed.Comparison`). */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

function emptyish(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.keys(v).every((k) => v[k] === undefined);
  return false;
}

function shapeOf(v: unknown): "list" | "map" | "scalar" | "none" {
  if (v === undefined || v === null) return "none";
  return Array.isArray(v) ? "list" : isPlainObject(v) ? "map" : "scalar";
}

/** The atom both sides are walked with; sides of different shapes are compared as one leaf. */
function sharedAtom(lhs: unknown, rhs: unknown, schema: Schema | undefined, defs: Definitions): Exclude<Atom, { kind: "scalar" }> | "leaf" {
  const ls = shapeOf(lhs);
  const rs = shapeOf(rhs);
  if (ls !== "none" && rs !== "none" && ls !== rs) return "leaf";
  const atom = atomFor(schema, rhs !== undefined && rhs !== null ? rhs : lhs, defs);
  if (atom.kind === "scalar" || atom.atomic) return "leaf";
  // Both empty or null: a leaf, which keeps the difference between empty and null.
  if (emptyish(lhs) && emptyish(rhs)) return "leaf";
  return atom;
}

function listElements(atom: Atom & { kind: "list" }, list: readonly unknown[], path: Path, defs: Definitions, errors: string[]): [PathElement, unknown][] {
  const out: [PathElement, unknown][] = [];
  list.forEach((item, i) => {
    try {
      out.push([listItemElement(atom, item, defs), item]);
    } catch (err) {
      if (!(err instanceof ListItemError)) throw err;
      errors.push(`${pathString(path)}: element ${i}: ${err.message}`);
    }
  });
  return out;
}

/** Compares `lhs` (old) with `rhs` (new); throws TypedValueError for lists that cannot be keyed. */
export function compare(lhs: unknown, rhs: unknown, schema: Schema | undefined, defs: Definitions): Comparison {
  const cmp: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const errors: string[] = [];
  compareNode(lhs, rhs, schema, defs, [], cmp, errors);
  if (errors.length > 0) throw new TypedValueError(errors);
  return cmp;
}

function compareNode(lhs: unknown, rhs: unknown, schema: Schema | undefined, defs: Definitions, path: PathElement[], cmp: Comparison, errors: string[]): void {
  const atom = sharedAtom(lhs, rhs, schema, defs);
  if (atom === "leaf") {
    if (lhs === undefined) cmp.added.insert(path);
    else if (rhs === undefined) cmp.removed.insert(path);
    else if (!jsonEqual(lhs, rhs)) cmp.modified.insert(path);
    return;
  }
  if (atom.kind === "list") {
    const byKey = new Map<string, { pe: PathElement; l: unknown[]; r: unknown[] }>();
    const entry = (pe: PathElement) => {
      const k = serializePathElement(pe);
      let e = byKey.get(k);
      if (e === undefined) byKey.set(k, (e = { pe, l: [], r: [] }));
      return e;
    };
    for (const [pe, item] of listElements(atom, Array.isArray(lhs) ? lhs : [], path, defs, errors)) entry(pe).l.push(item);
    for (const [pe, item] of listElements(atom, Array.isArray(rhs) ? rhs : [], path, defs, errors)) entry(pe).r.push(item);
    for (const { pe, l, r } of byKey.values()) {
      const p = [...path, pe];
      if (l.length <= 1 && r.length <= 1) {
        compareNode(l[0], r[0], atom.item, defs, p, cmp, errors);
      } else if (l.length >= 2 && r.length >= 2) {
        // Duplicates on both sides are compared as one atomic value.
        if (!jsonEqual(l, r)) cmp.modified.insert(p);
      } else if (l.length >= 2) {
        if (r.length !== 0) compareNode(undefined, r[0], atom.item, defs, p, cmp, errors);
        cmp.removed.insert(p);
      } else {
        if (l.length !== 0) compareNode(l[0], undefined, atom.item, defs, p, cmp, errors);
        cmp.added.insert(p);
      }
    }
  } else {
    const lm = isPlainObject(lhs) ? lhs : {};
    const rm = isPlainObject(rhs) ? rhs : {};
    const keys = new Set([...Object.keys(lm), ...Object.keys(rm)]);
    for (const k of keys) {
      if (lm[k] === undefined && rm[k] === undefined) continue;
      compareNode(lm[k], rm[k], mapChildSchema(atom, k), defs, [...path, { kind: "field", name: k }], cmp, errors);
    }
  }
  if (lhs === undefined) cmp.added.insert(path);
  else if (rhs === undefined) cmp.removed.insert(path);
}

/**
 * Merges an apply configuration into a live value (upstream's `TypedValue.Merge`): scalars and atomic
 * values are replaced, maps merge per key, associative lists and sets merge per item. Merged lists keep
 * live-only items where they were and follow the configuration's order for the items it names.
 * Throws TypedValueError for a configuration list with duplicate or keyless items.
 */
export function merge(lhs: unknown, rhs: unknown, schema: Schema | undefined, defs: Definitions): unknown {
  const errors: string[] = [];
  const out = mergeNode(lhs, rhs, schema, defs, [], errors);
  if (errors.length > 0) throw new TypedValueError(errors);
  return out;
}

function mergeNode(lhs: unknown, rhs: unknown, schema: Schema | undefined, defs: Definitions, path: PathElement[], errors: string[]): unknown {
  const atom = sharedAtom(lhs, rhs, schema, defs);
  if (atom === "leaf") return rhs !== undefined ? rhs : lhs;
  if (atom.kind === "map") {
    const lm = isPlainObject(lhs) ? lhs : {};
    const rm = isPlainObject(rhs) ? rhs : {};
    const out: Record<string, unknown> = {};
    // Live keys first, in their order, then the configuration's new keys: stable output for readers.
    for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
      if (lm[k] === undefined && rm[k] === undefined) continue;
      const v = mergeNode(lm[k], rm[k], mapChildSchema(atom, k), defs, [...path, { kind: "field", name: k }], errors);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return mergeList(atom, Array.isArray(lhs) ? lhs : [], Array.isArray(rhs) ? rhs : [], defs, path, errors);
}

// Upstream's merge order: walk both lists; a live-only item is emitted where it stands, a shared item
// is emitted when the configuration reaches it (in the configuration's order), and configuration-only
// items are emitted in place.
function mergeList(atom: Atom & { kind: "list" }, lhs: unknown[], rhs: unknown[], defs: Definitions, path: PathElement[], errors: string[]): unknown {
  const errorsBefore = errors.length;
  const rItems = listElements(atom, rhs, path, defs, errors);
  const lItems = listElements(atom, lhs, path, defs, errors);
  if (errors.length > errorsBefore) return undefined;
  const rObserved = new Map<string, unknown>();
  for (const [pe, item] of rItems) {
    const k = serializePathElement(pe);
    if (rObserved.has(k)) {
      errors.push(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      continue;
    }
    rObserved.set(k, item);
  }
  if (errors.length > errorsBefore) return undefined;
  // Live duplicates are allowed; such items are not merged with the configuration.
  const lObserved = new Map<string, unknown>();
  for (const [pe, item] of lItems) {
    const k = serializePathElement(pe);
    lObserved.set(k, lObserved.has(k) ? undefined : item);
  }
  const rKeys = rItems.map(([pe]) => serializePathElement(pe));
  const lKeys = lItems.map(([pe]) => serializePathElement(pe));
  const shared = rKeys.filter((k) => lObserved.has(k));
  let sharedIndex = 0;
  const nextShared = () => (sharedIndex < shared.length ? shared[sharedIndex] : undefined);
  const mergedR = new Set<string>();
  const out: unknown[] = [];
  const emit = (pe: PathElement, l: unknown, r: unknown) => {
    const v = mergeNode(l, r, atom.item, defs, [...path, pe], errors);
    if (v !== undefined) out.push(v);
  };
  let li = 0;
  let ri = 0;
  // Each round advances li or ri, so the loop ends after at most lhs.length + rhs.length rounds.
  while (li < lItems.length || ri < rItems.length) {
    if (li < lItems.length && ri < rItems.length) {
      const lk = lKeys[li]!;
      if (lk === rKeys[ri]) {
        mergedR.add(lk);
        emit(lItems[li]![0], lObserved.get(lk), rObserved.get(lk));
        li++;
        ri++;
        sharedIndex++;
        continue;
      }
      const ns = nextShared();
      if (rObserved.has(lk) && ns !== undefined && ns !== lk) {
        li++;
        continue;
      }
    }
    if (li < lItems.length) {
      const lk = lKeys[li]!;
      if (!rObserved.has(lk)) {
        emit(lItems[li]![0], lItems[li]![1], undefined);
        li++;
        continue;
      } else if (mergedR.has(lk)) {
        li++;
      }
    }
    if (ri < rItems.length) {
      const rk = rKeys[ri]!;
      mergedR.add(rk);
      emit(rItems[ri]![0], lObserved.get(rk), rObserved.get(rk));
      ri++;
      if (nextShared() === rk) sharedIndex++;
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * `value` without the fields of `toRemove` (each with everything under it), as upstream's
 * `RemoveItems`. A map or list left empty by the removal is dropped, as a typed object drops it.
 */
export function removeItems(value: unknown, toRemove: FieldSet, schema: Schema | undefined, defs: Definitions): unknown {
  if (toRemove.empty) return value;
  const atom = atomFor(schema, value, defs);
  if (atom.kind === "scalar" || atom.atomic) return value;
  if (atom.kind === "list") {
    if (!Array.isArray(value) || value.length === 0) return value;
    const out: unknown[] = [];
    for (const item of value) {
      let pe: PathElement;
      try {
        pe = listItemElement(atom, item, defs);
      } catch (err) {
        if (!(err instanceof ListItemError)) throw err;
        out.push(item);
        continue;
      }
      if (toRemove.has([pe])) continue;
      const sub = toRemove.withPrefix(pe);
      const v = sub.empty ? item : removeItems(item, sub, atom.item, defs);
      if (v !== undefined) out.push(v);
    }
    return out.length > 0 ? out : undefined;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const pe: PathElement = { kind: "field", name: k };
    if (toRemove.has([pe])) continue;
    const sub = toRemove.withPrefix(pe);
    const nv = sub.empty ? v : removeItems(v, sub, mapChildSchema(atom, k), defs);
    if (nv !== undefined) out[k] = nv;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * `set` plus every declared struct field its paths pass through (upstream's
 * `EnsureNamedFieldsAreMembers`): owning `.spec.strategy.type` then also names `.spec` and
 * `.spec.strategy`, while map entries and list items on the way are not added.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, schema: Schema | undefined, defs: Definitions): FieldSet {
  const out = new FieldSet();
  addNamed(set, schema, defs, [], out);
  return out;
}

function addNamed(set: FieldSet, schema: Schema | undefined, defs: Definitions, path: PathElement[], out: FieldSet): void {
  for (const pe of set.members()) out.insert([...path, pe]);
  const atom = schemaAtom(schema, defs);
  for (const { pe, set: child } of set.children()) {
    let childSchema: Schema | undefined;
    if (pe.kind === "field" && atom?.kind === "map") {
      if (isDeclaredField(atom, pe.name)) out.insert([...path, pe]);
      childSchema = mapChildSchema(atom, pe.name);
    } else if (pe.kind === "key" && atom?.kind === "list") {
      childSchema = atom.item;
    }
    addNamed(child, childSchema, defs, [...path, pe], out);
  }
}

/**
 * `value` as a Go object of its type would serialize: an empty object for every absent struct field
 * whose schema defaults to `{}` (Go's non-pointer structs: `spec`, `template`, a container's
 * `resources`), and null for an absent required list or map (Go writes those without omitempty).
 * Upstream compares Go objects, so comparing with these filled in finds the same changes and the same
 * FieldsV1 (creating a Deployment does not "add" `.spec`, nor `.spec.template.spec.containers`).
 */
export function withZeroStructs(value: unknown, schema: Schema | undefined, defs: Definitions, depth = 0): unknown {
  // Schemas recurse (JSONSchemaProps); a bound keeps a self-referencing default from looping.
  if (depth > ZERO_STRUCTS_DEPTH_MAX) return value;
  const atom = atomFor(schema, value, defs);
  if (atom.kind === "scalar") return value;
  if (atom.kind === "list") {
    return Array.isArray(value) ? value.map((item) => withZeroStructs(item, atom.item, defs, depth + 1)) : value;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = withZeroStructs(v, mapChildSchema(atom, k), defs, depth + 1);
  }
  const required = new Set(resolveSchema(schema, defs)?.required ?? []);
  for (const [k, fieldSchema] of Object.entries(atom.fields)) {
    if (out[k] !== undefined) continue;
    const resolved = resolveSchema(fieldSchema, defs);
    if (resolved === undefined) continue;
    const kind = schemaAtom(resolved, defs)?.kind;
    if (isPlainObject(resolved.default) && Object.keys(resolved.default).length === 0 && kind === "map") {
      out[k] = withZeroStructs({}, resolved, defs, depth + 1);
    } else if (required.has(k) && resolved.default === undefined && (kind === "list" || kind === "map")) {
      // A required slice, map or pointer is serialized by Go without omitempty: null, not absent.
      out[k] = null;
    } else if (k === "creationTimestamp" && resolved.format === "date-time") {
      // ObjectMeta's creationTimestamp is a non-pointer metav1.Time: a zero one is written as null.
      out[k] = null;
    }
  }
  return out;
}

/** Deepest struct nesting filled in by withZeroStructs (Kubernetes types nest well under 32). */
export const ZERO_STRUCTS_DEPTH_MAX = 64;
