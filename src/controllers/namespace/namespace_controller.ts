/**
 * The namespace controller (upstream's pkg/controller/namespace/namespace_controller.go): namespaces
 * with a deletionTimestamp are queued; a sync runs one deletion pass. While content remains (pods in
 * their grace period, objects with finalizers) the namespace comes back after estimate/2+1 seconds
 * rather than with error backoff; once empty it is finalized and the API server removes it.
 */
import type { Namespace } from "kubernetes-types/core/v1.js";
import { metaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { NamespacedResourcesDeleter, ResourcesRemainingError } from "./namespaced_resources_deleter.js";

/** Upstream's --namespace-sync-period default: a terminating namespace is looked at again this often. */
export const NAMESPACE_SYNC_PERIOD_MS = 5 * 60_000;

/** When to look at a namespace again after a pass that left content: upstream's estimate/2+1 seconds. */
export function requeueDelayMs(estimateSeconds: number): number {
  return (Math.floor(estimateSeconds / 2) + 1) * 1000;
}

export class NamespaceController extends QueueController {
  readonly #deleter: NamespacedResourcesDeleter;

  constructor(ctx: ControllerContext) {
    super(ctx, "namespace");
    this.#deleter = new NamespacedResourcesDeleter(ctx.env, ctx.client);
  }

  init(): void {
    const enqueue = (ns: Namespace) => {
      // Only namespaces being deleted have work here.
      if (ns.metadata?.deletionTimestamp === undefined) return;
      this.queue.add(metaNamespaceKey(ns));
    };
    this.ctx.informers.namespaces().addEventHandler(
      {
        onAdd: (ns) => enqueue(ns),
        onUpdate: (_old, ns) => enqueue(ns),
      },
      { resyncPeriodMs: NAMESPACE_SYNC_PERIOD_MS },
    );
  }

  protected async sync(key: string): Promise<void> {
    try {
      await this.#deleter.delete(key);
    } catch (err) {
      if (!(err instanceof ResourcesRemainingError)) throw err;
      // Waiting on grace periods or finalizers is progress, not failure: no backoff growth.
      this.ctx.env.log.debug("content remaining in namespace", { namespace: key, estimateSeconds: err.estimateSeconds });
      this.queue.addAfter(key, requeueDelayMs(err.estimateSeconds));
    }
  }
}
