/**
 * JSON Patch (RFC 6902) as kube-apiserver applies `application/json-patch+json`: with the semantics and
 * error texts of gopkg.in/evanphx/json-patch.v4 (v4.12.0, what Kubernetes 1.32 vendors), including
 * its departures from the RFC that clients can observe:
 *
 *   - `replace` of a missing object key adds it (v4 only checks that the parent exists);
 *   - `copy` from a missing object key copies null;
 *   - negative array indices count from the end (`/items/-1` is the last item);
 *   - `replace` of the root with a primitive is silently ignored (pkg/errors.Wrapf(nil, …) is nil);
 *   - the first segment of a path not starting with "/" is ignored ("a/b" means "/b").
 *
 * Errors: a body that is not a list of operation objects is 400 BadRequest with encoding/json's text;
 * more than MAX_JSON_PATCH_OPERATIONS is 413; any operation that fails is 422 Invalid with upstream's
 * fixed sentence (the evanphx message, e.g. "testing value /spec/replicas failed: test failed", is the
 * ApiError's `cause`: NewGenericServerResponse does not send it).
 */
import { ApiError, badRequest } from "../../api/status.js";
import { goJsonKind, goQuote, hasOwn, isJsonMap, type JsonMap } from "./go_format.js";
import { unprocessablePatch } from "./patch_errors.js";
import { jsonEqual } from "../../util/json_equal.js";
export { jsonEqual };

/** patch.go maxJSONPatchOperations: bounds the work one request can ask for. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * genericapiserver's default JSONPatchMaxCopyBytes (3 MiB, twice etcd's 1.5 MiB request limit): the most
 * that `copy` operations may grow one document, so a short patch cannot multiply an object's size.
 */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

export interface JsonPatchOptions {
  /** Overrides JSON_PATCH_MAX_COPY_BYTES; 0 means unlimited (the library's own default). */
  readonly maxCopyBytes?: number;
}

/** Applies an RFC 6902 patch to a copy of `doc` (an object or array); `doc` and `patch` are not modified. */
export function applyJsonPatch(doc: unknown, patch: unknown, options: JsonPatchOptions = {}): unknown {
  const ops = decodePatch(patch);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      "RequestEntityTooLarge",
      413,
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  if (typeof doc !== "object" || doc === null) {
    throw new TypeError(`Cannot apply a JSON patch: the document must be an object or array: current value is ${goJsonKind(doc)}`);
  }
  const state: ApplyState = {
    root: structuredClone(doc) as JsonMap | unknown[],
    copiedBytes: 0,
    maxCopyBytes: options.maxCopyBytes ?? JSON_PATCH_MAX_COPY_BYTES,
  };
  for (const op of ops) {
    try {
      applyOperation(state, op);
    } catch (err) {
      if (err instanceof OperationError) throw unprocessablePatch(err.message);
      throw err;
    }
  }
  return state.root;
}

/** One operation as json.Unmarshal leaves it: null for a `null` element (whose kind is "unknown"). */
type Operation = JsonMap | null;

