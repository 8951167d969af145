/**
 * The garbage collector's dependency graph (upstream's pkg/controller/garbagecollector/graph.go and
 * graph_builder.go): one node per object uid, edges from ownerReferences. Informer events of every
 * monitored resource change it (`processGraphChange`); the changes tell the collector which nodes to
 * look at (`attemptToDelete`) and which owners to orphan (`attemptToOrphan`).
 *
 *   rs-1 (ReplicaSet, uid r) ──owns──▶ pod-a (owners [r])      uidToNode: r → rs-1, a → pod-a, b → pod-b
 *                          └─owns──▶ pod-b (owners [r])      rs-1.dependents = {pod-a, pod-b}
 *
 * A dependent whose owner was never observed gets a *virtual* owner node, built from the reference;
 * the collector GETs it: if it exists the informer will observe it, if not a virtual delete event
 * removes the node and queues its dependents. Everything here is synchronous: informer handlers run
 * it in order, so the graph needs no locks.
 */
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "../../client/rest_client.js";

/** Where an object lives and which incarnation it is: an owner reference plus the namespace. */
export interface ObjectIdentity {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
}

export function identityString(id: ObjectIdentity): string {
  return `[${id.apiVersion}/${id.kind}, namespace: ${id.namespace}, name: ${id.name}, uid: ${id.uid}]`;
}

function identityEqual(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.uid === b.uid && a.namespace === b.namespace;
}

export class GraphNode {
  identity: ObjectIdentity;
  /** Built from a reference, not yet seen through an informer. */
  virtual: boolean;
  observed: boolean;
  owners: OwnerReference[];
  readonly dependents = new Set<GraphNode>();
  beingDeleted = false;
  /** Being deleted with the foregroundDeletion finalizer: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(identity: ObjectIdentity, o: { virtual: boolean; owners: OwnerReference[] }) {
    this.identity = identity;
    this.virtual = o.virtual;
    this.observed = !o.virtual;
    this.owners = o.owners;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion: the ones a foreground delete waits for. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true));
  }
}

export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion";

export function hasFinalizer(obj: KubeObject | undefined, f: string): boolean {
  return (obj?.metadata?.finalizers ?? []).includes(f);
}

function beingDeleted(obj: KubeObject | undefined): boolean {
  return obj?.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/** An informer event, or a virtual delete the collector produces for an owner that does not exist. */
export type GraphEvent =
  | { readonly type: "add" | "update"; readonly obj: KubeObject; readonly old?: KubeObject; readonly namespaced: boolean }
  | { readonly type: "delete"; readonly obj: KubeObject; readonly namespaced: boolean }
  | { readonly type: "virtualDelete"; readonly identity: ObjectIdentity };

/** What the graph asks of the collector after a change. */
export interface GraphSink {
  attemptToDelete(node: GraphNode): void;
  attemptToOrphan(node: GraphNode): void;
  /** Marks an owner as known absent (so dependents need not GET it again). */
  ownerAbsent(identity: ObjectIdentity): void;
  /** The namespace an owner of this kind lives in ("" when cluster-scoped); undefined when the kind is unknown. */
  ownerNamespace(ref: OwnerReference, dependentNamespace: string): string | undefined;
}

export function identityOf(obj: KubeObject): ObjectIdentity {
  const m = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion ?? "", kind: obj.kind ?? "", name: m.name ?? "", uid: m.uid ?? "", namespace: m.namespace ?? "" };
}

/** The identity an owner reference names, seen from a dependent in `dependentNamespace`. */
export function ownerIdentity(ref: OwnerReference, namespace: string): ObjectIdentity {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace };
}

export class DependencyGraph {
  readonly uidToNode = new Map<string, GraphNode>();
  readonly #sink: GraphSink;

  constructor(sink: GraphSink) {
    this.#sink = sink;
  }

  get(uid: string): GraphNode | undefined {
    return this.uidToNode.get(uid);
  }

