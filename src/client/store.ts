/**
 * Keys of cached objects and the tombstone informers deliver for deletions they did not see
 * (client-go tools/cache store.go, controller.go).
 */
import type { KubeObject } from "./rest_client.js";

/** `namespace/name`, or `name` for cluster-scoped objects: the key every queue and cache uses. */
export function metaNamespaceKey(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  const name = obj.metadata?.name;
  if (name === undefined || name === "") throw new Error("Cannot key an object without metadata.name");
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === "" ? name : `${ns}/${name}`;
}

/** Splits a key made by metaNamespaceKey: "default/web" → ["default", "web"], "node-1" → ["", "node-1"]. */
export function splitMetaNamespaceKey(key: string): [namespace: string, name: string] {
  const parts = key.split("/");
  if (parts.length === 1) return ["", parts[0]!];
  if (parts.length === 2) return [parts[0]!, parts[1]!];
  throw new Error(`unexpected key format: "${key}"`);
}

/**
 * An object was deleted while the watch was down: a relist no longer has it, so its final state is
 * unknown and `obj` is the last state the cache saw. Delete handlers must accept this as well as the
 * object (upstream's cache.DeletedFinalStateUnknown).
 */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** The object a delete handler received, whether it came directly or inside a tombstone. */
export function objectOfDelete<T>(obj: T | DeletedFinalStateUnknown<T>): T {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}
