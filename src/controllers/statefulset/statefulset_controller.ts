/**
 * The StatefulSet controller (pkg/controller/statefulset, Kubernetes 1.32): keeps the set's revision
 * history in ControllerRevisions, asks planStatefulSet (statefulset_core.ts) for this sync's steps,
 * runs them (claims before their pod), and writes status. Events as upstream's StatefulPodControl:
 *   Normal SuccessfulCreate  create Pod web-0 in StatefulSet web successful
 *   Normal SuccessfulCreate  create Claim www-web-0 Pod web-0 in StatefulSet web success
 *   Normal SuccessfulDelete  delete Pod web-2 in StatefulSet web successful
 */
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.js";
import { ApiError } from "../../api/status.js";
import { updateStatusRetryingOnce } from "../util/status_update.js";
import { Lister } from "../../client/lister.js";
import { selectorFromLabelSelector } from "../../client/label_selector.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import type { EventRecorder } from "../events/recorder.js";
import { ControllerRefManager, getControllerOf, recheckDeletionTimestamp } from "../util/controller_ref.js";
import {
  findEqualRevisions,
  newControllerRevision,
  nextRevisionNumber,
  revisionHash,
  revisionsToTruncate,
  sortRevisions,
  templateOfRevision,
  CONTROLLER_REVISION_HASH_LABEL,
} from "./controller_revision.js";
import { getOrdinal, planStatefulSet, updateIdentity, claimsFor, STATEFULSET_KIND, type StatefulSetStep } from "./statefulset_core.js";

export interface StatefulSetControllerOptions {
  readonly recorder: EventRecorder;
}

