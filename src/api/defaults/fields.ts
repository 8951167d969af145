/**
 * Go-semantics field access for defaulting plain JSON objects.
 *
 * Upstream defaulters run on decoded Go structs, where an absent field, a JSON `null` and the zero value
 * look alike: `""` for a string, `0` for an int32, nil for a pointer, map or slice. A defaulter that tests
 * `obj.Type == ""` therefore also fires for `"type": null`. These helpers give the same answers on JSON.
 */

export type JsonObject = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Go's `x == nil` for a pointer, map or slice field; JSON null decodes to nil. */
export function isNil(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Go's `x == ""` for a string field, or `x == 0` for a number field, as decoded from JSON. */
export function isZero(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === 0;
}

/** Go's `len(x) == 0` for a map, slice or string. */
export function isEmpty(value: unknown): boolean {
  if (isNil(value)) return true;
  if (Array.isArray(value) || typeof value === "string") return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** Sets `obj[key]` when it is Go-zero (absent, null, "", 0). */
export function defaultZero(obj: JsonObject, key: string, value: unknown): void {
  if (isZero(obj[key])) obj[key] = value;
}

/** Sets `obj[key]` when it is nil (absent or null): a pointer field, where 0/""/false are real values. */
export function defaultNil(obj: JsonObject, key: string, value: unknown): void {
  if (isNil(obj[key])) obj[key] = value;
}

/** The object at `obj[key]`, or undefined: a Go pointer-to-struct that may be nil. */
export function child(obj: JsonObject, key: string): JsonObject | undefined {
  const value = obj[key];
  return isObject(value) ? value : undefined;
}

/**
 * The object at `obj[key]`, created empty when absent: a Go struct held by value, which always exists
 * after decoding (`Deployment.spec`, `DeploymentSpec.strategy`), so its defaulter always runs.
 * A value of another JSON type is left alone (validation reports it) and undefined is returned.
 */
export function struct(obj: JsonObject, key: string): JsonObject | undefined {
  if (isNil(obj[key])) obj[key] = {};
  return child(obj, key);
}

/** The objects of the array at `obj[key]`, skipping anything that is not an object. */
export function items(obj: JsonObject, key: string): JsonObject[] {
  const value = obj[key];
  if (!Array.isArray(value)) return [];
  return value.filter(isObject);
}
