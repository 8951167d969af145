/**
 * A set of field paths, as structured-merge-diff's `fieldpath.Set`, and its FieldsV1 encoding (what
 * `metadata.managedFields[].fieldsV1` holds).
 *
 * A set is a tree: at each level, `members` are the path elements that are themselves in the set, and
 * `children` hold the deeper paths. `.spec.replicas` + `.spec.template.spec.containers[name="web"]` +
 * its `.image` is
 *
 *   children  f:spec ─ members   f:replicas
 *                    └ children  f:template ─ children f:spec ─ children f:containers
 *                                  ─ members  k:{"name":"web"}
 *                                  └ children k:{"name":"web"} ─ members f:image
 *
 * and encodes as
 *
 *   {"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}}}
 *
 * where `".":{}` marks a path that is both a member and a parent. The algebra is path-wise: a path is
 * in `a.difference(b)` when it is in `a` and not in `b`, whatever their parents and children.
 */

import type { Definitions, Schema } from "../../api/openapi/schema.js";
import {
  comparePathElements,
  deserializePathElement,
  pathString,
  PathElementError,
  serializePathElement,
  type Path,
  type PathElement,
} from "./path_element.js";
import { atomFor, isDeclaredField, ListItemError, listItemElement, mapChildSchema } from "./typed_schema.js";

interface Child {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

export class FieldSet {
  // Keyed by the FieldsV1 form of the element, which is unique per element.
  readonly #members = new Map<string, PathElement>();
  // Invariant: no child set is empty.
  readonly #children = new Map<string, Child>();

  /** A set holding exactly `paths`. */
  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds `path` (an empty path is not a field and is ignored, as upstream). */
  insert(path: Path): void {
    if (path.length === 0) return;
    const pe = path[0]!;
    const key = serializePathElement(pe);
    if (path.length === 1) {
      this.#members.set(key, pe);
      return;
    }
    let child = this.#children.get(key);
    if (child === undefined) {
      child = { pe, set: new FieldSet() };
      this.#children.set(key, child);
    }
    child.set.insert(path.slice(1));
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    const key = serializePathElement(path[0]!);
    if (path.length === 1) return this.#members.has(key);
    return this.#children.get(key)?.set.has(path.slice(1)) ?? false;
  }

  hasMember(pe: PathElement): boolean {
    return this.#members.has(serializePathElement(pe));
  }

  get empty(): boolean {
    return this.#members.size === 0 && this.#children.size === 0;
  }

  /** The paths under `pe` (upstream's `WithPrefix`), without the prefix; empty when there are none. */
  withPrefix(pe: PathElement): FieldSet {
    return this.#children.get(serializePathElement(pe))?.set ?? new FieldSet();
  }

