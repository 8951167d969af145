/**
 * `metadata.managedFields` in and out: entries decode into a map from manager identifier to the set
 * it owns, and encode back in upstream's order. A manager identifier is upstream's: the entry as JSON
 * without time and fields, and without apiVersion for appliers (an applier keeps one entry across
 * versions, an updater gets one per version):
 *
 *   {"manager":"kubectl","operation":"Apply"}
 *   {"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","subresource":"status"}
 */

import { assert } from "../../util/assert.js";
import { FieldSet, FieldsV1Error } from "./field_set.js";
import { fieldElement, type Path } from "./path_element.js";

export type Operation = "Apply" | "Update";

/** metav1.ManagedFieldsEntry on the wire (keys in its Go field order). */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** What one manager owns. */
export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** Every manager's ownership, by identifier, and when each last changed the object. */
export interface Managed {
  readonly fields: Map<string, VersionedSet>;
  readonly times: Map<string, string>;
}

export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

export interface ManagerInfo {
  readonly manager: string;
  readonly operation: Operation;
  readonly apiVersion?: string;
  readonly subresource?: string;
}

/** upstream's BuildManagerIdentifier. */
export function managerIdentifier(info: ManagerInfo): string {
  const id: Record<string, string> = {};
  if (info.manager !== "") id["manager"] = info.manager;
  id["operation"] = info.operation;
  if (info.operation === "Update" && info.apiVersion !== undefined && info.apiVersion !== "") id["apiVersion"] = info.apiVersion;
  if (info.subresource !== undefined && info.subresource !== "") id["subresource"] = info.subresource;
  return JSON.stringify(id);
}

/** The entry fields an identifier stands for. */
export function parseManagerIdentifier(id: string): { manager: string; operation: string; apiVersion: string; subresource: string } {
  const o = JSON.parse(id) as Record<string, string | undefined>;
  return { manager: o["manager"] ?? "", operation: o["operation"] ?? "", apiVersion: o["apiVersion"] ?? "", subresource: o["subresource"] ?? "" };
}

