import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../../cache/node_info.js";
import { affinityTermMatches, PodInfo, type AffinityTerm, type NamespaceLabels, type WeightedAffinityTerm } from "../../cache/pod_info.js";
import type { CycleState, StateData } from "../../framework/cycle_state.js";
import {
  MAX_NODE_SCORE, type FilterPlugin, type Handle, type PreFilterExtensions, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from "../../framework/interface.js";
import { asStatus, Code, newStatus, type Status } from "../../framework/status.js";
import { INTER_POD_AFFINITY } from "../names.js";

/** ErrReasonExistingAntiAffinityRulesNotMatch. */
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";
/** ErrReasonAffinityRulesNotMatch. */
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
/** ErrReasonAntiAffinityRulesNotMatch. */
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";

export interface InterPodAffinityArgs {
  /** hardPodAffinityWeight: how much an existing pod's required affinity to the new pod counts in scoring (default 1). */
  readonly hardPodAffinityWeight?: number;
  readonly ignorePreferredTermsOfExistingPods?: boolean;
}

const PRE_FILTER_KEY = "PreFilter" + INTER_POD_AFFINITY;
const PRE_SCORE_KEY = "PreScore" + INTER_POD_AFFINITY;

/** Counts keyed by topology pair "key\0value"; entries at zero are removed. */
class TopologyCounts extends Map<string, number> {
  update(node: Node, topologyKey: string, delta: number): void {
    const v = node.metadata?.labels?.[topologyKey];
    if (v === undefined) return;
    const k = pairKey(topologyKey, v);
    const n = (this.get(k) ?? 0) + delta;
    if (n === 0) this.delete(k);
    else this.set(k, n);
  }
  /** updateWithAffinityTerms: a pod counts for the incoming pod's affinity only when it matches every term. */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, ns: NamespaceLabels, node: Node, delta: number): void {
    if (!podMatchesAllAffinityTerms(terms, pod, ns)) return;
    for (const t of terms) this.update(node, t.topologyKey, delta);
  }
  updateWithAntiAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, ns: NamespaceLabels, node: Node, delta: number): void {
    for (const t of terms) if (affinityTermMatches(t, pod, ns)) this.update(node, t.topologyKey, delta);
  }
  copy(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this) c.set(k, v);
    return c;
  }
}

function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function podMatchesAllAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, ns: NamespaceLabels): boolean {
  if (terms.length === 0) return false;
  return terms.every((t) => affinityTermMatches(t, pod, ns));
}

class PreFilterState implements StateData {
  constructor(
    readonly podInfo: PodInfo,
    readonly namespaceLabels: NamespaceLabels,
    /** Pairs where an existing pod's required anti-affinity matches the incoming pod. */
    readonly existingAntiAffinityCounts: TopologyCounts,
    /** Pairs holding pods that match all the incoming pod's required affinity terms. */
    readonly affinityCounts: TopologyCounts,
    /** Pairs holding pods that match one of the incoming pod's required anti-affinity terms. */
    readonly antiAffinityCounts: TopologyCounts,
  ) {}
  clone(): StateData {
    return new PreFilterState(this.podInfo, this.namespaceLabels, this.existingAntiAffinityCounts.copy(), this.affinityCounts.copy(), this.antiAffinityCounts.copy());
  }
  updateWithPod(pi: PodInfo, node: Node | null, delta: number): void {
    if (node === null) return;
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pi.requiredAntiAffinityTerms, this.podInfo.pod, this.namespaceLabels, node, delta);
    this.affinityCounts.updateWithAffinityTerms(this.podInfo.requiredAffinityTerms, pi.pod, this.namespaceLabels, node, delta);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(this.podInfo.requiredAntiAffinityTerms, pi.pod, this.namespaceLabels, node, delta);
  }
}

class PreScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

