/**
 * ControllerRevisions (pkg/controller/history): the history of a StatefulSet's or DaemonSet's pod
 * template. A revision's data is the patch that restores the template
 * (`{"spec":{"template":{…,"$patch":"replace"}}}`); its name is `<owner>-<hash>` and pods made from it
 * carry the hash in the `controller-revision-hash` label. An equal template reuses its revision (its
 * number moves to the newest), so rolling back does not grow the history.
 */
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { ControllerRevision } from "kubernetes-types/apps/v1.js";
import type { KubeObject } from "../../client/rest_client.js";
import { newControllerRef, type GroupVersionKind } from "../util/controller_ref.js";

export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

/** The characters rand.SafeEncodeString maps to (no vowels, no look-alikes). */
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** rand.SafeEncodeString. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** 32-bit FNV-1a of the UTF-8 bytes. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The hash a revision is named and labelled by (HashControllerRevision: data, then the collision count). */
export function hashRevisionData(data: unknown, collisionCount: number | undefined): string {
  const text = JSON.stringify(data) + (collisionCount === undefined || collisionCount === 0 ? "" : String(collisionCount));
  return safeEncodeString(String(fnv32a(text)));
}

/** The patch a revision stores for a pod template. */
export function templatePatch(template: PodTemplateSpec | undefined): unknown {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: "replace" } } };
}

/** The template a revision restores. */
export function templateOfRevision(rev: ControllerRevision): PodTemplateSpec {
  const data = (rev.data ?? {}) as { spec?: { template?: PodTemplateSpec & { $patch?: string } } };
  const t = structuredClone(data.spec?.template ?? {});
  delete t.$patch;
  return t;
}

/** A new revision of `owner`'s `template` with number `revision`. */
export function newControllerRevision(owner: KubeObject, gvk: GroupVersionKind, template: PodTemplateSpec | undefined, revision: number, collisionCount: number | undefined): ControllerRevision {
  const data = templatePatch(template);
  const hash = hashRevisionData(data, collisionCount);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: `${owner.metadata?.name}-${hash}`,
      namespace: owner.metadata?.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(owner, gvk)],
    },
    data: data as ControllerRevision["data"],
    revision,
  };
}

/** Oldest first, by revision number then name (history.SortControllerRevisions). */
export function sortRevisions(revs: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort((a, b) => a.revision - b.revision || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

export function nextRevisionNumber(revs: readonly ControllerRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
}

/** Revisions whose data equals `needle`'s (FindEqualRevisions), oldest first. */
export function findEqualRevisions(revs: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  const want = JSON.stringify(needle.data);
  return sortRevisions(revs.filter((r) => JSON.stringify(r.data) === want));
}

/** The hash label of a revision (its name's suffix when the label is missing). */
export function revisionHash(rev: ControllerRevision): string {
  return rev.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? (rev.metadata?.name ?? "").split("-").pop() ?? "";
}

/**
 * Revisions to delete so that at most `limit` revisions not in `live` remain, oldest first
 * (truncateHistory).
 */
export function revisionsToTruncate(revs: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): ControllerRevision[] {
  const old = sortRevisions(revs).filter((r) => !live.has(r.metadata?.name ?? ""));
  return old.slice(0, Math.max(0, old.length - limit));
}
