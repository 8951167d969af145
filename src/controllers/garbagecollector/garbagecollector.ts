/**
 * The garbage collector (upstream's pkg/controller/garbagecollector): informers on every deletable,
 * watchable resource feed the dependency graph; two queues act on it.
 *
 * - attemptToDelete (keyed by uid): an object whose owners may be gone. It GETs the object and its
 *   owners; with no owner alive it deletes the object (uid precondition; Background, or Foreground /
 *   Orphan when the object carries that finalizer); with some alive it drops the dead references.
 *   An owner in foreground deletion (`foregroundDeletion` finalizer) is also queued here: once no
 *   dependent with blockOwnerDeletion is left, its finalizer is removed and the API server deletes it.
 * - attemptToOrphan (keyed by uid): an owner deleted with the `orphan` finalizer. Its dependents lose
 *   their reference to it, then the finalizer is removed.
 *
 * An owner the graph has never observed is a virtual node: the GET decides. 404 or another uid means
 * gone: a virtual delete event removes the node and queues its dependents.
 */
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { BUILTIN_RESOURCES, findResourceByKind, groupVersionString, type ResourceInfo } from "../../api/resources.js";
import type { ApiError } from "../../api/status.js";
import { newRateLimitingQueue, type RateLimitingQueue } from "../../client/rate_limiting_queue.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";
import { objectOfDelete } from "../../client/store.js";
import { CONTROLLER_QUEUE_ITEMS_MAX, type Controller, type ControllerContext } from "../controller.js";
import { AbsentOwnerCache } from "./absent_owner_cache.js";
import { classifyOwner, decideItem, deleteOwnerRefsPatch, finalizersPatch, unblockOwnerRefsPatch, type DeletionPropagation, type OwnerState } from "./attempt_to_delete.js";
import {
  DependencyGraph,
  FINALIZER_DELETE_DEPENDENTS,
  FINALIZER_ORPHAN,
  identityString,
  ownerIdentity,
  type GraphNode,
  type ObjectIdentity,
} from "./graph.js";

/** Conflicts tolerated while removing a finalizer before the item is retried with backoff. */
export const FINALIZER_REMOVAL_ATTEMPTS_MAX = 5;
/** Upstream's ignoredResources: events are never owners worth a graph. */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

/** The resources the collector watches: everything listable, watchable and deletable but events. */
export function monitoredResources(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES): ResourceInfo[] {
  return resources.filter((r) => ["list", "watch", "delete"].every((v) => r.verbs.includes(v as never)) && !IGNORED.has(`${r.group}/${r.resource}`));
}

/** The object came back: nothing more to do for this key (a virtual delete was processed instead). */
const VIRTUAL_DELETE = Symbol("virtual delete event processed");
/** A cluster-scoped object names a namespaced owner: upstream forgets it (and records an event). */
const NAMESPACED_OWNER_OF_CLUSTER_SCOPED = Symbol("namespaced owner of a cluster-scoped object");

function isReason(err: unknown, ...reasons: string[]): boolean {
  return reasons.includes((err as ApiError | undefined)?.reason ?? "");
}

export interface GarbageCollectorOptions {
  /** Defaults to monitoredResources(). */
  readonly resources?: readonly ResourceInfo[];
}

/** Pending queue entries: the node each uid stood for when queued (a virtual node may leave the graph). */
interface Pending {
  node: GraphNode;
  seq: number;
}

export class GarbageCollector implements Controller {
  readonly name = "garbagecollector";
  readonly graph: DependencyGraph;
  readonly attemptToDelete: RateLimitingQueue<string>;
  readonly attemptToOrphan: RateLimitingQueue<string>;
  readonly #ctx: ControllerContext;
  readonly #resources: readonly ResourceInfo[];
  readonly #absent = new AbsentOwnerCache();
  readonly #pendingDelete = new Map<string, Pending>();
  readonly #pendingOrphan = new Map<string, Pending>();
  #seq = 0;

  constructor(ctx: ControllerContext, options: GarbageCollectorOptions = {}) {
    this.#ctx = ctx;
    this.#resources = options.resources ?? monitoredResources();
    const clock = ctx.env.clock;
    this.attemptToDelete = newRateLimitingQueue<string>(clock, { name: "garbage_collector_attempt_to_delete", itemsMax: CONTROLLER_QUEUE_ITEMS_MAX });
    this.attemptToOrphan = newRateLimitingQueue<string>(clock, { name: "garbage_collector_attempt_to_orphan", itemsMax: CONTROLLER_QUEUE_ITEMS_MAX });
    this.graph = new DependencyGraph({
      attemptToDelete: (n) => this.#enqueue(this.attemptToDelete, this.#pendingDelete, n),
      attemptToOrphan: (n) => this.#enqueue(this.attemptToOrphan, this.#pendingOrphan, n),
      ownerAbsent: (id) => this.#absent.add(id),
      ownerNamespace: (ref, ns) => {
        const info = this.#infoFor(ref.apiVersion, ref.kind);
        return info === undefined ? undefined : info.namespaced ? ns : "";
      },
    });
  }