function satisfyPodAffinity(s: PreFilterState, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  let podsExist = true;
  for (const t of s.podInfo.requiredAffinityTerms) {
    const v = labels[t.topologyKey];
    if (v === undefined) return false; // every topology key must be on the node
    if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: if nothing in the cluster matches yet and the
  // pod matches its own terms, let it in rather than leave the group pending forever.
  return s.affinityCounts.size === 0 && podMatchesAllAffinityTerms(s.podInfo.requiredAffinityTerms, s.podInfo.pod, s.namespaceLabels);
}

function satisfyPodAntiAffinity(s: PreFilterState, node: Node): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  const labels = node.metadata?.labels ?? {};
  for (const t of s.podInfo.requiredAntiAffinityTerms) {
    const v = labels[t.topologyKey];
    if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) return false;
  }
  return true;
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, node: Node): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  const labels = node.metadata?.labels;
  if (labels === undefined) return true;
  // for-in rather than Object.entries: no array per node per cycle.
  for (const k in labels) if ((s.existingAntiAffinityCounts.get(pairKey(k, labels[k]!)) ?? 0) > 0) return false;
  return true;
}

/** Adds `weight × mult` under the term's topology key when the term matches; summed per node, then per domain. */
function addTermScore(perKey: Map<string, number>, term: AffinityTerm, weight: number, pod: Pod, ns: NamespaceLabels, labels: Readonly<Record<string, string>>, mult: number): void {
  // The topology label is the cheaper test, so it goes first.
  if (labels[term.topologyKey] === undefined) return;
  if (!affinityTermMatches(term, pod, ns)) return;
  perKey.set(term.topologyKey, (perKey.get(term.topologyKey) ?? 0) + weight * mult);
}

function addTermsScore(perKey: Map<string, number>, terms: readonly WeightedAffinityTerm[], pod: Pod, ns: NamespaceLabels, labels: Readonly<Record<string, string>>, mult: number): void {
  for (let i = 0; i < terms.length; i++) addTermScore(perKey, terms[i]!, terms[i]!.weight, pod, ns, labels, mult);
}

/**
 * Required pod affinity and anti-affinity by topology domain, both the incoming pod's and the
 * existing pods' anti-affinity against it; preferred terms (both directions) as a score.
 */
