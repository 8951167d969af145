import type { StateData } from "../../framework/cycle_state.js";
import { MAX_NODE_SCORE, type PreScorePlugin, type ScorePlugin } from "../../framework/interface.js";
import { NODE_RESOURCES_BALANCED_ALLOCATION } from "../names.js";
import { DEFAULT_RESOURCES, podResourceRequests, resourceAllocationScore, type ResourceSpec } from "./resource_allocation.js";

const PRE_SCORE_KEY = "PreScore" + NODE_RESOURCES_BALANCED_ALLOCATION;

class PreScoreState implements StateData {
  constructor(readonly podRequests: readonly number[]) {}
  clone(): StateData {
    return this;
  }
}

/**
 * balancedResourceScorer: 100 × (1 − standard deviation of the used fractions). With two resources
 * the deviation is |f1 − f2| / 2; a node whose cpu and memory fill at the same rate scores 100.
 */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(1, requested[i]! / allocatable[i]!);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** Prefers nodes whose resources stay balanced after placing the pod (by the pod's real requests). */
export function newNodeResourcesBalancedAllocation(args: { resources?: readonly ResourceSpec[] } = {}): PreScorePlugin & ScorePlugin {
  const resources = args.resources ?? DEFAULT_RESOURCES;
  return {
    name: NODE_RESOURCES_BALANCED_ALLOCATION,
    preScore(state, pod) {
      state.write(PRE_SCORE_KEY, new PreScoreState(podResourceRequests(pod, resources, true)));
      return null;
    },
    score(state, pod, nodeInfo) {
      const reqs = state.read<PreScoreState>(PRE_SCORE_KEY)?.podRequests ?? podResourceRequests(pod, resources, true);
      return { score: resourceAllocationScore(nodeInfo, reqs, resources, true, balancedResourceScore) };
    },
  };
}
