import type { ContainerPort, Node, Pod } from "kubernetes-types/core/v1.js";
import { addResource, cloneResource, emptyResource, resourceFromObject, type Resource } from "../framework/resource.js";
import { HostPortInfo } from "./host_ports.js";
import { PodInfo, podKey } from "./pod_info.js";

/** schedutil.GetHostPorts: ports of the containers and of sidecars (init containers that keep running). */
export function hostPortsOf(pod: Pod): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const c of pod.spec?.initContainers ?? []) {
    if (c.restartPolicy !== "Always") continue;
    for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push(p);
  }
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if ((p.hostPort ?? 0) > 0) out.push(p);
  return out;
}

/**
 * One node and what the scheduler has placed on it (upstream `framework.NodeInfo`): its pods (bound
 * and assumed), the sum of their requests (`requested`) and of their requests with the non-zero
 * defaults (`nonZeroRequested`, what spreading scores use), its allocatable and its used host ports.
 *
 *   node n1 allocatable cpu 2000m, pods 110; pods a (500m), b (no requests)
 *   → requested.milliCPU 500, nonZeroRequested.milliCPU 600 (b counts as 100m), pods 2
 */
export class NodeInfo {
  node: Node | null = null;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  requested: Resource = emptyResource();
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  /** Bumped on every change, so a snapshot can tell which nodes to copy again. */
  generation = 0;
  /** The node's name, kept apart: filters and scores read it for every node in every cycle. */
  #name = "";

  constructor(node: Node | null = null, pods: readonly Pod[] = []) {
    if (node !== null) this.setNode(node);
    for (const p of pods) this.addPod(p);
  }

  get name(): string {
    return this.node === null ? "" : this.#name;
  }

  setNode(node: Node): void {
    this.node = node;
    this.#name = node.metadata?.name ?? "";
    this.allocatable = resourceFromObject(node.status?.allocatable as Record<string, unknown> | undefined);
    this.generation++;
  }

  addPod(pod: Pod | PodInfo): void {
    const pi = pod instanceof PodInfo ? pod : new PodInfo(pod);
    this.pods.push(pi);
    if (pi.requiredAffinityTerms.length > 0 || pi.requiredAntiAffinityTerms.length > 0 || pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0) {
      this.podsWithAffinity.push(pi);
    }
    if (pi.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.#account(pi, 1);
  }

  /** Removes the pod with the same key; false when it is not here. */
  removePod(pod: Pod): boolean {
    const key = podKey(pod);
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const pi = this.pods[i]!;
    this.pods.splice(i, 1);
    this.podsWithAffinity = this.podsWithAffinity.filter((p) => p !== pi);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p !== pi);
    this.#account(pi, -1);
    return true;
  }

  #account(pi: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, pi.requests, sign);
    this.nonZeroRequested.milliCPU += sign * pi.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory += sign * pi.nonZeroRequests.memory;
    for (const p of hostPortsOf(pi.pod)) {
      if (sign > 0) this.usedPorts.add(p.hostIP, p.protocol, p.hostPort ?? 0);
      else this.usedPorts.remove(p.hostIP, p.protocol, p.hostPort ?? 0);
    }
    this.generation++;
  }

  /** A copy whose pod list and sums can change (preemption's what-if) without touching this one. */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.node = this.node;
    c.#name = this.#name;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = this.usedPorts.clone();
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.allocatable = cloneResource(this.allocatable);
    c.generation = this.generation;
    return c;
  }
}
