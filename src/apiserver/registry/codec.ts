/**
 * How objects are stored: JSON bytes without `metadata.resourceVersion` (the datastore's mod revision
 * is the resourceVersion, so storing it would be stale the moment it was written — upstream clears it
 * too). Reading sets it back from the item's revision.
 */
import type { StoredItem } from "../storage/contract.js";
import { jsonEqual } from "../../util/json_equal.js";
export { jsonEqual };

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

