/**
 * Deletes everything in a terminating namespace, then finalizes it (upstream's
 * pkg/controller/namespace/deletion/namespaced_resources_deleter.go). One pass:
 *
 *   1. GET the namespace; nothing to do unless it has a deletionTimestamp and still lists the
 *      `kubernetes` finalizer in spec.finalizers.
 *   2. For every namespaced resource that can be listed and deleted (discovery order): DELETE the
 *      collection (propagation Background), then list what is left. Pods get an estimate first: the
 *      longest terminationGracePeriodSeconds of the non-terminal pods, the time the kubelets may take.
 *   3. Write the namespace's deletion conditions (only when they changed).
 *   4. Content left → ResourcesRemainingError carrying the estimate in seconds (the controller
 *      requeues after estimate/2+1 s); nothing left → PUT namespaces/<name>/finalize without `kubernetes`.
 *      The API server removes the namespace once its metadata.finalizers are empty too.
 */
import { formatTime } from "../../api/time.js";
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import { BUILTIN_RESOURCES, type ResourceInfo } from "../../api/resources.js";
import type { ApiError } from "../../api/status.js";
import type { Env } from "../../env/env.js";
import type { KubeObject, RestClient } from "../../client/rest_client.js";
import { updatedConditions, type DeletionTotals } from "./namespace_conditions.js";

/** The finalizer this controller owns in a namespace's spec.finalizers. */
export const FINALIZER_KUBERNETES = "kubernetes";
/** Upstream's wait when only finalizers hold content back: time for the GC and others to finish. */
export const FINALIZER_ESTIMATE_SECONDS = 15;
/** Conflicts tolerated on one namespace write before the pass fails and is retried with backoff. */
export const NAMESPACE_WRITE_ATTEMPTS_MAX = 5;

/** Content is still there; retry after about `estimateSeconds`. Not a failure. */
export class ResourcesRemainingError extends Error {
  override readonly name = "ResourcesRemainingError";
  constructor(readonly estimateSeconds: number) {
    super(`some content remains in the namespace, estimate ${estimateSeconds} seconds before it is removed`);
  }
}

/** The resources a namespace's deletion removes: namespaced, listable and deletable (upstream filters discovery on "delete"). */
export function deletableNamespacedResources(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES): ResourceInfo[] {
  return resources.filter((r) => r.namespaced && r.verbs.includes("delete") && r.verbs.includes("list"));
}

/** upstream's `<resource>.<group>` as in condition messages: "pods.", "deployments.apps". */
export function groupResourceString(r: Pick<ResourceInfo, "resource" | "group">): string {
  return `${r.resource}.${r.group}`;
}

/** The longest grace period among pods that have not finished (upstream's estimateGracefulTerminationForPods). */
export function estimateGracefulTerminationForPods(pods: readonly Pod[]): number {
  let estimate = 0;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const grace = pod.spec?.terminationGracePeriodSeconds;
    if (grace !== undefined && grace > estimate) estimate = grace;
  }
  return estimate;
}

/** What one resource's leftovers mean after its delete (upstream's gvrDeletionMetadata). */
export interface ResourceOutcome {
  readonly estimateSeconds: number;
  readonly remaining: number;
  readonly finalizers: ReadonlyMap<string, number>;
  /** Set when items remain that nothing (no grace period, no finalizer) explains. */
  readonly error?: string;
}

/** Judges what is still listed after a delete, given the grace estimate taken before it. */
export function judgeRemaining(info: ResourceInfo, namespace: string, items: readonly KubeObject[], estimateSeconds: number): ResourceOutcome {
  if (items.length === 0) return { estimateSeconds: 0, remaining: 0, finalizers: new Map() };
  const finalizers = new Map<string, number>();
  for (const item of items) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
  if (estimateSeconds !== 0) return { estimateSeconds, remaining: items.length, finalizers };
  if (finalizers.size > 0) return { estimateSeconds: FINALIZER_ESTIMATE_SECONDS, remaining: items.length, finalizers };
  const gvr = info.group === "" ? `/${info.version}, Resource=${info.resource}` : `${info.group}/${info.version}, Resource=${info.resource}`;
  return {
    estimateSeconds,
    remaining: items.length,
    finalizers,
    error: `unexpected items still remain in namespace: ${namespace} for gvr: ${gvr}`,
  };
}

function isReason(err: unknown, ...reasons: string[]): boolean {
  return reasons.includes((err as ApiError | undefined)?.reason ?? "");
}

export class NamespacedResourcesDeleter {
  readonly #client: RestClient;
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #resources: readonly ResourceInfo[];

  constructor(env: Pick<Env, "clock" | "log">, client: RestClient, resources: readonly ResourceInfo[] = deletableNamespacedResources()) {
    this.#env = env;
    this.#client = client;
    this.#resources = resources;
  }

