/**
 * How objects are stored: JSON bytes without `metadata.resourceVersion` (the datastore's mod revision
 * is the resourceVersion, so storing it would be stale the moment it was written — upstream clears it
 * too). Reading sets it back from the item's revision.
 */
import type { StoredItem } from "../storage/contract.js";

export type KubeObject = Record<string, any>;

export function encodeObject(obj: KubeObject): Uint8Array {
  const { resourceVersion: _rv, selfLink: _sl, ...metadata } = obj.metadata ?? {};
  return Buffer.from(JSON.stringify({ ...obj, metadata }), "utf8");
}

export function decodeStored(value: Uint8Array, revision: number): KubeObject {
  const obj = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8")) as KubeObject;
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(revision) };
  return obj;
}

export function decodeItem(item: StoredItem): KubeObject {
  return decodeStored(item.value, item.revision);
}

/** A deep copy of a JSON value (objects here never hold anything JSON can't carry). */
export function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}