  /** Applies one change (upstream's processGraphChanges). */
  processGraphChange(e: GraphEvent): void {
    if (e.type === "virtualDelete") return this.#virtualDelete(e.identity);
    const uid = e.obj.metadata?.uid;
    if (uid === undefined || uid === "") return;
    let existing = this.uidToNode.get(uid);
    if (existing !== undefined && e.type !== "delete" && !existing.observed) {
      // The informer saw it: a virtual node becomes real, with the identity the API reports.
      const observedIdentity = identityOf(e.obj);
      if (!identityEqual(observedIdentity, existing.identity)) {
        // Dependents that named it differently may point at nothing; have them checked.
        for (const dep of existing.dependents) {
          if (!dependentMatches(dep, observedIdentity)) this.#sink.attemptToDelete(dep);
        }
        existing.identity = observedIdentity;
      }
      existing.virtual = false;
      existing.observed = true;
    }

    if (e.type === "add" || e.type === "update") {
      const owners = [...(e.obj.metadata?.ownerReferences ?? [])];
      if (existing === undefined) {
        const node = new GraphNode(identityOf(e.obj), { virtual: false, owners });
        node.beingDeleted = beingDeleted(e.obj);
        node.deletingDependents = node.beingDeleted && hasFinalizer(e.obj, FINALIZER_DELETE_DEPENDENTS);
        this.#insertNode(node);
        this.#processTransitions(e.old, e.obj, node);
        return;
      }
      const { added, removed, changed } = referencesDiffs(existing.owners, owners);
      if (added.length > 0 || removed.length > 0 || changed.length > 0) {
        // A dependent that stopped blocking its owner may be the last thing a foreground delete waits for.
        this.#addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = owners;
        this.#addDependentToOwners(existing, added);
        this.#removeDependentFromOwners(existing, removed);
      }
      if (beingDeleted(e.obj)) existing.beingDeleted = true;
      this.#processTransitions(e.old, e.obj, existing);
      return;
    }

    // delete
    if (existing === undefined) return;
    this.#removeNode(existing, identityOf(e.obj));
  }

