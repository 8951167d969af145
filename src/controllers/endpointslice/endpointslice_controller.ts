/**
 * The EndpointSlice controller (upstream's pkg/controller/endpointslice/endpointslice_controller.go):
 * for every Service with a selector, EndpointSlices labelled `kubernetes.io/service-name=<service>` and
 * `endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`, owned by the Service, named
 * `<service>-<5 random>` by the API server's generateName, each with at most 100 endpoints carrying
 * ready / serving / terminating conditions. The plan comes from reconciler.ts; this file feeds it
 * the caches and writes the result.
 */
import type { Node, Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { apiEqual, serviceSelects } from "../endpoints/endpoints_util.js";
import { TriggerTimeTracker } from "../endpoints/trigger_time_tracker.js";
import { EndpointSliceTracker } from "./endpointslice_tracker.js";
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MAX_ENDPOINTS_PER_SLICE, reconcile } from "./reconciler.js";

/** The cache has not caught up with this controller's own writes yet; retried with backoff. */
export class StaleInformerCacheError extends Error {
  override readonly name = "StaleInformerCacheError";
}

function isReason(err: unknown, reason: string): boolean {
  return (err as ApiError | undefined)?.reason === reason;
}

function terminating(err: unknown): boolean {
  return isReason(err, "Forbidden") && ((err as ApiError).details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating");
}

export class EndpointSliceController extends QueueController {
  readonly #tracker = new EndpointSliceTracker();
  readonly #triggerTimes = new TriggerTimeTracker();
  readonly #recorder: EventRecorder;
  readonly #maxEndpointsPerSlice: number;
  #services!: Lister<Service>;
  #pods!: Lister<Pod>;
  #slices!: Lister<EndpointSlice>;
  #nodes!: Lister<Node>;

  constructor(ctx: ControllerContext, options: { recorder?: EventRecorder; maxEndpointsPerSlice?: number } = {}) {
    super(ctx, "endpointslice");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "endpoint-slice-controller" });
    this.#maxEndpointsPerSlice = options.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  }

  init(): void {
    const inf = this.ctx.informers;
    const svcInformer = inf.services();
    const podInformer = inf.pods();
    const sliceInformer = inf.informerFor<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices");
    const nodeInformer = inf.nodes();
    this.#services = new Lister(svcInformer.indexer);
    this.#pods = new Lister(podInformer.indexer);
    this.#slices = new Lister(sliceInformer.indexer);
    this.#nodes = new Lister(nodeInformer.indexer);
    svcInformer.addEventHandler({
      onAdd: (s) => this.queue.add(metaNamespaceKey(s)),
      onUpdate: (_o, s) => this.queue.add(metaNamespaceKey(s)),
      onDelete: (s) => this.queue.add(metaNamespaceKey(s)),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.#enqueueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.#enqueueServicesOf(pod);
        if (!apiEqual(old.metadata?.labels, pod.metadata?.labels)) this.#enqueueServicesOf(old);
      },
      onDelete: (obj) => this.#enqueueServicesOf(objectOfDelete(obj)),
    });
    // A managed slice changed by anyone (or deleted): its service is reconciled again.
    const onSlice = (s: EndpointSlice) => {
      const labels = s.metadata?.labels ?? {};
      const service = labels[LABEL_SERVICE_NAME];
      if (labels[LABEL_MANAGED_BY] !== CONTROLLER_NAME || service === undefined || s.metadata?.namespace === undefined) return;
      this.queue.add(`${s.metadata.namespace}/${service}`);
    };
    sliceInformer.addEventHandler({ onAdd: onSlice, onUpdate: (_o, s) => onSlice(s), onDelete: (s) => onSlice(objectOfDelete(s)) });
  }

  #enqueueServicesOf(pod: Pod): void {
    const ns = pod.metadata?.namespace;
    if (ns === undefined) return;
    for (const svc of this.#services.namespace(ns).list()) if (serviceSelects(svc, pod.metadata?.labels)) this.queue.add(metaNamespaceKey(svc));
  }

  #managedSlices(namespace: string, service: string): EndpointSlice[] {
    return this.#slices.namespace(namespace).list(`${LABEL_SERVICE_NAME}=${service},${LABEL_MANAGED_BY}=${CONTROLLER_NAME}`);
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = splitMetaNamespaceKey(key);
    const service = this.#services.get(namespace, name);
    if (service === undefined) {
      // The slices are owned by the Service: the garbage collector removes them.
      this.#triggerTimes.deleteService(namespace, name);
      this.#tracker.deleteService(key);
      return;
    }
    if (service.spec?.type === "ExternalName") return;
    if (service.spec?.selector === undefined || service.spec.selector === null) return;
    if (service.metadata?.deletionTimestamp !== undefined) return;
    const existing = this.#managedSlices(namespace, name);
    if (this.#tracker.stale(key, existing)) throw new StaleInformerCacheError(`EndpointSlice informer cache is out of date for service ${key}`);
    const pods = this.#pods.namespace(namespace).list().filter((p) => serviceSelects(service, p.metadata?.labels));
    const triggerTimeMs = this.#triggerTimes.compute(service, pods);
    const plan = reconcile({
      service,
      pods,
      existing,
      nodes: (n) => this.#nodes.get("", n),
      maxEndpointsPerSlice: this.#maxEndpointsPerSlice,
      ...(triggerTimeMs === undefined ? {} : { triggerTimeMs }),
    });
    const slices = this.ctx.client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace(namespace);
    try {
      for (const s of plan.create) this.#tracker.written(key, await slices.create(s));
      for (const s of plan.update) this.#tracker.written(key, await slices.update(s));
      for (const s of plan.delete) {
        try {
          await slices.delete(s.metadata!.name!);
        } catch (err) {
          if (!isReason(err, "NotFound")) throw err;
        }
        this.#tracker.deleted(key, s.metadata!.name!);
      }
    } catch (err) {
      // Don't retry in a namespace that is going away.
      if (terminating(err)) return;
      this.#recorder.event(service, "Warning", "FailedToUpdateEndpointSlices", `Error updating Endpoint Slices for Service ${key}: ${(err as Error).message}`);
      throw err;
    }
  }
}
