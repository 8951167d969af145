/** Reading fields of a JSON object that may be missing or of the wrong type, as Go's zero values would read. */

export type Obj = Record<string, unknown>;

/** The value as an object, or an empty one. */
export function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
}

/** The value as a list, or an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value as a string, or "". */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** The value as a number, or 0. */
export function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

/** Whether the field is set (a pointer that is not nil). */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}
