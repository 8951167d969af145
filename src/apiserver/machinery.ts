/**
 * The API machinery the request handlers need beyond the store, as one interface so the handlers do
 * not know which module implements what: patch kinds, server-side apply, unknown-field detection and
 * server-side printing. `wiring.ts` builds the real one.
 */
import type { ResourceInfo } from "../api/resources.js";
import type { KubeObject } from "./registry/codec.js";
import type { WritePipeline } from "./registry/store.js";

export type PatchKind = "json" | "merge" | "strategic" | "apply";

export interface TableOptions {
  readonly nowMs: number;
  readonly includeObject: "None" | "Metadata" | "Object";
  readonly listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Leave out columnDefinitions (every watch event after the first, as upstream). */
  readonly noHeaders?: boolean;
}

export interface Machinery {
  readonly pipeline: WritePipeline;
  /** Paths of fields the object has that its schema does not declare (`spec.foo`). */
  unknownFields(info: ResourceInfo, obj: KubeObject): string[];
  /** Drops those fields in place (they are never stored). */
  pruneUnknownFields(info: ResourceInfo, obj: KubeObject): void;
  /** Decodes a JSON, merge or strategic merge patch body (errors worded as upstream's) and applies it to the served object. */
  applyPatch(kind: Exclude<PatchKind, "apply">, info: ResourceInfo, current: KubeObject, body: string): KubeObject;
  /** Server-side apply of `config` by `manager` onto `live` (null: create). Throws 409 on conflicts unless forced. */
  applyConfiguration(info: ResourceInfo, live: KubeObject | null, config: KubeObject, options: { manager: string; force: boolean; now: Date }): KubeObject;
  toTable(info: ResourceInfo, objects: KubeObject[], options: TableOptions): KubeObject;
  /** Decodes an `application/vnd.kubernetes.protobuf` body (what typed clients send) into the JSON object it carries. */
  decodeProtobuf(body: Uint8Array, expect: { group: string; version: string; kind: string }): KubeObject;
}
