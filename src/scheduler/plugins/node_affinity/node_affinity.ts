import type { Node, NodeAffinity as NodeAffinitySpec, Pod, PreferredSchedulingTerm } from "kubernetes-types/core/v1.js";
import type { CycleState, StateData } from "../../framework/cycle_state.js";
import {
  defaultNormalizeScore, MAX_NODE_SCORE, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from "../../framework/interface.js";
import { nodeSelectorMatches, nodeSelectorTermMatches, podMatchesNodeSelectorAndAffinityTerms } from "../../framework/labels.js";
import { Code, newStatus, type Status } from "../../framework/status.js";
import { NODE_AFFINITY } from "../names.js";

/** NodeAffinity's ErrReasonPod. */
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** errReasonEnforced: the profile's addedAffinity rejected the node. */
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** errReasonConflict: every required term names nodes and together they name none. */
export const ERR_REASON_CONFLICT = "pod affinity terms conflict";

export interface NodeAffinityArgs {
  /** NodeAffinityArgs.addedAffinity: applied to every pod of the profile on top of its own. */
  readonly addedAffinity?: NodeAffinitySpec;
}

const PRE_SCORE_KEY = "PreScore" + NODE_AFFINITY;

class PreScoreState implements StateData {
  constructor(readonly preferred: readonly PreferredSchedulingTerm[]) {}
  clone(): StateData {
    return this;
  }
}

function preferredScore(terms: readonly PreferredSchedulingTerm[], node: Node): number {
  let score = 0;
  for (const t of terms) if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node)) score += t.weight;
  return score;
}

/**
 * Filter: the pod's nodeSelector and required node affinity (terms ORed; matchExpressions and
 * matchFields within a term ANDed). PreFilter narrows to the nodes named by `metadata.name In`
 * matchFields when every term names some. Score: the sum of the weights of matching preferred terms,
 * normalized so the best node gets 100.
 */
export function newNodeAffinity(args: NodeAffinityArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const addedRequired = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const addedPreferred = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return {
    name: NODE_AFFINITY,
    preFilter(_state, pod) {
      const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      if (required === undefined && addedRequired === undefined && pod.spec?.nodeSelector === undefined) {
        return { status: newStatus(Code.Skip) };
      }
      const terms = required?.nodeSelectorTerms ?? [];
      if (terms.length === 0) return { status: null };
      let nodeNames: Set<string> | null = null;
      for (const t of terms) {
        let termNames: Set<string> | null = null;
        for (const r of t.matchFields ?? []) {
          if (r.key !== "metadata.name" || r.operator !== "In") continue;
          const s = new Set<string>(r.values ?? []);
          const prev: Set<string> | null = termNames;
          termNames = prev === null ? s : new Set<string>([...prev].filter((n: string) => s.has(n)));
        }
        // A term without a node-name requirement lets every node through, and terms are ORed.
        if (termNames === null) return { status: null };
        nodeNames = nodeNames === null ? termNames : new Set([...nodeNames, ...termNames]);
      }
      if (nodeNames !== null && nodeNames.size === 0) return { status: newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_CONFLICT) };
      return { result: nodeNames === null ? null : { nodeNames }, status: null };
    },
    filter(_state, pod, nodeInfo): Status | null {
      const node = nodeInfo.node!;
      if (addedRequired !== undefined && !nodeSelectorMatches(addedRequired, node)) return newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_ENFORCED);
      return podMatchesNodeSelectorAndAffinityTerms(pod, node) ? null : newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_POD);
    },
    preScore(state: CycleState, pod: Pod): Status | null {
      const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      if (preferred.length === 0 && addedPreferred.length === 0) return newStatus(Code.Skip);
      state.write(PRE_SCORE_KEY, new PreScoreState(preferred));
      return null;
    },
    score(state, pod, nodeInfo) {
      const node = nodeInfo.node!;
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      const preferred = s?.preferred ?? pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      return { score: preferredScore(addedPreferred, node) + preferredScore(preferred, node) };
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
      return null;
    },
  };
}
