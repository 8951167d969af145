import type { Pod } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../../cache/node_info.js";
import type { StateData } from "../../framework/cycle_state.js";
import { MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from "../../framework/interface.js";
import { podRequests, type Resource } from "../../framework/resource.js";
import { asStatus, Code, newStatus, type Status } from "../../framework/status.js";
import { NODE_RESOURCES_FIT } from "../names.js";
import { DEFAULT_RESOURCES, podResourceRequests, resourceAllocationScore, type ResourceSpec } from "./resource_allocation.js";

export type ScoringStrategyType = "LeastAllocated" | "MostAllocated";

export interface FitArgs {
  /** NodeResourcesFitArgs.scoringStrategy; LeastAllocated over cpu and memory by default. */
  readonly scoringStrategy?: { readonly type: ScoringStrategyType; readonly resources?: readonly ResourceSpec[] };
}

/** One resource the node lacks (upstream `InsufficientResource`). */
export interface InsufficientResource {
  readonly resourceName: string;
  readonly reason: string;
  readonly requested: number;
  readonly used: number;
  readonly capacity: number;
  /** The pod asks more than the node's whole allocatable: evicting pods cannot help. */
  readonly unresolvable: boolean;
}

const PRE_FILTER_KEY = "PreFilter" + NODE_RESOURCES_FIT;
const PRE_SCORE_KEY = "PreScore" + NODE_RESOURCES_FIT;

class PreFilterState implements StateData {
  constructor(readonly request: Resource) {}
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly podRequests: readonly number[]) {}
  clone(): StateData {
    return this;
  }
}

const NO_SHORTAGE: readonly InsufficientResource[] = Object.freeze([]);

/**
 * fitsRequest: every shortage, in upstream's order — pods, cpu, memory, ephemeral-storage, then
 * extended resources (by name). A pod with no requests only needs a free pod slot.
 */
export function fitsRequest(podRequest: Resource, nodeInfo: NodeInfo): readonly InsufficientResource[] {
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  const allowedPods = alloc.allowedPodNumber;
  // The common case (the node has room) without allocating: Filter runs on every node each cycle.
  if (
    nodeInfo.pods.length + 1 <= allowedPods &&
    podRequest.milliCPU <= alloc.milliCPU - used.milliCPU &&
    podRequest.memory <= alloc.memory - used.memory &&
    podRequest.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
    podRequest.scalar.size === 0
  ) {
    return NO_SHORTAGE;
  }
  const out: InsufficientResource[] = [];
  if (nodeInfo.pods.length + 1 > allowedPods) {
    out.push({ resourceName: "pods", reason: "Too many pods", requested: 1, used: nodeInfo.pods.length, capacity: allowedPods, unresolvable: false });
  }
  if (podRequest.milliCPU === 0 && podRequest.memory === 0 && podRequest.ephemeralStorage === 0 && podRequest.scalar.size === 0) return out;
  const check = (name: string, want: number, have: number, capacity: number): void => {
    if (want > 0 && want > capacity - have) {
      out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: want, used: have, capacity, unresolvable: want > capacity });
    }
  };
  check("cpu", podRequest.milliCPU, used.milliCPU, alloc.milliCPU);
  check("memory", podRequest.memory, used.memory, alloc.memory);
  check("ephemeral-storage", podRequest.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
  for (const name of [...podRequest.scalar.keys()].sort()) {
    const want = podRequest.scalar.get(name)!;
    if (want === 0) continue;
    check(name, want, used.scalar.get(name) ?? 0, alloc.scalar.get(name) ?? 0);
  }
  return out;
}

/** leastRequestedScore: the share left free, 0..100 (integer division, as upstream's int64 math). */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** mostRequestedScore: the share used, 0..100; over capacity counts as full. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.floor((requested * MAX_NODE_SCORE) / capacity);
}

function weightedScorer(resources: readonly ResourceSpec[], f: (req: number, cap: number) => number) {
  return (requested: number[], allocatable: number[]): number => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const weight = resources[i]!.weight;
      nodeScore += f(requested[i]!, allocatable[i]!) * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : Math.floor(nodeScore / weightSum);
  };
}

/**
 * Filter: the pod's requests (containers, init containers, overhead) fit in the node's allocatable
 * minus what its pods request; each shortage is a reason (`Insufficient cpu`). Score: LeastAllocated
 * (the emptier node wins) unless configured MostAllocated.
 */
export function newNodeResourcesFit(args: FitArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const strategy = args.scoringStrategy?.type ?? "LeastAllocated";
  const resources = args.scoringStrategy?.resources ?? DEFAULT_RESOURCES;
  const scorer = weightedScorer(resources, strategy === "MostAllocated" ? mostRequestedScore : leastRequestedScore);
  return {
    name: NODE_RESOURCES_FIT,
    preFilter(state, pod: Pod) {
      state.write(PRE_FILTER_KEY, new PreFilterState(podRequests(pod)));
      return { status: null };
    },
    preFilterExtensions: () => null,
    filter(state, _pod, nodeInfo): Status | null {
      const s = state.read<PreFilterState>(PRE_FILTER_KEY);
      if (s === undefined) return asStatus(new Error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`));
      const insufficient = fitsRequest(s.request, nodeInfo);
      if (insufficient.length === 0) return null;
      const code = insufficient.some((r) => r.unresolvable) ? Code.UnschedulableAndUnresolvable : Code.Unschedulable;
      return newStatus(code, ...insufficient.map((r) => r.reason));
    },
    preScore(state, pod) {
      state.write(PRE_SCORE_KEY, new PreScoreState(podResourceRequests(pod, resources, false)));
      return null;
    },
    score(state, pod, nodeInfo) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      const reqs = s?.podRequests ?? podResourceRequests(pod, resources, false);
      return { score: resourceAllocationScore(nodeInfo, reqs, resources, false, scorer) };
    },
  };
}
