/**
 * Field-level validation errors, as apimachinery's `util/validation/field`: each error has a type, the
 * field path (`spec.containers[0].image`), the offending value and a detail. `errorString` renders
 * `Error()` and `errorBody` the part after the field, byte for byte as Go prints them, because kubectl
 * shows these strings and clients match on them. `invalidError` builds the 422 `Invalid` Status.
 */

import { ApiError } from "../status.js";

export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueTypeInvalid"
  | "InternalError";

export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  /** The offending value; printed per Go's rules (see `formatBadValue`). */
  readonly badValue?: unknown;
  readonly detail: string;
}

/**
 * A value whose Go rendering is known only to the caller: a struct printed with `%#v`
 * (`v1.LabelSelector{MatchLabels:…}`) or a Stringer. Error text uses `text` verbatim.
 */
export class GoValue {
  constructor(readonly text: string) {}
}

/** TooMany's "no count given" marker: Go's omitValue prints just the type. */
const OMIT_VALUE = Symbol("omitValue");

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  FieldValueTypeInvalid: "Invalid value",
  InternalError: "Internal error",
};

// ---- field paths, as field.Path.String() ----

/** `spec` + `containers` → `spec.containers`. */
export function child(path: string, ...names: string[]): string {
  let out = path;
  for (const name of names) out = out === "" ? name : `${out}.${name}`;
  return out;
}

/** `spec.containers` + 0 → `spec.containers[0]`. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** `metadata.labels` + `app` → `metadata.labels[app]` (Go does not quote map keys in paths). */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

// ---- constructors, as field.Required(), field.Invalid(), … ----

export function required(field: string, detail = ""): FieldError {
  return { type: "FieldValueRequired", field, badValue: "", detail };
}

export function invalid(field: string, badValue: unknown, detail: string): FieldError {
  return { type: "FieldValueInvalid", field, badValue, detail };
}

export function notFound(field: string, badValue: unknown): FieldError {
  return { type: "FieldValueNotFound", field, badValue, detail: "" };
}

export function duplicate(field: string, badValue: unknown): FieldError {
  return { type: "FieldValueDuplicate", field, badValue, detail: "" };
}

/** `supported values: "a", "b"` in the order given (upstream passes lists, sometimes sorted sets). */
export function notSupported(field: string, badValue: unknown, validValues: readonly string[]): FieldError {
  const detail = validValues.length === 0 ? "" : `supported values: ${validValues.map(goQuote).join(", ")}`;
  return { type: "FieldValueNotSupported", field, badValue, detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: "FieldValueForbidden", field, badValue: "", detail };
}

/** field.TooLong: `must have at most N bytes`. */
export function tooLong(field: string, badValue: unknown, maxLength: number): FieldError {
  return { type: "FieldValueTooLong", field, badValue, detail: `must have at most ${maxLength} bytes` };
}

/** field.TooLongMaxLength: `may not be longer than N`. */
export function tooLongMaxLength(field: string, badValue: unknown, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be longer than ${maxLength}` : "value is too long";
  return { type: "FieldValueTooLong", field, badValue, detail };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} items` : "has too many items";
  return { type: "FieldValueTooMany", field, badValue: actual >= 0 ? actual : OMIT_VALUE, detail };
}

export function typeInvalid(field: string, badValue: unknown, detail: string): FieldError {
  return { type: "FieldValueTypeInvalid", field, badValue, detail };
}

export function internalError(field: string, message: string): FieldError {
  return { type: "InternalError", field, badValue: null, detail: message };
}

// ---- rendering ----

/** field.Error.ErrorBody(): the message without the field path. */
export function errorBody(e: FieldError): string {
  const typeText = TYPE_TEXT[e.type];
  let s: string;
  if (
    e.type === "FieldValueRequired" ||
    e.type === "FieldValueForbidden" ||
    e.type === "FieldValueTooLong" ||
    e.type === "InternalError" ||
    e.badValue === OMIT_VALUE
  ) {
    s = typeText;
  } else {
    s = `${typeText}: ${formatBadValue(e.badValue)}`;
  }
  if (e.detail.length !== 0) s += `: ${e.detail}`;
  return s;
}

