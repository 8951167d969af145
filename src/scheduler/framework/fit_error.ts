import type { Pod } from "kubernetes-types/core/v1.js";
import { NodeToStatus } from "./node_to_status.js";
import type { Status } from "./status.js";

/** framework.NoNodeAvailableMsg. */
export const NO_NODE_AVAILABLE_MSG = "0/%v nodes are available";

/** What a failed cycle learned (upstream `framework.Diagnosis`). */
export class Diagnosis {
  nodeToStatus = new NodeToStatus();
  /** Plugins that rejected some node: only events they care about can make the pod schedulable. */
  unschedulablePlugins = new Set<string>();
  preFilterMsg = "";
  postFilterMsg = "";

  addPluginStatus(s: Status): void {
    if (s.plugin === "" || !s.isRejected()) return;
    this.unschedulablePlugins.add(s.plugin);
  }
}

/**
 * The error of a pod that fits no node, whose message is what `kubectl describe pod` shows:
 *
 *   0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.
 *     preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
 *
 * Reasons are counted over nodes (a node with two reasons counts in both), written "count reason" and
 * sorted as strings (so "10 x" sorts before "2 y", as upstream's sort.Strings does).
 */
export class FitError extends Error {
  override readonly name = "FitError";
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    // No message argument: Error would define an own `message` that hides the getter below.
    super();
  }

  override get message(): string {
    return fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== "") {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const reasons = new Map<string, number>();
    for (const [, s] of d.nodeToStatus.entries()) for (const r of s.reasonsOrError()) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0) for (const r of d.nodeToStatus.absentNodesStatus.reasonsOrError()) reasons.set(r, (reasons.get(r) ?? 0) + absent);
    const list = [...reasons].map(([r, n]) => `${n} ${r}`).sort(compareGoStrings);
    if (list.length > 0) msg += ` ${list.join(", ")}.`;
  }
  if (d.postFilterMsg !== "") msg += ` ${d.postFilterMsg}.`;
  return msg;
}

/** Go's sort.Strings order (bytes of UTF-8); the same as UTF-16 order for the texts reasons use. */
function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