  /** One deletion pass over namespace `name`; throws ResourcesRemainingError while content remains. */
  async delete(name: string): Promise<void> {
    const namespaces = this.#client.resource<Namespace>("", "v1", "namespaces");
    let ns: Namespace;
    try {
      ns = await namespaces.get(name);
    } catch (err) {
      if (isReason(err, "NotFound")) return;
      throw err;
    }
    if (ns.metadata?.deletionTimestamp === undefined) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;

    const estimate = await this.#deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    await this.#finalize(name);
  }

  async #deleteAllContent(ns: Namespace): Promise<number> {
    const namespace = ns.metadata!.name!;
    let estimate = 0;
    const remainingByResource = new Map<string, number>();
    const remainingByFinalizer = new Map<string, number>();
    const deleteErrors: string[] = [];
    for (const info of this.#resources) {
      let outcome: ResourceOutcome;
      try {
        outcome = await this.#deleteAllContentFor(info, namespace);
      } catch (err) {
        deleteErrors.push((err as Error).message);
        continue;
      }
      if (outcome.error !== undefined) deleteErrors.push(outcome.error);
      estimate = Math.max(estimate, outcome.estimateSeconds);
      if (outcome.remaining > 0) {
        remainingByResource.set(groupResourceString(info), outcome.remaining);
        for (const [f, n] of outcome.finalizers) remainingByFinalizer.set(f, (remainingByFinalizer.get(f) ?? 0) + n);
      }
    }
    const totals: DeletionTotals = { remainingByResource, remainingByFinalizer, deleteErrors, discoveryErrors: [] };
    // Conditions are written on every pass: a condition that went back to "ok" must say so.
    await this.#updateConditions(namespace, totals);
    if (deleteErrors.length > 0) throw new Error(deleteErrors.length === 1 ? deleteErrors[0] : `[${deleteErrors.join(", ")}]`);
    this.#env.log.debug("namespace content deletion pass", { namespace, estimate, remaining: remainingByResource.size });
    return estimate;
  }

  async #deleteAllContentFor(info: ResourceInfo, namespace: string): Promise<ResourceOutcome> {
    const rc = this.#client.resource(info.group, info.version, info.resource).namespace(namespace);
    let estimate = 0;
    if (info.group === "" && info.resource === "pods") {
      const pods = await rc.list();
      estimate = estimateGracefulTerminationForPods(pods.items as Pod[]);
    }
    if (info.verbs.includes("deletecollection")) {
      await rc.deleteCollection({}, { propagationPolicy: "Background" });
    } else {
      const items = await rc.list();
      for (const item of items.items) {
        try {
          await rc.delete(item.metadata!.name!, { propagationPolicy: "Background" });
        } catch (err) {
          if (!isReason(err, "NotFound")) throw err;
        }
      }
    }
    const left = await rc.list();
    return judgeRemaining(info, namespace, left.items, estimate);
  }

  async #updateConditions(name: string, totals: DeletionTotals): Promise<void> {
    const namespaces = this.#client.resource<Namespace>("", "v1", "namespaces");
    for (let attempt = 0; attempt < NAMESPACE_WRITE_ATTEMPTS_MAX; attempt++) {
      let ns: Namespace;
      try {
        ns = await namespaces.get(name);
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        throw err;
      }
      const conditions = updatedConditions(ns.status?.conditions, totals, formatTime(this.#env.clock.wallMs()));
      if (conditions === null) return;
      try {
        await namespaces.updateStatus({ ...ns, status: { ...ns.status, conditions } });
        return;
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        if (!isReason(err, "Conflict")) throw err;
      }
    }
    throw new Error(`Cannot update the conditions of namespace ${name}: ${NAMESPACE_WRITE_ATTEMPTS_MAX} conflicting writes in a row`);
  }

  /** Removes `kubernetes` from spec.finalizers through the finalize subresource. */
  async #finalize(name: string): Promise<void> {
    const namespaces = this.#client.resource<Namespace>("", "v1", "namespaces");
    for (let attempt = 0; attempt < NAMESPACE_WRITE_ATTEMPTS_MAX; attempt++) {
      let ns: Namespace;
      try {
        ns = await namespaces.get(name);
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        throw err;
      }
      const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
      try {
        await namespaces.updateSubresource(name, "finalize", { ...ns, spec: { ...ns.spec, finalizers } });
        this.#env.log.info("namespace finalized", { namespace: name });
        return;
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        if (!isReason(err, "Conflict")) throw err;
      }
    }
    throw new Error(`Cannot finalize namespace ${name}: ${NAMESPACE_WRITE_ATTEMPTS_MAX} conflicting writes in a row`);
  }
}
