/**
 * The Endpoints controller (upstream's pkg/controller/endpoint/endpoints_controller.go): for every
 * Service with a selector, an Endpoints object of the same name whose subsets list the matching pods'
 * IPs — ready pods under `addresses`, others under `notReadyAddresses` (all under `addresses` with
 * publishNotReadyAddresses) — with the ports each pod offers for the service's ports. Services without
 * a selector are left alone (their Endpoints are written by hand); a deleted Service's Endpoints go.
 */
import type { Endpoints, EndpointPort, EndpointSubset, Pod, Service } from "kubernetes-types/core/v1.js";
import type { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import { metaNamespaceKey, objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { QueueController, type ControllerContext } from "../controller.js";
import {
  apiEqual,
  findPort,
  IS_HEADLESS_SERVICE_LABEL,
  LAST_CHANGE_TRIGGER_TIME_ANNOTATION,
  podToEndpointAddress,
  repackSubsets,
  rfc3339Nano,
  serviceSelects,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from "./endpoints_util.js";
import { TriggerTimeTracker } from "./trigger_time_tracker.js";
import { isPodReady } from "../util/pod_util.js";

/** Upstream's maxCapacity: addresses beyond it are truncated and the object says so. */
export const ENDPOINTS_ADDRESSES_MAX = 1000;
export const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";

/** The subsets the service's pods call for (before capacity truncation), in canonical form. */
export function desiredSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const subsets: EndpointSubset[] = [];
  const add = (pod: Pod, address: NonNullable<EndpointSubset["addresses"]>[number], port: EndpointPort | undefined) => {
    const ports = port === undefined ? [] : [port];
    if (publishNotReady || isPodReady(pod)) subsets.push({ addresses: [address], ports });
    else subsets.push({ notReadyAddresses: [address], ports });
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const base = podToEndpointAddress(service, pod);
    if (base === undefined) continue;
    const address = shouldSetHostname(pod, service) ? { ...base, hostname: pod.spec!.hostname } : base;
    const servicePorts = service.spec?.ports ?? [];
    if (servicePorts.length === 0) {
      // A headless service may have no ports: its pods are listed without any.
      if (service.spec?.clusterIP === "None") add(pod, address, undefined);
      continue;
    }
    for (const sp of servicePorts) {
      const portNum = findPort(pod, sp);
      if (portNum === undefined) continue;
      add(pod, address, {
        ...(sp.name === undefined || sp.name === "" ? {} : { name: sp.name }),
        port: portNum,
        protocol: sp.protocol ?? "TCP",
        ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }),
      });
    }
  }
  return repackSubsets(subsets);
}

/** Keeps at most `max` addresses, ready ones first (upstream's truncateEndpoints, simplified to first-come). */
export function truncateSubsets(subsets: readonly EndpointSubset[], max: number = ENDPOINTS_ADDRESSES_MAX): { subsets: EndpointSubset[]; truncated: boolean } {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= max) return { subsets: [...subsets], truncated: false };
  let left = max;
  const take = <T>(xs: readonly T[] | undefined): T[] => {
    const got = (xs ?? []).slice(0, Math.max(0, left));
    left -= got.length;
    return got;
  };
  const ready = subsets.map((s) => take(s.addresses));
  const out = subsets.map((s, i) => ({ ...s, addresses: ready[i]!, notReadyAddresses: take(s.notReadyAddresses) }));
  return {
    subsets: out
      .map((s) => ({ ...(s.addresses.length > 0 ? { addresses: s.addresses } : {}), ...(s.notReadyAddresses.length > 0 ? { notReadyAddresses: s.notReadyAddresses } : {}), ...(s.ports === undefined ? {} : { ports: s.ports }) }))
      .filter((s) => s.addresses !== undefined || s.notReadyAddresses !== undefined),
    truncated: true,
  };
}

function withoutLabel(labels: Record<string, string> | undefined, key: string): Record<string, string> {
  const out = { ...labels };
  delete out[key];
  return out;
}

/**
 * The Endpoints to write, or null when `current` already says it all (subsets, labels, capacity
 * annotation): a change only of the trigger time does not cause a write, as upstream.
 */
