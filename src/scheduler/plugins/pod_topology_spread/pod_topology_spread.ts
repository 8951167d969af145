import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import type { Node, Pod, TopologySpreadConstraint } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../../cache/node_info.js";
import type { PodInfo } from "../../cache/pod_info.js";
import type { CycleState, StateData } from "../../framework/cycle_state.js";
import {
  MAX_NODE_SCORE, type FilterPlugin, type Handle, type PreFilterExtensions, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from "../../framework/interface.js";
import { labelSelector, matchLabelKeysRequirements, podMatchesNodeSelectorAndAffinityTerms, type Selector } from "../../framework/labels.js";
import { asStatus, Code, newStatus, type Status } from "../../framework/status.js";
import { POD_TOPOLOGY_SPREAD } from "../names.js";
import { findMatchingUntoleratedTaint } from "../taint_toleration/tolerations.js";

/** ErrReasonConstraintsNotMatch. */
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
/** ErrReasonNodeLabelNotMatch: the node lacks a constraint's topology key. */
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)";

const LABEL_HOSTNAME = "kubernetes.io/hostname";
const PRE_FILTER_KEY = "PreFilter" + POD_TOPOLOGY_SPREAD;
const PRE_SCORE_KEY = "PreScore" + POD_TOPOLOGY_SPREAD;

/** A default constraint has no selector: the shell derives one from the pod's owners (Services, ReplicaSets…). */
export type DefaultConstraint = Omit<TopologySpreadConstraint, "labelSelector">;

export interface PodTopologySpreadArgs {
  /** Applied to pods that declare no constraints of their own; none by default here. */
  readonly defaultConstraints?: readonly DefaultConstraint[];
  /** The selector default constraints count with (upstream: from the pod's Services/RCs/RSs/StatefulSets); null skips them. */
  readonly defaultSelector?: (pod: Pod) => LabelSelector | null;
}

/** A constraint compiled for one pod (upstream `topologySpreadConstraint`). */
interface Constraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: Selector;
  readonly minDomains: number;
  readonly nodeAffinityPolicyHonor: boolean;
  readonly nodeTaintsPolicyHonor: boolean;
}

function compile(pod: Pod, c: TopologySpreadConstraint | DefaultConstraint, sel: LabelSelector | null | undefined): Constraint {
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector: labelSelector(sel, matchLabelKeysRequirements(c.matchLabelKeys, pod)),
    minDomains: c.minDomains ?? 1,
    nodeAffinityPolicyHonor: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
    nodeTaintsPolicyHonor: (c.nodeTaintsPolicy ?? "Ignore") === "Honor",
  };
}

/** matchNodeInclusionPolicies: whether the node's domain counts for this constraint at all. */
function includesNode(c: Constraint, pod: Pod, node: Node): boolean {
  if (c.nodeAffinityPolicyHonor && !podMatchesNodeSelectorAndAffinityTerms(pod, node)) return false;
  if (c.nodeTaintsPolicyHonor) {
    const t = findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, (x) => x.effect === "NoSchedule" || x.effect === "NoExecute");
    if (t !== undefined) return false;
  }
  return true;
}

function hasAllKeys(node: Node, constraints: readonly Constraint[]): boolean {
  const labels = node.metadata?.labels;
  if (labels === undefined) return constraints.length === 0;
  // A plain loop: this runs for every node in every cycle of a pod with constraints.
  for (let i = 0; i < constraints.length; i++) if (!Object.prototype.hasOwnProperty.call(labels, constraints[i]!.topologyKey)) return false;
  return true;
}

/** countPodsMatchSelector: pods in the namespace the selector matches, leaving out terminating ones. */
function countMatching(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  let n = 0;
  for (const p of pods) {
    if (p.pod.metadata?.deletionTimestamp !== undefined) continue;
    if ((p.pod.metadata?.namespace ?? "default") !== namespace) continue;
    if (selector.matches(p.pod.metadata?.labels)) n++;
  }
  return n;
}

