import type { Pod, Container } from "kubernetes-types/core/v1.js";
import { addQuantities, compareQuantities, milliValue, parseQuantity, quantityValue, type Quantity } from "../../api/validation/quantity.js";

/** schedutil.DefaultMilliCPURequest: what a container with no cpu request counts as when spreading. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** schedutil.DefaultMemoryRequest: 200 MB, for the same reason. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * Amounts of compute resources (upstream `framework.Resource`): cpu in millicores, memory and
 * ephemeral storage in bytes, extended resources and hugepages in `scalar` by name.
 */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

/** Names that are not cpu/memory/ephemeral-storage/pods and so live in `scalar`. */
export function isScalarResourceName(name: string): boolean {
  return name !== "cpu" && name !== "memory" && name !== "ephemeral-storage" && name !== "pods";
}

type ResourceList = Map<string, Quantity>;

function toList(obj: Record<string, unknown> | undefined): ResourceList {
  const out: ResourceList = new Map();
  if (obj === undefined) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string" && typeof v !== "number") continue;
    try {
      out.set(k, parseQuantity(v));
    } catch {
      // The API server validates quantities; a malformed one here counts as nothing rather than crashing the loop.
    }
  }
  return out;
}

function addList(into: ResourceList, add: ResourceList): void {
  for (const [k, q] of add) {
    const have = into.get(k);
    into.set(k, have === undefined ? q : addQuantities(have, q));
  }
}

function maxList(into: ResourceList, other: ResourceList): void {
  for (const [k, q] of other) {
    const have = into.get(k);
    if (have === undefined || compareQuantities(q, have) > 0) into.set(k, q);
  }
}

const NON_MISSING_DEFAULTS: ResourceList = new Map([
  ["cpu", parseQuantity(`${DEFAULT_MILLI_CPU_REQUEST}m`)],
  ["memory", parseQuantity(DEFAULT_MEMORY_REQUEST)],
]);

function containerRequests(c: Container, nonMissing: boolean): ResourceList {
  const reqs = toList(c.resources?.requests as Record<string, unknown> | undefined);
  if (nonMissing) for (const [k, q] of NON_MISSING_DEFAULTS) if (!reqs.has(k)) reqs.set(k, q);
  return reqs;
}

/**
 * resourcehelper.PodRequests: the sum of the containers, raised to the largest init container's
 * need (a restartable init container — a sidecar — keeps running, so it adds to the sum and to every
 * later init container), plus the pod overhead. With `nonMissing`, a container that requests no
 * cpu/memory counts as 100m/200MB: the spreading scores use that so best-effort pods still spread.
 */
export function podRequestsList(pod: Pod, options: { nonMissing?: boolean } = {}): ResourceList {
  const nonMissing = options.nonMissing === true;
  const reqs: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) addList(reqs, containerRequests(c, nonMissing));
  const restartable: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    let need = containerRequests(c, nonMissing);
    if (c.restartPolicy === "Always") {
      addList(reqs, need);
      addList(restartable, need);
      need = restartable;
    } else {
      const tmp: ResourceList = new Map();
      addList(tmp, need);
      addList(tmp, restartable);
      need = tmp;
    }
    maxList(initMax, need);
  }
  maxList(reqs, initMax);
  if (pod.spec?.overhead !== undefined) addList(reqs, toList(pod.spec.overhead as Record<string, unknown>));
  return reqs;
}

/** A resource list in the scheduler's units (cpu milli, everything else rounded-up units). */
export function resourceFromList(list: ResourceList): Resource {
  const r = emptyResource();
  for (const [k, q] of list) {
    switch (k) {
      case "cpu":
        r.milliCPU += Number(milliValue(q));
        break;
      case "memory":
        r.memory += Number(quantityValue(q));
        break;
      case "ephemeral-storage":
        r.ephemeralStorage += Number(quantityValue(q));
        break;
      case "pods":
        r.allowedPodNumber += Number(quantityValue(q));
        break;
      default:
        r.scalar.set(k, (r.scalar.get(k) ?? 0) + Number(quantityValue(q)));
    }
  }
  return r;
}

/** A node's allocatable (status.allocatable) as a Resource. */
export function resourceFromObject(obj: Record<string, unknown> | undefined): Resource {
  return resourceFromList(toList(obj));
}

/** What a pod requests (NodeResourcesFit's computePodResourceRequest). */
export function podRequests(pod: Pod): Resource {
  return resourceFromList(podRequestsList(pod));
}

/** A pod's cpu and memory with the non-zero defaults (NodeInfo.NonZeroRequested's share). */
export function podNonZeroRequests(pod: Pod): { milliCPU: number; memory: number } {
  const r = resourceFromList(podRequestsList(pod, { nonMissing: true }));
  return { milliCPU: r.milliCPU, memory: r.memory };
}

export function addResource(into: Resource, r: Resource, sign: 1 | -1 = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  into.allowedPodNumber += sign * r.allowedPodNumber;
  for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + sign * v);
}
