/** Plugin names as upstream spells them (pkg/scheduler/framework/plugins/names). */
export const NODE_NAME = "NodeName";
export const NODE_UNSCHEDULABLE = "NodeUnschedulable";
export const NODE_RESOURCES_FIT = "NodeResourcesFit";
export const NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";
export const TAINT_TOLERATION = "TaintToleration";
export const NODE_AFFINITY = "NodeAffinity";
export const NODE_PORTS = "NodePorts";
export const POD_TOPOLOGY_SPREAD = "PodTopologySpread";
export const INTER_POD_AFFINITY = "InterPodAffinity";
export const DEFAULT_PREEMPTION = "DefaultPreemption";
export const PRIORITY_SORT = "PrioritySort";
export const SCHEDULING_GATES = "SchedulingGates";