/** Revision history kept when spec.revisionHistoryLimit is unset (as the API default). */
const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export class StatefulSetController extends QueueController {
  readonly #sets: Lister<StatefulSet>;
  readonly #pods: Lister<Pod>;
  readonly #revisions: Lister<ControllerRevision>;
  readonly #claims: Lister<PersistentVolumeClaim>;
  readonly #setClient: ResourceClient<StatefulSet>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #revisionClient: ResourceClient<ControllerRevision>;
  readonly #claimClient: ResourceClient<PersistentVolumeClaim>;
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: StatefulSetControllerOptions) {
    super(ctx, "statefulset");
    this.#sets = new Lister<StatefulSet>(ctx.informers.statefulSets().indexer);
    this.#pods = new Lister<Pod>(ctx.informers.pods().indexer);
    this.#revisions = new Lister<ControllerRevision>(ctx.informers.controllerRevisions().indexer);
    this.#claims = ctx.informers.listerFor<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims");
    this.#setClient = ctx.client.resource<StatefulSet>("apps", "v1", "statefulsets");
    this.#podClient = ctx.client.resource<Pod>("", "v1", "pods");
    this.#revisionClient = ctx.client.resource<ControllerRevision>("apps", "v1", "controllerrevisions");
    this.#claimClient = ctx.client.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims");
    this.#recorder = options.recorder;
  }

  init(): void {
    this.ctx.informers.statefulSets().addEventHandler({
      onAdd: (s) => this.queue.add(metaNamespaceKey(s)),
      onUpdate: (_o, s) => this.queue.add(metaNamespaceKey(s)),
      onDelete: (s) => this.queue.add(metaNamespaceKey(objectOfDelete(s))),
    });
    const onPod = (p: Pod): void => {
      const ref = getControllerOf(p);
      if (ref?.kind === "StatefulSet") this.queue.add(`${p.metadata?.namespace}/${ref.name}`);
      else if (ref === undefined) {
        // An orphan may be adopted by a set whose selector matches it.
        for (const s of this.#sets.namespace(p.metadata?.namespace ?? "").list()) {
          if (selectorFromLabelSelector(s.spec?.selector).matches(p.metadata?.labels)) this.queue.add(metaNamespaceKey(s));
        }
      }
    };
    this.ctx.informers.pods().addEventHandler({
      onAdd: onPod,
      onUpdate: (o, p) => {
        if (o.metadata?.resourceVersion !== p.metadata?.resourceVersion) onPod(p);
      },
      onDelete: (p) => onPod(objectOfDelete(p)),
    });
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const cached = this.#sets.get(ns, name);
    if (cached === undefined) return;
    const set = structuredClone(cached);
    const pods = await this.#podsOf(set);
    const { current, update, revisions } = await this.#revisionsOf(set);
    const plan = planStatefulSet({
      set,
      pods,
      current: { template: templateOfRevision(current), hash: revisionHash(current), name: current.metadata!.name! },
      update: { template: templateOfRevision(update), hash: revisionHash(update), name: update.metadata!.name! },
      nowMs: this.ctx.env.clock.wallMs(),
    });
    let stepErr: unknown;
    try {
      await this.#run(set, plan.steps);
    } catch (err) {
      stepErr = err;
    }
    const status = { ...(set.status ?? {}), ...plan.status };
    if (JSON.stringify(status) !== JSON.stringify(set.status ?? {})) await this.#writeStatus(set, status);
    await this.#truncateHistory(set, pods, revisions, current, update);
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs);
    if (stepErr !== undefined) throw stepErr;
  }

  /** Writes status computed from the pods (retried once on a conflict: see updateStatusRetryingOnce). */
  async #writeStatus(set: StatefulSet, status: NonNullable<StatefulSet["status"]>): Promise<void> {
    await updateStatusRetryingOnce(this.#setClient.namespace(set.metadata!.namespace!), set, status);
  }

  async #podsOf(set: StatefulSet): Promise<Pod[]> {
    const ns = set.metadata?.namespace ?? "default";
    const selector = selectorFromLabelSelector(set.spec?.selector);
    const setName = set.metadata?.name ?? "";
    const manager = new ControllerRefManager<Pod>({
      controller: set,
      controllerKind: STATEFULSET_KIND,
      selector,
      client: this.#podClient.namespace(ns),
      canAdopt: recheckDeletionTimestamp(set, STATEFULSET_KIND, () => this.#setClient.namespace(ns).get(setName)),
    });
    // Only pods named like members of the set are claimed (isMemberOf).
    return manager.claim(this.#pods.namespace(ns).list(), [(p) => getOrdinal(setName, p) >= 0]);
  }

  /** The current and update revisions, creating or re-numbering the update revision (getStatefulSetRevisions). */
  async #revisionsOf(set: StatefulSet): Promise<{ current: ControllerRevision; update: ControllerRevision; revisions: ControllerRevision[] }> {
    const ns = set.metadata!.namespace!;
    const revisions = sortRevisions(this.#revisions.namespace(ns).list().filter((r) => getControllerOf(r)?.uid === set.metadata?.uid));
    const client = this.#revisionClient.namespace(ns);
    let update = newControllerRevision(set, STATEFULSET_KIND, set.spec?.template, nextRevisionNumber(revisions), set.status?.collisionCount);
    const equal = findEqualRevisions(revisions, update);
    const latest = revisions[revisions.length - 1];
    if (equal.length > 0 && latest !== undefined && equal[equal.length - 1]!.revision === latest.revision) {
      update = equal[equal.length - 1]!;
    } else if (equal.length > 0) {
      // A rollback to an earlier template: that revision becomes the newest.
      update = await client.update({ ...equal[equal.length - 1]!, revision: update.revision });
    } else {
      try {
        update = await client.create(update);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
        const existing = await client.get(update.metadata!.name!);
        if (JSON.stringify(existing.data) !== JSON.stringify(update.data)) {
          // A hash collision: the next try names the revision with a bumped collisionCount.
          await this.#setClient.namespace(ns).updateStatus({ ...set, status: { replicas: 0, ...(set.status ?? {}), collisionCount: (set.status?.collisionCount ?? 0) + 1 } });
          throw new Error(`controller revision ${update.metadata!.name} collides with a different template; collisionCount raised`);
        }
        update = existing;
      }
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, revisions: [...revisions.filter((r) => r.metadata?.name !== update.metadata?.name), update] };
  }

  async #run(set: StatefulSet, steps: readonly StatefulSetStep[]): Promise<void> {
    const ns = set.metadata!.namespace!;
    const pods = this.#podClient.namespace(ns);
    const setName = set.metadata!.name!;
    // Steps of one plan are independent (Parallel makes many); an OrderedReady plan has one.
    const results = await Promise.allSettled(
      steps.map(async (step) => {
        switch (step.kind) {
          case "create": {
            await this.#createClaims(set, step.ordinal, step.pod.metadata!.name!);
            try {
              await pods.create(step.pod);
            } catch (err) {
              if (err instanceof ApiError && err.reason === "AlreadyExists") return;
              this.#recorder.event(set, "Warning", "FailedCreate", `create Pod ${step.pod.metadata!.name} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
              throw err;
            }
            this.#recorder.event(set, "Normal", "SuccessfulCreate", `create Pod ${step.pod.metadata!.name} in StatefulSet ${setName} successful`);
            return;
          }
          case "delete": {
            const podName = step.pod.metadata!.name!;
            if (step.why === "failed") this.#recorder.event(set, "Warning", "RecreatingFailedPod", `StatefulSet ${ns}/${setName} is recreating failed Pod ${podName}`);
            if (step.why === "succeeded") this.#recorder.event(set, "Normal", "RecreatingTerminatedPod", `StatefulSet ${ns}/${setName} is recreating terminated Pod ${podName}`);
            try {
              await pods.delete(podName, { preconditions: { uid: step.pod.metadata?.uid ?? "" } });
            } catch (err) {
              if (err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict")) return;
              this.#recorder.event(set, "Warning", "FailedDelete", `delete Pod ${podName} in StatefulSet ${setName} failed error: ${(err as Error).message}`);
              throw err;
            }
            this.#recorder.event(set, "Normal", "SuccessfulDelete", `delete Pod ${podName} in StatefulSet ${setName} successful`);
            return;
          }
          case "updateIdentity": {
            const pod = structuredClone(step.pod);
            updateIdentity(set, pod);
            await pods.update(pod);
            this.#recorder.event(set, "Normal", "SuccessfulUpdate", `update Pod ${pod.metadata!.name} in StatefulSet ${setName} successful`);
            return;
          }
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Creates the ordinal's claims that do not exist (no provisioner binds them yet: they stay Pending). */
  async #createClaims(set: StatefulSet, ordinal: number, podName: string): Promise<void> {
    const ns = set.metadata!.namespace!;
    for (const claim of claimsFor(set, ordinal)) {
      if (this.#claims.get(ns, claim.metadata!.name!) !== undefined) continue;
      try {
        await this.#claimClient.namespace(ns).create(claim);
      } catch (err) {
        if (err instanceof ApiError && err.reason === "AlreadyExists") continue;
        this.#recorder.event(set, "Warning", "FailedCreate", `create Claim ${claim.metadata!.name} for Pod ${podName} in StatefulSet ${set.metadata!.name} failed error: ${(err as Error).message}`);
        throw err;
      }
      this.#recorder.event(set, "Normal", "SuccessfulCreate", `create Claim ${claim.metadata!.name} Pod ${podName} in StatefulSet ${set.metadata!.name} success`);
    }
  }

  async #truncateHistory(set: StatefulSet, pods: readonly Pod[], revisions: readonly ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set<string>([current.metadata!.name!, update.metadata!.name!]);
    for (const p of pods) {
      const h = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (h !== undefined) live.add(`${set.metadata!.name}-${h}`);
    }
    const limit = set.spec?.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
    for (const r of revisionsToTruncate(revisions, live, limit)) {
      try {
        await this.#revisionClient.namespace(set.metadata!.namespace!).delete(r.metadata!.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      }
    }
  }
}
