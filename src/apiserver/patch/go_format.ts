/**
 * How Go prints decoded JSON values, so that patch errors read byte for byte as kube-apiserver's.
 * Upstream builds messages with `fmt.Errorf("map: %v …", m)` over `map[string]interface{}` and
 * `reflect.TypeOf(v)`; clients and tests match on the resulting text.
 *
 *   goValue({ image: "nginx", ports: [80] })  →  "map[image:nginx ports:[80]]"
 *   goTypeName([])                            →  "[]interface {}"
 */

/** Go's `fmt.Sprintf("%v", v)` of a value json.Unmarshal produced (maps print with sorted keys). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return goNumber(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  if (typeof v === "object") {
    const m = v as Record<string, unknown>;
    // fmt sorts map keys since Go 1.12; byte order equals code-unit order for the ASCII keys of API objects.
    const keys = Object.keys(m).sort();
    return `map[${keys.map((k) => `${k}:${goValue(m[k])}`).join(" ")}]`;
  }
  return String(v);
}

/**
 * An integer prints as int64 (the apiserver decodes with PreserveInts); anything else as float64's %v:
 * shortest digits, exponent form below 1e-4 and from 1e21, with a two-digit signed exponent ("1e-05").
 */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mantissa, e] = n.toExponential().split("e") as [string, string];
    const sign = e.startsWith("-") ? "-" : "+";
    const digits = e.replace(/^[+-]/, "");
    return `${mantissa}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return String(n);
}

/** Go's `reflect.TypeOf(v)` printed with %s, for a value json.Unmarshal produced. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "%!s(<nil>)";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int64" : "float64";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

/** The JSON kind encoding/json names in "json: cannot unmarshal <kind> into Go value of type …". */
export function goJsonKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v; // "string" | "number"
}

/** Go's `%q` of a string (strconv.Quote); JSON's escaping agrees for the paths and keys patches carry. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** A JSON object as encoding/json decodes it into `map[string]interface{}`. */
export type JsonMap = Record<string, unknown>;

export function isJsonMap(v: unknown): v is JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function hasOwn(m: JsonMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}
