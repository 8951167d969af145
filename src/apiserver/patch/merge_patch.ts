/**
 * JSON Merge Patch (RFC 7386) as kube-apiserver applies `application/merge-patch+json`, with
 * evanphx/json-patch.v4's MergePatch semantics:
 *
 *   - an object patch merges into an object key by key; a null value deletes the key;
 *   - anything else (a string, number, list) replaces the value, lists included;
 *   - where a patch value lands without an object to merge into (a new key, or over a non-object),
 *     its null-valued keys are pruned at every depth, including inside objects within lists. The RFC
 *     would keep nulls inside lists; v4 removes them and we do as v4 does.
 *
 * The patch `null` or a primitive is 400 "Invalid JSON Patch" (jsonpatch.ErrBadJSONPatch, the only
 * MergePatch error the handler maps to BadRequest). A list patch replaces the whole document, which
 * then fails to decode as the object's kind: that error is the caller's.
 */
import { badRequest } from "../../api/status.js";
import { hasOwn, isJsonMap, type JsonMap } from "./go_format.js";

/** jsonpatch.ErrBadJSONPatch. */
export const BAD_JSON_PATCH_MESSAGE = "Invalid JSON Patch";

/** Applies an RFC 7386 merge patch to a copy of `doc`; neither argument is modified. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) return pruneNulls(structuredClone(patch));
  if (!isJsonMap(patch)) throw badRequest(BAD_JSON_PATCH_MESSAGE);
  const p = structuredClone(patch);
  // A document that is not an object is "not a doc": the (pruned) patch becomes the result.
  if (!isJsonMap(doc)) return pruneNulls(p);
  const d = structuredClone(doc);
  mergeDocs(d, p);
  return d;
}

function mergeDocs(doc: JsonMap, patch: JsonMap): void {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = hasOwn(doc, k) ? doc[k] : null;
    setKey(doc, k, cur === null ? pruneNulls(v) : merge(cur, v));
  }
}

/** v4 `merge`: an object merges into an object; over a non-object the pruned patch wins, and a
 *  non-object patch replaces as is. */
function merge(cur: unknown, patch: unknown): unknown {
  if (!isJsonMap(cur)) return pruneNulls(patch);
  if (!isJsonMap(patch)) return patch;
  mergeDocs(cur, patch);
  return cur;
}

/** Drops null-valued keys of objects at any depth; nulls that are list items stay. */
function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (const item of v) if (item !== null) pruneNulls(item);
  } else if (isJsonMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else pruneNulls(v[k]);
    }
  }
  return v;
}

/** An own property even for "__proto__". */
function setKey(m: JsonMap, key: string, val: unknown): void {
  Object.defineProperty(m, key, { value: val, writable: true, enumerable: true, configurable: true });
}
