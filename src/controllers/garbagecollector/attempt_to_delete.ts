/**
 * What the collector does with one node it was asked to look at (upstream's attemptToDeleteItem and
 * classifyReferences), as pure decisions over what the API said: the object's latest state and, per
 * owner reference, whether that owner is gone ("dangling"), being deleted in the foreground
 * ("waitingForDependentsDeletion"), or alive ("solid").
 */
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../../client/rest_client.js";
import { FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN, hasFinalizer } from "./graph.js";

export type OwnerState = "dangling" | "waitingForDependentsDeletion" | "solid";

/** An owner's state from its GET: absent (undefined) or another incarnation (uid differs) is dangling. */
export function classifyOwner(ref: OwnerReference, owner: KubeObject | undefined): OwnerState {
  if (owner === undefined || owner.metadata?.uid !== ref.uid) return "dangling";
  if (owner.metadata?.deletionTimestamp !== undefined && hasFinalizer(owner, FINALIZER_DELETE_DEPENDENTS)) return "waitingForDependentsDeletion";
  return "solid";
}

export type DeletionPropagation = "Orphan" | "Background" | "Foreground";

export type ItemAction =
  | { readonly kind: "none"; readonly why: string }
  /** Some owner is alive: drop only the references to owners that are gone or going. */
  | { readonly kind: "removeOwnerReferences"; readonly uids: readonly string[] }
  /** Delete with uid precondition; `unblockFirst`: first clear blockOwnerDeletion (a cycle of foreground deletes). */
  | { readonly kind: "delete"; readonly policy: DeletionPropagation; readonly unblockFirst: boolean };

export interface ItemFacts {
  /** The object as the API returned it now. */
  readonly latest: KubeObject;
  /** Owner state per reference uid. */
  readonly owners: ReadonlyMap<string, OwnerState>;
  /** How many dependents the graph knows for this item. */
  readonly dependents: number;
  /** Whether any of those dependents is itself deleting its dependents. */
  readonly dependentDeletingDependents: boolean;
}

/** Decides for an item that is not itself waiting on its dependents (upstream's switch in attemptToDeleteItem). */
export function decideItem(f: ItemFacts): ItemAction {
  const refs = f.latest.metadata?.ownerReferences ?? [];
  if (refs.length === 0) return { kind: "none", why: "object doesn't have any owner" };
  const solid: OwnerReference[] = [];
  const dangling: OwnerReference[] = [];
  const waiting: OwnerReference[] = [];
  for (const ref of refs) {
    const state = f.owners.get(ref.uid) ?? "solid";
    if (state === "dangling") dangling.push(ref);
    else if (state === "waitingForDependentsDeletion") waiting.push(ref);
    else solid.push(ref);
  }
  if (solid.length > 0) {
    if (dangling.length === 0 && waiting.length === 0) return { kind: "none", why: "object has at least one existing owner" };
    return { kind: "removeOwnerReferences", uids: [...dangling, ...waiting].map((r) => r.uid) };
  }
  if (waiting.length > 0 && f.dependents > 0) {
    // An owner waits for this item, which has dependents of its own: delete it in the foreground too,
    // so the wait covers the whole subtree. A dependent already deleting dependents means a cycle.
    return { kind: "delete", policy: "Foreground", unblockFirst: f.dependentDeletingDependents };
  }
  // No live owner and nobody waits on this item's subtree: collect it, honouring its own finalizers.
  const policy: DeletionPropagation = hasFinalizer(f.latest, FINALIZER_ORPHAN)
    ? "Orphan"
    : hasFinalizer(f.latest, FINALIZER_DELETE_DEPENDENTS)
      ? "Foreground"
      : "Background";
  return { kind: "delete", policy, unblockFirst: false };
}

/** The strategic merge patch that removes references by uid (upstream's GenerateDeleteOwnerRefStrategicMergeBytes). */
export function deleteOwnerRefsPatch(dependentUid: string, ownerUids: readonly string[]): unknown {
  return { metadata: { ownerReferences: ownerUids.map((uid) => ({ $patch: "delete", uid })), uid: dependentUid } };
}

/** The patch that sets blockOwnerDeletion false on every blocking reference (upstream's unblockOwnerReferencesStrategicMergePatch). */
export function unblockOwnerRefsPatch(obj: KubeObject): unknown {
  const refs = (obj.metadata?.ownerReferences ?? []).filter((r) => r.blockOwnerDeletion === true).map((r) => ({ ...r, blockOwnerDeletion: false }));
  return { metadata: { ownerReferences: refs, uid: obj.metadata?.uid } };
}

/** The JSON merge patch that sets finalizers, guarded by resourceVersion (upstream's objectForFinalizersPatch). */
export function finalizersPatch(obj: KubeObject, remove: string): unknown {
  const left = (obj.metadata?.finalizers ?? []).filter((f) => f !== remove);
  return { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers: left.length === 0 ? null : left } };
}
