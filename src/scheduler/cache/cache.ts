import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { assert } from "../../util/assert.js";
import type { Labels } from "../framework/labels.js";
import { NodeInfo } from "./node_info.js";
import { podKey, podName } from "./pod_info.js";
import { Snapshot } from "./snapshot.js";

/** Nodes and pods the cache holds at most: beyond this, adds are refused (a bound the operator sees in the error). */
export const CACHE_NODES_MAX = 50_000;
export const CACHE_PODS_MAX = 1_000_000;

export class CacheError extends Error {
  override readonly name = "CacheError";
}

interface PodState {
  pod: Pod;
  nodeName: string;
  assumed: boolean;
  /** Set by finishBinding: the assumed pod's binding went out; the informer's add will confirm it. */
  bindingFinished: boolean;
}

/**
 * The scheduler's view of the cluster (upstream `internalcache`): nodes and the pods on them, from
 * the informers, plus **assumed** pods — ones this scheduler decided to bind whose binding the API
 * server has not yet confirmed. Assuming right after the decision lets the next cycle see the pod's
 * resources taken without waiting for the watch; forget() takes it back when binding fails.
 *
 *   assumePod(p on n1) → p counts on n1; addPod(p with nodeName n1) → confirmed, no longer assumed
 *   assumePod(p on n1) → forgetPod(p) → n1 as before
 *
 * Snapshots copy only the NodeInfos that changed since the last one (by generation).
 */
export class SchedulerCache {
  #nodes = new Map<string, NodeInfo>();
  #pods = new Map<string, PodState>();
  /** The last snapshot's NodeInfo copies, in order, and where each sits. */
  #snapInfos: NodeInfo[] = [];
  #snapIndex = new Map<string, number>();
  #snapAffinity: NodeInfo[] = [];
  #snapAntiAffinity: NodeInfo[] = [];
  /** Nodes changed since the last snapshot (added, removed, or their pods changed). */
  #dirty = new Set<string>();
  #namespaceLabels = new Map<string, Labels>();
  #pdbs = new Map<string, PodDisruptionBudget>();

  #nodeInfo(name: string): NodeInfo {
    this.#dirty.add(name);
    let ni = this.#nodes.get(name);
    if (ni === undefined) {
      if (this.#nodes.size >= CACHE_NODES_MAX) throw new CacheError(`Cannot add node "${name}": the cache holds ${CACHE_NODES_MAX} nodes`);
      ni = new NodeInfo();
      this.#nodes.set(name, ni);
    }
    return ni;
  }

