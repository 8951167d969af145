import type { Rng } from "../../env/env.js";
import type { PluginEntry, Profile } from "../framework/framework.js";
import { newDefaultPreemption } from "./default_preemption/default_preemption.js";
import { newInterPodAffinity, type InterPodAffinityArgs } from "./inter_pod_affinity/inter_pod_affinity.js";
import { newNodeAffinity, type NodeAffinityArgs } from "./node_affinity/node_affinity.js";
import { newNodeName } from "./node_name/node_name.js";
import { newNodePorts } from "./node_ports/node_ports.js";
import { newNodeResourcesBalancedAllocation } from "./node_resources/balanced_allocation.js";
import { newNodeResourcesFit, type FitArgs } from "./node_resources/fit.js";
import { newNodeUnschedulable } from "./node_unschedulable/node_unschedulable.js";
import { newPodTopologySpread, type PodTopologySpreadArgs } from "./pod_topology_spread/pod_topology_spread.js";
import { newTaintToleration } from "./taint_toleration/taint_toleration.js";

/** upstream's v1.DefaultSchedulerName. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface DefaultProfileOptions {
  readonly schedulerName?: string;
  /** Preemption's random start among candidate nodes; the scheduler's own Rng. */
  readonly rng: Rng;
  readonly nodeAffinity?: NodeAffinityArgs;
  readonly nodeResourcesFit?: FitArgs;
  readonly podTopologySpread?: PodTopologySpreadArgs;
  readonly interPodAffinity?: InterPodAffinityArgs;
  readonly percentageOfNodesToScore?: number;
  /** Plugin names to leave out (e.g. "DefaultPreemption"). */
  readonly disabled?: readonly string[];
}

/**
 * The default profile in upstream's MultiPoint order and weights (volume plugins, ImageLocality and
 * the binder are not here: the shell binds through pods/binding). Filters run in this order, so a
 * node's reason is the first plugin's that rejects it.
 */
export function defaultProfile(options: DefaultProfileOptions): Profile {
  const entries: { name: string; entry: PluginEntry }[] = [
    { name: "NodeUnschedulable", entry: { factory: () => newNodeUnschedulable() } },
    { name: "NodeName", entry: { factory: () => newNodeName() } },
    { name: "TaintToleration", entry: { factory: () => newTaintToleration(), weight: 3 } },
    { name: "NodeAffinity", entry: { factory: () => newNodeAffinity(options.nodeAffinity), weight: 2 } },
    { name: "NodePorts", entry: { factory: () => newNodePorts() } },
    { name: "NodeResourcesFit", entry: { factory: () => newNodeResourcesFit(options.nodeResourcesFit), weight: 1 } },
    { name: "PodTopologySpread", entry: { factory: (h) => newPodTopologySpread(h, options.podTopologySpread), weight: 2 } },
    { name: "InterPodAffinity", entry: { factory: (h) => newInterPodAffinity(h, options.interPodAffinity), weight: 2 } },
    { name: "DefaultPreemption", entry: { factory: (h) => newDefaultPreemption(h, { rng: options.rng }) } },
    { name: "NodeResourcesBalancedAllocation", entry: { factory: () => newNodeResourcesBalancedAllocation(), weight: 1 } },
  ];
  const disabled = new Set(options.disabled ?? []);
  return {
    schedulerName: options.schedulerName ?? DEFAULT_SCHEDULER_NAME,
    plugins: entries.filter((e) => !disabled.has(e.name)).map((e) => e.entry),
    percentageOfNodesToScore: options.percentageOfNodesToScore ?? 0,
  };
}