/** DecodePatch: the body must decode into `[]map[string]*json.RawMessage`. */
function decodePatch(patch: unknown): Operation[] {
  // json.Unmarshal of `null` into a slice leaves it nil: a patch with no operations.
  if (patch === null) return [];
  if (!Array.isArray(patch)) {
    throw badRequest(`json: cannot unmarshal ${goJsonKind(patch)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patch) {
    if (op !== null && !isJsonMap(op)) {
      throw badRequest(`json: cannot unmarshal ${goJsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  return patch as Operation[];
}

/** An operation that does not apply; becomes the 422. */
class OperationError extends Error {
  override readonly name = "OperationError";
}

interface ApplyState {
  root: JsonMap | unknown[];
  copiedBytes: number;
  readonly maxCopyBytes: number;
}

const ERR_MISSING = "missing value";
const ERR_INVALID_INDEX = "invalid index referenced";
const ERR_TEST_FAILED = "test failed";

function applyOperation(state: ApplyState, op: Operation): void {
  const kind = opKind(op);
  switch (kind) {
    case "add":
      return add(state, op!);
    case "remove":
      return remove(state, op!);
    case "replace":
      return replace(state, op!);
    case "move":
      return move(state, op!);
    case "test":
      return testOp(state, op!);
    case "copy":
      return copyOp(state, op!);
    default:
      throw new OperationError(`Unexpected kind: ${kind}`);
  }
}

function opKind(op: Operation): string {
  if (op === null || !hasOwn(op, "op") || op["op"] === null) return "unknown";
  return typeof op["op"] === "string" ? op["op"] : "unknown";
}

/** Operation.Path / Operation.From: a string, or the error json.Unmarshal or the missing field gives. */
function stringField(op: JsonMap, field: "path" | "from"): { value: string } | { error: string } {
  if (!hasOwn(op, field) || op[field] === null) {
    return { error: field === "path" ? `operation missing path field: ${ERR_MISSING}` : `operation, missing from field: ${ERR_MISSING}` };
  }
  const v = op[field];
  if (typeof v !== "string") return { error: `json: cannot unmarshal ${goJsonKind(v)} into Go value of type string` };
  return { value: v };
}

/** The operation's value; an absent `value` adds null, as v4 stores a nil node. */
function opValue(op: JsonMap): unknown {
  return hasOwn(op, "value") ? op["value"] : null;
}

/** A parent container and the last (decoded) path segment. */
interface Target {
  readonly container: JsonMap | unknown[];
  readonly key: string;
}

/** findObject: walks all but the last segment; null when any of them is missing or not a container. */
function findObject(root: JsonMap | unknown[], path: string): Target | null {
  const split = path.split("/");
  if (split.length < 2) return null;
  let doc: JsonMap | unknown[] = root;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = get(doc, decodePatchKey(part));
    } catch (err) {
      if (err instanceof OperationError) return null;
      throw err;
    }
    if (next === null || next === undefined) return null;
    if (Array.isArray(next) || isJsonMap(next)) doc = next;
    else return null;
  }
  return { container: doc, key: decodePatchKey(split[split.length - 1]!) };
}

/** RFC 6901: "~1" is "/", then "~0" is "~" (one left-to-right pass, as strings.NewReplacer). */
function decodePatchKey(k: string): string {
  return k.replace(/~[01]/g, (m) => (m === "~1" ? "/" : "~"));
}

/** strconv.Atoi, with its error texts. */
function atoi(key: string): number {
  if (!/^[+-]?[0-9]+$/.test(key)) throw new OperationError(`strconv.Atoi: parsing ${goQuote(key)}: invalid syntax`);
  const big = BigInt(key);
  if (big > 9223372036854775807n || big < -9223372036854775808n) {
    throw new OperationError(`strconv.Atoi: parsing ${goQuote(key)}: value out of range`);
  }
  return Number(big);
}

function invalidIndex(idx: number): OperationError {
  return new OperationError(`Unable to access invalid index: ${idx}: ${ERR_INVALID_INDEX}`);
}

/** container.get: an object's missing key is undefined (v4's nil node), not an error. */
function get(c: JsonMap | unknown[], key: string): unknown {
  if (!Array.isArray(c)) return hasOwn(c, key) ? c[key] : undefined;
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.length) throw invalidIndex(idx);
    idx += c.length;
  }
  if (idx >= c.length) throw invalidIndex(idx);
  return c[idx];
}

/** container.set, used by replace after get succeeded, so an array index is in range. */
function set(c: JsonMap | unknown[], key: string, val: unknown): void {
  if (!Array.isArray(c)) {
    defineKey(c, key, val);
    return;
  }
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.length) throw invalidIndex(idx);
    idx += c.length;
  }
  c[idx] = val;
}

function addTo(c: JsonMap | unknown[], key: string, val: unknown): void {
  if (!Array.isArray(c)) {
    defineKey(c, key, val);
    return;
  }
  if (key === "-") {
    c.push(val);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (err) {
    if (err instanceof OperationError) throw new OperationError(`value was not a proper array index: '${key}': ${err.message}`);
    throw err;
  }
  const size = c.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  c.splice(idx, 0, val);
}

function removeFrom(c: JsonMap | unknown[], key: string): void {
  if (!Array.isArray(c)) {
    if (!hasOwn(c, key)) throw new OperationError(`Unable to remove nonexistent key: ${key}: ${ERR_MISSING}`);
    delete c[key];
    return;
  }
  let idx = atoi(key);
  if (idx >= c.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -c.length) throw invalidIndex(idx);
    idx += c.length;
  }
  c.splice(idx, 1);
}

/** Sets an own property even for keys like "__proto__", which plain assignment would not. */
function defineKey(m: JsonMap, key: string, val: unknown): void {
  Object.defineProperty(m, key, { value: val, writable: true, enumerable: true, configurable: true });
}

function wrap(prefix: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof OperationError) throw new OperationError(`${prefix}: ${err.message}`);
    throw err;
  }
}

function add(state: ApplyState, op: JsonMap): void {
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`add operation failed to decode path: ${ERR_MISSING}`);
  const target = findObject(state.root, path.value);
  if (target === null) throw new OperationError(`add operation does not apply: doc is missing path: "${path.value}": ${ERR_MISSING}`);
  wrap(`error in add for path: '${path.value}'`, () => addTo(target.container, target.key, opValue(op)));
}

function remove(state: ApplyState, op: JsonMap): void {
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`remove operation failed to decode path: ${ERR_MISSING}`);
  const target = findObject(state.root, path.value);
  if (target === null) throw new OperationError(`remove operation does not apply: doc is missing path: "${path.value}": ${ERR_MISSING}`);
  wrap(`error in remove for path: '${path.value}'`, () => removeFrom(target.container, target.key));
}

