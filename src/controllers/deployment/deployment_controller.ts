/**
 * The Deployment controller (pkg/controller/deployment, Kubernetes 1.32). One sync of `ns/name`:
 *   1. claim the namespace's ReplicaSets by the Deployment's selector (adopt / release);
 *   2. being deleted → status only; paused or a scaling event (spec.replicas differs from an active
 *      set's desired-replicas annotation) → resize the sets in proportion (`planScale`);
 *   3. otherwise roll out: RollingUpdate grows the new set within maxSurge, then shrinks old sets
 *      while availability stays at or above replicas - maxUnavailable; Recreate scales every old set
 *      to 0, waits until no old pod is left, then creates/scales the new set;
 *   4. write status and the Progressing / Available conditions; requeue a stuck rollout at its
 *      progress deadline; delete old sets beyond revisionHistoryLimit once the rollout is complete.
 * The new ReplicaSet is `<deployment>-<pod-template-hash>` (see pod_template_hash.ts) with the
 * revision annotations; the Deployment's annotations (kubernetes.io/change-cause) are copied to it
 * so `kubectl rollout history` shows them and `kubectl rollout undo` copies them back.
 */
import type { Deployment, DeploymentStatus, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import { selectorFromLabelSelector } from "../../client/label_selector.js";
import type { Lister } from "../../client/lister.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";
import { DeletedFinalStateUnknown, metaNamespaceKey, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { ControllerRefManager, DEPLOYMENT_KIND, getControllerOf, newControllerRef, recheckDeletionTimestamp } from "../util/controller_ref.js";
import { NAMESPACE_TERMINATING_CAUSE } from "../util/pod_control.js";
import {
  deploymentComplete,
  equalIgnoreHash,
  FAILED_RS_CREATE_REASON,
  filterActive,
  findNewReplicaSet,
  findOldReplicaSets,
  FOUND_NEW_RS_REASON,
  getCondition,
  hasProgressDeadline,
  isScalingEvent,
  maxRevision,
  maxSurge,
  NEW_REPLICA_SET_REASON,
  newCondition,
  newRSNewReplicas,
  PAUSED_DEPLOY_REASON,
  planNewReplicaSet,
  planOldReplicaSets,
  planScale,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  replicaSetsToCleanUp,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  RESUMED_DEPLOY_REASON,
  rolloutStatus,
  calculateStatus,
  rsReplicas,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  stuckRequeueAfterMs,
  TIMED_OUT_REASON,
  actualReplicaCount,
} from "./deployment_util.js";
import { computeHash } from "./pod_template_hash.js";

export const SCALING_REPLICA_SET_REASON = "ScalingReplicaSet";
export const SELECTING_ALL_REASON = "SelectingAll";

/** The event a resize records on the Deployment ("Scaled up replica set web-5d9c8 to 3 from 0"). */
export function scalingMessage(operation: string, rsName: string, to: number, from: number): string {
  return `Scaled ${operation} replica set ${rsName} to ${to} from ${from}`;
}

export interface DeploymentControllerOptions {
  readonly recorder?: EventRecorder;
}

export class DeploymentController extends QueueController {
  readonly recorder: EventRecorder;
  readonly #dLister: Lister<Deployment>;
  readonly #rsLister: Lister<ReplicaSet>;
  readonly #podLister: Lister<Pod>;
  readonly #deployments: ResourceClient<Deployment>;
  readonly #replicaSets: ResourceClient<ReplicaSet>;

  constructor(ctx: ControllerContext, options: DeploymentControllerOptions = {}) {
    super(ctx, "deployment");
    this.recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "deployment-controller" });
    this.#dLister = ctx.informers.listerFor<Deployment>("apps", "v1", "deployments");
    this.#rsLister = ctx.informers.listerFor<ReplicaSet>("apps", "v1", "replicasets");
    this.#podLister = ctx.informers.listerFor<Pod>("", "v1", "pods");
    this.#deployments = ctx.client.resource<Deployment>("apps", "v1", "deployments");
    this.#replicaSets = ctx.client.resource<ReplicaSet>("apps", "v1", "replicasets");
  }

  init(): void {
    this.ctx.informers.deployments().addEventHandler({
      onAdd: (d) => this.#enqueue(d),
      onUpdate: (_old, cur) => this.#enqueue(cur),
      onDelete: (obj) => this.queue.add(metaNamespaceKey(obj as KubeObject | DeletedFinalStateUnknown<KubeObject>)),
    });
    this.ctx.informers.replicaSets().addEventHandler({
      onAdd: (rs) => this.#addReplicaSet(rs),
      onUpdate: (old, cur) => this.#updateReplicaSet(old, cur),
      onDelete: (obj) => this.#deleteReplicaSet(obj),
    });
    this.ctx.informers.pods().addEventHandler({ onDelete: (obj) => this.#deletePod(obj) });
  }

  #enqueue(d: KubeObject): void {
    this.queue.add(metaNamespaceKey(d));
  }

  #resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string }): Deployment | undefined {
    if (ref.kind !== DEPLOYMENT_KIND.kind) return undefined;
    const d = this.#dLister.get(namespace, ref.name);
    return d === undefined || d.metadata?.uid !== ref.uid ? undefined : d;
  }

  /** Deployments whose selector matches an orphan ReplicaSet (getDeploymentsForReplicaSet). */
  #deploymentsFor(rs: ReplicaSet): Deployment[] {
    if (Object.keys(rs.metadata?.labels ?? {}).length === 0) return [];
    return this.#dLister
      .namespace(rs.metadata?.namespace ?? "")
      .list()
      .filter((d) => {
        const sel = selectorFromLabelSelector(d.spec?.selector);
        return !sel.empty() && sel.matches(rs.metadata?.labels);
      });
  }

  #addReplicaSet(rs: ReplicaSet): void {
    if ((rs.metadata?.deletionTimestamp ?? undefined) !== undefined) {
      this.#deleteReplicaSet(rs);
      return;
    }
    const ref = getControllerOf(rs);
    if (ref !== undefined) {
      const d = this.#resolveControllerRef(rs.metadata?.namespace ?? "", ref);
      if (d !== undefined) this.#enqueue(d);
      return;
    }
    for (const d of this.#deploymentsFor(rs)) this.#enqueue(d);
  }

  #updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef !== undefined) {
      const d = this.#resolveControllerRef(old.metadata?.namespace ?? "", oldRef);
      if (d !== undefined) this.#enqueue(d);
    }
    if (curRef !== undefined) {
      const d = this.#resolveControllerRef(cur.metadata?.namespace ?? "", curRef);
      if (d !== undefined) this.#enqueue(d);
      return;
    }
    const labelChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
    if (labelChanged || refChanged) for (const d of this.#deploymentsFor(cur)) this.#enqueue(d);
  }

  #deleteReplicaSet(obj: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    const ref = getControllerOf(rs);
    if (ref === undefined) return;
    const d = this.#resolveControllerRef(rs.metadata?.namespace ?? "", ref);
    if (d !== undefined) this.#enqueue(d);
  }

  /** A Recreate rollout waits for the old pods to go: their deletion is what lets it continue. */
  #deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
    const rsRef = getControllerOf(pod);
    if (rsRef === undefined || rsRef.kind !== "ReplicaSet") return;
    const ns = pod.metadata?.namespace ?? "";
    const rs = this.#rsLister.get(ns, rsRef.name);
    if (rs === undefined || rs.metadata?.uid !== rsRef.uid) return;
    const dRef = getControllerOf(rs);
    if (dRef === undefined) return;
    const d = this.#resolveControllerRef(ns, dRef);
    if (d !== undefined && d.spec?.strategy?.type === "Recreate") this.#enqueue(d);
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = splitMetaNamespaceKey(key);
    const cached = this.#dLister.get(namespace, name);
    if (cached === undefined) return;
    const d: Deployment = { ...structuredClone(cached), apiVersion: "apps/v1", kind: "Deployment" };
    const run = new DeploymentSync(this, d);
    await run.sync();
  }

  // The pieces DeploymentSync needs (kept here so the class fields stay private to this file).
  /** @internal */ get deployments(): ResourceClient<Deployment> {
    return this.#deployments;
  }
  /** @internal */ get replicaSets(): ResourceClient<ReplicaSet> {
    return this.#replicaSets;
  }
  /** @internal */ get rsLister(): Lister<ReplicaSet> {
    return this.#rsLister;
  }
  /** @internal */ get podLister(): Lister<Pod> {
    return this.#podLister;
  }
  /** @internal */ get context(): ControllerContext {
    return this.ctx;
  }
}