  init(): void {
    for (const info of this.#resources) {
      const typed = (obj: KubeObject): KubeObject =>
        obj.kind !== undefined && obj.apiVersion !== undefined ? obj : { ...obj, apiVersion: groupVersionString(info.group, info.version), kind: info.kind };
      const namespaced = info.namespaced;
      this.#ctx.informers.informerFor<KubeObject>(info.group, info.version, info.resource).addEventHandler({
        onAdd: (obj) => this.graph.processGraphChange({ type: "add", obj: typed(obj), namespaced }),
        onUpdate: (old, obj) => this.graph.processGraphChange({ type: "update", obj: typed(obj), old: typed(old), namespaced }),
        onDelete: (obj) => this.graph.processGraphChange({ type: "delete", obj: typed(objectOfDelete(obj)), namespaced }),
      });
    }
  }

  async run(workers: number): Promise<void> {
    this.#ctx.env.log.info("starting controller", { controller: this.name, workers, resources: this.#resources.length });
    const loops: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      loops.push(this.#worker(this.attemptToDelete, this.#pendingDelete, (n) => this.#attemptToDeleteWorker(n)));
      loops.push(this.#worker(this.attemptToOrphan, this.#pendingOrphan, (n) => this.#attemptToOrphanWorker(n)));
    }
    await Promise.all(loops);
    this.#ctx.env.log.info("controller stopped", { controller: this.name });
  }

  stop(): void {
    this.attemptToDelete.shutDown();
    this.attemptToOrphan.shutDown();
  }

  #enqueue(queue: RateLimitingQueue<string>, pending: Map<string, Pending>, node: GraphNode): void {
    pending.set(node.identity.uid, { node, seq: ++this.#seq });
    queue.add(node.identity.uid);
  }

  /**
   * Takes uids until the queue shuts down (the loop ends only then). `work` resolves true to forget the
   * key, false to requeue it with backoff, and throws to requeue it after logging.
   */
  async #worker(queue: RateLimitingQueue<string>, pending: Map<string, Pending>, work: (n: GraphNode) => Promise<boolean>): Promise<void> {
    for (;;) {
      const uid = await queue.get();
      if (uid === undefined) return;
      const entry = pending.get(uid);
      const seq = entry?.seq;
      try {
        const forget = entry === undefined ? true : await work(entry.node);
        if (forget) {
          queue.forget(uid);
          // Re-queued while we worked: keep the newer entry.
          if (pending.get(uid)?.seq === seq) pending.delete(uid);
        } else queue.addRateLimited(uid);
      } catch (err) {
        this.#ctx.env.log.warn("garbage collector item failed; will retry", {
          controller: this.name,
          queue: queue.name,
          item: entry === undefined ? uid : identityString(entry.node.identity),
          requeues: queue.numRequeues(uid),
          error: err instanceof Error ? err.message : String(err),
        });
        queue.addRateLimited(uid);
      } finally {
        queue.done(uid);
      }
    }
  }

  async #attemptToDeleteWorker(n: GraphNode): Promise<boolean> {
    if (!n.observed) {
      const fromGraph = this.graph.get(n.identity.uid);
      // The real object was deleted, or observed, while this virtual node waited: nothing to prove.
      if (fromGraph === undefined || fromGraph.observed) return true;
    }
    const result = await this.#attemptToDeleteItem(n);
    if (result === VIRTUAL_DELETE || result === NAMESPACED_OWNER_OF_CLUSTER_SCOPED) return true;
    // A virtual node that exists is kept under watch until an informer reports it (issue 56121).
    return n.observed;
  }

  async #attemptToDeleteItem(item: GraphNode): Promise<void | typeof VIRTUAL_DELETE | typeof NAMESPACED_OWNER_OF_CLUSTER_SCOPED> {
    // Someone else is deleting it and nothing waits on its dependents: nothing to do.
    if (item.beingDeleted && !item.deletingDependents) return;
    const latest = await this.#getObject(item.identity);
    if (latest === undefined || latest.metadata?.uid !== item.identity.uid) {
      this.graph.processGraphChange({ type: "virtualDelete", identity: item.identity });
      return VIRTUAL_DELETE;
    }
    if (item.deletingDependents) return this.#processDeletingDependentsItem(item);

    const refs = latest.metadata?.ownerReferences ?? [];
    if (refs.length === 0) return;
    const owners = new Map<string, OwnerState>();
    for (const ref of refs) {
      const state = await this.#ownerState(ref, item);
      if (state === NAMESPACED_OWNER_OF_CLUSTER_SCOPED) {
        this.#ctx.env.log.warn("cluster-scoped object has a namespaced owner; ignoring it", { item: identityString(item.identity), owner: ref.name });
        return NAMESPACED_OWNER_OF_CLUSTER_SCOPED;
      }
      owners.set(ref.uid, state);
    }
    const action = decideItem({
      latest,
      owners,
      dependents: item.dependents.size,
      dependentDeletingDependents: [...item.dependents].some((d) => d.deletingDependents),
    });
    const rc = this.#clientFor(item.identity);
    switch (action.kind) {
      case "none":
        return;
      case "removeOwnerReferences":
        this.#ctx.env.log.debug("removing dangling owner references", { item: identityString(item.identity), owners: action.uids });
        await this.#patchIgnoringNotFound(rc, item.identity.name, "strategic", deleteOwnerRefsPatch(item.identity.uid, action.uids));
        return;
      case "delete":
        if (action.unblockFirst) await this.#patchIgnoringNotFound(rc, item.identity.name, "strategic", unblockOwnerRefsPatch(latest));
        await this.#deleteObject(item.identity, action.policy);
        return;
    }
  }

  /** An owner in foreground deletion: finished once no blocking dependent is left. */
  async #processDeletingDependentsItem(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      await this.#removeFinalizer(item, FINALIZER_DELETE_DEPENDENTS);
      return;
    }
    for (const dep of blocking) if (!dep.deletingDependents) this.#enqueue(this.attemptToDelete, this.#pendingDelete, dep);
  }

  async #attemptToOrphanWorker(owner: GraphNode): Promise<boolean> {
    const errors: string[] = [];
    for (const dep of [...owner.dependents]) {
      try {
        await this.#patchIgnoringNotFound(this.#clientFor(dep.identity), dep.identity.name, "strategic", deleteOwnerRefsPatch(dep.identity.uid, [owner.identity.uid]));
      } catch (err) {
        errors.push(`orphaning ${identityString(dep.identity)} failed, ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join("; "));
    await this.#removeFinalizer(owner, FINALIZER_ORPHAN);
    return true;
  }

  async #ownerState(ref: OwnerReference, item: GraphNode): Promise<OwnerState | typeof NAMESPACED_OWNER_OF_CLUSTER_SCOPED> {
    const info = this.#infoFor(ref.apiVersion, ref.kind);
    if (info === undefined) throw new Error(`unable to get REST mapping for ${ref.apiVersion}/${ref.kind}.`);
    if (info.namespaced && item.identity.namespace === "") return NAMESPACED_OWNER_OF_CLUSTER_SCOPED;
    const id = ownerIdentity(ref, info.namespaced ? item.identity.namespace : "");
    if (this.#absent.has(id)) return "dangling";
    const owner = await this.#getObject(id);
    const state = classifyOwner(ref, owner);
    if (state === "dangling") this.#absent.add(id);
    return state;
  }

  #infoFor(apiVersion: string, kind: string): ResourceInfo | undefined {
    const slash = apiVersion.indexOf("/");
    const [group, version] = slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    return findResourceByKind(group, version, kind);
  }

  #clientFor(id: ObjectIdentity): ResourceClient<KubeObject> {
    const rc = this.#ctx.client.resourceForKind<KubeObject>(id.apiVersion, id.kind);
    return rc.info.namespaced ? rc.namespace(id.namespace) : rc;
  }

  /** The object, or undefined on 404. */
  async #getObject(id: ObjectIdentity): Promise<KubeObject | undefined> {
    try {
      return await this.#clientFor(id).get(id.name);
    } catch (err) {
      if (isReason(err, "NotFound")) return undefined;
      throw err;
    }
  }

  async #deleteObject(id: ObjectIdentity, policy: DeletionPropagation): Promise<void> {
    this.#ctx.env.log.info("deleting object", { item: identityString(id), propagationPolicy: policy });
    try {
      await this.#clientFor(id).delete(id.name, { preconditions: { uid: id.uid }, propagationPolicy: policy });
    } catch (err) {
      // Already gone: its delete event does the rest.
      if (!isReason(err, "NotFound")) throw err;
    }
  }

  async #patchIgnoringNotFound(rc: ResourceClient<KubeObject>, name: string, type: "strategic" | "merge", patch: unknown): Promise<void> {
    try {
      await rc.patch(name, type, patch);
    } catch (err) {
      if (!isReason(err, "NotFound")) throw err;
    }
  }

  /** GET, then a resourceVersion-guarded merge patch without `finalizer`; retried on conflict. */
  async #removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const rc = this.#clientFor(node.identity);
    for (let attempt = 0; attempt < FINALIZER_REMOVAL_ATTEMPTS_MAX; attempt++) {
      const obj = await this.#getObject(node.identity);
      if (obj === undefined || obj.metadata?.uid !== node.identity.uid) return;
      if (!(obj.metadata?.finalizers ?? []).includes(finalizer)) return;
      try {
        await rc.patch(node.identity.name, "merge", finalizersPatch(obj, finalizer));
        this.#ctx.env.log.info("removed finalizer", { item: identityString(node.identity), finalizer });
        return;
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        if (!isReason(err, "Conflict")) throw err;
      }
    }
    throw new Error(`updateMaxRetries(${FINALIZER_REMOVAL_ATTEMPTS_MAX}) has reached. The garbage collector will retry later for owner ${identityString(node.identity)}`);
  }
}