  #virtualDelete(deleted: ObjectIdentity): void {
    const existing = this.uidToNode.get(deleted.uid);
    if (existing === undefined) return;
    if (existing.virtual) {
      // Dependents may name this uid with other coordinates: only the ones that match are proven orphans.
      const matching = [...existing.dependents].filter((d) => dependentMatches(d, deleted));
      const nonMatching = [...existing.dependents].filter((d) => !dependentMatches(d, deleted));
      if (nonMatching.length > 0) {
        this.#sink.ownerAbsent(deleted);
        for (const dep of matching) this.#sink.attemptToDelete(dep);
        // Keep the node under the identity another dependent uses, and check that one next.
        existing.identity = ownerIdentity(nonMatching[0]!.owners.find((o) => o.uid === deleted.uid)!, nonMatching[0]!.identity.namespace);
        this.#sink.attemptToDelete(existing);
        return;
      }
    } else if (!identityEqual(existing.identity, deleted)) {
      // The informer saw this uid under other coordinates: the real object stays; dependents that
      // named the absent coordinates are checked.
      const matching = [...existing.dependents].filter((d) => dependentMatches(d, deleted));
      if (matching.length > 0) {
        this.#sink.ownerAbsent(deleted);
        for (const dep of matching) this.#sink.attemptToDelete(dep);
      }
      return;
    }
    this.#removeNode(existing, deleted);
  }

  #removeNode(node: GraphNode, identity: ObjectIdentity): void {
    this.uidToNode.delete(node.identity.uid);
    this.#removeDependentFromOwners(node, node.owners);
    if (node.dependents.size > 0) this.#sink.ownerAbsent(identity);
    for (const dep of node.dependents) this.#sink.attemptToDelete(dep);
    for (const owner of node.owners) {
      const ownerNode = this.uidToNode.get(owner.uid);
      // An owner waiting for its dependents may have just lost its last one.
      if (ownerNode !== undefined && ownerNode.deletingDependents) this.#sink.attemptToDelete(ownerNode);
    }
  }

  #insertNode(node: GraphNode): void {
    this.uidToNode.set(node.identity.uid, node);
    this.#addDependentToOwners(node, node.owners);
  }

  #addDependentToOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) {
      let ownerNode = this.uidToNode.get(ref.uid);
      if (ownerNode === undefined) {
        const ns = this.#sink.ownerNamespace(ref, node.identity.namespace) ?? node.identity.namespace;
        ownerNode = new GraphNode(ownerIdentity(ref, ns), { virtual: true, owners: [] });
        this.uidToNode.set(ref.uid, ownerNode);
        // Nobody has seen the owner: the collector GETs it and, when absent, deletes the orphans.
        this.#sink.attemptToDelete(ownerNode);
      } else if (ownerNode.observed && !dependentMatches(node, ownerNode.identity)) {
        // The reference disagrees with the owner we observed (wrong kind, name or namespace): check it.
        this.#sink.attemptToDelete(node);
      }
      ownerNode.dependents.add(node);
    }
  }

  #removeDependentFromOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) this.uidToNode.get(ref.uid)?.dependents.delete(node);
  }

  #addUnblockedOwnersToDeleteQueue(removed: readonly OwnerReference[], changed: readonly { old: OwnerReference; now: OwnerReference }[]): void {
    for (const ref of removed) {
      if (ref.blockOwnerDeletion !== true) continue;
      const owner = this.uidToNode.get(ref.uid);
      if (owner?.deletingDependents === true) this.#sink.attemptToDelete(owner);
    }
    for (const c of changed) {
      if (!(c.old.blockOwnerDeletion === true && c.now.blockOwnerDeletion !== true)) continue;
      const owner = this.uidToNode.get(c.now.uid);
      if (owner?.deletingDependents === true) this.#sink.attemptToDelete(owner);
    }
  }

  /** An owner that just started waiting for orphaning or for its dependents' deletion gets that work queued. */
  #processTransitions(old: KubeObject | undefined, obj: KubeObject, node: GraphNode): void {
    if (startsWaitingFor(old, obj, FINALIZER_ORPHAN)) {
      this.#sink.attemptToOrphan(node);
      return;
    }
    if (startsWaitingFor(old, obj, FINALIZER_DELETE_DEPENDENTS)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.#sink.attemptToDelete(dep);
      this.#sink.attemptToDelete(node);
    }
  }
}

/** True when `obj` is being deleted with finalizer `f` and `old` was not (or there is no old). */
function startsWaitingFor(old: KubeObject | undefined, obj: KubeObject, f: string): boolean {
  if (!beingDeleted(obj) || !hasFinalizer(obj, f)) return false;
  if (old === undefined) return true;
  return !beingDeleted(old) || !hasFinalizer(old, f);
}

/** Whether `dep`'s reference to `owner.uid` names the same coordinates (a namespaced owner must share the namespace). */
function dependentMatches(dep: GraphNode, owner: ObjectIdentity): boolean {
  const ref = dep.owners.find((o) => o.uid === owner.uid);
  if (ref === undefined) return true;
  if (ref.apiVersion !== owner.apiVersion || ref.kind !== owner.kind || ref.name !== owner.name) return false;
  return owner.namespace === "" || owner.namespace === dep.identity.namespace;
}

/** Owner references added, removed, or changed (same uid, other fields), as upstream's referencesDiffs. */
export function referencesDiffs(
  old: readonly OwnerReference[],
  now: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: { old: OwnerReference; now: OwnerReference }[] } {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: { old: OwnerReference; now: OwnerReference }[] = [];
  for (const r of now) {
    const o = oldByUid.get(r.uid);
    if (o === undefined) added.push(r);
    else {
      if (!refEqual(o, r)) changed.push({ old: o, now: r });
      oldByUid.delete(r.uid);
    }
  }
  return { added, removed: [...oldByUid.values()], changed };
}

function refEqual(a: OwnerReference, b: OwnerReference): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.uid === b.uid &&
    (a.controller === true) === (b.controller === true) &&
    (a.blockOwnerDeletion === true) === (b.blockOwnerDeletion === true)
  );
}
