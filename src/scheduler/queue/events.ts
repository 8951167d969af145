import type { Node, Pod } from "kubernetes-types/core/v1.js";

/**
 * What changed in the cluster, as the queue needs it to decide which unschedulable pods to retry
 * (upstream `framework.ClusterEvent`: a resource and an action type bit set).
 */
export type EventResource = "Pod" | "AssignedPod" | "UnscheduledPod" | "Node" | "*";

export const ActionType = {
  Add: 1 << 0,
  Delete: 1 << 1,
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  UpdatePodLabel: 1 << 7,
  UpdatePodScaleDown: 1 << 8,
  UpdatePodTolerations: 1 << 9,
  UpdatePodSchedulingGatesEliminated: 1 << 10,
} as const;
export const UPDATE_ALL =
  ActionType.UpdateNodeAllocatable | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint | ActionType.UpdateNodeCondition | ActionType.UpdateNodeAnnotation |
  ActionType.UpdatePodLabel | ActionType.UpdatePodScaleDown | ActionType.UpdatePodTolerations | ActionType.UpdatePodSchedulingGatesEliminated;
export const ALL_ACTIONS = ActionType.Add | ActionType.Delete | UPDATE_ALL;

export interface ClusterEvent {
  readonly resource: EventResource;
  readonly actionType: number;
  /** For logs and metrics, e.g. "NodeAdd", "AssignedPodDelete". */
  readonly label: string;
}

/** Matches everything; also how pods leave unschedulable after the 5-minute flush. */
export const EVENT_UNSCHEDULABLE_TIMEOUT: ClusterEvent = { resource: "*", actionType: ALL_ACTIONS, label: "UnschedulableTimeout" };
export const EVENT_NODE_ADD: ClusterEvent = { resource: "Node", actionType: ActionType.Add, label: "NodeAdd" };
export const EVENT_NODE_DELETE: ClusterEvent = { resource: "Node", actionType: ActionType.Delete, label: "NodeDelete" };
export const EVENT_ASSIGNED_POD_ADD: ClusterEvent = { resource: "AssignedPod", actionType: ActionType.Add, label: "AssignedPodAdd" };
export const EVENT_ASSIGNED_POD_DELETE: ClusterEvent = { resource: "AssignedPod", actionType: ActionType.Delete, label: "AssignedPodDelete" };

/** Whether a registered interest (`want`) covers the event that happened (`got`). */
export function eventMatches(want: ClusterEvent, got: ClusterEvent): boolean {
  if (got.resource === "*" ) return true;
  const resourceOk = want.resource === "*" || want.resource === got.resource || (want.resource === "Pod" && (got.resource === "AssignedPod" || got.resource === "UnscheduledPod"));
  return resourceOk && (want.actionType & got.actionType) !== 0;
}

const json = (v: unknown): string => JSON.stringify(v ?? null);

/** The node-update events a change between two Node objects amounts to (upstream's nodeSchedulingPropertiesChange). */
export function nodeUpdateEvents(oldNode: Node, newNode: Node): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  const ev = (actionType: number, label: string): void => void out.push({ resource: "Node", actionType, label });
  if ((oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)) ev(ActionType.UpdateNodeTaint, "NodeSpecUnschedulableChange");
  if (json(oldNode.status?.allocatable) !== json(newNode.status?.allocatable)) ev(ActionType.UpdateNodeAllocatable, "NodeAllocatableChange");
  if (json(oldNode.metadata?.labels) !== json(newNode.metadata?.labels)) ev(ActionType.UpdateNodeLabel, "NodeLabelChange");
  if (json(oldNode.spec?.taints) !== json(newNode.spec?.taints)) ev(ActionType.UpdateNodeTaint, "NodeTaintChange");
  const conds = (n: Node): string => json((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  if (conds(oldNode) !== conds(newNode)) ev(ActionType.UpdateNodeCondition, "NodeConditionChange");
  if (json(oldNode.metadata?.annotations) !== json(newNode.metadata?.annotations)) ev(ActionType.UpdateNodeAnnotation, "NodeAnnotationChange");
  return out;
}

/** Events of an assigned pod's update: label changes and resource scale-downs can free room or change matches. */
export function assignedPodUpdateEvents(oldPod: Pod, newPod: Pod): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (json(oldPod.metadata?.labels) !== json(newPod.metadata?.labels)) out.push({ resource: "AssignedPod", actionType: ActionType.UpdatePodLabel, label: "AssignedPodUpdate" });
  const reqs = (p: Pod): string => json((p.spec?.containers ?? []).map((c) => c.resources?.requests));
  if (reqs(oldPod) !== reqs(newPod)) out.push({ resource: "AssignedPod", actionType: ActionType.UpdatePodScaleDown, label: "AssignedPodUpdate" });
  return out;
}

/**
 * The events each default plugin's rejection can be undone by (upstream EventsToRegister). A pod
 * rejected by NodeResourcesFit waits for a node to be added or to grow, or an assigned pod to go.
 */
export const DEFAULT_PLUGIN_EVENTS: ReadonlyMap<string, readonly ClusterEvent[]> = new Map<string, ClusterEvent[]>([
  ["NodeName", [{ resource: "Node", actionType: ActionType.Add, label: "NodeAdd" }]],
  ["NodeUnschedulable", [{ resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeTaint, label: "" }]],
  ["TaintToleration", [{ resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeTaint, label: "" }]],
  ["NodeAffinity", [{ resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeLabel, label: "" }]],
  ["NodePorts", [
    { resource: "AssignedPod", actionType: ActionType.Delete, label: "" },
    { resource: "Node", actionType: ActionType.Add | UPDATE_ALL, label: "" },
  ]],
  ["NodeResourcesFit", [
    { resource: "AssignedPod", actionType: ActionType.Delete | ActionType.UpdatePodScaleDown, label: "" },
    { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeAllocatable | ActionType.UpdateNodeTaint | ActionType.UpdateNodeLabel, label: "" },
  ]],
  ["NodeResourcesBalancedAllocation", [
    { resource: "AssignedPod", actionType: ActionType.Delete, label: "" },
    { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeAllocatable, label: "" },
  ]],
  ["PodTopologySpread", [
    { resource: "AssignedPod", actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete, label: "" },
    { resource: "Node", actionType: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint, label: "" },
  ]],
  ["InterPodAffinity", [
    { resource: "AssignedPod", actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete, label: "" },
    { resource: "Node", actionType: ActionType.Add | ActionType.UpdateNodeLabel, label: "" },
  ]],
  ["SchedulingGates", [{ resource: "UnscheduledPod", actionType: ActionType.UpdatePodSchedulingGatesEliminated, label: "" }]],
]);