/** field.Error.Error(): `spec.containers[0].image: Required value`. */
export function errorString(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/**
 * A bad value as Go's field errors print it: strings quoted (%q), numbers and booleans bare, nil as
 * `null`, string maps and slices as `%#v` (`map[string]string{"a":"b"}`, `[]string{"x"}`).
 */
export function formatBadValue(v: unknown): string {
  if (v instanceof GoValue) return v.text;
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return goStringSlice(v as string[]);
    return JSON.stringify(v);
  }
  if (typeof v === "object") {
    const values = Object.values(v as Record<string, unknown>);
    if (values.every((x) => typeof x === "string")) return goStringMap(v as Record<string, string>);
    return JSON.stringify(v);
  }
  return String(v);
}

/** Go's strconv.Quote for the characters Kubernetes values contain. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** `%#v` of a map[string]string: keys sorted, `map[string]string(nil)` for a missing map. */
export function goStringMap(m: Record<string, string> | null | undefined): string {
  if (m === null || m === undefined) return "map[string]string(nil)";
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(m[k]!)}`).join(", ")}}`;
}

/** `%#v` of a []string. */
export function goStringSlice(s: readonly string[] | null | undefined): string {
  if (s === null || s === undefined) return "[]string(nil)";
  return `[]string{${s.map(goQuote).join(", ")}}`;
}

/** `%#v` of a metav1.LabelSelector, the famous `spec.selector: Invalid value: v1.LabelSelector{…}`. */
export function goLabelSelector(sel: unknown): GoValue {
  const s = (sel ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const exprs =
    s.matchExpressions === undefined || s.matchExpressions === null
      ? "[]v1.LabelSelectorRequirement(nil)"
      : `[]v1.LabelSelectorRequirement{${s.matchExpressions
          .map((e) => {
            const r = (e ?? {}) as { key?: string; operator?: string; values?: string[] };
            return `v1.LabelSelectorRequirement{Key:${goQuote(r.key ?? "")}, Operator:${goQuote(r.operator ?? "")}, Values:${goStringSlice(r.values)}}`;
          })
          .join(", ")}}`;
  return new GoValue(`v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`);
}

/** An IntOrString prints through its String() method: `25%` or `3`, unquoted. */
export function goIntOrString(v: unknown): GoValue {
  return new GoValue(v === undefined || v === null ? "0" : String(v));
}

/**
 * utilerrors.Aggregate.Error(): one message alone, several as `[a, b]`; duplicates dropped (once by
 * ErrorList.ToAggregate and again by the aggregate's own visit).
 */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const seen = new Set<string>();
  const msgs: string[] = [];
  for (const e of errors) {
    const m = errorString(e);
    if (seen.has(m)) continue;
    seen.add(m);
    msgs.push(m);
  }
  if (msgs.length === 1) return msgs[0]!;
  return `[${msgs.join(", ")}]`;
}

/** schema.GroupKind.String(): `Pod`, `Deployment.apps`. */
export function qualifiedKind(group: string, kind: string): string {
  return group === "" ? kind : `${kind}.${group}`;
}

/**
 * apierrors.NewInvalid: 422 `Deployment.apps "x" is invalid: …` with one cause per error (the cause
 * message is the error body, without the field).
 */
export function invalidError(group: string, kind: string, name: string, errors: readonly FieldError[]): ApiError {
  const agg = errors.length === 0 ? "<nil>" : aggregateMessage(errors);
  const message = `${qualifiedKind(group, kind)} ${goQuote(name)} is invalid: ${agg}`;
  return new ApiError("Invalid", 422, message, {
    ...(name === "" ? {} : { name }),
    ...(group === "" ? {} : { group }),
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}
