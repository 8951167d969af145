/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) as kube-apiserver applies it to
 * built-in kinds: apimachinery's strategicpatch.StrategicMergeMapPatch with the server's options
 * (MergeParallelList and IgnoreUnmatchedNulls both on), reading the patch metadata from the OpenAPI
 * extensions that upstream generates from the same Go struct tags:
 *
 *   x-kubernetes-patch-strategy   "merge" | "replace" | "retainKeys" | "merge,retainKeys"
 *   x-kubernetes-patch-merge-key  the key that identifies a list item ("name", "containerPort", …)
 *
 * `x-kubernetes-list-type` is deliberately not consulted: upstream SMP reads only the struct tags, so a
 * list with a list type but no patch strategy (tolerations, …) is replaced by a strategic patch.
 *
 * Behaviour, in the order mergeMap does it:
 *   - `$patch: replace` in a map: the map becomes the patch; `$patch: delete`: it becomes `{}`
 *     (a new key holding a `$patch` map is not added); any other `$patch` value is an error.
 *   - `$retainKeys: [..]`: keys of the original not listed are cleared before merging.
 *   - `$setElementOrder/<list>: [..]`: the merged list is ordered as given; items only the server has
 *     keep their relative place.
 *   - `<key>: null` deletes the key; a value for a new key is taken with its nulls discarded.
 *   - maps merge recursively (unless the field's strategy is `replace`);
 *   - lists with strategy `merge`: maps merge by merge key, `{<key>: v, $patch: delete}` removes the
 *     items with that key, `{$patch: replace}` makes the patch list the result; primitives are a
 *     union (finalizers). Without `$setElementOrder`, items the patch adds come BEFORE the server's
 *     remaining items (upstream's mergeSortedSlice puts an item absent from the live list first);
 *   - `$deleteFromPrimitiveList/<list>: [..]` removes those values;
 *   - all other lists, and primitives, are replaced.
 *
 * With no schema (undefined) nothing has a strategy: maps merge and lists are replaced, with the
 * directives still honoured. Upstream never gets there: a custom resource is unstructured and the
 * handler refuses strategic merge for it with 415 (see patch_type.ts); CRDs are patched with merge
 * patch (RFC 7386) instead.
 *
 * Errors follow interpretStrategicMergePatchError: malformed directives are 400, lists of lists and a
 * patch that breaks its own $retainKeys are 422, and everything else (a list item without its merge
 * key: "map: map[image:nginx] does not contain declared merge key: name") is a 500 with no reason.
 */
import { ApiError, badRequest } from "../../api/status.js";
import { fieldSchema, itemSchema, type Definitions, type Schema } from "../../api/openapi/schema.js";
import { goJsonKind, goTypeName, goValue, hasOwn, isJsonMap, type JsonMap } from "./go_format.js";
import { UnknownReasonError, unprocessablePatch } from "./patch_errors.js";

const DIRECTIVE_MARKER = "$patch";
const DELETE_DIRECTIVE = "delete";
const REPLACE_DIRECTIVE = "replace";
const MERGE_DIRECTIVE = "merge";
const RETAIN_KEYS_STRATEGY = "retainKeys";
const RETAIN_KEYS_DIRECTIVE = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX = "$setElementOrder";

// mergepatch's sentinel errors, by their HTTP mapping in patch.go interpretStrategicMergePatchError.
const ERR_BAD_JSON_DOC = "invalid JSON document";
const ERR_NO_LIST_OF_LISTS = "lists of lists are not supported";
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = "invalid patch format of setElementOrder list";
/** mergepatch.ErrUnsupportedStrategicMergePatchFormat: what StrategicMergeMapPatch says for unstructured. */
export const ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT = "strategic merge patch format is not supported";

/**
 * Applies a strategic merge patch to a copy of `original` (an object); neither argument is modified.
 * `schema` is the kind's definition (e.g. `{ $ref: "#/definitions/io.k8s.api.apps.v1.Deployment" }`).
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: Schema | undefined, defs: Definitions): unknown {
  // kjson.UnmarshalCaseSensitivePreserveInts into map[string]interface{}: null leaves the map nil.
  if (patch === null) return structuredClone(original);
  if (!isJsonMap(patch)) {
    throw badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type map[string]interface {}`);
  }
  if (!isJsonMap(original)) throw badRequest(ERR_BAD_JSON_DOC);
  const merger = new Merger(defs);
  const result = merger.mergeMap(structuredClone(original), structuredClone(patch), schema);
  stripDirectives(result);
  return result;
}

/** Why: the apiserver decodes the merged map into the Go type, which drops every `$…` key the patch
 *  carried into a place SMP does not process (a new map, an appended list item). */
function stripDirectives(v: unknown): void {
  if (Array.isArray(v)) {
    for (const item of v) stripDirectives(item);
  } else if (isJsonMap(v)) {
    for (const k of Object.keys(v)) {
      if (
        k === DIRECTIVE_MARKER ||
        k === RETAIN_KEYS_DIRECTIVE ||
        k.startsWith(`${SET_ELEMENT_ORDER_PREFIX}/`) ||
        k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST_PREFIX}/`)
      ) {
        delete v[k];
      } else {
        stripDirectives(v[k]);
      }
    }
  }
}

// ---- errors -------------------------------------------------------------------------------------

function errNoMergeKey(m: JsonMap, key: string): ApiError {
  return new UnknownReasonError(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
}

function errBadArgType(expected: "map" | "slice", actual: unknown): ApiError {
  const want = expected === "map" ? "map[string]interface {}" : "[]interface {}";
  return new UnknownReasonError(`expected a ${want}, but received a ${goTypeName(actual)}`);
}

function errBadPatchType(t: unknown, m: JsonMap): ApiError {
  // %s of a non-string prints as %!s(<type>=<value>), of nil as %!s(<nil>).
  const shown = typeof t === "string" ? t : t === null || t === undefined ? "%!s(<nil>)" : `%!s(${goTypeName(t)}=${goValue(t)})`;
  return new UnknownReasonError(`unknown patch type: ${shown} in map: ${goValue(m)}`);
}

// ---- patch metadata -----------------------------------------------------------------------------

interface PatchMeta {
  readonly strategies: readonly string[];
  readonly mergeKey: string;
}

function patchMetaOf(field: Schema | undefined): PatchMeta {
  const strategy = field?.["x-kubernetes-patch-strategy"];
  return {
    strategies: strategy === undefined || strategy === "" ? [] : strategy.split(","),
    mergeKey: field?.["x-kubernetes-patch-merge-key"] ?? "",
  };
}

/** extractRetainKeysPatchStrategy: the strategy other than retainKeys. */
function otherStrategy(strategies: readonly string[]): string {
  if (strategies.length === 0) return "";
  if (strategies.length === 1) return strategies[0] === RETAIN_KEYS_STRATEGY ? "" : strategies[0]!;
  if (strategies.length === 2) {
    if (strategies[0] === RETAIN_KEYS_STRATEGY) return strategies[1]!;
    if (strategies[1] === RETAIN_KEYS_STRATEGY) return strategies[0]!;
  }
  throw new UnknownReasonError(`unexpected patch strategy: [${strategies.join(" ")}]`);
}

// ---- values as reflect sees them ----------------------------------------------------------------

type GoKind = "nil" | "map" | "slice" | "string" | "bool" | "int64" | "float64";

function goKind(v: unknown): GoKind {
  if (v === null || v === undefined) return "nil";
  if (Array.isArray(v)) return "slice";
  if (typeof v === "object") return "map";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int64" : "float64";
}

/** sliceElementType: all items of all lists share one type, which is not a list. */
function sliceElementKind(...lists: readonly unknown[][]): GoKind {
  let prev: GoKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = goKind(v);
      if (prev === undefined) {
        prev = k;
        if (k === "slice") throw unprocessablePatch(ERR_NO_LIST_OF_LISTS);
      } else if (prev !== k) {
        throw new UnknownReasonError(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (prev === undefined) throw new UnknownReasonError("no elements in any of the given slices");
  return prev;
}

/** Go's `==` on two interface values holding JSON scalars (maps and lists never compare equal here). */
function goEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  return a === b && goKind(a) === goKind(b);
}

// ---- the merge ----------------------------------------------------------------------------------

class Merger {
  constructor(private readonly defs: Definitions) {}

  private structMeta(schema: Schema | undefined, key: string): { sub: Schema | undefined; meta: PatchMeta } {
    const sub = fieldSchema(schema, key, this.defs);
    return { sub, meta: patchMetaOf(sub) };
  }

  private sliceMeta(schema: Schema | undefined, key: string): { sub: Schema | undefined; meta: PatchMeta } {
    const field = fieldSchema(schema, key, this.defs);
    return { sub: itemSchema(field, this.defs), meta: patchMetaOf(field) };
  }

  /** mergeMap: merges `patch` into `original` (both owned by us and mutated). */
  mergeMap(original: JsonMap, patch: JsonMap, schema: Schema | undefined): JsonMap {
    if (hasOwn(patch, DIRECTIVE_MARKER)) return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);
    applyRetainKeysDirective(original, patch);
    this.mergePatchIntoOriginal(original, patch, schema);

    for (const patchKey of Object.keys(patch)) {
      const patchV = patch[patchKey];
      let k = patchKey;
      let isDeleteList = false;
      if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
        k = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
        isDeleteList = true;
      }

      // null deletes; with IgnoreUnmatchedNulls it is never kept.
      if (patchV === null) {
        delete original[k];
        continue;
      }

      if (!hasOwn(original, k) || goKind(original[k]) !== goKind(patchV)) {
        // A new key, or a different type: take the patch value (a delete list adds nothing).
        if (!isDeleteList) {
          discardNullValuesFromPatch(patchV);
          takePatchValue(original, k, patchV);
        }
        continue;
      }

      switch (goKind(original[k])) {
        case "map": {
          const { sub, meta } = this.structMeta(schema, k);
          const strategy = otherStrategy(meta.strategies);
          setKey(original, k, this.mergeMapHandler(original[k], patchV, sub, strategy));
          break;
        }
        case "slice": {
          const { sub, meta } = this.sliceMeta(schema, k);
          const strategy = otherStrategy(meta.strategies);
          setKey(original, k, this.mergeSliceHandler(original[k], patchV, sub, strategy, meta.mergeKey, isDeleteList));
          break;
        }
        default:
          takePatchValue(original, k, patchV);
      }
    }
    return original;
  }

  private mergeMapHandler(original: unknown, patch: unknown, schema: Schema | undefined, strategy: string): JsonMap {
    if (!isJsonMap(original)) throw errBadArgType("map", original);
    if (!isJsonMap(patch)) throw errBadArgType("map", patch);
    return strategy === REPLACE_DIRECTIVE ? patch : this.mergeMap(original, patch, schema);
  }

  private mergeSliceHandler(
    original: unknown,
    patch: unknown,
    schema: Schema | undefined,
    strategy: string,
    mergeKey: string,
    isDeleteList: boolean,
  ): unknown[] {
    if (!Array.isArray(original)) throw errBadArgType("slice", original);
    if (!Array.isArray(patch)) throw errBadArgType("slice", patch);
    // A delete list is applied whatever the field's strategy.
    if (strategy === MERGE_DIRECTIVE || isDeleteList) return this.mergeSlice(original, patch, schema, mergeKey, isDeleteList);
    return patch;
  }

  private mergeSlice(original: unknown[], patch: unknown[], schema: Schema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = sliceElementKind(original, patch);

    let merged: unknown[];
    if (kind !== "map") {
      if (isDeleteList) return deleteFromSlice(original, patch);
      merged = deduplicateScalars([...original, ...patch]);
    } else {
      if (mergeKey === "") throw new UnknownReasonError("cannot merge lists without merge key for struct");
      [original, patch] = mergeSliceWithSpecialElements(original, patch as JsonMap[], mergeKey);
      merged = this.mergeSliceWithoutSpecialElements([...original], patch as JsonMap[], mergeKey, schema);
    }

    const [patchItems, serverOnlyItems] =
      mergeKey === "" ? partitionPrimitivesByPresentInList(merged, patch) : partitionMapsByPresentInList(merged, patch, mergeKey);
    return normalizeElementOrder(patchItems, serverOnlyItems, patch, original, mergeKey, kind);
  }

  /** Merges items with the same merge-key value; appends the rest (reordered later). */
  private mergeSliceWithoutSpecialElements(original: unknown[], patch: JsonMap[], mergeKey: string, schema: Schema | undefined): unknown[] {
    for (const v of patch) {
      if (!hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      const found = findMapInSliceBasedOnKeyValue(original, mergeKey, v[mergeKey]);
      if (found === null) original.push(v);
      else original[found.index] = this.mergeMap(found.map, v, schema);
    }
    return original;
  }

  /**
   * mergePatchIntoOriginal: merges each list that has a `$setElementOrder/<list>` directive and orders
   * it by the directive (precedence: directive > patch order > live order), then drops both from `patch`.
   */
  private mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, schema: Schema | undefined): void {
    for (const key of Object.keys(patch)) {
      if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX) || !hasOwn(patch, key)) continue;
      const setElementOrder = patch[key];
      delete patch[key];
      if (!Array.isArray(setElementOrder)) throw errBadArgType("slice", setElementOrder);
      const originalKey = extractKey(key, SET_ELEMENT_ORDER_PREFIX);

      const foundOriginal = hasOwn(original, originalKey);
      const foundPatch = hasOwn(patch, originalKey);
      let originalFieldValue: unknown[] = [];
      let patchFieldValue: unknown[] = [];
      if (foundOriginal) {
        const v = original[originalKey];
        if (!Array.isArray(v)) throw errBadArgType("slice", v);
        originalFieldValue = v;
      }
      if (foundPatch) {
        const v = patch[originalKey];
        if (!Array.isArray(v)) throw errBadArgType("slice", v);
        patchFieldValue = v;
      }
      const { sub, meta } = this.sliceMeta(schema, originalKey);
      const strategy = otherStrategy(meta.strategies);
      validatePatchWithSetOrderList(patchFieldValue, setElementOrder, meta.mergeKey);

      let merged: unknown[];
      if (foundOriginal && !foundPatch) {
        merged = originalFieldValue;
      } else if (!foundOriginal && foundPatch) {
        merged = removeDirectivesFromList(patchFieldValue);
      } else if (foundOriginal && foundPatch) {
        merged = this.mergeSliceHandler([...originalFieldValue], patchFieldValue, sub, strategy, meta.mergeKey, false);
      } else {
        continue;
      }

      const [patchItems, serverOnlyItems] =
        meta.mergeKey === ""
          ? partitionPrimitivesByPresentInList(merged, setElementOrder)
          : partitionMapsByPresentInList(merged, setElementOrder, meta.mergeKey);
      const kind = sliceElementKind(originalFieldValue, patchFieldValue);
      setKey(original, originalKey, normalizeElementOrder(patchItems, serverOnlyItems, setElementOrder, originalFieldValue, meta.mergeKey, kind));
      delete patch[originalKey];
    }
  }
}

/** `$patch` in a map: replace → the patch without the marker; delete → an empty map. */
function handleDirectiveInMergeMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === REPLACE_DIRECTIVE) {
    delete patch[DIRECTIVE_MARKER];
    return patch;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

/** `$retainKeys`: clears the original's keys that are not listed; every patch key must be listed. */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retainKeys = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retainKeys)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  const retained = new Set<unknown>(retainKeys);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    if (!retained.has(k)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k];
}

/** `$deleteFromPrimitiveList/finalizers` → "finalizers"; anything not `<prefix>/<key>` is malformed (400). */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf("/");
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    throw badRequest(prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX ? ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST : ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST);
  }
  return s.slice(slash + 1);
}

/** The items of the patch list that are not deletions must appear in `$setElementOrder` in the same order. */
function validatePatchWithSetOrderList(patchList: unknown[], setOrderList: unknown[], mergeKey: string): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDeleteList = mergeKey === "" ? patchList : extractToDeleteItems(patchList)[0];
  let patchIndex = 0;
  let setOrderIndex = 0;
  while (patchIndex < nonDeleteList.length && setOrderIndex < setOrderList.length) {
    const item = nonDeleteList[patchIndex];
    if (isJsonMap(item) && hasOwn(item, DIRECTIVE_MARKER)) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(item, setOrderList[setOrderIndex], mergeKey)) patchIndex++;
    setOrderIndex++;
  }
  if (patchIndex < nonDeleteList.length && setOrderIndex >= setOrderList.length) {
    throw new UnknownReasonError(
      `The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goValue(setOrderList)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === "") return goEqual(left, right);
  if (!isJsonMap(left)) throw errBadArgType("map", left);
  if (!isJsonMap(right)) throw errBadArgType("map", right);
  if (!hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return goEqual(left[mergeKey], right[mergeKey]);
}

/** Handles `$patch` items of a list of maps: deletes matching items, or turns the list into a replacement. */
function mergeSliceWithSpecialElements(original: unknown[], patch: JsonMap[], mergeKey: string): [unknown[], JsonMap[]] {
  const plain: JsonMap[] = [];
  let replace = false;
  let result = original;
  for (const v of patch) {
    if (!hasOwn(v, DIRECTIVE_MARKER)) {
      plain.push(v);
      continue;
    }
    const directive = v[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      result = deleteMatchingEntries(result, mergeKey, v[mergeKey]);
    } else if (directive === REPLACE_DIRECTIVE) {
      // Keep scanning: the other `$patch` items are still validated and pruned.
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw new UnknownReasonError("merging lists cannot yet be specified in the patch");
    } else {
      throw errBadPatchType(directive, v);
    }
  }
  return replace ? [plain, []] : [result, plain];
}

function deleteMatchingEntries(original: unknown[], mergeKey: string, mergeValue: unknown): unknown[] {
  const kept = [...original];
  // Bounded by the list's length: each round removes one item or stops.
  for (;;) {
    const found = findMapInSliceBasedOnKeyValue(kept, mergeKey, mergeValue);
    if (found === null) return kept;
    kept.splice(found.index, 1);
  }
}

function findMapInSliceBasedOnKeyValue(list: unknown[], key: string, value: unknown): { map: JsonMap; index: number } | null {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isJsonMap(v)) throw new UnknownReasonError(`value for key ${i} is not a map`);
    if (hasOwn(v, key) && goEqual(v[key], value)) return { map: v, index: i };
  }
  return null;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  return current.filter((v) => !toDelete.some((d) => goEqual(d, v)));
}

/** upstream's in-place deduplication: a duplicate is overwritten by the last item, so order shifts. */
function deduplicateScalars(s: unknown[]): unknown[] {
  const out = [...s];
  let length = out.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (goEqual(out[i], out[j])) {
        out[j] = out[length];
        out.length = length;
        length--;
        j--;
      }
    }
  }
  return out;
}

