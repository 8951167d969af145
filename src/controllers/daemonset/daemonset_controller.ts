/**
 * The DaemonSet controller (pkg/controller/daemon, Kubernetes 1.32): one pod per eligible node. A sync
 * keeps the template's ControllerRevision (whose hash labels the pods), lets planDaemonSet
 * (daemonset_core.ts) decide, creates pods pinned to their node by required node affinity (the
 * scheduler binds them, as upstream since 1.12), deletes failed, duplicate, misscheduled, orphaned and
 * outdated ones, and writes status. Node changes re-sync every DaemonSet.
 */
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { ControllerRevision, DaemonSet } from "kubernetes-types/apps/v1.js";
import { ApiError } from "../../api/status.js";
import { updateStatusRetryingOnce } from "../util/status_update.js";
import { Lister } from "../../client/lister.js";
import { selectorFromLabelSelector } from "../../client/label_selector.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import type { EventRecorder } from "../events/recorder.js";
import { ControllerRefManager, getControllerOf, newControllerRef, recheckDeletionTimestamp, type GroupVersionKind } from "../util/controller_ref.js";
import { ControllerExpectations } from "../util/expectations.js";
import { PodControl } from "../util/pod_control.js";
import {
  findEqualRevisions,
  newControllerRevision,
  nextRevisionNumber,
  revisionHash,
  revisionsToTruncate,
  sortRevisions,
  CONTROLLER_REVISION_HASH_LABEL,
} from "../statefulset/controller_revision.js";
import { daemonPodTemplate, pinToNode, planDaemonSet } from "./daemonset_core.js";

export const DAEMONSET_KIND: GroupVersionKind = { group: "apps", version: "v1", kind: "DaemonSet" };

/** As upstream's BurstReplicas: pods created or deleted in one sync. */
export const DAEMONSET_BURST_REPLICAS = 250;
const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export interface DaemonSetControllerOptions {
  readonly recorder: EventRecorder;
}

export class DaemonSetController extends QueueController {
  readonly #sets: Lister<DaemonSet>;
  readonly #pods: Lister<Pod>;
  readonly #nodes: Lister<Node>;
  readonly #revisions: Lister<ControllerRevision>;
  readonly #setClient: ResourceClient<DaemonSet>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #revisionClient: ResourceClient<ControllerRevision>;
  readonly #recorder: EventRecorder;
  readonly #podControl: PodControl;
  readonly expectations: ControllerExpectations;

  constructor(ctx: ControllerContext, options: DaemonSetControllerOptions) {
    super(ctx, "daemonset");
    this.#sets = new Lister<DaemonSet>(ctx.informers.daemonSets().indexer);
    this.#pods = new Lister<Pod>(ctx.informers.pods().indexer);
    this.#nodes = new Lister<Node>(ctx.informers.nodes().indexer);
    this.#revisions = new Lister<ControllerRevision>(ctx.informers.controllerRevisions().indexer);
    this.#setClient = ctx.client.resource<DaemonSet>("apps", "v1", "daemonsets");
    this.#podClient = ctx.client.resource<Pod>("", "v1", "pods");
    this.#revisionClient = ctx.client.resource<ControllerRevision>("apps", "v1", "controllerrevisions");
    this.#recorder = options.recorder;
    this.#podControl = new PodControl(ctx.client, options.recorder);
    this.expectations = new ControllerExpectations(ctx.env.clock);
  }

