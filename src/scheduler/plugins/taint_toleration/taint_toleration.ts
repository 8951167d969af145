import type { Pod, Toleration } from "kubernetes-types/core/v1.js";
import type { CycleState, StateData } from "../../framework/cycle_state.js";
import { defaultNormalizeScore, MAX_NODE_SCORE, type FilterPlugin, type PreScorePlugin, type ScorePlugin } from "../../framework/interface.js";
import { asStatus, Code, newStatus, type Status } from "../../framework/status.js";
import { TAINT_TOLERATION } from "../names.js";
import { findMatchingUntoleratedTaint, tolerationsTolerateTaint } from "./tolerations.js";

const PRE_SCORE_KEY = "PreScore" + TAINT_TOLERATION;

class PreScoreState implements StateData {
  constructor(readonly tolerationsPreferNoSchedule: readonly Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

/**
 * Filter: a node with a NoSchedule or NoExecute taint the pod does not tolerate is rejected
 * (`node(s) had untolerated taint {key: value}`, unresolvable: evicting pods removes no taint).
 * Score: fewer untolerated PreferNoSchedule taints is better.
 */
export function newTaintToleration(): FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: TAINT_TOLERATION,
    filter(_state, pod, nodeInfo): Status | null {
      const taint = findMatchingUntoleratedTaint(nodeInfo.node?.spec?.taints, pod.spec?.tolerations, (t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
      if (taint === undefined) return null;
      return newStatus(Code.UnschedulableAndUnresolvable, `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`);
    },
    preScore(state: CycleState, pod: Pod): Status | null {
      const tolerations = (pod.spec?.tolerations ?? []).filter((t) => t.effect === undefined || t.effect === "" || t.effect === "PreferNoSchedule");
      state.write(PRE_SCORE_KEY, new PreScoreState(tolerations));
      return null;
    },
    score(state, _pod, nodeInfo) {
      const s = state.read<PreScoreState>(PRE_SCORE_KEY);
      if (s === undefined) return { score: 0, status: asStatus(new Error(`reading "${PRE_SCORE_KEY}" from cycleState: not found`)) };
      let count = 0;
      for (const taint of nodeInfo.node?.spec?.taints ?? []) {
        if (taint.effect !== "PreferNoSchedule") continue;
        if (!tolerationsTolerateTaint(s.tolerationsPreferNoSchedule, taint)) count++;
      }
      return { score: count };
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
      return null;
    },
  };
}