function partitionPrimitivesByPresentInList(original: unknown[], partitionBy: unknown[]): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) (partitionBy.some((p) => goEqual(p, v)) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMapsByPresentInList(original: unknown[], partitionBy: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (!isJsonMap(v)) throw errBadArgType("map", v);
    if (!hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapInSliceBasedOnKeyValue(partitionBy, mergeKey, v[mergeKey]) === null ? serverOnly : patch).push(v);
  }
  return [patch, serverOnly];
}

/** Sorts the patch's items by `patchOrder` and the server-only ones by `serverOrder`, then interleaves them. */
function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServerOnly = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServerOnly, sortedPatch, serverOrder, mergeKey, kind);
}

/**
 * mergeSortedSlice: a server-only item (left) goes before a patch item (right) only when both are in the
 * live list and the server item comes first there; so an item the live list lacks is taken at once.
 *
 *   live [a b c], patch [{b} {d}]  →  left [a c], right [b d]  →  a, b (c after b), d (not live), c
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: GoKind): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = index(serverOrder, left[i], mergeKey, kind);
      const ri = index(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** The position of `val` in `list` (by merge-key value for maps), or -1. */
function index(list: unknown[], val: unknown, mergeKey: string, kind: GoKind): number {
  const keyOf = (item: unknown): unknown => (kind === "map" ? (isJsonMap(item) ? (item[mergeKey] ?? null) : null) : item);
  const want = keyOf(val);
  return list.findIndex((v) => goEqual(keyOf(v), want));
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: GoKind): unknown[] {
  let items = toSort;
  let toDelete: unknown[] = [];
  if (kind === "map") {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  // sort.SliceStable over a comparator that calls an item missing from `order` "less": an insertion
  // sort with that comparator (what SliceStable runs on up to 20 items) reproduces upstream's order.
  const sorted = [...items];
  const less = (a: unknown, b: unknown): boolean => {
    const ia = index(order, a, mergeKey, kind);
    if (ia < 0) return true;
    const ib = index(order, b, mergeKey, kind);
    return ib < 0 ? true : ia < ib;
  };
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0 && less(sorted[j], sorted[j - 1]); j--) {
      const tmp = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = tmp;
    }
  }
  return [...sorted, ...toDelete];
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonMap(item)) throw errBadArgType("map", item);
      if (!hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

/** Splits a list of maps into the items to keep and the `$patch: delete` ones. */
function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const v of list) {
    if (!isJsonMap(v)) throw errBadArgType("map", v);
    (hasOwn(v, DIRECTIVE_MARKER) && v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE ? toDelete : keep).push(v);
  }
  return [keep, toDelete];
}

