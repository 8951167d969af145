/**
 * What a Service's EndpointSlices should become (upstream's staging endpointslice reconciler.go, for
 * the IPv4 address type): the pods' endpoints grouped by the set of ports they offer, each group
 * placed into slices of at most `maxEndpointsPerSlice`. Existing slices keep the endpoints still
 * wanted (updated in place), lose the others, and are filled before new slices are made; slices whose
 * port set nobody offers any more are deleted (or reused for a new slice); a Service with no
 * endpoints keeps one empty placeholder slice. Pure: the controller does the writes.
 */
import type { Node, Pod, Service } from "kubernetes-types/core/v1.js";
import type { Endpoint, EndpointPort, EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { apiEqual, findPort, IS_HEADLESS_SERVICE_LABEL, LAST_CHANGE_TRIGGER_TIME_ANNOTATION, podIPForService, rfc3339Nano, shouldPodBeInEndpoints, shouldSetHostname } from "../endpoints/endpoints_util.js";
import { isPodReady } from "../util/pod_util.js";

/** Upstream's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
export const LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";
export const LABEL_TOPOLOGY_ZONE = "topology.kubernetes.io/zone";

export interface ReconcileInput {
  readonly service: Service;
  readonly pods: readonly Pod[];
  /** The Service's slices managed by this controller. */
  readonly existing: readonly EndpointSlice[];
  readonly nodes?: (name: string) => Node | undefined;
  /** For the last-change-trigger-time annotation on written slices; undefined clears it. */
  readonly triggerTimeMs?: number;
  readonly maxEndpointsPerSlice?: number;
}

export interface ReconcilePlan {
  /** No metadata.name: created with generateName `<service>-`. */
  readonly create: EndpointSlice[];
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

/** The service's ports as the pod offers them (upstream's getEndpointPorts): unresolvable ones are left out. */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol === undefined ? {} : { appProtocol: sp.appProtocol }) });
  }
  return out;
}

/** The endpoint a pod stands for (upstream's podToEndpoint). */
export function podToEndpoint(pod: Pod, service: Service, node: Node | undefined): Endpoint | undefined {
  const ip = podIPForService(service, pod);
  if (ip === undefined) return undefined;
  const serving = isPodReady(pod);
  const terminating = pod.metadata?.deletionTimestamp !== undefined;
  // For compatibility, "ready" is never true for a terminating pod unless publishNotReadyAddresses is set.
  const ready = service.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const nodeName = pod.spec?.nodeName ?? "";
  const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE] ?? "";
  return {
    addresses: [ip],
    conditions: { ready, serving, terminating },
    ...(shouldSetHostname(pod, service) ? { hostname: pod.spec!.hostname } : {}),
    targetRef: { kind: "Pod", namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    ...(nodeName === "" ? {} : { nodeName }),
    ...(zone === "" ? {} : { zone }),
  };
}

function portsKey(ports: readonly EndpointPort[] | undefined | null): string {
  return JSON.stringify(
    [...(ports ?? [])].map((p) => [p.name ?? "", p.port ?? 0, p.protocol ?? "TCP", p.appProtocol ?? ""]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}

function endpointKey(e: Endpoint): string {
  return `${e.targetRef?.uid ?? ""}|${[...e.addresses].sort().join(",")}|${e.hostname ?? ""}`;
}

/** The labels a slice of `service` carries; the service's own labels plus the controller's (setEndpointSliceLabels). */
export function sliceLabels(service: Service, current?: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = {};
  // Keep labels someone else set on the slice, but not the reserved ones; the service's win.
  for (const [k, v] of Object.entries(current ?? {})) if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== IS_HEADLESS_SERVICE_LABEL) labels[k] = v;
  for (const [k, v] of Object.entries(service.metadata?.labels ?? {})) if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== IS_HEADLESS_SERVICE_LABEL) labels[k] = v;
  const clusterIP = service.spec?.clusterIP ?? "";
  if (clusterIP === "" || clusterIP === "None") labels[IS_HEADLESS_SERVICE_LABEL] = "";
  labels[LABEL_SERVICE_NAME] = service.metadata!.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

/** A new, unnamed slice for `service` with the given ports (upstream's newEndpointSlice). */
export function newEndpointSlice(service: Service, ports: EndpointPort[]): EndpointSlice {
  const name = service.metadata!.name!;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: `${name}-`,
      namespace: service.metadata!.namespace!,
      labels: sliceLabels(service),
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name, uid: service.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType: "IPv4",
    endpoints: [],
    ports,
  };
}

function ownedBy(slice: EndpointSlice, service: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.kind === "Service" && r.uid === service.metadata?.uid && r.controller === true);
}