/** Invalid managedFields, with upstream's reason (the caller resets or rejects them). */
export class ManagedFieldsError extends Error {
  override readonly name = "ManagedFieldsError";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(entry: Record<string, unknown>, key: string, i: number): string {
  const v = entry[key];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new ManagedFieldsError(`${key} in managed fields entry ${i} must be a string`);
  return v;
}

/** Decodes managedFields as upstream's DecodeManagedFields; throws ManagedFieldsError when invalid. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = emptyManaged();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new ManagedFieldsError("managedFields must be a list");
  entries.forEach((raw, i) => {
    if (!isPlainObject(raw)) throw new ManagedFieldsError(`managed fields entry ${i} must be an object`);
    const operation = optionalString(raw, "operation", i);
    if (operation !== "Apply" && operation !== "Update") throw new ManagedFieldsError("operation must be `Apply` or `Update`");
    const apiVersion = optionalString(raw, "apiVersion", i);
    if (apiVersion.length < 1) throw new ManagedFieldsError("apiVersion must not be empty");
    const fieldsType = optionalString(raw, "fieldsType", i);
    if (fieldsType === "") throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== "FieldsV1") throw new ManagedFieldsError(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const manager = optionalString(raw, "manager", i);
    const subresource = optionalString(raw, "subresource", i);
    const time = optionalString(raw, "time", i);
    if (time !== "" && Number.isNaN(Date.parse(time))) throw new ManagedFieldsError(`invalid time ${JSON.stringify(time)} in managed fields entry ${i}`);
    const id = managerIdentifier({ manager, operation, apiVersion, subresource });
    let set: FieldSet;
    try {
      set = raw["fieldsV1"] === undefined || raw["fieldsV1"] === null ? new FieldSet() : FieldSet.fromFieldsV1(raw["fieldsV1"]);
    } catch (err) {
      if (err instanceof FieldsV1Error) throw new ManagedFieldsError(`error decoding versioned set from entry ${i}: ${err.message}`, { cause: err });
      throw err;
    }
    managed.fields.set(id, { set, apiVersion, applied: operation === "Apply" });
    if (time !== "") managed.times.set(id, time);
    else managed.times.delete(id);
  });
  return managed;
}

function unixSeconds(time: string | undefined): number {
  return time === undefined ? 0 : Math.floor(Date.parse(time) / 1000);
}

/** Encodes ownership as upstream: one entry per manager, Apply before Update, then oldest first. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, vs] of managed.fields) {
    const info = parseManagerIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (info.manager !== "") entry.manager = info.manager;
    entry.operation = info.operation;
    entry.apiVersion = vs.apiVersion;
    const time = managed.times.get(id);
    if (time !== undefined) entry.time = time;
    entry.fieldsType = "FieldsV1";
    entry.fieldsV1 = vs.set.toFieldsV1();
    if (info.subresource !== "") entry.subresource = info.subresource;
    entries.push(entry);
  }
  const str = (s: string | undefined) => s ?? "";
  entries.sort((p, q) => {
    if (p.operation !== q.operation) return str(p.operation) < str(q.operation) ? -1 : 1;
    const ps = unixSeconds(p.time);
    const qs = unixSeconds(q.time);
    if (ps !== qs) return ps - qs;
    if (p.manager !== q.manager) return str(p.manager) < str(q.manager) ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return str(p.apiVersion) < str(q.apiVersion) ? -1 : 1;
    return str(p.subresource) < str(q.subresource) ? -1 : str(p.subresource) > str(q.subresource) ? 1 : 0;
  });
  return entries;
}

/** A metav1.Time as it is written: RFC 3339 in UTC, whole seconds. */
export function formatTime(now: string): string {
  const ms = Date.parse(now);
  assert(!Number.isNaN(ms), `now is not a time: ${now}`);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const p = (...names: string[]): Path => names.map(fieldElement);

/**
 * Fields nobody owns (upstream's stripMetaManager): identity and bookkeeping the server sets. Only
 * these exact paths: `metadata.labels` and the rest of metadata stay ownable.
 */
export const STRIPPED_FIELDS: FieldSet = FieldSet.of(
  p("apiVersion"),
  p("kind"),
  p("metadata"),
  p("metadata", "name"),
  p("metadata", "namespace"),
  p("metadata", "creationTimestamp"),
  p("metadata", "selfLink"),
  p("metadata", "uid"),
  p("metadata", "clusterName"),
  p("metadata", "generation"),
  p("metadata", "managedFields"),
  p("metadata", "resourceVersion"),
);

/** Drops STRIPPED_FIELDS from one manager's set, and the manager when nothing is left. */
export function stripMeta(managed: Managed, id: string): void {
  const vs = managed.fields.get(id);
  if (vs === undefined) return;
  const set = vs.set.difference(STRIPPED_FIELDS);
  if (set.empty) managed.fields.delete(id);
  else managed.fields.set(id, { ...vs, set });
}

/** upstream's DefaultMaxUpdateManagers: beyond this, the oldest updaters merge into one entry per version. */
export const UPDATE_MANAGERS_MAX = 10;

/** The manager that collects the oldest updaters' fields (upstream's "ancient-changes"). */
export const ANCIENT_CHANGES_MANAGER = "ancient-changes";

/** Merges the oldest Update entries into "ancient-changes" buckets until at most `max` updaters remain. */
export function capUpdateManagers(managed: Managed, max: number = UPDATE_MANAGERS_MAX): void {
  const updaters = [...managed.fields].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => {
    const d = unixSeconds(managed.times.get(a)) - unixSeconds(managed.times.get(b));
    if (d !== 0) return d;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i]!;
    const vs = managed.fields.get(id)!;
    const time = managed.times.get(id);
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES_MANAGER, operation: "Update", apiVersion: vs.apiVersion });
    const first = firstByVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstByVersion.set(vs.apiVersion, id);
      continue;
    }
    if (!managed.fields.has(bucket)) {
      // The first updater of this version becomes the bucket.
      const s = managed.fields.get(first)!;
      managed.fields.delete(first);
      managed.fields.set(bucket, s);
    }
    managed.fields.set(bucket, { set: vs.set.union(managed.fields.get(bucket)!.set), apiVersion: vs.apiVersion, applied: false });
    managed.fields.delete(id);
    length--;
    // The merged update is the more recent one.
    if (time === undefined) managed.times.delete(bucket);
    else managed.times.set(bucket, time);
  }
}