/** discardNullValuesFromPatch: drops null-valued keys of maps at any depth (list items stay). */
function discardNullValuesFromPatch(v: unknown): void {
  if (Array.isArray(v)) {
    for (const item of v) discardNullValuesFromPatch(item);
  } else if (isJsonMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValuesFromPatch(v[k]);
    }
  }
}

/** original[k] = removeDirectives(patchV), or no key when patchV is itself a `$patch` map. */
function takePatchValue(original: JsonMap, k: string, patchV: unknown): void {
  const [v, keep] = removeDirectives(patchV);
  if (keep) setKey(original, k, v);
  else delete original[k];
}

/** removeDirectives: a map carrying `$patch` is dropped (from its parent map or list), at any depth. */
function removeDirectives(obj: unknown): [unknown, boolean] {
  if (Array.isArray(obj)) return [removeDirectivesFromList(obj), true];
  if (isJsonMap(obj)) {
    if (hasOwn(obj, DIRECTIVE_MARKER)) return [null, false];
    for (const k of Object.keys(obj)) {
      const [v, keep] = removeDirectives(obj[k]);
      if (keep) obj[k] = v;
      else delete obj[k];
    }
    return [obj, true];
  }
  return [obj, true];
}

function removeDirectivesFromList(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) {
    const [nv, keep] = removeDirectives(v);
    if (keep) out.push(nv);
  }
  return out;
}

/** An own property even for "__proto__". */
function setKey(m: JsonMap, key: string, val: unknown): void {
  Object.defineProperty(m, key, { value: val, writable: true, enumerable: true, configurable: true });
}
