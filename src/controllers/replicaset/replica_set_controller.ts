/**
 * The ReplicaSet controller (pkg/controller/replicaset/replica_set.go), which with a different kind
 * is also the ReplicationController manager (pkg/controller/replication). One sync of `ns/name`:
 *   1. read the set from the cache (gone → forget its expectations);
 *   2. claim the namespace's active pods: keep owned + matching, adopt matching orphans, release
 *      owned pods that stopped matching;
 *   3. if the expectations of the last sync are met and the set is not being deleted: create the
 *      missing pods in slow-start batches (at most 500 per sync) or delete the surplus, chosen by
 *      upstream's ranking — recording expectations BEFORE the requests go out;
 *   4. write status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 *      observedGeneration, ReplicaFailure) when it changed.
 * Pod events lower the expectations of the set their controllerRef names.
 */
import type { Pod, PodTemplateSpec, ReplicationController } from "kubernetes-types/core/v1.js";
import type { ReplicaSet, ReplicaSetStatus } from "kubernetes-types/apps/v1.js";
import { ApiError } from "../../api/status.js";
import { selectorFromLabelSelector, selectorFromSet, type Selector } from "../../client/label_selector.js";
import type { Lister } from "../../client/lister.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";
import type { SharedIndexInformer } from "../../client/shared_informer.js";
import { DeletedFinalStateUnknown, metaNamespaceKey, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import {
  ControllerRefManager,
  getControllerOf,
  newControllerRef,
  recheckDeletionTimestamp,
  REPLICA_SET_KIND,
  REPLICATION_CONTROLLER_KIND,
  apiVersionOf,
  type GroupVersionKind,
} from "../util/controller_ref.js";
import { UIDTrackingControllerExpectations } from "../util/expectations.js";
import { NAMESPACE_TERMINATING_CAUSE, PodControl } from "../util/pod_control.js";
import { getPodsToDelete, isPodActive, isPodReady } from "../util/pod_util.js";
import { BURST_REPLICAS, calculateStatus, manageDecision, slowStartBatch, SLOW_START_INITIAL_BATCH_SIZE, STATUS_UPDATE_RETRIES, statusChanged } from "./replica_set_logic.js";

/** The object the controller manages: a ReplicaSet or a ReplicationController. */
type Managed = ReplicaSet | ReplicationController;

/** How one kind differs: its type, where it lives, how its selector and template read. */
export interface ReplicaSetKindAdapter {
  readonly gvk: GroupVersionKind;
  readonly resource: string;
  /** upstream's controller name ("replicaset", "replicationmanager"). */
  readonly controllerName: string;
  /** source.component of its events. */
  readonly component: string;
  selector(obj: Managed): Selector;
  template(obj: Managed): PodTemplateSpec | undefined;
  replicas(obj: Managed): number;
}

export const REPLICA_SET_ADAPTER: ReplicaSetKindAdapter = {
  gvk: REPLICA_SET_KIND,
  resource: "replicasets",
  controllerName: "replicaset",
  component: "replicaset-controller",
  selector: (o) => selectorFromLabelSelector((o as ReplicaSet).spec?.selector),
  template: (o) => (o as ReplicaSet).spec?.template,
  replicas: (o) => (o as ReplicaSet).spec?.replicas ?? 1,
};

export const REPLICATION_CONTROLLER_ADAPTER: ReplicaSetKindAdapter = {
  gvk: REPLICATION_CONTROLLER_KIND,
  resource: "replicationcontrollers",
  controllerName: "replicationmanager",
  component: "replication-controller",
  // An RC's selector is a map; an empty or missing one selects nothing (defaulting copies the template's labels).
  selector: (o) => {
    const sel = (o as ReplicationController).spec?.selector;
    return sel === undefined || Object.keys(sel).length === 0 ? selectorFromLabelSelector(undefined) : selectorFromSet(sel);
  },
  template: (o) => (o as ReplicationController).spec?.template,
  replicas: (o) => (o as ReplicationController).spec?.replicas ?? 1,
};

export interface ReplicaSetControllerOptions {
  readonly burstReplicas?: number;
  /** The recorder to use (default: a new ApiEventRecorder with the kind's component). */
  readonly recorder?: EventRecorder;
}

export class ReplicaSetController extends QueueController {
  readonly expectations: UIDTrackingControllerExpectations;
  readonly recorder: EventRecorder;
  readonly #kind: ReplicaSetKindAdapter;
  readonly #burstReplicas: number;
  readonly #podControl: PodControl;
  readonly #informer: SharedIndexInformer<Managed>;
  readonly #lister: Lister<Managed>;
  readonly #podInformer: SharedIndexInformer<Pod>;
  readonly #podLister: Lister<Pod>;
  readonly #client: ResourceClient<Managed>;
  readonly #pods: ResourceClient<Pod>;

  constructor(ctx: ControllerContext, kind: ReplicaSetKindAdapter = REPLICA_SET_ADAPTER, options: ReplicaSetControllerOptions = {}) {
    super(ctx, kind.controllerName);
    this.#kind = kind;
    this.#burstReplicas = options.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new UIDTrackingControllerExpectations(ctx.env.clock);
    this.recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: kind.component });
    this.#podControl = new PodControl(ctx.client, this.recorder);
    this.#informer = ctx.informers.informerFor<Managed>(kind.gvk.group, kind.gvk.version, kind.resource);
    this.#lister = ctx.informers.listerFor<Managed>(kind.gvk.group, kind.gvk.version, kind.resource);
    this.#podInformer = ctx.informers.pods();
    this.#podLister = ctx.informers.listerFor<Pod>("", "v1", "pods");
    this.#client = ctx.client.resource<Managed>(kind.gvk.group, kind.gvk.version, kind.resource);
    this.#pods = ctx.client.resource<Pod>("", "v1", "pods");
  }

  init(): void {
    this.#informer.addEventHandler({
      onAdd: (rs) => this.#enqueue(rs),
      onUpdate: (_old, cur) => this.#enqueue(cur),
      onDelete: (obj) => {
        const key = metaNamespaceKey(obj as KubeObject | DeletedFinalStateUnknown<KubeObject>);
        this.expectations.deleteExpectations(key);
        this.queue.add(key);
      },
    });
    this.#podInformer.addEventHandler({
      onAdd: (pod) => this.#addPod(pod),
      onUpdate: (old, cur) => this.#updatePod(old, cur),
      onDelete: (obj) => this.#deletePod(obj),
    });
  }

  #enqueue(obj: KubeObject): void {
    this.queue.add(metaNamespaceKey(obj));
  }

  /** The set a controllerRef names, if it is one of ours and the uid still matches. */
  #resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string }): Managed | undefined {
    if (ref.kind !== this.#kind.gvk.kind) return undefined;
    const rs = this.#lister.get(namespace, ref.name);
    if (rs === undefined || rs.metadata?.uid !== ref.uid) return undefined;
    return rs;
  }

  /** Sets in the pod's namespace whose selector matches it (getPodReplicaSets). */
  #matchingSets(pod: Pod): Managed[] {
    const ns = pod.metadata?.namespace ?? "";
    if (Object.keys(pod.metadata?.labels ?? {}).length === 0) return [];
    return this.#lister
      .namespace(ns)
      .list()
      .filter((rs) => {
        const sel = this.#kind.selector(rs);
        return !sel.empty() && sel.matches(pod.metadata?.labels);
      });
  }

  #addPod(pod: Pod): void {
    if ((pod.metadata?.deletionTimestamp ?? undefined) !== undefined) {
      // A restarted controller can see a pod already being deleted: count it as a deletion.
      this.#deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref !== undefined) {
      const rs = this.#resolveControllerRef(pod.metadata?.namespace ?? "", ref);
      if (rs === undefined) return;
      const key = metaNamespaceKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.#matchingSets(pod)) this.#enqueue(rs);
  }

  #updatePod(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return; // a resync
    const labelChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
    if ((cur.metadata?.deletionTimestamp ?? undefined) !== undefined) {
      // Graceful deletion: the pod is already not active; count it now so the replacement is made at once.
      this.#deletePod(cur);
      if (labelChanged) this.#deletePod(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef !== undefined) {
      const rs = this.#resolveControllerRef(old.metadata?.namespace ?? "", oldRef);
      if (rs !== undefined) this.#enqueue(rs);
    }
    if (curRef !== undefined) {
      const rs = this.#resolveControllerRef(cur.metadata?.namespace ?? "", curRef);
      if (rs === undefined) return;
      this.#enqueue(rs);
      // A pod that just became ready becomes available minReadySeconds later: look again then.
      const minReady = (rs.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(metaNamespaceKey(rs), (minReady + 1) * 1000);
      return;
    }
    if (labelChanged || refChanged) for (const rs of this.#matchingSets(cur)) this.#enqueue(rs);
  }

  #deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    const ref = getControllerOf(pod);
    if (ref === undefined) return;
    const rs = this.#resolveControllerRef(pod.metadata?.namespace ?? "", ref);
    if (rs === undefined) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObservedOf(key, metaNamespaceKey(pod));
    this.queue.add(key);
  }

  /** The set with kind/apiVersion filled in (events need them; watch objects may lack them). */
  #typed(rs: Managed): Managed {
    return { ...rs, apiVersion: apiVersionOf(this.#kind.gvk), kind: this.#kind.gvk.kind } as Managed;
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = splitMetaNamespaceKey(key);
    const cached = this.#lister.get(namespace, name);
    if (cached === undefined) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const rs = this.#typed(cached);
    const needsSync = this.expectations.satisfiedExpectations(key);
    const selector = this.#kind.selector(rs);
    const active = this.#podLister.namespace(namespace).list().filter(isPodActive);
    const manager = new ControllerRefManager<Pod>({
      controller: rs,
      controllerKind: this.#kind.gvk,
      selector,
      client: this.#pods.namespace(namespace),
      canAdopt: recheckDeletionTimestamp(rs, this.#kind.gvk, () => this.#client.namespace(namespace).get(name)),
    });
    const filtered = await manager.claim(active);

    let manageErr: unknown = undefined;
    if (needsSync && (rs.metadata?.deletionTimestamp ?? undefined) === undefined) {
      try {
        await this.#manageReplicas(key, filtered, rs);
      } catch (err) {
        manageErr = err;
      }
    }
    const spec = rs.spec as { minReadySeconds?: number } | undefined;
    const minReadySeconds = spec?.minReadySeconds ?? 0;
    const replicas = this.#kind.replicas(rs);
    const status = calculateStatus(
      { status: rs.status as ReplicaSetStatus | undefined, replicas, minReadySeconds, template: this.#kind.template(rs) },
      filtered,
      manageErr,
      this.ctx.env.clock.wallMs(),
    );
    const updated = await this.#updateStatus(rs, status);
    const us = updated.status as ReplicaSetStatus | undefined;
    if (manageErr === undefined && minReadySeconds > 0 && (us?.readyReplicas ?? 0) === replicas && (us?.availableReplicas ?? 0) !== replicas) {
      this.queue.addAfter(key, minReadySeconds * 1000);
    }
    if (manageErr !== undefined) throw manageErr;
  }

  async #manageReplicas(key: string, filtered: Pod[], rs: Managed): Promise<void> {
    const ns = rs.metadata?.namespace ?? "";
    const decision = manageDecision(filtered.length, this.#kind.replicas(rs), this.#burstReplicas);
    if (decision.action === "create") {
      const template = this.#kind.template(rs);
      if (template === undefined) throw new Error(`Cannot create pods for ${key}: it has no pod template`);
      this.expectations.expectCreations(key, decision.count);
      const ref = newControllerRef(rs, this.#kind.gvk);
      const { successes, error } = await slowStartBatch(decision.count, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.#podControl.createPods(ns, template, rs, ref);
        } catch (err) {
          // The namespace is going away: not an error worth a retry.
          if (err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === NAMESPACE_TERMINATING_CAUSE)) return;
          throw err;
        }
      });
      // Creates that were skipped or failed will never be observed: stop expecting them.
      for (let i = successes; i < decision.count; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (decision.action === "delete") {
      const related = this.#indirectlyRelatedPods(rs);
      const victims = getPodsToDelete(filtered, related, decision.count, this.ctx.env.clock.wallMs());
      this.expectations.expectDeletionsOf(key, victims.map((p) => metaNamespaceKey(p)));
      const results = await Promise.allSettled(
        victims.map(async (p) => {
          try {
            await this.#podControl.deletePod(ns, p.metadata!.name!, rs);
          } catch (err) {
            // A delete that failed is never observed: stop expecting it.
            this.expectations.deletionObservedOf(key, metaNamespaceKey(p));
            if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    }
  }

  /**
   * Pods of every set that shares this set's controller (a Deployment's old and new sets), so the
   * ranking sees how crowded each node is across the whole rollout (getIndirectlyRelatedPods).
   */
  #indirectlyRelatedPods(rs: Managed): Pod[] {
    const ns = rs.metadata?.namespace ?? "";
    const owner = getControllerOf(rs);
    const sets =
      owner === undefined ? [rs] : this.#lister.namespace(ns).list().filter((o) => getControllerOf(o)?.uid === owner.uid);
    const uids = new Set(sets.map((s) => s.metadata?.uid));
    if (!uids.has(rs.metadata?.uid)) uids.add(rs.metadata?.uid);
    return this.#podLister
      .namespace(ns)
      .list()
      .filter((p) => uids.has(getControllerOf(p)?.uid));
  }

  /** Writes status when it changed; one conflict is retried on a fresh read (updateReplicaSetStatus). */
  async #updateStatus(rs: Managed, status: ReplicaSetStatus): Promise<Managed> {
    const generation = rs.metadata?.generation ?? 0;
    if (!statusChanged(rs.status as ReplicaSetStatus | undefined, status, generation)) return rs;
    const next = { ...status, observedGeneration: generation };
    const c = this.#client.namespace(rs.metadata?.namespace ?? "");
    let current: Managed = rs;
    for (let i = 0; ; i++) {
      try {
        return await c.updateStatus({ ...current, status: next } as Managed);
      } catch (err) {
        if (i >= STATUS_UPDATE_RETRIES) throw err;
        current = await c.get(rs.metadata!.name!);
      }
    }
  }
}

/** The ReplicationController manager: the same controller over core/v1 ReplicationControllers. */
export function newReplicationManager(ctx: ControllerContext, options: ReplicaSetControllerOptions = {}): ReplicaSetController {
  return new ReplicaSetController(ctx, REPLICATION_CONTROLLER_ADAPTER, options);
}
