import type { Pod } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../../cache/node_info.js";
import { isScalarResourceName, podRequestsList, resourceFromList } from "../../framework/resource.js";

/** A resource a score looks at, with its weight (config.ResourceSpec). */
export interface ResourceSpec {
  readonly name: string;
  readonly weight: number;
}

/** The default scored resources: cpu and memory, weight 1 each. */
export const DEFAULT_RESOURCES: readonly ResourceSpec[] = [
  { name: "cpu", weight: 1 },
  { name: "memory", weight: 1 },
];

/**
 * What the pod asks of each scored resource. Without `useRequested` a container that requests no
 * cpu/memory counts as 100m/200MB, so best-effort pods still spread instead of piling on one node.
 */
export function podResourceRequests(pod: Pod, resources: readonly ResourceSpec[], useRequested: boolean): number[] {
  const r = resourceFromList(podRequestsList(pod, { nonMissing: !useRequested }));
  return resources.map((spec) => {
    switch (spec.name) {
      case "cpu":
        return r.milliCPU;
      case "memory":
        return r.memory;
      case "ephemeral-storage":
        return r.ephemeralStorage;
      default:
        return r.scalar.get(spec.name) ?? 0;
    }
  });
}

/**
 * calculateResourceAllocatableRequest: [allocatable, requested-after-placing-the-pod] of one resource.
 * An extended resource the pod does not request is (0, 0): it is left out of the score.
 */
export function allocatableAndRequested(nodeInfo: NodeInfo, resource: string, podRequest: number, useRequested: boolean): [number, number] {
  const requested = useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
  if (podRequest === 0 && isScalarResourceName(resource)) return [0, 0];
  switch (resource) {
    case "cpu":
      return [nodeInfo.allocatable.milliCPU, requested.milliCPU + podRequest];
    case "memory":
      return [nodeInfo.allocatable.memory, requested.memory + podRequest];
    case "ephemeral-storage":
      return [nodeInfo.allocatable.ephemeralStorage, nodeInfo.requested.ephemeralStorage + podRequest];
    default: {
      const alloc = nodeInfo.allocatable.scalar.get(resource);
      if (alloc === undefined) return [0, 0];
      return [alloc, (nodeInfo.requested.scalar.get(resource) ?? 0) + podRequest];
    }
  }
}

/** resourceAllocationScorer.score: fills the requested/allocatable vectors and hands them to `scorer`. */
export function resourceAllocationScore(
  nodeInfo: NodeInfo,
  podRequests: readonly number[],
  resources: readonly ResourceSpec[],
  useRequested: boolean,
  scorer: (requested: number[], allocatable: number[]) => number,
): number {
  const requested: number[] = new Array(resources.length).fill(0);
  const allocatable: number[] = new Array(resources.length).fill(0);
  resources.forEach((spec, i) => {
    const [alloc, req] = allocatableAndRequested(nodeInfo, spec.name, podRequests[i]!, useRequested);
    if (alloc === 0) return;
    allocatable[i] = alloc;
    requested[i] = req;
  });
  return scorer(requested, allocatable);
}
