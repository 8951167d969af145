/**
 * Unknown-field detection for field validation (`fieldValidation=Strict|Warn`): the paths of
 * fields an object carries that its schema does not declare, spelled as upstream's strict JSON
 * decoder (sigs.k8s.io/json) spells them: field names and map keys joined with ".", list indices
 * appended as "[i]", in document order. The API server words each as
 * `unknown field "spec.containers[0].foo"`.
 *
 * Opaque values are not looked into, as upstream's decoder does not: a schema with
 * `x-kubernetes-preserve-unknown-fields`, an object schema without `properties` (RawExtension,
 * FieldsV1, apiextensions JSON) and an untyped schema. Map values (`additionalProperties`) are
 * checked against the value schema. Type mismatches are not this function's business.
 */

import { resolveSchema, type Definitions, type Schema } from "./schema.js";

/** How deep we follow an object: deeper parts are not checked (bounds the recursion on hostile input). */
export const UNKNOWN_FIELDS_DEPTH_MAX = 128;

/** The fields of `obj` that `schema` does not declare, as paths. Empty when all are known. */
export function unknownFields(obj: unknown, schema: Schema | undefined, defs: Definitions): string[] {
  const out: string[] = [];
  walk(obj, schema, defs, "", 0, (_holder, _key, path) => out.push(path));
  return out;
}

/**
 * Removes the fields the schema does not declare, in place: what upstream's typed decoding does to an
 * object accepted under fieldValidation Warn or Ignore (unknown fields are never stored).
 */
export function pruneUnknownFields(obj: unknown, schema: Schema | undefined, defs: Definitions): void {
  const found: [Record<string, unknown>, string][] = [];
  walk(obj, schema, defs, "", 0, (holder, key) => found.push([holder, key]));
  for (const [holder, key] of found) delete holder[key];
}

/** Upstream's strict-decoding message for one unknown field. */
export function unknownFieldMessage(path: string): string {
  return `unknown field ${JSON.stringify(path)}`;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

type OnUnknown = (holder: Record<string, unknown>, key: string, path: string) => void;

function walk(value: unknown, schema: Schema | undefined, defs: Definitions, path: string, depth: number, out: OnUnknown): void {
  if (value === null || typeof value !== "object" || depth >= UNKNOWN_FIELDS_DEPTH_MAX) return;
  const s = resolveSchema(schema, defs);
  if (s === undefined || s["x-kubernetes-preserve-unknown-fields"] === true) return;
  if (Array.isArray(value)) {
    if (s.items === undefined) return;
    for (let i = 0; i < value.length; i++) walk(value[i], s.items, defs, `${path}[${i}]`, depth + 1, out);
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (s.properties !== undefined) {
    const embedded = s["x-kubernetes-embedded-resource"] === true;
    for (const [key, v] of entries) {
      const prop = s.properties[key];
      if (prop !== undefined) {
        walk(v, prop, defs, join(path, key), depth + 1, out);
      } else if (embedded && (key === "apiVersion" || key === "kind" || key === "metadata")) {
        // An embedded object always has its type and metadata, declared or not.
      } else if (typeof s.additionalProperties === "object") {
        walk(v, s.additionalProperties, defs, join(path, key), depth + 1, out);
      } else if (s.additionalProperties !== true) {
        out(value as Record<string, unknown>, key, join(path, key));
      }
    }
    return;
  }
  if (typeof s.additionalProperties === "object") {
    for (const [key, v] of entries) walk(v, s.additionalProperties, defs, join(path, key), depth + 1, out);
  }
}
