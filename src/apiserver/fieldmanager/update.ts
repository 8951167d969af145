/**
 * Ownership for create, update and (non-apply) patch: whatever the request changed belongs to its
 * manager's Update entry and is taken from everyone else (upstream's FieldManager.UpdateNoErrors).
 * On create, everything the object sets counts as changed.
 */

import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { defaultResetFields, setManagedFields, withoutManagedFields } from "./apply.js";
import { TypedValueError, type FieldSet } from "./field_set.js";
import {
  capUpdateManagers,
  decodeManagedFields,
  emptyManaged,
  formatTime,
  ManagedFieldsError,
  managerIdentifier,
  STRIPPED_FIELDS,
  type Managed,
} from "./managed_fields.js";
import { updateManagers, type TypeContext } from "./updater.js";

export interface UpdateOptions {
  readonly manager: string;
  readonly operation: "Update";
  /** `status` for `/status`; absent for the main resource. */
  readonly subresource?: string;
  readonly schema: Schema | undefined;
  readonly defs: Definitions;
  /** The request time; becomes the entry's `time` when the request changed something. */
  readonly now: string;
  /** The endpoint's group/version: `apps/v1`, `v1`. */
  readonly apiVersion: string;
  /** Fields the strategy resets for this endpoint; defaults to defaultResetFields(subresource). */
  readonly resetFields?: FieldSet;
}

// The provisional manager of the request's changes (upstream's "current-operation"): it is compared
// like any other manager, then merged into the real manager's entry.
const CURRENT_OPERATION = JSON.stringify({ manager: "current-operation", operation: "Update" });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function managedFieldsOf(obj: Record<string, unknown> | null): unknown {
  if (obj === null) return undefined;
  const meta = obj["metadata"];
  return isPlainObject(meta) ? meta["managedFields"] : undefined;
}

/** `[]` or `[{}]`: the client asks to clear managedFields (upstream's isResetManagedFields). */
function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  return v.length === 1 && isPlainObject(v[0]) && Object.values(v[0]).every((x) => x === undefined || x === null || x === "");
}

function decodeOrEmpty(v: unknown): Managed {
  try {
    return decodeManagedFields(v);
  } catch (err) {
    if (err instanceof ManagedFieldsError) return emptyManaged();
    throw err;
  }
}

/**
 * Which managedFields an update starts from (upstream's decodeLiveOrNew): a subresource never writes
 * them, so the live ones; a main-resource request may set them (kubectl edit sends back what it read),
 * `[]` or `[{}]` clears them, and missing or invalid ones fall back to the live ones, so a client that
 * does not know about managedFields cannot wipe them.
 */
export function managedForUpdate(old: Record<string, unknown> | null, updated: Record<string, unknown>, subresource: string | undefined): Managed {
  const live = managedFieldsOf(old);
  if (subresource !== undefined && subresource !== "") return decodeOrEmpty(live);
  const sent = managedFieldsOf(updated);
  if (isResetManagedFields(sent)) return emptyManaged();
  try {
    const m = decodeManagedFields(sent);
    if (m.fields.size > 0) return m;
  } catch (err) {
    if (!(err instanceof ManagedFieldsError)) throw err;
  }
  return decodeOrEmpty(live);
}

/**
 * `updated` with metadata.managedFields recomputed for a create (`old` null) or update by
 * `options.manager`. Never fails: on an object the schema cannot walk it drops managedFields, as
 * upstream's UpdateNoErrors does.
 */
export function trackUpdate(old: Record<string, unknown> | null, updated: Record<string, unknown>, options: UpdateOptions): Record<string, unknown> {
  const ctx: TypeContext = { schema: options.schema, defs: options.defs, resetFields: options.resetFields ?? defaultResetFields(options.subresource) };
  const managed = managedForUpdate(old, updated, options.subresource);
  const newObj = withoutManagedFields(updated);
  const oldObj = old === null ? {} : withoutManagedFields(old);
  const id = managerIdentifier({ manager: options.manager, operation: "Update", apiVersion: options.apiVersion, subresource: options.subresource });
  try {
    const cmp = updateManagers(oldObj, newObj, managed, CURRENT_OPERATION, true, ctx);
    const set = cmp.modified.union(cmp.added).recursiveDifference(ctx.resetFields).difference(STRIPPED_FIELDS);
    if (!set.empty) {
      const previous = managed.fields.get(id);
      managed.fields.set(id, { set: previous === undefined ? set : set.union(previous.set), apiVersion: options.apiVersion, applied: false });
      managed.times.set(id, formatTime(options.now));
    }
  } catch (err) {
    if (err instanceof TypedValueError) return newObj;
    throw err;
  }
  capUpdateManagers(managed);
  setManagedFields(newObj, managed);
  return newObj;
}

/** upstream's FieldManagerMaxLength: longer fieldManager values are rejected, user agents truncated. */
export const FIELD_MANAGER_LENGTH_MAX = 128;

/**
 * The manager of a request: its `fieldManager` parameter, else the user agent up to its first `/`
 * (`kubectl/v1.32.0 (linux/amd64) kubernetes/abc` → `kubectl`), without unprintable characters and cut
 * to 128 bytes. kubectl sends its own `fieldManager` for most commands (`kubectl-client-side-apply`,
 * `kubectl-edit`, `kubectl-patch`, `kubectl-create`, `kubectl-replace`, `kubectl` for server-side
 * apply), so the fallback is for other clients.
 */
export function defaultManagerName(userAgent: string, fieldManager?: string): string {
  if (fieldManager !== undefined && fieldManager !== "") return fieldManager;
  const prefix = userAgent.split("/")[0] ?? "";
  let out = "";
  let bytes = 0;
  for (const ch of prefix) {
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) continue;
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > FIELD_MANAGER_LENGTH_MAX) break;
    out += ch;
    bytes += n;
  }
  return out;
}
