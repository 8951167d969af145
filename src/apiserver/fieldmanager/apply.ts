/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`): merge a manager's configuration
 * into the live object and record that the manager owns exactly the fields it applied.
 *
 * A worked example, one Deployment:
 *   1. `kubectl apply --server-side` (manager "kubectl") with replicas 2 and image web:1 creates it;
 *      "kubectl" (Apply) owns .spec.replicas, the container item and its .image.
 *   2. `kubectl scale --replicas 3` (manager "kubectl-scale", Update) changes replicas; the field moves
 *      to kubectl-scale's Update entry.
 *   3. Re-applying replicas 2 now fails: 409 "Apply failed with 1 conflict: conflict with
 *      "kubectl-scale" using apps/v1: .spec.replicas". With `--force-conflicts` it succeeds and the
 *      field moves back to "kubectl".
 *   4. Applying without .spec.replicas releases it; since nobody else owns it, it is removed from
 *      the object (pruned).
 */

import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { badRequest } from "../../api/status.js";
import { conflictError, ConflictsError } from "./conflict.js";
import { FieldSet, fieldsOf, TypedValueError } from "./field_set.js";
import {
  capUpdateManagers,
  decodeManagedFields,
  encodeManagedFields,
  formatTime,
  ManagedFieldsError,
  managerIdentifier,
  stripMeta,
  type Managed,
} from "./managed_fields.js";
import { fieldElement, goJSON } from "./path_element.js";
import { compare, jsonEqual, merge } from "./typed_value.js";
import { prune, updateManagers, type TypeContext } from "./updater.js";

export interface ApplyOptions {
  readonly manager: string;
  readonly force: boolean;
  /** The schema of the whole object (e.g. the io.k8s.api.apps.v1.Deployment definition). */
  readonly schema: Schema | undefined;
  readonly defs: Definitions;
  /** The request time; becomes the entry's `time` when the object changes. */
  readonly now: string;
  /** The endpoint's group/version: `apps/v1`, `v1`. */
  readonly apiVersion: string;
  /** The endpoint's kind; when given, the configuration must have this apiVersion and kind. */
  readonly kind?: string;
  /** `status` for `/status`; absent for the main resource. */
  readonly subresource?: string;
  /** Fields the strategy resets for this endpoint; defaults to defaultResetFields(subresource). */
  readonly resetFields?: FieldSet;
}

/** kubectl's annotation for client-side apply. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * The manager whose applies upgrade from client-side apply: conflicts on fields that still hold their
 * last-applied values are forced, and the last-applied annotation is kept in sync.
 */
export const KUBECTL_SERVER_SIDE_MANAGER = "kubectl";

/**
 * Upstream's common reset fields: the main resource does not own status, `/status` does not own spec.
 * Strategies reset more for some resources (deployments/status also `metadata.labels`, pods/status
 * `metadata.deletionTimestamp` and `metadata.ownerReferences`); callers pass those explicitly.
 */
export function defaultResetFields(subresource: string | undefined): FieldSet {
  if (subresource === undefined || subresource === "") return FieldSet.of([fieldElement("status")]);
  if (subresource === "status") return FieldSet.of([fieldElement("spec")]);
  return new FieldSet();
}

/**
 * A failure upstream reports as a plain Go error: the apiserver answers 500 with the message as is and
 * no reason (for example `failed to create typed patch object (default/web; apps/v1, Kind=Deployment):
 * .spec.template.spec.containers: duplicate entries for key [name="web"]`).
 */
export class FieldManagerError extends Error {
  override readonly name = "FieldManagerError";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function metadataOf(obj: Record<string, unknown>): Record<string, unknown> | undefined {
  const m = obj["metadata"];
  return isPlainObject(m) ? m : undefined;
}

/** A deep copy without metadata.managedFields. */
export function withoutManagedFields(obj: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj);
  const meta = metadataOf(copy);
  if (meta !== undefined) delete meta["managedFields"];
  return copy;
}

/** Sets (or, when there are none, removes) metadata.managedFields from `managed`. */
export function setManagedFields(obj: Record<string, unknown>, managed: Managed): void {
  const entries = encodeManagedFields(managed);
  let meta = metadataOf(obj);
  if (entries.length === 0) {
    if (meta !== undefined) delete meta["managedFields"];
    return;
  }
  if (meta === undefined) obj["metadata"] = meta = {};
  meta["managedFields"] = entries;
}

/** upstream's GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.indexOf("/");
  const group = slash < 0 ? "" : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return `${group}/${version}, Kind=${typeof kind === "string" ? kind : ""}`;
}

function objectGVKNN(obj: Record<string, unknown>): string {
  const meta = metadataOf(obj) ?? {};
  const ns = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  return `${ns}/${name}; ${gvkString(obj["apiVersion"], obj["kind"])}`;
}

function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) };
}

interface ApplyResult {
  readonly object: Record<string, unknown>;
  readonly managed: Managed;
  readonly changed: boolean;
}

// upstream's Updater.Apply plus stripMeta: merge, own the configuration's fields, prune what this
// applier dropped, then take changed fields from the other managers (or fail on conflicts).
function applyOnce(live: Record<string, unknown>, config: Record<string, unknown>, managedIn: Managed, id: string, force: boolean, ctx: TypeContext, options: ApplyOptions): ApplyResult {
  const managed = cloneManaged(managedIn);
  let merged: unknown;
  let set: FieldSet;
  try {
    set = fieldsOf(config, ctx.schema, ctx.defs).recursiveDifference(ctx.resetFields);
    merged = merge(live, config, ctx.schema, ctx.defs);
  } catch (err) {
    if (err instanceof TypedValueError) throw new FieldManagerError(`failed to create typed patch object (${objectGVKNN(config)}): ${err.message}`, { cause: err });
    throw err;
  }
  const lastSet = managed.fields.get(id);
  managed.fields.set(id, { set, apiVersion: options.apiVersion, applied: true });
  let object: unknown;
  try {
    object = prune(merged, managed, lastSet, ctx);
    updateManagers(live, object, managed, id, force, ctx);
  } catch (err) {
    if (err instanceof TypedValueError) throw new FieldManagerError(`failed to prune fields: ${err.message}`, { cause: err });
    throw err;
  }
  stripMeta(managed, id);
  const result = isPlainObject(object) ? object : {};
  return { object: result, managed, changed: !jsonEqual(live, result) };
}

/**
 * The fields kubectl's client-side apply set that still hold their last-applied values: an upgrade to
 * server-side apply takes these over without conflicts. Undefined when there is no usable annotation.
 */
function allowedConflictsFromLastApplied(live: Record<string, unknown>, ctx: TypeContext, apiVersion: string): FieldSet | undefined {
  const annotations = metadataOf(live)?.["annotations"];
  const text = isPlainObject(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== "string" || text === "") return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(lastApplied) || lastApplied["apiVersion"] !== apiVersion) return undefined;
  try {
    const set = fieldsOf(lastApplied, ctx.schema, ctx.defs);
    const cmp = compare(lastApplied, live, ctx.schema, ctx.defs);
    return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  } catch (err) {
    if (err instanceof TypedValueError) return undefined;
    throw err;
  }
}

/** The annotation value kubectl would write for `config`: its JSON (sorted keys, newline) without the annotation itself. */
function buildLastApplied(config: Record<string, unknown>): string {
  const copy = structuredClone(config);
  const meta = metadataOf(copy);
  const annotations = meta?.["annotations"];
  if (meta !== undefined && isPlainObject(annotations)) delete annotations[LAST_APPLIED_ANNOTATION];
  return `${goJSON(copy)}\n`;
}

/**
 * Applies `config` for `options.manager` to `live` (null: the object does not exist and is created).
 * Returns the new object with metadata.managedFields updated. Throws the upstream 409 ApiError on
 * conflicts without `force`, a 400 ApiError for a configuration carrying managedFields or of the wrong
 * kind, and FieldManagerError (a 500) for a configuration that does not fit the schema.
 */
export function applyConfiguration(live: Record<string, unknown> | null, config: Record<string, unknown>, options: ApplyOptions): Record<string, unknown> {
  if (!isPlainObject(config)) throw badRequest("error decoding YAML: the apply configuration is not an object");
  if (options.kind !== undefined && (config["apiVersion"] !== options.apiVersion || config["kind"] !== options.kind)) {
    throw badRequest(`invalid object type: ${gvkString(config["apiVersion"], config["kind"])}`);
  }
  if (config["apiVersion"] !== options.apiVersion) {
    const patchVersion = typeof config["apiVersion"] === "string" ? config["apiVersion"] : "";
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${patchVersion}, expected: ${options.apiVersion}`);
  }
  const configMeta = metadataOf(config);
  if (configMeta !== undefined && configMeta["managedFields"] !== undefined && configMeta["managedFields"] !== null) {
    throw badRequest("metadata.managedFields must be nil");
  }
  const ctx: TypeContext = { schema: options.schema, defs: options.defs, resetFields: options.resetFields ?? defaultResetFields(options.subresource) };
  const liveObj = live === null ? {} : withoutManagedFields(live);
  let managed: Managed;
  try {
    managed = decodeManagedFields(live === null ? undefined : metadataOf(live)?.["managedFields"]);
  } catch (err) {
    if (err instanceof ManagedFieldsError) throw new FieldManagerError(`failed to decode managed fields: ${err.message}`, { cause: err });
    throw err;
  }
  const id = managerIdentifier({ manager: options.manager, operation: "Apply", subresource: options.subresource });

  let result: ApplyResult;
  try {
    result = applyOnce(liveObj, config, managed, id, options.force, ctx, options);
  } catch (err) {
    if (!(err instanceof ConflictsError)) throw err;
    if (options.manager !== KUBECTL_SERVER_SIDE_MANAGER) throw conflictError(err.conflicts);
    const allowed = allowedConflictsFromLastApplied(liveObj, ctx, options.apiVersion);
    if (allowed === undefined) throw conflictError(err.conflicts);
    const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw conflictError(remaining);
    result = applyOnce(liveObj, config, managed, id, true, ctx, options);
  }

  // A no-op apply keeps the object and the entry's old time (upstream's managedFieldsUpdater).
  // The merge shares values with the configuration; the caller gets an object of its own.
  const object = result.changed ? structuredClone(result.object) : liveObj;
  if (result.changed) result.managed.times.set(id, formatTime(options.now));
  capUpdateManagers(result.managed);

  if (options.manager === KUBECTL_SERVER_SIDE_MANAGER) {
    const annotations = metadataOf(object)?.["annotations"];
    if (isPlainObject(annotations)) {
      const current = annotations[LAST_APPLIED_ANNOTATION];
      if (typeof current === "string" && current !== "") annotations[LAST_APPLIED_ANNOTATION] = buildLastApplied(config);
    }
  }
  setManagedFields(object, result.managed);
  return object;
}