function replace(state: ApplyState, op: JsonMap): void {
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`replace operation failed to decode path: ${path.error}`);
  if (path.value === "") {
    const val = opValue(op);
    // v4 wraps a nil error here, which yields no error: a primitive root value is ignored.
    if (typeof val === "object" && val !== null) state.root = val as JsonMap | unknown[];
    return;
  }
  const target = findObject(state.root, path.value);
  if (target === null) throw new OperationError(`replace operation does not apply: doc is missing path: ${path.value}: ${ERR_MISSING}`);
  try {
    get(target.container, target.key);
  } catch (err) {
    if (err instanceof OperationError) {
      throw new OperationError(`replace operation does not apply: doc is missing key: ${path.value}: ${ERR_MISSING}`);
    }
    throw err;
  }
  // "remove" is upstream's wording for a failed replace.
  wrap(`error in remove for path: '${path.value}'`, () => set(target.container, target.key, opValue(op)));
}

function move(state: ApplyState, op: JsonMap): void {
  const from = stringField(op, "from");
  if ("error" in from) throw new OperationError(`move operation failed to decode from: ${from.error}`);
  const source = findObject(state.root, from.value);
  if (source === null) throw new OperationError(`move operation does not apply: doc is missing from path: ${from.value}: ${ERR_MISSING}`);
  let val: unknown;
  wrap(`error in move for path: '${source.key}'`, () => {
    val = get(source.container, source.key);
  });
  wrap(`error in move for path: '${source.key}'`, () => removeFrom(source.container, source.key));
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`move operation failed to decode path: ${path.error}`);
  const target = findObject(state.root, path.value);
  if (target === null) {
    throw new OperationError(`move operation does not apply: doc is missing destination path: ${path.value}: ${ERR_MISSING}`);
  }
  wrap(`error in move for path: '${path.value}'`, () => addTo(target.container, target.key, val === undefined ? null : val));
}

function testOp(state: ApplyState, op: JsonMap): void {
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`test operation failed to decode path: ${path.error}`);
  const failed = new OperationError(`testing value ${path.value} failed: ${ERR_TEST_FAILED}`);
  if (path.value === "") {
    if (!hasOwn(op, "value") || !jsonEqual(state.root, op["value"])) throw failed;
    return;
  }
  const target = findObject(state.root, path.value);
  if (target === null) throw new OperationError(`test operation does not apply: is missing path: ${path.value}: ${ERR_MISSING}`);
  let val: unknown;
  wrap(`error in test for path: '${path.value}'`, () => {
    val = get(target.container, target.key);
  });
  // A missing key and a null value are both v4's nil node: they match only a null (or absent) value.
  if (val === undefined || val === null) {
    if (opValue(op) === null) return;
    throw failed;
  }
  if (!hasOwn(op, "value") || !jsonEqual(val, op["value"])) throw failed;
}

function copyOp(state: ApplyState, op: JsonMap): void {
  const from = stringField(op, "from");
  if ("error" in from) throw new OperationError(`copy operation failed to decode from: ${from.error}`);
  const source = findObject(state.root, from.value);
  if (source === null) throw new OperationError(`copy operation does not apply: doc is missing from path: ${from.value}: ${ERR_MISSING}`);
  let val: unknown;
  wrap(`error in copy for from: '${from.value}'`, () => {
    val = get(source.container, source.key);
  });
  const path = stringField(op, "path");
  if ("error" in path) throw new OperationError(`copy operation failed to decode path: ${ERR_MISSING}`);
  const target = findObject(state.root, path.value);
  if (target === null) {
    throw new OperationError(`copy operation does not apply: doc is missing destination path: ${path.value}: ${ERR_MISSING}`);
  }
  // A missing source is a nil node: it copies as null and counts 0 bytes.
  const copy = val === undefined ? null : structuredClone(val);
  state.copiedBytes += val === undefined ? 0 : goJsonBytes(val);
  if (state.maxCopyBytes > 0 && state.copiedBytes > state.maxCopyBytes) {
    throw new OperationError(
      `Unable to complete the copy, the accumulated size increase of copy is ${state.copiedBytes}, exceeding the limit ${state.maxCopyBytes}`,
    );
  }
  wrap("error while adding value during copy", () => addTo(target.container, target.key, copy));
}

/** The length of Go's json.Marshal output, which escapes <, > and & as \u003c… and U+2028/9 too. */
function goJsonBytes(v: unknown): number {
  const s = JSON.stringify(v);
  let extra = 0;
  for (const ch of s) {
    if (ch === "<" || ch === ">" || ch === "&") extra += 5;
    else if (ch === "\u2028" || ch === "\u2029") extra += 3;
  }
  return Buffer.byteLength(s, "utf8") + extra;
}

