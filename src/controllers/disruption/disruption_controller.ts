/**
 * The disruption controller (pkg/controller/disruption): keeps each PodDisruptionBudget's status —
 * expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, disruptedPods, observedGeneration
 * and the DisruptionAllowed condition — which the eviction API reads to allow or refuse an eviction.
 * The scale of a pod's controller is found as upstream's finders do: ReplicationController,
 * Deployment (through its ReplicaSet), ReplicaSet, StatefulSet from the caches, any other kind
 * through its scale subresource. A failed sync leaves the budget safe: no disruptions allowed and a
 * SyncFailed condition.
 */
import type { Pod, ReplicationController } from "kubernetes-types/core/v1.js";
import type { Deployment, ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { ApiError } from "../../api/status.js";
import { rethrowIfAssertion } from "../../util/assert.js";
import { Lister } from "../../client/lister.js";
import { selectorFromLabelSelector } from "../../client/label_selector.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";
import type { SharedIndexInformer } from "../../client/shared_informer.js";
import { objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { ApiEventRecorder, rfc3339, type EventRecorder } from "../events/recorder.js";
import { getControllerOf } from "../util/controller_ref.js";
import { QueueController, type ControllerContext } from "../controller.js";
import {
  buildDisruptedPodMap,
  countHealthyPods,
  desiredPdbStatus,
  expectedPodCount,
  failSafeStatus,
  type ControllerScale,
} from "./disruption.js";

export interface DisruptionOptions {
  /** Defaults to an API recorder with source.component "controllermanager" (upstream's). */
  readonly recorder?: EventRecorder;
}

/** Go's %v of a LabelSelector, as upstream's UnmanagedPods message prints it. */
function goSelector(s: LabelSelector | undefined): string {
  if (s === undefined) return "nil";
  const labels = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => `${k}: ${s.matchLabels![k]},`)
    .join("");
  const exprs = (s.matchExpressions ?? []).map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(" ")}],},`).join("");
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

export class DisruptionController extends QueueController {
  readonly #pdbs: Lister<PodDisruptionBudget>;
  readonly #pods: Lister<Pod>;
  readonly #rcs: Lister<ReplicationController>;
  readonly #rss: Lister<ReplicaSet>;
  readonly #deployments: Lister<Deployment>;
  readonly #statefulSets: Lister<StatefulSet>;
  readonly #pdbClient: ResourceClient<PodDisruptionBudget>;
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: DisruptionOptions = {}) {
    super(ctx, "disruption");
    const f = ctx.informers;
    this.#pdbs = f.listerFor<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets");
    this.#pods = new Lister(f.pods().indexer);
    this.#rcs = f.listerFor<ReplicationController>("", "v1", "replicationcontrollers");
    this.#rss = new Lister(f.replicaSets().indexer);
    this.#deployments = new Lister(f.deployments().indexer);
    this.#statefulSets = new Lister(f.statefulSets().indexer);
    this.#pdbClient = ctx.client.resource<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "controllermanager" });
  }

  init(): void {
    const f = this.ctx.informers;
    f.informerFor<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets").addEventHandler({
      onAdd: (p) => this.#enqueue(p),
      onUpdate: (_o, p) => this.#enqueue(p),
      onDelete: (p) => this.#enqueue(objectOfDelete(p)),
    });
    f.pods().addEventHandler({
      onAdd: (p) => this.#enqueueForPod(p),
      onUpdate: (o, p) => {
        this.#enqueueForPod(p);
        if (JSON.stringify(o.metadata?.labels ?? {}) !== JSON.stringify(p.metadata?.labels ?? {})) this.#enqueueForPod(o);
      },
      onDelete: (p) => this.#enqueueForPod(objectOfDelete(p)),
    });
    // A controller's scale changes the expected count of the budgets over its pods.
    const scaleChanged = (o: KubeObject): void => {
      const ns = o.metadata?.namespace;
      if (ns !== undefined) for (const pdb of this.#pdbs.namespace(ns).list()) this.#enqueue(pdb);
    };
    const controllers = [f.replicaSets(), f.deployments(), f.statefulSets(), f.informerFor<ReplicationController>("", "v1", "replicationcontrollers")] as unknown as SharedIndexInformer<KubeObject>[];
    for (const informer of controllers) informer.addEventHandler({ onAdd: scaleChanged, onUpdate: (_o, n) => scaleChanged(n) });
  }

  #enqueue(pdb: PodDisruptionBudget): void {
    this.queue.add(`${pdb.metadata?.namespace}/${pdb.metadata?.name}`);
  }

  /** getPdbForPod: every budget in the pod's namespace whose selector matches it. */
  #enqueueForPod(pod: Pod): void {
    const ns = pod.metadata?.namespace;
    if (ns === undefined) return;
    for (const pdb of this.#pdbs.namespace(ns).list()) {
      if (selectorFromLabelSelector(pdb.spec?.selector).matches(pod.metadata?.labels)) this.#enqueue(pdb);
    }
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const pdb = this.#pdbs.get(ns, name);
    if (pdb === undefined) return;
    try {
      await this.#trySync(pdb);
    } catch (err) {
      rethrowIfAssertion(err);
      if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound")) {
        if (err.reason === "NotFound") return;
        throw err;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.ctx.env.log.warn("disruption sync failed; failing safe", { pdb: key, error: message });
      await this.#pdbClient.updateStatus({ ...pdb, status: failSafeStatus(pdb, message, rfc3339(this.ctx.env.clock.wallMs())) });
    }
  }

  async #trySync(pdb: PodDisruptionBudget): Promise<void> {
    const ns = pdb.metadata?.namespace ?? "";
    const pods = this.#pods.namespace(ns).list(selectorFromLabelSelector(pdb.spec?.selector));
    if (pods.length === 0) this.#recorder.event(pdb, "Normal", "NoPods", "No matching pods found");

    const needsScale = (pdb.spec?.maxUnavailable !== undefined && pdb.spec.maxUnavailable !== null) || typeof pdb.spec?.minAvailable === "string";
    const scales = new Map<Pod, ControllerScale | null | undefined>();
    if (needsScale) {
      const byUid = new Map<string, ControllerScale | null>();
      for (const pod of pods) {
        const ref = getControllerOf(pod);
        if (ref === undefined) {
          scales.set(pod, undefined);
          continue;
        }
        let found = byUid.get(ref.uid);
        if (found === undefined) {
          found = await this.#findController(ref, ns);
          byUid.set(ref.uid, found);
        }
        scales.set(pod, found);
      }
    }
    let counted;
    try {
      counted = expectedPodCount(pdb, pods, (p) => scales.get(p));
    } catch (err) {
      this.#recorder.event(pdb, "Warning", "CalculateExpectedPodCountFailed", `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      throw err;
    }
    if (counted.unmanagedPods.length > 0) {
      this.#recorder.event(
        pdb,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${goSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const wallMs = this.ctx.env.clock.wallMs();
    const { disruptedPods, recheckWallMs, expired } = buildDisruptedPodMap(pods, pdb, wallMs);
    for (const pod of expired) {
      this.#recorder.event(pod, "Warning", "NotDeleted", `Pod was expected by PDB ${ns}/${pdb.metadata?.name} to be disrupted a while ago but still exists.`);
    }
    const currentHealthy = countHealthyPods(pods, disruptedPods, wallMs);
    const status = desiredPdbStatus(pdb, { currentHealthy, desiredHealthy: counted.desiredHealthy, expectedCount: counted.expectedCount, disruptedPods }, rfc3339(wallMs));
    if (status !== null) await this.#pdbClient.updateStatus({ ...pdb, status });
    if (recheckWallMs !== undefined) this.queue.addAfter(`${ns}/${pdb.metadata?.name}`, Math.max(0, recheckWallMs - wallMs) + 1);
  }

  /** The finders: a controller's uid and desired scale; null when the controller is gone. */
  async #findController(ref: { kind: string; apiVersion: string; name: string; uid: string }, ns: string): Promise<ControllerScale | null> {
    const group = ref.apiVersion.includes("/") ? ref.apiVersion.slice(0, ref.apiVersion.indexOf("/")) : "";
    const matches = (o: KubeObject | undefined): o is KubeObject => o !== undefined && o.metadata?.uid === ref.uid;
    if (ref.kind === "ReplicationController" && group === "") {
      const rc = this.#rcs.get(ns, ref.name);
      return matches(rc) ? { uid: ref.uid, scale: rc.spec?.replicas ?? 1 } : null;
    }
    if (ref.kind === "ReplicaSet" && group === "apps") {
      const rs = this.#rss.get(ns, ref.name);
      if (!matches(rs)) return null;
      const owner = getControllerOf(rs);
      if (owner !== undefined && owner.kind === "Deployment" && owner.apiVersion.startsWith("apps/")) {
        const d = this.#deployments.get(ns, owner.name);
        return d !== undefined && d.metadata?.uid === owner.uid ? { uid: owner.uid, scale: d.spec?.replicas ?? 1 } : null;
      }
      return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === "StatefulSet" && group === "apps") {
      const ss = this.#statefulSets.get(ns, ref.name);
      return matches(ss) ? { uid: ref.uid, scale: ss.spec?.replicas ?? 1 } : null;
    }
    // Any other kind that serves the scale subresource (getScaleController).
    try {
      const scale = await this.ctx.client.resourceForKind(ref.apiVersion, ref.kind).namespace(ns).getScale(ref.name);
      if (scale.metadata?.uid !== undefined && scale.metadata.uid !== ref.uid) return null;
      return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
    } catch (err) {
      rethrowIfAssertion(err);
      if (err instanceof ApiError && err.reason === "NotFound") return null;
      if (err instanceof Error && err.message.startsWith("Cannot find a resource for kind")) return null;
      throw err;
    }
  }
}