/**
 * Per DoNotSchedule constraint, the matching pods in each topology domain (`zone=a → 3`). Domains are
 * the label values of eligible nodes, including empty ones; the global minimum is 0 while fewer
 * domains than minDomains exist.
 */
class PreFilterState implements StateData {
  constructor(
    readonly constraints: readonly Constraint[],
    readonly counts: Map<string, number>[],
  ) {}
  clone(): StateData {
    return new PreFilterState(this.constraints, this.counts.map((m) => new Map(m)));
  }
  minMatchNum(i: number): number {
    const m = this.counts[i]!;
    if (m.size < this.constraints[i]!.minDomains) return 0;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  }
  updateWithPod(pi: PodInfo, preemptor: Pod, node: Node | null, delta: number): void {
    if (node === null || (pi.pod.metadata?.namespace ?? "default") !== (preemptor.metadata?.namespace ?? "default")) return;
    if (!hasAllKeys(node, this.constraints)) return;
    this.constraints.forEach((c, i) => {
      if (!c.selector.matches(pi.pod.metadata?.labels)) return;
      if (!includesNode(c, preemptor, node)) return;
      const v = node.metadata!.labels![c.topologyKey]!;
      this.counts[i]!.set(v, (this.counts[i]!.get(v) ?? 0) + delta);
    });
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: readonly Constraint[],
    readonly ignoredNodes: ReadonlySet<string>,
    readonly counts: Map<string, number>[],
    readonly weights: readonly number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

/**
 * Spreads pods matching a selector evenly over topology domains. Filter (DoNotSchedule): placing the
 * pod must keep `count(domain) + self − global minimum ≤ maxSkew`. Score (ScheduleAnyway): fewer
 * matching pods in the node's domains scores higher, each constraint weighted by log(domains + 2).
 */
export function newPodTopologySpread(handle: Handle, args: PodTopologySpreadArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const constraintsFor = (pod: Pod, action: "DoNotSchedule" | "ScheduleAnyway"): Constraint[] => {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) return own.filter((c) => c.whenUnsatisfiable === action).map((c) => compile(pod, c, c.labelSelector));
    const defaults = (args.defaultConstraints ?? []).filter((c) => c.whenUnsatisfiable === action);
    if (defaults.length === 0) return [];
    const sel = args.defaultSelector?.(pod) ?? null;
    if (sel === null) return [];
    return defaults.map((c) => compile(pod, c, sel));
  };

  const extensions: PreFilterExtensions = {
    addPod(state, podToSchedule, podInfoToAdd, nodeInfo) {
      state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podInfoToAdd, podToSchedule, nodeInfo.node, 1);
      return null;
    },
    removePod(state, podToSchedule, podInfoToRemove, nodeInfo) {
      state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podInfoToRemove, podToSchedule, nodeInfo.node, -1);
      return null;
    },
  };

  return {
    name: POD_TOPOLOGY_SPREAD,
    preFilter(state: CycleState, pod: Pod) {
      const constraints = constraintsFor(pod, "DoNotSchedule");
      if (constraints.length === 0) return { status: newStatus(Code.Skip) };
      const counts = constraints.map(() => new Map<string, number>());
      const ns = pod.metadata?.namespace ?? "default";
      for (const ni of handle.snapshot().nodeInfos) {
        const node = ni.node;
        if (node === null || !hasAllKeys(node, constraints)) continue;
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i]!;
          if (!includesNode(c, pod, node)) continue;
          const v = node.metadata!.labels![c.topologyKey]!;
          const m = counts[i]!;
          m.set(v, (m.get(v) ?? 0) + (ni.pods.length === 0 ? 0 : countMatching(ni.pods, c.selector, ns)));
        }
      }
      state.write(PRE_FILTER_KEY, new PreFilterState(constraints, counts));
      return { status: null };
    },
    preFilterExtensions: () => extensions,
    filter(state, pod, nodeInfo): Status | null {
      const s = state.read<PreFilterState>(PRE_FILTER_KEY);
      if (s === undefined) return asStatus(new Error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`));
      const labels = nodeInfo.node?.metadata?.labels ?? {};
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const tpVal = labels[c.topologyKey];
        if (tpVal === undefined) return newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_NODE_LABEL_NOT_MATCH);
        const self = c.selector.matches(pod.metadata?.labels) ? 1 : 0;
        const skew = (s.counts[i]!.get(tpVal) ?? 0) + self - s.minMatchNum(i);
        if (skew > c.maxSkew) return newStatus(Code.Unschedulable, ERR_REASON_CONSTRAINTS_NOT_MATCH);
      }
      return null;
    },
    preScore(state, pod, filteredNodes: readonly NodeInfo[]) {
      const all = handle.snapshot().nodeInfos;
      if (filteredNodes.length === 0 || all.length === 0) return newStatus(Code.Skip);
      const constraints = constraintsFor(pod, "ScheduleAnyway");
      if (constraints.length === 0) return newStatus(Code.Skip);
      // Pods with their own constraints need every key on a node; upstream relaxes this only for its system defaults.
      const requireAll = true;
      const ignored = new Set<string>();
      const counts = constraints.map(() => new Map<string, number>());
      const topoSize = constraints.map(() => 0);
      for (const ni of filteredNodes) {
        if (requireAll && !hasAllKeys(ni.node!, constraints)) {
          ignored.add(ni.name);
          continue;
        }
        constraints.forEach((c, i) => {
          if (c.topologyKey === LABEL_HOSTNAME) return;
          const v = ni.node!.metadata?.labels?.[c.topologyKey] ?? "";
          if (!counts[i]!.has(v)) {
            counts[i]!.set(v, 0);
            topoSize[i]!++;
          }
        });
      }
      const ns = pod.metadata?.namespace ?? "default";
      for (const ni of all) {
        const node = ni.node;
        if (node === null || (requireAll && !hasAllKeys(node, constraints))) continue;
        constraints.forEach((c, i) => {
          if (!includesNode(c, pod, node)) return;
          const v = node.metadata?.labels?.[c.topologyKey] ?? "";
          if (!counts[i]!.has(v)) return;
          counts[i]!.set(v, counts[i]!.get(v)! + countMatching(ni.pods, c.selector, ns));
        });
      }
      const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? filteredNodes.length - ignored.size : topoSize[i]!) + 2));
      state.write(PRE_SCORE_KEY, new PreScoreState(constraints, ignored, counts, weights));
      return null;
    },
    score(state, pod, nodeInfo) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      if (s === undefined) return { score: 0, status: asStatus(new Error(`reading "${PRE_SCORE_KEY}" from cycleState: not found`)) };
      if (s.ignoredNodes.has(nodeInfo.name)) return { score: 0 };
      const labels = nodeInfo.node?.metadata?.labels ?? {};
      const ns = pod.metadata?.namespace ?? "default";
      let score = 0;
      s.constraints.forEach((c, i) => {
        const v = labels[c.topologyKey];
        if (v === undefined) return;
        const cnt = c.topologyKey === LABEL_HOSTNAME ? countMatching(nodeInfo.pods, c.selector, ns) : (s.counts[i]!.get(v) ?? 0);
        score += cnt * s.weights[i]! + (c.maxSkew - 1);
      });
      return { score: Math.round(score) };
    },
    normalizeScore(state, _pod, scores) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      if (s === undefined) return null;
      let min = Infinity;
      let max = 0;
      for (const sc of scores) {
        if (s.ignoredNodes.has(sc.name)) continue;
        if (sc.score < min) min = sc.score;
        if (sc.score > max) max = sc.score;
      }
      for (const sc of scores) {
        if (s.ignoredNodes.has(sc.name)) {
          sc.score = 0;
          continue;
        }
        if (max === 0) {
          sc.score = MAX_NODE_SCORE;
          continue;
        }
        sc.score = Math.floor((MAX_NODE_SCORE * (max + min - sc.score)) / max);
      }
      return null;
    },
  };
}
