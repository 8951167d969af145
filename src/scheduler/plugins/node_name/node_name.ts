import type { Pod } from "kubernetes-types/core/v1.js";
import type { NodeInfo } from "../../cache/node_info.js";
import type { FilterPlugin } from "../../framework/interface.js";
import { Code, newStatus, type Status } from "../../framework/status.js";
import { NODE_NAME } from "../names.js";

/** NodeName's ErrReason. */
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

/** A pod that names its node (spec.nodeName) fits only there. */
export function nodeNameFits(pod: Pod, nodeInfo: NodeInfo): boolean {
  const want = pod.spec?.nodeName;
  return want === undefined || want === "" || want === nodeInfo.name;
}

export function newNodeName(): FilterPlugin {
  return {
    name: NODE_NAME,
    filter(_state, pod, nodeInfo): Status | null {
      return nodeNameFits(pod, nodeInfo) ? null : newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_NODE_NAME);
    },
  };
}
