import type { ContainerPort, Pod } from "kubernetes-types/core/v1.js";
import { hostPortsOf, type NodeInfo } from "../../cache/node_info.js";
import type { StateData } from "../../framework/cycle_state.js";
import type { FilterPlugin, PreFilterPlugin } from "../../framework/interface.js";
import { asStatus, Code, newStatus, type Status } from "../../framework/status.js";
import { NODE_PORTS } from "../names.js";

/** NodePorts' ErrReason. */
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const PRE_FILTER_KEY = "PreFilter" + NODE_PORTS;

class PreFilterState implements StateData {
  constructor(readonly ports: readonly ContainerPort[]) {}
  clone(): StateData {
    return this;
  }
}

/** fitsPorts: none of the pod's host ports is taken on the node (0.0.0.0 clashes with every ip). */
export function fitsPorts(ports: readonly ContainerPort[], nodeInfo: NodeInfo): boolean {
  return ports.every((p) => !nodeInfo.usedPorts.checkConflict(p.hostIP, p.protocol, p.hostPort ?? 0));
}

/** A pod that asks for host ports fits only where they are free; other pods skip the plugin. */
export function newNodePorts(): PreFilterPlugin & FilterPlugin {
  return {
    name: NODE_PORTS,
    preFilter(state, pod: Pod) {
      const ports = hostPortsOf(pod);
      if (ports.length === 0) return { status: newStatus(Code.Skip) };
      state.write(PRE_FILTER_KEY, new PreFilterState(ports));
      return { status: null };
    },
    preFilterExtensions: () => null,
    filter(state, _pod, nodeInfo): Status | null {
      const s = state.read<PreFilterState>(PRE_FILTER_KEY);
      if (s === undefined) return asStatus(new Error(`reading "${PRE_FILTER_KEY}" from cycleState: not found`));
      return fitsPorts(s.ports, nodeInfo) ? null : newStatus(Code.Unschedulable, ERR_REASON_NODE_PORTS);
    },
  };
}
