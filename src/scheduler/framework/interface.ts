import type { Pod } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../cache/node_info.js";
import type { PodInfo } from "../cache/pod_info.js";
import type { Snapshot } from "../cache/snapshot.js";
import type { CycleState } from "./cycle_state.js";
import type { NodeToStatus } from "./node_to_status.js";
import type { Status } from "./status.js";

/** framework.MaxNodeScore / MinNodeScore: every Score plugin's range after normalizing. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** A plugin is a name plus only the extension points it implements (checked with the `is…` guards below). */
export interface Plugin {
  readonly name: string;
}

/** What plugins may read from the scheduler (upstream `framework.Handle`), valid during one cycle. */
export interface Handle {
  /** The snapshot of the cycle that is running. */
  snapshot(): Snapshot;
  /** Pods nominated to a node by an earlier preemption, which the scheduler must leave room for. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  /** The profile's filters with nominated pods accounted for (preemption's what-if runs these). */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/** Nodes a PreFilter already knows are the only ones worth trying; null means all. */
export interface PreFilterResult {
  readonly nodeNames: ReadonlySet<string> | null;
}

export interface PreFilterExtensions {
  /** Updates the PreFilter state as if `podInfoToAdd` ran on `nodeInfo` (used by preemption and nominated pods). */
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status | null;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status | null;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result?: PreFilterResult | null; status: Status | null };
  preFilterExtensions?(): PreFilterExtensions | null;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status | null;
}

/** How PostFilter wants the pod's `status.nominatedNodeName` changed. */
export interface PostFilterResult {
  readonly nominatedNodeName: string;
  /** Pods to delete so the nominated node fits (empty when nothing was found). */
  readonly victims: readonly Pod[];
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, nodeToStatus: NodeToStatus): { result: PostFilterResult | null; status: Status };
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status | null;
}

export interface NodeScore {
  readonly name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { score: number; status?: Status | null };
  /** Rescales the raw scores of all nodes into 0..MAX_NODE_SCORE, in place. */
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): Status | null;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status | null;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** Success, a rejection, or Wait with how long to wait before the pod is rejected. */
  permit(state: CycleState, pod: Pod, nodeName: string): { status: Status | null; timeoutMs?: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<Status | null>;
}

export interface BindPlugin extends Plugin {
  /** Skip passes the pod to the next binder. */
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status | null>;
}

export const isPreFilter = (p: Plugin): p is PreFilterPlugin => typeof (p as PreFilterPlugin).preFilter === "function";
export const isFilter = (p: Plugin): p is FilterPlugin => typeof (p as FilterPlugin).filter === "function";
export const isPostFilter = (p: Plugin): p is PostFilterPlugin => typeof (p as PostFilterPlugin).postFilter === "function";
export const isPreScore = (p: Plugin): p is PreScorePlugin => typeof (p as PreScorePlugin).preScore === "function";
export const isScore = (p: Plugin): p is ScorePlugin => typeof (p as ScorePlugin).score === "function";
export const isReserve = (p: Plugin): p is ReservePlugin => typeof (p as ReservePlugin).reserve === "function";
export const isPermit = (p: Plugin): p is PermitPlugin => typeof (p as PermitPlugin).permit === "function";
export const isPreBind = (p: Plugin): p is PreBindPlugin => typeof (p as PreBindPlugin).preBind === "function";
export const isBind = (p: Plugin): p is BindPlugin => typeof (p as BindPlugin).bind === "function";

/**
 * framework.DefaultNormalizeScore: scales scores so the largest becomes `maxPriority`; with `reverse`,
 * the smallest does (TaintToleration counts bad taints, fewer is better). All-zero scores become
 * `maxPriority` when reversed and stay 0 otherwise.
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  let maxCount = 0;
  for (const s of scores) if (s.score > maxCount) maxCount = s.score;
  if (maxCount === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    let score = Math.trunc((maxPriority * s.score) / maxCount);
    if (reverse) score = maxPriority - score;
    s.score = score;
  }
}