  /** Members in upstream order. */
  members(): PathElement[] {
    return [...this.#members.values()].sort(comparePathElements);
  }

  /** Children in upstream order. */
  children(): Child[] {
    return [...this.#children.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
  }

  /** Number of paths. */
  get size(): number {
    let n = this.#members.size;
    for (const c of this.#children.values()) n += c.set.size;
    return n;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const s of [this, other]) {
      for (const [k, pe] of s.#members) out.#members.set(k, pe);
    }
    const keys = new Set([...this.#children.keys(), ...other.#children.keys()]);
    for (const k of keys) {
      const a = this.#children.get(k);
      const b = other.#children.get(k);
      const set = a !== undefined && b !== undefined ? a.set.union(b.set) : (a ?? b)!.set;
      out.#children.set(k, { pe: (a ?? b)!.pe, set });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, a] of this.#children) {
      const b = other.#children.get(k);
      if (b === undefined) continue;
      const set = a.set.intersection(b.set);
      if (!set.empty) out.#children.set(k, { pe: a.pe, set });
    }
    return out;
  }

  /** The paths of this set that are not in `other` (children of a removed parent stay). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (!other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, a] of this.#children) {
      const b = other.#children.get(k);
      const set = b === undefined ? a.set : a.set.difference(b.set);
      if (!set.empty) out.#children.set(k, { pe: a.pe, set });
    }
    return out;
  }

  /** Like `difference`, but a path of `other` also removes everything under it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (!other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, a] of this.#children) {
      if (other.#members.has(k)) continue;
      const b = other.#children.get(k);
      const set = b === undefined ? a.set : a.set.recursiveDifference(b.set);
      if (!set.empty) out.#children.set(k, { pe: a.pe, set });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).empty && other.difference(this).empty;
  }

  /** Every path, in upstream's iteration order: a level's members, then its children's paths. */
  paths(): Path[] {
    const out: Path[] = [];
    for (const pe of this.members()) out.push([pe]);
    for (const c of this.children()) for (const p of c.set.paths()) out.push([c.pe, ...p]);
    return out;
  }

  /** The FieldsV1 object, keys in upstream's order (JSON.stringify of it is upstream's bytes). */
  toFieldsV1(): Record<string, unknown> {
    return this.#emit(false);
  }

  #emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf && !this.empty) out["."] = {};
    const members = this.members();
    const children = this.children();
    let mi = 0;
    let ci = 0;
    // A merge of two sorted lists; an element in both is written once, with ".".
    while (mi < members.length || ci < children.length) {
      const m = members[mi];
      const c = children[ci];
      const order = m === undefined ? 1 : c === undefined ? -1 : comparePathElements(m, c.pe);
      if (order < 0) {
        out[serializePathElement(m!)] = {};
        mi++;
      } else if (order > 0) {
        out[serializePathElement(c!.pe)] = c!.set.#emit(false);
        ci++;
      } else {
        out[serializePathElement(c!.pe)] = c!.set.#emit(true);
        mi++;
        ci++;
      }
    }
    return out;
  }

  /** Reads a FieldsV1 object; throws FieldsV1Error when it is not one. */
  static fromFieldsV1(fields: unknown): FieldSet {
    if (!isPlainObject(fields)) throw new FieldsV1Error("FieldsV1 must be a JSON object");
    return FieldSet.#readLevel(fields, 0).children ?? new FieldSet();
  }

  // As upstream's readIterV1: an object whose keys are path elements; "." says the parent is a
  // member, and an empty object is a member with no children.
  static #readLevel(obj: Record<string, unknown>, depth: number): { children: FieldSet | undefined; isMember: boolean } {
    if (depth > FIELDS_V1_DEPTH_MAX) throw new FieldsV1Error(`FieldsV1 nests deeper than ${FIELDS_V1_DEPTH_MAX}`);
    let children: FieldSet | undefined;
    let isMember = false;
    for (const [key, v] of Object.entries(obj)) {
      if (key === ".") {
        isMember = true;
        continue;
      }
      let pe: PathElement;
      try {
        pe = deserializePathElement(key);
      } catch (err) {
        if (err instanceof PathElementError) throw new FieldsV1Error(`parsing JSON: ${err.message}`, { cause: err });
        throw err;
      }
      if (!isPlainObject(v)) throw new FieldsV1Error(`parsing JSON: value of ${JSON.stringify(key)} is not an object`);
      const sub = FieldSet.#readLevel(v, depth + 1);
      children ??= new FieldSet();
      const k = serializePathElement(pe);
      if (sub.isMember) children.#members.set(k, pe);
      if (sub.children !== undefined && !sub.children.empty) children.#children.set(k, { pe, set: sub.children });
    }
    if (children === undefined) isMember = true;
    return { children, isMember };
  }

  toString(): string {
    return this.paths().map(pathString).join("\n");
  }
}

/** Nesting bound for FieldsV1 input: a request cannot make decoding recurse without limit. */
export const FIELDS_V1_DEPTH_MAX = 256;

export class FieldsV1Error extends Error {
  override readonly name = "FieldsV1Error";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value that does not fit its schema well enough to be walked (upstream's typed validation errors). */
export class TypedValueError extends Error {
  override readonly name = "TypedValueError";
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? errors[0]! : `errors:\n${errors.map((e) => `  ${e}`).join("\n")}`);
  }
}

function prefixed(path: Path, message: string): string {
  return path.length === 0 ? message : `${pathString(path)}: ${message}`;
}

export interface FieldsOfOptions {
  /**
   * Accept repeated list keys, as for objects already stored (upstream allows duplicates created by
   * update; an apply configuration may not have them).
   */
  readonly allowDuplicates?: boolean;
}

/**
 * The fields an object sets (upstream's `TypedValue.ToFieldSet`): every scalar, atomic list or map,
 * list item, map entry, and empty or null value; struct fields that hold something are implied by
 * their children. Throws TypedValueError for list items without keys, or duplicates when not allowed.
 */
export function fieldsOf(obj: unknown, schema: Schema | undefined, defs: Definitions, options: FieldsOfOptions = {}): FieldSet {
  const set = new FieldSet();
  const errors: string[] = [];
  walkFields(obj, schema, defs, [], set, errors, options.allowDuplicates === true);
  if (errors.length > 0) throw new TypedValueError(errors);
  return set;
}

function walkFields(value: unknown, schema: Schema | undefined, defs: Definitions, path: PathElement[], set: FieldSet, errors: string[], allowDuplicates: boolean): void {
  const atom = atomFor(schema, value, defs);
  if (atom.kind === "scalar") {
    set.insert(path);
    return;
  }
  if (atom.atomic) {
    set.insert(path);
    return;
  }
  if (atom.kind === "list") {
    if (!Array.isArray(value)) return;
    const seen = new Map<string, number>();
    const elements: (PathElement | undefined)[] = value.map((item, i) => {
      try {
        const pe = listItemElement(atom, item, defs);
        const k = serializePathElement(pe);
        seen.set(k, (seen.get(k) ?? 0) + 1);
        return pe;
      } catch (err) {
        if (!(err instanceof ListItemError)) throw err;
        errors.push(prefixed(path, `element ${i}: ${err.message}`));
        return undefined;
      }
    });
    const reported = new Set<string>();
    value.forEach((item, i) => {
      const pe = elements[i];
      if (pe === undefined) return;
      const k = serializePathElement(pe);
      if (seen.get(k)! > 1) {
        // A duplicated item is owned as a whole: it cannot be told apart from its twin.
        if (!allowDuplicates && !reported.has(k)) errors.push(prefixed(path, `duplicate entries for key ${pathElementText(pe)}`));
        reported.add(k);
        set.insert([...path, pe]);
        return;
      }
      const childPath = [...path, pe];
      walkFields(item, atom.item, defs, childPath, set, errors, allowDuplicates);
      set.insert(childPath);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const childPath = [...path, { kind: "field", name: key } as const];
    walkFields(v, mapChildSchema(atom, key), defs, childPath, set, errors, allowDuplicates);
    if (v === null || (isPlainObject(v) && Object.keys(v).length === 0) || !isDeclaredField(atom, key)) set.insert(childPath);
  }
}

function pathElementText(pe: PathElement): string {
  return pathString([pe]);
}