export function newInterPodAffinity(handle: Handle, args: InterPodAffinityArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const hardWeight = args.hardPodAffinityWeight ?? 1;
  const extensions: PreFilterExtensions = {
    addPod(state, _pod, podInfoToAdd, nodeInfo) {
      state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podInfoToAdd, nodeInfo.node, 1);
      return null;
    },
    removePod(state, _pod, podInfoToRemove, nodeInfo) {
      state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podInfoToRemove, nodeInfo.node, -1);
      return null;
    },
  };
  return {
    name: INTER_POD_AFFINITY,
    preFilter(state: CycleState, pod: Pod) {
      const snap = handle.snapshot();
      const ns = snap.namespaceLabels;
      const pi = new PodInfo(pod);
      const existing = new TopologyCounts();
      for (const ni of snap.havePodsWithRequiredAntiAffinity) {
        if (ni.node === null) continue;
        for (const e of ni.podsWithRequiredAntiAffinity) existing.updateWithAntiAffinityTerms(e.requiredAntiAffinityTerms, pod, ns, ni.node, 1);
      }
      const affinity = new TopologyCounts();
      const anti = new TopologyCounts();
      const affinityTerms = pi.requiredAffinityTerms;
      const antiTerms = pi.requiredAntiAffinityTerms;
      if (affinityTerms.length > 0 || antiTerms.length > 0) {
        // Matches are counted per node first, then added to the node's domains once: most nodes hold
        // many pods and few domains, and building a domain's key is the costly part.
        const antiMatches: number[] = new Array<number>(antiTerms.length).fill(0);
        for (const ni of snap.nodeInfos) {
          if (ni.node === null || ni.pods.length === 0) continue;
          let affinityMatches = 0;
          antiMatches.fill(0);
          for (const e of ni.pods) {
            if (podMatchesAllAffinityTerms(affinityTerms, e.pod, ns)) affinityMatches++;
            for (let t = 0; t < antiTerms.length; t++) if (affinityTermMatches(antiTerms[t]!, e.pod, ns)) antiMatches[t]!++;
          }
          if (affinityMatches > 0) for (const t of affinityTerms) affinity.update(ni.node, t.topologyKey, affinityMatches);
          for (let t = 0; t < antiTerms.length; t++) if (antiMatches[t]! > 0) anti.update(ni.node, antiTerms[t]!.topologyKey, antiMatches[t]!);
        }
      }
      if (existing.size === 0 && pi.requiredAffinityTerms.length === 0 && pi.requiredAntiAffinityTerms.length === 0) return { status: newStatus(Code.Skip) };
      state.write(PRE_FILTER_KEY, new PreFilterState(pi, ns, existing, affinity, anti));
      return { status: null };
    },
    preFilterExtensions: () => extensions,
    filter(state, _pod, nodeInfo): Status | null {
      const s = state.read<PreFilterState>(PRE_FILTER_KEY);
      if (s === undefined) return asStatus(new Error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`));
      const node = nodeInfo.node!;
      if (!satisfyPodAffinity(s, node)) return newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_AFFINITY_RULES_NOT_MATCH);
      if (!satisfyPodAntiAffinity(s, node)) return newStatus(Code.Unschedulable, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
      if (!satisfyExistingPodsAntiAffinity(s, node)) return newStatus(Code.Unschedulable, ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
      return null;
    },
    preScore(state, pod, nodes: readonly NodeInfo[]) {
      if (nodes.length === 0) return newStatus(Code.Skip);
      const a = pod.spec?.affinity;
      const hasConstraints =
        (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0 ||
        (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
      if (args.ignorePreferredTermsOfExistingPods === true && !hasConstraints) return newStatus(Code.Skip);
      const snap = handle.snapshot();
      const ns = snap.namespaceLabels;
      const pi = new PodInfo(pod);
      const scores = new Map<string, Map<string, number>>();
      // Without preferred terms of its own, only existing pods with affinity can change a node's score.
      const perKey = new Map<string, number>();
      for (const ni of hasConstraints ? snap.nodeInfos : snap.havePodsWithAffinity) {
        // A node without pods adds nothing to any domain.
        if (ni.pods.length === 0) continue;
        const labels = ni.node?.metadata?.labels;
        if (labels === undefined) continue;
        perKey.clear();
        for (const e of hasConstraints ? ni.pods : ni.podsWithAffinity) {
          // Without terms of the incoming pod, only an existing pod's affinity or preferences can count.
          if (!hasConstraints && e.requiredAffinityTerms.length === 0 && e.preferredAffinityTerms.length === 0 && e.preferredAntiAffinityTerms.length === 0) continue;
          addTermsScore(perKey, pi.preferredAffinityTerms, e.pod, ns, labels, 1);
          addTermsScore(perKey, pi.preferredAntiAffinityTerms, e.pod, ns, labels, -1);
          if (hardWeight > 0) for (const t of e.requiredAffinityTerms) addTermScore(perKey, t, hardWeight, pod, ns, labels, 1);
          addTermsScore(perKey, e.preferredAffinityTerms, pod, ns, labels, 1);
          addTermsScore(perKey, e.preferredAntiAffinityTerms, pod, ns, labels, -1);
        }
        // Domains keyed as upstream's topologyScore[key][value]; a domain that nets to 0 still counts as scored.
        for (const [key, delta] of perKey) {
          let inner = scores.get(key);
          if (inner === undefined) scores.set(key, (inner = new Map()));
          const v = labels[key]!;
          inner.set(v, (inner.get(v) ?? 0) + delta);
        }
      }
      if (scores.size === 0) return newStatus(Code.Skip);
      state.write(PRE_SCORE_KEY, new PreScoreState(scores));
      return null;
    },
    score(state, _pod, nodeInfo) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      if (s === undefined) return { score: 0, status: asStatus(new Error(`reading "${PRE_SCORE_KEY}" from cycleState: not found`)) };
      let score = 0;
      const labels = nodeInfo.node?.metadata?.labels ?? {};
      for (const [k, values] of s.topologyScore) {
        const v = labels[k];
        if (v !== undefined) score += values.get(v) ?? 0;
      }
      return { score };
    },
    normalizeScore(state, _pod, scores) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      if (s === undefined || s.topologyScore.size === 0) return null;
      let min = Infinity;
      let max = -Infinity;
      for (const sc of scores) {
        if (sc.score > max) max = sc.score;
        if (sc.score < min) min = sc.score;
      }
      const diff = max - min;
      for (const sc of scores) sc.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((sc.score - min) / diff)) : 0;
      return null;
    },
  };
}
