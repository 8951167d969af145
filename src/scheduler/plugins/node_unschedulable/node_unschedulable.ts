import type { FilterPlugin } from "../../framework/interface.js";
import { Code, newStatus, type Status } from "../../framework/status.js";
import { NODE_UNSCHEDULABLE } from "../names.js";
import { tolerationsTolerateTaint } from "../taint_toleration/tolerations.js";

/** NodeUnschedulable's ErrReasonUnschedulable. */
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
/** v1.TaintNodeUnschedulable: a pod that tolerates this taint also tolerates spec.unschedulable. */
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

/** A cordoned node (spec.unschedulable) takes only pods that tolerate `node.kubernetes.io/unschedulable:NoSchedule`. */
export function newNodeUnschedulable(): FilterPlugin {
  return {
    name: NODE_UNSCHEDULABLE,
    filter(_state, pod, nodeInfo): Status | null {
      if (nodeInfo.node?.spec?.unschedulable !== true) return null;
      const tolerates = tolerationsTolerateTaint(pod.spec?.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
      return tolerates ? null : newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_UNSCHEDULABLE);
    },
  };
}