export function endpointsToWrite(service: Service, current: Endpoints | undefined, subsets: readonly EndpointSubset[], triggerTimeMs: number | undefined): Endpoints | null {
  const { subsets: kept, truncated } = truncateSubsets(subsets);
  const serviceLabels = service.metadata?.labels ?? {};
  if (current !== undefined) {
    const compareLabels = withoutLabel(current.metadata?.labels, IS_HEADLESS_SERVICE_LABEL);
    const capacityOk = (current.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] !== undefined) === truncated;
    if (apiEqual(current.subsets ?? [], kept) && apiEqual(compareLabels, serviceLabels) && capacityOk) return null;
  }
  const base: Endpoints = current === undefined ? { apiVersion: "v1", kind: "Endpoints", metadata: { name: service.metadata!.name!, namespace: service.metadata!.namespace! } } : structuredClone(current);
  const annotations = { ...base.metadata?.annotations };
  if (triggerTimeMs !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] = rfc3339Nano(triggerTimeMs);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION];
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const clusterIP = service.spec?.clusterIP ?? "";
  const labels = clusterIP === "" || clusterIP === "None" ? { ...serviceLabels, [IS_HEADLESS_SERVICE_LABEL]: "" } : withoutLabel(serviceLabels, IS_HEADLESS_SERVICE_LABEL);
  return {
    ...base,
    metadata: {
      ...base.metadata,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : { annotations: undefined }),
    },
    subsets: kept,
  };
}

function isReason(err: unknown, reason: string): boolean {
  return (err as ApiError | undefined)?.reason === reason;
}

function terminating(err: unknown): boolean {
  return isReason(err, "Forbidden") && ((err as ApiError).details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating");
}

export class EndpointsController extends QueueController {
  readonly #tracker = new TriggerTimeTracker();
  readonly #recorder: EventRecorder;
  #services!: Lister<Service>;
  #pods!: Lister<Pod>;
  #endpoints!: Lister<Endpoints>;

  constructor(ctx: ControllerContext, options: { recorder?: EventRecorder } = {}) {
    super(ctx, "endpoint");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "endpoint-controller" });
  }

  init(): void {
    const svcInformer = this.ctx.informers.services();
    const podInformer = this.ctx.informers.pods();
    const epInformer = this.ctx.informers.endpoints();
    this.#services = new Lister(svcInformer.indexer);
    this.#pods = new Lister(podInformer.indexer);
    this.#endpoints = new Lister(epInformer.indexer);
    const enqueue = (obj: Service | Endpoints) => this.queue.add(metaNamespaceKey(obj));
    svcInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: (s) => this.queue.add(metaNamespaceKey(s)) });
    epInformer.addEventHandler({ onDelete: (e) => this.queue.add(metaNamespaceKey(e)) });
    podInformer.addEventHandler({
      onAdd: (pod) => this.#enqueueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.#enqueueServicesOf(pod);
        // A pod whose labels changed may have left services it no longer matches.
        if (!apiEqual(old.metadata?.labels, pod.metadata?.labels)) this.#enqueueServicesOf(old);
      },
      onDelete: (obj) => this.#enqueueServicesOf(objectOfDelete(obj)),
    });
  }

  #enqueueServicesOf(pod: Pod): void {
    const ns = pod.metadata?.namespace;
    if (ns === undefined) return;
    for (const svc of this.#services.namespace(ns).list()) if (serviceSelects(svc, pod.metadata?.labels)) this.queue.add(metaNamespaceKey(svc));
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = splitMetaNamespaceKey(key);
    const endpoints = this.ctx.client.resource<Endpoints>("", "v1", "endpoints").namespace(namespace);
    const service = this.#services.get(namespace, name);
    if (service === undefined) {
      // The service is gone: so is its Endpoints object (only if this controller would have made it).
      if (this.#endpoints.get(namespace, name) !== undefined) {
        try {
          await endpoints.delete(name);
        } catch (err) {
          if (!isReason(err, "NotFound")) throw err;
        }
      }
      this.#tracker.deleteService(namespace, name);
      return;
    }
    if (service.spec?.type === "ExternalName") return;
    if (service.spec?.selector === undefined || service.spec.selector === null) return;
    const pods = this.#pods.namespace(namespace).list().filter((p) => serviceSelects(service, p.metadata?.labels));
    // Computed on every sync so the tracker sees each state, even when no write follows.
    const triggerTimeMs = this.#tracker.compute(service, pods);
    const subsets = desiredSubsets(service, pods);
    const current = this.#endpoints.get(namespace, name);
    const next = endpointsToWrite(service, current, subsets, triggerTimeMs);
    if (next === null) return;
    const creating = current === undefined;
    try {
      if (creating) await endpoints.create(next);
      else await endpoints.update(next);
    } catch (err) {
      // Don't retry creating in a namespace that is going away.
      if (creating && terminating(err)) return;
      const verb = creating ? "create" : "update";
      this.#recorder.event(next, "Warning", creating ? "FailedToCreateEndpoint" : "FailedToUpdateEndpoint", `Failed to ${verb} endpoint for service ${namespace}/${name}: ${(err as Error).message}`);
      throw err;
    }
  }
}
