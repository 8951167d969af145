import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { NodeInfo } from "./node_info.js";
import type { NamespaceLabels } from "./pod_info.js";

/** Indexes the cache keeps up to date itself, so a snapshot of 5000 nodes is not rebuilt per pod. */
export interface NodeInfoLookup {
  get(nodeName: string): NodeInfo | undefined;
}

export interface SnapshotParts {
  readonly byName: NodeInfoLookup;
  readonly havePodsWithAffinity: readonly NodeInfo[];
  readonly havePodsWithRequiredAntiAffinity: readonly NodeInfo[];
}

export interface SnapshotOptions {
  readonly namespaceLabels?: NamespaceLabels;
  readonly pdbs?: readonly PodDisruptionBudget[];
}

/**
 * The cluster as one scheduling cycle sees it (upstream `cache.Snapshot`): NodeInfos in a fixed order
 * (the order nodes are tried in), the ones with affinity pods listed apart so InterPodAffinity does
 * not walk every pod, and namespace labels for namespaceSelector terms.
 */
export class Snapshot {
  readonly nodeInfos: readonly NodeInfo[];
  readonly havePodsWithAffinity: readonly NodeInfo[];
  readonly havePodsWithRequiredAntiAffinity: readonly NodeInfo[];
  readonly namespaceLabels: NamespaceLabels;
  /** PodDisruptionBudgets preemption tries not to violate. */
  readonly pdbs: readonly PodDisruptionBudget[];
  #byName: NodeInfoLookup;

  constructor(nodeInfos: readonly NodeInfo[], options: SnapshotOptions = {}, parts?: SnapshotParts) {
    this.nodeInfos = nodeInfos;
    this.#byName = parts?.byName ?? new Map(nodeInfos.map((n) => [n.name, n]));
    this.havePodsWithAffinity = parts?.havePodsWithAffinity ?? nodeInfos.filter((n) => n.podsWithAffinity.length > 0);
    this.havePodsWithRequiredAntiAffinity = parts?.havePodsWithRequiredAntiAffinity ?? nodeInfos.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    this.namespaceLabels = options.namespaceLabels ?? new Map();
    this.pdbs = options.pdbs ?? [];
  }

  get(nodeName: string): NodeInfo | undefined {
    return this.#byName.get(nodeName);
  }

  get numNodes(): number {
    return this.nodeInfos.length;
  }
}

/**
 * A snapshot from plain objects: each pod with `spec.nodeName` lands on that node (pods of unknown
 * nodes and finished pods are left out, as the cache never sees them). Nodes keep the given order.
 */
export function snapshotFrom(nodes: readonly Node[], pods: readonly Pod[] = [], options: SnapshotOptions = {}): Snapshot {
  const infos = nodes.map((n) => new NodeInfo(n));
  const byName = new Map(infos.map((i) => [i.name, i]));
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const nodeName = p.spec?.nodeName;
    if (nodeName === undefined || nodeName === "") continue;
    byName.get(nodeName)?.addPod(p);
  }
  return new Snapshot(infos, options);
}