/** One sync of one Deployment: `d` is a private copy whose status and annotations it brings up to date. */
class DeploymentSync {
  readonly #c: DeploymentController;
  d: Deployment;
  /** The annotations as last written, so a changed revision annotation is written once. */
  #writtenAnnotations: string;

  constructor(c: DeploymentController, d: Deployment) {
    this.#c = c;
    this.d = d;
    this.#writtenAnnotations = JSON.stringify(d.metadata?.annotations ?? {});
  }

  get #ns(): string {
    return this.d.metadata?.namespace ?? "";
  }
  #now(): number {
    return this.#c.context.env.clock.wallMs();
  }
  #event(type: "Normal" | "Warning", reason: string, message: string): void {
    this.#c.recorder.event(this.d, type, reason, message);
  }

  async sync(): Promise<void> {
    const d = this.d;
    const sel = d.spec?.selector;
    if (sel !== undefined && (sel.matchLabels === undefined || Object.keys(sel.matchLabels).length === 0) && (sel.matchExpressions ?? []).length === 0) {
      this.#event("Warning", SELECTING_ALL_REASON, "This deployment is selecting all pods. A non-empty selector is required.");
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata?.generation ?? 0 };
        await this.#writeStatus();
      }
      return;
    }
    const rsList = await this.#claimReplicaSets();
    const podMap = this.#podMap(rsList);
    if ((d.metadata?.deletionTimestamp ?? undefined) !== undefined) {
      const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
      await this.#syncDeploymentStatus([...oldRSs, newRS], newRS);
      return;
    }
    await this.#checkPausedConditions();
    if (d.spec?.paused === true) return this.#syncScale(rsList);
    {
      const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
      if (isScalingEvent(d, [...oldRSs, newRS])) return this.#syncScale(rsList);
    }
    const strategy = d.spec?.strategy?.type ?? "RollingUpdate";
    if (strategy === "Recreate") return this.#rolloutRecreate(rsList, podMap);
    if (strategy === "RollingUpdate") return this.#rolloutRolling(rsList);
    throw new Error(`unexpected deployment strategy type: ${strategy}`);
  }

  /** The namespace's ReplicaSets this Deployment owns after adoption and release (getReplicaSetsForDeployment). */
  async #claimReplicaSets(): Promise<ReplicaSet[]> {
    const d = this.d;
    const all = this.#c.rsLister.namespace(this.#ns).list();
    const manager = new ControllerRefManager<ReplicaSet>({
      controller: d,
      controllerKind: DEPLOYMENT_KIND,
      selector: selectorFromLabelSelector(d.spec?.selector),
      client: this.#c.replicaSets.namespace(this.#ns),
      canAdopt: recheckDeletionTimestamp(d, DEPLOYMENT_KIND, () => this.#c.deployments.namespace(this.#ns).get(d.metadata!.name!)),
    });
    return (await manager.claim(all)).map((rs) => structuredClone(rs));
  }

  /** Pods of each owned ReplicaSet, by the set's uid (getPodMapForDeployment). */
  #podMap(rsList: readonly ReplicaSet[]): Map<string, Pod[]> {
    const sel = selectorFromLabelSelector(this.d.spec?.selector);
    const m = new Map<string, Pod[]>(rsList.map((rs) => [rs.metadata?.uid ?? "", []]));
    for (const pod of this.#c.podLister.namespace(this.#ns).list(sel)) {
      const ref = getControllerOf(pod);
      if (ref === undefined) continue;
      m.get(ref.uid)?.push(pod);
    }
    return m;
  }

  /** Writes annotation changes (the revision) and then the status (see the report: our status strategy drops annotations). */
  async #writeStatus(): Promise<void> {
    const d = this.d;
    const client = this.#c.deployments.namespace(this.#ns);
    const annotations = JSON.stringify(d.metadata?.annotations ?? {});
    if (annotations !== this.#writtenAnnotations) {
      const rev = d.metadata?.annotations?.[REVISION_ANNOTATION];
      const patched = await client.patch(d.metadata!.name!, "merge", { metadata: { annotations: { [REVISION_ANNOTATION]: rev ?? null } } });
      this.#writtenAnnotations = annotations;
      d.metadata = { ...d.metadata, resourceVersion: patched.metadata?.resourceVersion };
    }
    const updated = await client.updateStatus(d);
    d.metadata = { ...d.metadata, resourceVersion: updated.metadata?.resourceVersion };
  }

  /** New and old ReplicaSets, the new one's revision brought up (getAllReplicaSetsAndSyncRevision). */
  async #getAllReplicaSetsAndSyncRevision(rsList: ReplicaSet[], createIfNotExisted: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const oldRSs = findOldReplicaSets(this.d, rsList);
    const newRS = await this.#getNewReplicaSet(rsList, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  async #getNewReplicaSet(rsList: ReplicaSet[], oldRSs: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
    const d = this.d;
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing !== undefined) {
      const rsCopy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReadyNeedsUpdate = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyNeedsUpdate) {
        rsCopy.spec = { ...rsCopy.spec!, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        const updated = await this.#c.replicaSets.namespace(this.#ns).update(rsCopy);
        this.#replace(rsList, updated);
        return updated;
      }
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata?.annotations?.[REVISION_ANNOTATION] ?? "");
      if (hasProgressDeadline(d) && getCondition(d.status, "Progressing") === undefined) {
        d.status ??= {};
        setCondition(d.status, newCondition("Progressing", "True", FOUND_NEW_RS_REASON, `Found new replica set "${rsCopy.metadata?.name}"`, this.#now()));
        needsUpdate = true;
      }
      if (needsUpdate) await this.#writeStatus();
      return rsCopy;
    }
    if (!createIfNotExisted) return undefined;

    const template = structuredClone(d.spec!.template);
    const hash = computeHash(template, d.status?.collisionCount);
    const labels = { ...(d.spec?.template?.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    template.metadata = { ...template.metadata, labels };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const newRS: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: `${d.metadata!.name}-${hash}`, namespace: this.#ns, ownerReferences: [newControllerRef(d, DEPLOYMENT_KIND)], labels: { ...labels } },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = newReplicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.#c.replicaSets.namespace(this.#ns).create(newRS);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "AlreadyExists") {
        alreadyExists = true;
        const rs = this.#c.rsLister.get(this.#ns, newRS.metadata!.name!);
        if (rs === undefined) throw err; // the cache has not seen it yet: retry
        const ref = getControllerOf(rs);
        if (ref !== undefined && ref.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = structuredClone(rs);
        } else {
          // A different template hashed to the same name: bump collisionCount and try again next sync.
          d.status = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          try {
            await this.#writeStatus();
            this.#c.context.env.log.info("found a hash collision for deployment; bumping collisionCount", { deployment: `${this.#ns}/${d.metadata?.name}`, collisionCount: d.status.collisionCount });
          } catch {
            // The requeue retries the whole thing.
          }
          throw err;
        }
      } else if (err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === NAMESPACE_TERMINATING_CAUSE)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata!.name}": ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition("Progressing", "False", FAILED_RS_CREATE_REASON, msg, this.#now()));
          await this.#writeStatus().catch(() => undefined);
        }
        this.#event("Warning", FAILED_RS_CREATE_REASON, msg);
        throw err;
      }
    }
    if (!alreadyExists && newReplicas > 0) this.#event("Normal", SCALING_REPLICA_SET_REASON, scalingMessage("up", created.metadata!.name!, newReplicas, 0));
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition("Progressing", "True", NEW_REPLICA_SET_REASON, `Created new replica set "${created.metadata?.name}"`, this.#now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.#writeStatus();
    rsList.push(created);
    return created;
  }

  #replace(list: ReplicaSet[], rs: ReplicaSet): void {
    const i = list.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
    if (i >= 0) list[i] = rs;
  }

  /** Resizes one ReplicaSet and refreshes its replicas annotations; records ScalingReplicaSet (scaleReplicaSet). */
  async #scaleReplicaSet(rs: ReplicaSet, newScale: number, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const d = this.d;
    const sizeNeedsUpdate = rsReplicas(rs) !== newScale;
    const max = replicasOf(d) + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    setReplicasAnnotations(copy, replicasOf(d), max);
    const updated = await this.#c.replicaSets.namespace(this.#ns).update(copy);
    if (sizeNeedsUpdate) this.#event("Normal", SCALING_REPLICA_SET_REASON, scalingMessage(operation, rs.metadata!.name!, newScale, oldScale));
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  async #scaleAndRecord(rs: ReplicaSet, newScale: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.#scaleReplicaSet(rs, newScale, rsReplicas(rs) < newScale ? "up" : "down");
  }

  /** Paused or a scaling event: resize in proportion, clean up when paused, write status (sync). */
  async #syncScale(rsList: ReplicaSet[]): Promise<void> {
    const d = this.d;
    const { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    let current = { newRS, oldRSs: [...oldRSs] };
    for (const p of planScale(d, current.newRS, current.oldRSs)) {
      const r = p.operation === "" ? await this.#scaleReplicaSet(p.rs, p.replicas, "") : await this.#scaleReplicaSet(p.rs, p.replicas, p.operation);
      current = this.#swap(current, r.rs);
    }
    if (d.spec?.paused === true) await this.#cleanup(current.oldRSs);
    await this.#syncDeploymentStatus([...current.oldRSs, current.newRS], current.newRS);
  }

  #swap(cur: { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }, rs: ReplicaSet): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    if (cur.newRS?.metadata?.uid === rs.metadata?.uid) return { newRS: rs, oldRSs: cur.oldRSs };
    return { newRS: cur.newRS, oldRSs: cur.oldRSs.map((o) => (o.metadata?.uid === rs.metadata?.uid ? rs : o)) };
  }

  async #rolloutRolling(rsList: ReplicaSet[]): Promise<void> {
    const d = this.d;
    const got = await this.#getAllReplicaSetsAndSyncRevision(rsList, true);
    let newRS = got.newRS!;
    let oldRSs = got.oldRSs;
    // Scale up, if we can.
    const target = planNewReplicaSet(d, [...oldRSs, newRS], newRS);
    if (target !== undefined) {
      const r = await this.#scaleAndRecord(newRS, target);
      newRS = r.rs;
      if (r.scaled) return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
    }
    // Scale down, if we can.
    let scaledDown = false;
    for (const p of planOldReplicaSets(d, [...oldRSs, newRS], filterActive(oldRSs), newRS)) {
      const current = oldRSs.find((o) => o.metadata?.uid === p.rs.metadata?.uid) ?? p.rs;
      const r = await this.#scaleAndRecord(current, p.replicas);
      oldRSs = oldRSs.map((o) => (o.metadata?.uid === r.rs.metadata?.uid ? r.rs : o));
      scaledDown ||= r.scaled;
    }
    if (scaledDown) return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
    if (deploymentComplete(d, d.status ?? {})) await this.#cleanup(oldRSs);
    return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  async #rolloutRecreate(rsList: ReplicaSet[], podMap: Map<string, Pod[]>): Promise<void> {
    const d = this.d;
    // Never create the new set before the old ones are gone: that is what Recreate promises.
    let { newRS, oldRSs } = await this.#getAllReplicaSetsAndSyncRevision(rsList, false);
    let scaledDown = false;
    for (const rs of filterActive(oldRSs)) {
      const r = await this.#scaleAndRecord(rs, 0);
      oldRSs = oldRSs.map((o) => (o.metadata?.uid === r.rs.metadata?.uid ? r.rs : o));
      scaledDown ||= r.scaled;
    }
    if (scaledDown) return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
    if (oldPodsRunning(newRS, oldRSs, podMap)) return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
    if (newRS === undefined) {
      const got = await this.#getAllReplicaSetsAndSyncRevision(rsList, true);
      newRS = got.newRS;
      oldRSs = got.oldRSs;
    }
    if (newRS !== undefined) newRS = (await this.#scaleAndRecord(newRS, replicasOf(d))).rs;
    if (deploymentComplete(d, d.status ?? {})) await this.#cleanup(oldRSs);
    return this.#syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  /** Deletes old ReplicaSets beyond revisionHistoryLimit (cleanupDeployment). */
  async #cleanup(oldRSs: readonly ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(this.d, oldRSs)) {
      try {
        await this.#c.replicaSets.namespace(this.#ns).delete(rs.metadata!.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      }
    }
  }

  /** Progressing Unknown with DeploymentPaused / DeploymentResumed when pausing or resuming (checkPausedConditions). */
  async #checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, "Progressing");
    if (cond !== undefined && cond.reason === TIMED_OUT_REASON) return;
    const pausedExists = cond !== undefined && cond.reason === PAUSED_DEPLOY_REASON;
    d.status ??= {};
    if (d.spec?.paused === true && !pausedExists) {
      setCondition(d.status, newCondition("Progressing", "Unknown", PAUSED_DEPLOY_REASON, "Deployment is paused", this.#now()));
    } else if (d.spec?.paused !== true && pausedExists) {
      setCondition(d.status, newCondition("Progressing", "Unknown", RESUMED_DEPLOY_REASON, "Deployment is resumed", this.#now()));
    } else {
      return;
    }
    await this.#writeStatus();
  }

  async #syncDeploymentStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const next = calculateStatus(allRSs, newRS, this.d, this.#now());
    if (statusEqual(this.d.status, next)) return;
    this.d.status = next;
    await this.#writeStatus();
  }

  async #syncRolloutStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = this.d;
    const now = this.#now();
    const next: DeploymentStatus = rolloutStatus(allRSs, newRS, d, now);
    if (statusEqual(d.status, next)) {
      const after = stuckRequeueAfterMs(d, next, now);
      const key = metaNamespaceKey(d);
      if (after === 0) this.#c.queue.addRateLimited(key);
      else if (after !== undefined) this.#c.queue.addAfter(key, after);
      return;
    }
    d.status = next;
    await this.#writeStatus();
  }
}

/** Any old pod not finished, or an old set still reporting pods (oldPodsRunning). */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: ReadonlyMap<string, readonly Pod[]>): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS !== undefined && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") continue;
      return true;
    }
  }
  return false;
}
