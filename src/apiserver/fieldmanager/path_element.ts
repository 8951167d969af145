/**
 * One step of a field path, as structured-merge-diff's `fieldpath.PathElement`: a struct or map field
 * (`f:replicas`), an associative-list item by its keys (`k:{"name":"web"}`), a set item by its value
 * (`v:"foregroundDeletion"`), or a positional item (`i:0`, never produced for Kubernetes types, read for
 * completeness).
 *
 * The order (`comparePathElements`) and the text forms are upstream's: the FieldsV1 keys are written in
 * this order, and conflict messages print paths with `pathString`.
 */

export type PathElement =
  | { readonly kind: "field"; readonly name: string }
  /** Key fields sorted by name, as upstream's `value.FieldList.Sort()`. */
  | { readonly kind: "key"; readonly fields: readonly (readonly [string, unknown])[] }
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "index"; readonly index: number };

export type Path = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: "field", name };
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Strings compare as Go's do: by UTF-8 bytes. UTF-16 code-unit order is the same except around
 * surrogate pairs, so only strings holding one pay for the byte comparison.
 */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  return a < b ? -1 : 1;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Rank of a JSON value's type in upstream's total order: float < int < string < bool < list < map < null. */
function typeRank(v: unknown): number {
  if (typeof v === "number") return Number.isInteger(v) ? 1 : 0;
  if (typeof v === "string") return 2;
  if (typeof v === "boolean") return 3;
  if (Array.isArray(v)) return 4;
  if (isPlainObject(v)) return 5;
  return 6;
}

/** upstream's `value.Compare`: a total order over JSON values (ints and floats compare numerically). */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === "string") return compareStrings(a, b as string);
  if (typeof a === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a)) {
    const bl = b as unknown[];
    for (let i = 0; i < Math.min(a.length, bl.length); i++) {
      const c = compareValues(a[i], bl[i]);
      if (c !== 0) return c;
    }
    return a.length === bl.length ? 0 : a.length < bl.length ? -1 : 1;
  }
  if (isPlainObject(a)) {
    const ae = Object.keys(a).sort(compareStrings);
    const bo = b as Record<string, unknown>;
    const be = Object.keys(bo).sort(compareStrings);
    for (let i = 0; i < Math.min(ae.length, be.length); i++) {
      const c = compareStrings(ae[i]!, be[i]!) || compareValues(a[ae[i]!], bo[be[i]!]);
      if (c !== 0) return c;
    }
    return ae.length === be.length ? 0 : ae.length < be.length ? -1 : 1;
  }
  return 0;
}

function compareKeyFields(a: readonly (readonly [string, unknown])[], b: readonly (readonly [string, unknown])[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareStrings(a[i]![0], b[i]![0]) || compareValues(a[i]![1], b[i]![1]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const KIND_RANK = { field: 0, key: 1, value: 2, index: 3 } as const;

/** upstream's `PathElement.Compare`: fields < keys < values < indexes, then by content. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return KIND_RANK[a.kind] < KIND_RANK[b.kind] ? -1 : 1;
  switch (a.kind) {
    case "field":
      return compareStrings(a.name, (b as typeof a).name);
    case "key":
      return compareKeyFields(a.fields, (b as typeof a).fields);
    case "value":
      return compareValues(a.value, (b as typeof a).value);
    case "index":
      return a.index - (b as typeof a).index;
  }
}

/**
 * JSON as Go's encoding/json (and jsoniter's standard-library config) writes it: object keys sorted,
 * `<`, `>`, `&`, U+2028 and U+2029 escaped. Upstream writes key and value path elements this way, so
 * the FieldsV1 keys must match it byte for byte.
 */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goQuoteJSON(v);
  if (typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goJSON).join(",")}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `{${keys.map((k) => `${goQuoteJSON(k)}:${goJSON(v[k])}`).join(",")}}`;
  }
  return "null";
}

function goQuoteJSON(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The FieldsV1 key of a path element: `f:name`, `k:{...}`, `v:<json>`, `i:<n>`. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `f:${pe.name}`;
    case "key":
      return `k:{${pe.fields.map(([n, v]) => `${goQuoteJSON(n)}:${goJSON(v)}`).join(",")}}`;
    case "value":
      return `v:${goJSON(pe.value)}`;
    case "index":
      return `i:${pe.index}`;
  }
}

/** Thrown for a FieldsV1 key that is not a path element; managedFields holding one are invalid. */
export class PathElementError extends Error {
  override readonly name = "PathElementError";
}

/** Parses a FieldsV1 key back into a path element (upstream's `DeserializePathElement`). */
export function deserializePathElement(s: string): PathElement {
  if (s.length < 2) throw new PathElementError("key must be 2 characters long:");
  if (s[1] !== ":") throw new PathElementError(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case "f":
      return { kind: "field", name: rest };
    case "v":
      return { kind: "value", value: parseJSON(rest) };
    case "k": {
      const obj = parseJSON(rest);
      if (!isPlainObject(obj)) throw new PathElementError(`key is not a JSON object: ${s}`);
      return keyElement(Object.entries(obj));
    }
    case "i": {
      if (!/^[-+]?\d+$/.test(rest)) throw new PathElementError(`strconv.Atoi: parsing ${JSON.stringify(rest)}: invalid syntax`);
      return { kind: "index", index: Number(rest) };
    }
    default:
      throw new PathElementError("unknown path element type");
  }
}

function parseJSON(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (err) {
    throw new PathElementError(`invalid JSON in path element: ${(err as Error).message}`);
  }
}

/** A key path element with its fields sorted by name. */
export function keyElement(fields: readonly (readonly [string, unknown])[]): PathElement {
  return { kind: "key", fields: [...fields].sort((a, b) => compareStrings(a[0], b[0])) };
}

/** Go's `%v` of a value as upstream's `value.ToString`: strings quoted, maps as `k=v` runs. */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(",")}]`;
  if (isPlainObject(v)) return Object.keys(v).map((k) => `${k}=${valueString(v[k])}`).join("");
  return "null";
}

/** A path element as upstream prints it: `.replicas`, `[name="web"]`, `[="x"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  switch (pe.kind) {
    case "field":
      return `.${pe.name}`;
    case "key":
      return `[${pe.fields.map(([n, v]) => `${n}=${valueString(v)}`).join(",")}]`;
    case "value":
      return `[=${valueString(pe.value)}]`;
    case "index":
      return `[${pe.index}]`;
  }
}

/** A path as upstream prints it in conflicts: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(path: Path): string {
  return path.map(pathElementString).join("");
}