  addNode(node: Node): void {
    this.#nodeInfo(node.metadata?.name ?? "").setNode(node);
  }
  updateNode(node: Node): void {
    this.addNode(node);
  }
  /** The NodeInfo stays while pods still point at it (they will be deleted by the node lifecycle). */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? "";
    const ni = this.#nodes.get(name);
    if (ni === undefined) return;
    this.#dirty.add(name);
    if (ni.pods.length === 0) this.#nodes.delete(name);
    else {
      ni.node = null;
      ni.generation++;
    }
  }

  /** A pod assigned to a node, seen by the informer (it confirms an assumed pod with the same key). */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? "";
    assert(nodeName !== "", `addPod of unassigned pod ${podName(pod)}`);
    const have = this.#pods.get(key);
    if (have !== undefined) {
      // Confirming an assumed pod (or a re-add): move it to where the API server says it is.
      this.#removeFromNode(have);
    } else if (this.#pods.size >= CACHE_PODS_MAX) {
      throw new CacheError(`Cannot add pod ${podName(pod)}: the cache holds ${CACHE_PODS_MAX} pods`);
    }
    const st: PodState = { pod, nodeName, assumed: false, bindingFinished: false };
    this.#pods.set(key, st);
    this.#nodeInfo(nodeName).addPod(pod);
  }

  updatePod(_oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    const have = this.#pods.get(key);
    if (have === undefined || have.assumed) {
      this.addPod(newPod);
      return;
    }
    this.#removeFromNode(have);
    have.pod = newPod;
    have.nodeName = newPod.spec?.nodeName ?? have.nodeName;
    this.#nodeInfo(have.nodeName).addPod(newPod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const have = this.#pods.get(key);
    if (have === undefined) return;
    this.#removeFromNode(have);
    this.#pods.delete(key);
  }

  /** Counts `pod` (whose spec.nodeName is the chosen node) on its node until it is confirmed or forgotten. */
  assumePod(pod: Pod): void {
    const key = podKey(pod);
    if (this.#pods.has(key)) throw new CacheError(`pod ${podName(pod)} is in the cache, so can't be assumed`);
    const nodeName = pod.spec?.nodeName ?? "";
    assert(nodeName !== "", `assumePod of ${podName(pod)} without spec.nodeName`);
    this.#pods.set(key, { pod, nodeName, assumed: true, bindingFinished: false });
    this.#nodeInfo(nodeName).addPod(pod);
  }

  finishBinding(pod: Pod): void {
    const st = this.#pods.get(podKey(pod));
    if (st !== undefined && st.assumed) st.bindingFinished = true;
  }

  /** Takes back an assumed pod whose binding failed. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    if (st === undefined) return;
    if (!st.assumed) throw new CacheError(`pod ${podName(pod)} wasn't assumed so cannot be forgotten`);
    this.#removeFromNode(st);
    this.#pods.delete(key);
  }

  isAssumedPod(pod: Pod): boolean {
    return this.#pods.get(podKey(pod))?.assumed ?? false;
  }

  setNamespaceLabels(namespace: string, labels: Labels | null): void {
    if (labels === null) this.#namespaceLabels.delete(namespace);
    else this.#namespaceLabels.set(namespace, labels);
  }

  setPodDisruptionBudget(pdb: PodDisruptionBudget, deleted = false): void {
    const key = `${pdb.metadata?.namespace ?? "default"}/${pdb.metadata?.name ?? ""}`;
    if (deleted) this.#pdbs.delete(key);
    else this.#pdbs.set(key, pdb);
  }

  #removeFromNode(st: PodState): void {
    const ni = this.#nodes.get(st.nodeName);
    if (ni === undefined) return;
    this.#dirty.add(st.nodeName);
    ni.removePod(st.pod);
    if (ni.node === null && ni.pods.length === 0) this.#nodes.delete(st.nodeName);
  }

  get nodeCount(): number {
    return this.#nodes.size;
  }
  get podCount(): number {
    return this.#pods.size;
  }

  /**
   * UpdateSnapshot: the nodes that exist (a removed node with pods left is not offered), in the order
   * they were added. Only nodes changed since the last call are copied; like upstream's, the returned
   * snapshot's lists are reused and updated by the next call, so use one snapshot per cycle. A
   * NodeInfo taken from it never changes.
   */
  snapshot(): Snapshot {
    const removed = new Set<string>();
    let affinityChanged = false;
    for (const name of this.#dirty) {
      const ni = this.#nodes.get(name);
      const at = this.#snapIndex.get(name);
      const old = at === undefined ? undefined : this.#snapInfos[at];
      if (old !== undefined && (old.podsWithAffinity.length > 0 || old.podsWithRequiredAntiAffinity.length > 0)) affinityChanged = true;
      if (ni === undefined || ni.node === null) {
        if (at !== undefined) removed.add(name);
        continue;
      }
      const copy = ni.clone();
      if (copy.podsWithAffinity.length > 0 || copy.podsWithRequiredAntiAffinity.length > 0) affinityChanged = true;
      if (at !== undefined) this.#snapInfos[at] = copy;
      else {
        this.#snapIndex.set(name, this.#snapInfos.length);
        this.#snapInfos.push(copy);
      }
    }
    // Removals last, so the indexes used above stayed valid while replacing and appending.
    if (removed.size > 0) {
      this.#snapInfos = this.#snapInfos.filter((n) => !removed.has(n.name));
      this.#snapIndex = new Map(this.#snapInfos.map((n, i) => [n.name, i]));
    }
    if (affinityChanged || removed.size > 0) {
      this.#snapAffinity = this.#snapInfos.filter((n) => n.podsWithAffinity.length > 0);
      this.#snapAntiAffinity = this.#snapInfos.filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    }
    this.#dirty.clear();
    const infos = this.#snapInfos;
    const index = this.#snapIndex;
    return new Snapshot(infos, { namespaceLabels: new Map(this.#namespaceLabels), pdbs: [...this.#pdbs.values()] }, {
      byName: { get: (name: string) => { const i = index.get(name); return i === undefined ? undefined : infos[i]; } },
      havePodsWithAffinity: this.#snapAffinity,
      havePodsWithRequiredAntiAffinity: this.#snapAntiAffinity,
    });
  }
}