  init(): void {
    this.ctx.informers.daemonSets().addEventHandler({
      onAdd: (s) => this.queue.add(metaNamespaceKey(s)),
      onUpdate: (_o, s) => this.queue.add(metaNamespaceKey(s)),
      onDelete: (s) => {
        const key = metaNamespaceKey(objectOfDelete(s));
        this.expectations.deleteExpectations(key);
        this.queue.add(key);
      },
    });
    const keyOf = (p: Pod): string | undefined => {
      const ref = getControllerOf(p);
      return ref?.kind === "DaemonSet" ? `${p.metadata?.namespace}/${ref.name}` : undefined;
    };
    this.ctx.informers.pods().addEventHandler({
      onAdd: (p) => {
        const key = keyOf(p);
        if (key === undefined) return;
        this.expectations.creationObserved(key);
        this.queue.add(key);
      },
      onUpdate: (o, p) => {
        if (o.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
        const key = keyOf(p);
        if (key === undefined) return;
        if (p.metadata?.deletionTimestamp != null && o.metadata?.deletionTimestamp == null) this.expectations.deletionObserved(key);
        this.queue.add(key);
      },
      onDelete: (d) => {
        const p = objectOfDelete(d);
        const key = keyOf(p);
        if (key === undefined) return;
        if (p.metadata?.deletionTimestamp == null) this.expectations.deletionObserved(key);
        this.queue.add(key);
      },
    });
    const allSets = (): void => {
      for (const s of this.#sets.list()) this.queue.add(metaNamespaceKey(s));
    };
    this.ctx.informers.nodes().addEventHandler({ onAdd: allSets, onUpdate: (o, n) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion && allSets(), onDelete: allSets });
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const cached = this.#sets.get(ns, name);
    if (cached === undefined) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const ds = structuredClone(cached);
    if (ds.metadata?.deletionTimestamp != null) return;
    const pods = await this.#podsOf(ds);
    const { update, revisions } = await this.#revisionsOf(ds);
    const hash = revisionHash(update);
    const plan = planDaemonSet({
      ds,
      nodes: this.#nodes.list(),
      pods,
      hash,
      nowMs: this.ctx.env.clock.wallMs(),
      satisfiedExpectations: this.expectations.satisfiedExpectations(key),
    });
    let actErr: unknown;
    try {
      await this.#act(key, ds, hash, plan.nodesToCreate, plan.podsToDelete);
    } catch (err) {
      actErr = err;
    }
    const status = { ...(ds.status ?? {}), ...plan.status };
    if (JSON.stringify(status) !== JSON.stringify(ds.status ?? {})) await this.#writeStatus(ds, status);
    await this.#truncateHistory(ds, pods, revisions, update);
    if (actErr !== undefined) throw actErr;
  }

  /** Writes status computed from the pods (retried once on a conflict: see updateStatusRetryingOnce). */
  async #writeStatus(ds: DaemonSet, status: NonNullable<DaemonSet["status"]>): Promise<void> {
    await updateStatusRetryingOnce(this.#setClient.namespace(ds.metadata!.namespace!), ds, status);
  }

  async #podsOf(ds: DaemonSet): Promise<Pod[]> {
    const ns = ds.metadata?.namespace ?? "default";
    const manager = new ControllerRefManager<Pod>({
      controller: ds,
      controllerKind: DAEMONSET_KIND,
      selector: selectorFromLabelSelector(ds.spec?.selector),
      client: this.#podClient.namespace(ns),
      canAdopt: recheckDeletionTimestamp(ds, DAEMONSET_KIND, () => this.#setClient.namespace(ns).get(ds.metadata!.name!)),
    });
    return manager.claim(this.#pods.namespace(ns).list());
  }

  async #revisionsOf(ds: DaemonSet): Promise<{ update: ControllerRevision; revisions: ControllerRevision[] }> {
    const ns = ds.metadata!.namespace!;
    const revisions = sortRevisions(this.#revisions.namespace(ns).list().filter((r) => getControllerOf(r)?.uid === ds.metadata?.uid));
    const client = this.#revisionClient.namespace(ns);
    let update = newControllerRevision(ds, DAEMONSET_KIND, ds.spec?.template, nextRevisionNumber(revisions), ds.status?.collisionCount);
    const equal = findEqualRevisions(revisions, update);
    const latest = revisions[revisions.length - 1];
    if (equal.length > 0 && latest !== undefined && equal[equal.length - 1]!.revision === latest.revision) update = equal[equal.length - 1]!;
    else if (equal.length > 0) update = await client.update({ ...equal[equal.length - 1]!, revision: update.revision });
    else {
      try {
        update = await client.create(update);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
        const existing = await client.get(update.metadata!.name!);
        if (JSON.stringify(existing.data) !== JSON.stringify(update.data)) {
          await this.#setClient.namespace(ns).updateStatus({
            ...ds,
            status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, ...(ds.status ?? {}), collisionCount: (ds.status?.collisionCount ?? 0) + 1 },
          });
          throw new Error(`controller revision ${update.metadata!.name} collides with a different template; collisionCount raised`);
        }
        update = existing;
      }
    }
    return { update, revisions: [...revisions.filter((r) => r.metadata?.name !== update.metadata?.name), update] };
  }

  async #act(key: string, ds: DaemonSet, hash: string, nodesToCreate: readonly string[], podsToDelete: ReturnType<typeof planDaemonSet>["podsToDelete"]): Promise<void> {
    const ns = ds.metadata!.namespace!;
    const create = nodesToCreate.slice(0, DAEMONSET_BURST_REPLICAS);
    const del = podsToDelete.slice(0, DAEMONSET_BURST_REPLICAS);
    if (create.length + del.length === 0) return;
    this.expectations.setExpectations(key, create.length, del.length);
    const template = daemonPodTemplate(ds, hash);
    const ref = newControllerRef(ds, DAEMONSET_KIND);
    const errors: unknown[] = [];
    await Promise.all([
      ...create.map(async (node) => {
        try {
          await this.#podControl.createPods(ns, pinToNode(template, node), ds, ref);
        } catch (err) {
          this.expectations.creationObserved(key);
          errors.push(err);
        }
      }),
      ...del.map(async ({ pod, why }) => {
        const podName = pod.metadata!.name!;
        if (why === "failed") this.#recorder.event(ds, "Warning", "FailedDaemonPod", `Found failed daemon pod ${ns}/${podName} on node ${pod.spec?.nodeName ?? ""}, will try to kill it`);
        if (why === "succeeded") this.#recorder.event(ds, "Warning", "SucceededDaemonPod", `Found succeeded daemon pod ${ns}/${podName} on node ${pod.spec?.nodeName ?? ""}, will try to delete it`);
        try {
          await this.#podControl.deletePod(ns, podName, ds);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!(err instanceof ApiError && err.reason === "NotFound")) errors.push(err);
        }
      }),
    ]);
    if (errors.length > 0) throw errors[0];
  }

  async #truncateHistory(ds: DaemonSet, pods: readonly Pod[], revisions: readonly ControllerRevision[], update: ControllerRevision): Promise<void> {
    const live = new Set<string>([update.metadata!.name!]);
    for (const p of pods) {
      const h = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (h !== undefined) live.add(`${ds.metadata!.name}-${h}`);
    }
    for (const r of revisionsToTruncate(revisions, live, ds.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT)) {
      try {
        await this.#revisionClient.namespace(ds.metadata!.namespace!).delete(r.metadata!.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      }
    }
  }
}