export function reconcile(input: ReconcileInput): ReconcilePlan {
  const { service } = input;
  const max = input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  // port set → (endpoint key → endpoint), in pod-name order so placement is deterministic.
  const desired = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  const pods = [...input.pods].sort((a, b) => ((a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1));
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const nodeName = pod.spec?.nodeName ?? "";
    const ep = podToEndpoint(pod, service, nodeName === "" ? undefined : input.nodes?.(nodeName));
    if (ep === undefined) continue;
    const ports = endpointPorts(service, pod);
    const key = portsKey(ports);
    let group = desired.get(key);
    if (group === undefined) desired.set(key, (group = { ports, endpoints: new Map() }));
    group.endpoints.set(endpointKey(ep), ep);
  }

  const toCreate: EndpointSlice[] = [];
  const toUpdate: EndpointSlice[] = [];
  let toDelete: EndpointSlice[] = [];
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of input.existing) {
    const key = portsKey(slice.ports);
    if (!desired.has(key) || slice.addressType !== "IPv4") toDelete.push(slice);
    else existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }
  for (const [key, group] of desired) {
    const r = reconcileByPortMapping(service, existingByPorts.get(key) ?? [], group.endpoints, group.ports, max);
    toCreate.push(...r.create);
    toUpdate.push(...r.update);
    toDelete.push(...r.delete);
  }

  // A Service with no endpoints still gets one empty slice, so consumers can tell "none" from "not yet".
  if (input.existing.length === toDelete.length && toCreate.length === 0) {
    const placeholder = newEndpointSlice(service, []);
    const keep = toDelete.length === 1 && isPlaceholderOf(toDelete[0]!, placeholder);
    if (keep) toDelete = [];
    else toCreate.push(placeholder);
  }

  // Creating and deleting at once: reuse the slices to be deleted (fewer watch events downstream).
  for (let i = 0; i < toDelete.length && toCreate.length > 0; ) {
    const victim = toDelete[i]!;
    const slice = toCreate[toCreate.length - 1]!;
    if (ownedBy(victim, service) && victim.addressType === slice.addressType) {
      toCreate.pop();
      const { generateName: _g, ...meta } = slice.metadata!;
      toUpdate.push({ ...slice, metadata: { ...victim.metadata, ...meta, name: victim.metadata!.name!, resourceVersion: victim.metadata?.resourceVersion } });
      toDelete.splice(i, 1);
    } else i++;
  }

  for (const s of [...toCreate, ...toUpdate]) setTriggerTime(s, input.triggerTimeMs);
  return { create: toCreate, update: toUpdate, delete: toDelete };
}

function isPlaceholderOf(slice: EndpointSlice, placeholder: EndpointSlice): boolean {
  return (slice.endpoints ?? []).length === 0 && (slice.ports ?? []).length === 0 && slice.addressType === placeholder.addressType && apiEqual(slice.metadata?.labels, placeholder.metadata?.labels);
}

function setTriggerTime(slice: EndpointSlice, ms: number | undefined): void {
  const annotations = { ...slice.metadata?.annotations };
  if (ms !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] = rfc3339Nano(ms);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME_ANNOTATION];
  slice.metadata = { ...slice.metadata };
  if (Object.keys(annotations).length > 0) slice.metadata.annotations = annotations;
  else delete slice.metadata.annotations;
}

function reconcileByPortMapping(
  service: Service,
  existing: readonly EndpointSlice[],
  wanted: Map<string, Endpoint>,
  ports: EndpointPort[],
  max: number,
): ReconcilePlan {
  const left = new Map(wanted);
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const update = new Set<string>();
  const del: EndpointSlice[] = [];
  // 1. Existing slices keep the endpoints still wanted, updated to their wanted state.
  for (const slice of existing) {
    const name = slice.metadata!.name!;
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let changed = false;
    for (const ep of slice.endpoints ?? []) {
      const k = endpointKey(ep);
      const got = left.get(k);
      if (got === undefined) continue;
      kept.push(got);
      if (!apiEqual(got, ep)) changed = true;
      left.delete(k);
    }
    const labels = sliceLabels(service, slice.metadata?.labels);
    const labelsChanged = !apiEqual(labels, slice.metadata?.labels ?? {});
    if (changed || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) del.push(slice);
      else {
        byName.set(name, { ...structuredClone(slice), endpoints: kept, metadata: { ...structuredClone(slice.metadata), labels } });
        update.add(name);
      }
    } else if (labelsChanged) {
      byName.set(name, { ...structuredClone(slice), metadata: { ...structuredClone(slice.metadata), labels } });
      update.add(name);
    } else unchanged.add(name);
  }
  const pop = (): Endpoint => {
    const [k, ep] = left.entries().next().value!;
    left.delete(k);
    return ep;
  };
  // 2. Fill the slices being updated anyway, fullest first.
  if (left.size > 0 && update.size > 0) {
    const slices = [...update].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const s of slices) while (left.size > 0 && s.endpoints.length < max) s.endpoints.push(pop());
  }
  // 3. What is left goes into the unchanged slice that ends closest to full, or into new slices.
  const create: EndpointSlice[] = [];
  while (left.size > 0) {
    let fill: EndpointSlice | undefined;
    if (left.size < max && unchanged.size > 0) {
      let bestOpen = Infinity;
      for (const n of unchanged) {
        const s = byName.get(n)!;
        const open = max - (s.endpoints?.length ?? 0);
        if (open >= left.size && open < bestOpen) {
          bestOpen = open;
          fill = s;
        }
      }
    }
    if (fill === undefined) fill = newEndpointSlice(service, ports);
    else {
      fill = structuredClone(fill);
      byName.set(fill.metadata!.name!, fill);
    }
    fill.endpoints ??= [];
    while (left.size > 0 && fill.endpoints.length < max) fill.endpoints.push(pop());
    const name = fill.metadata?.name;
    if (name !== undefined && name !== "") {
      update.add(name);
      unchanged.delete(name);
    } else create.push(fill);
  }
  return { create, update: [...update].map((n) => byName.get(n)!), delete: del };
}
