/**
 * The PATCH handler's one call: decode the body as upstream decodes each kind, then apply it to the
 * current object (in its external version, as JSON). Server-side apply ("apply") is not handled here.
 *
 *   json       body → []Operation: a syntax error is 400 with encoding/json's message
 *   merge      a syntax error is 400 "Invalid JSON Patch" (MergePatch maps it to ErrBadJSONPatch)
 *   strategic  body → map[string]interface{}: a syntax error is 400 with encoding/json's message
 *
 * The result still has to decode as the kind (a merge patch that is a list, a JSON patch that
 * replaces the root with a string): that check, 422 on `patch`, belongs to the caller's codec.
 */
import { badRequest } from "../../api/status.js";
import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { goJsonSyntaxError } from "./go_json_syntax.js";
import { applyJsonPatch } from "./json_patch.js";
import { applyMergePatch, BAD_JSON_PATCH_MESSAGE } from "./merge_patch.js";
import type { PatchKind } from "./patch_type.js";
import { applyStrategicMergePatch } from "./strategic_merge_patch.js";

/**
 * Our bound on nesting: the appliers recurse once per level, and the JS stack holds a few thousand
 * levels. Go accepts 10000 (encoding/json's limit); no Kubernetes object comes near 1000.
 */
export const PATCH_NESTING_DEPTH_MAX = 1000;

export interface PatchBodyOptions {
  /** From patchContentType(); server-side apply is handled elsewhere. */
  readonly kind: Exclude<PatchKind, "apply">;
  /** The kind's definition, e.g. `{ $ref: "#/definitions/io.k8s.api.core.v1.Pod" }`; used by strategic. */
  readonly schema: Schema | undefined;
  readonly defs: Definitions;
}

/** Applies a PATCH body to `current`; throws ApiError (400/413/422/500) as kube-apiserver would. */
export function applyPatchBody(current: unknown, body: string | Uint8Array, options: PatchBodyOptions): unknown {
  const { kind } = options;
  const patch = decodeBody(kind, body);
  for (const [what, v] of [["patch", patch], ["object", current]] as const) {
    const depth = nestingDepth(v, PATCH_NESTING_DEPTH_MAX);
    if (depth > PATCH_NESTING_DEPTH_MAX) {
      throw badRequest(`Cannot apply patch: the ${what} nests deeper than ${PATCH_NESTING_DEPTH_MAX} levels: current value is more than ${depth - 1}`);
    }
  }
  switch (kind) {
    case "json":
      return applyJsonPatch(current, patch);
    case "merge":
      return applyMergePatch(current, patch);
    case "strategic":
      return applyStrategicMergePatch(current, patch, options.schema, options.defs);
  }
}

function decodeBody(kind: Exclude<PatchKind, "apply">, body: string | Uint8Array): unknown {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    if (kind === "merge") throw badRequest(BAD_JSON_PATCH_MESSAGE);
    // JSON.parse and Go accept the same grammar; ask the Go-shaped scanner for the wording.
    throw badRequest(goJsonSyntaxError(body) ?? err.message);
  }
}

/** The nesting depth of a JSON value, counted without recursion and up to `limit + 1`. */
export function nestingDepth(v: unknown, limit: number): number {
  let max = 0;
  const pending: [unknown, number][] = [[v, 0]];
  // Each round takes one value off the stack; the stop at `limit + 1` bounds the walk's depth, the value's size its length.
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (typeof value !== "object" || value === null) continue;
    const d = depth + 1;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(value)) pending.push([child, d]);
  }
  return max;
}
