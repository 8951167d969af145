/**
 * The object shapes of bench/scheduler, after upstream's scheduler_perf templates
 * (test/integration/scheduler_perf/config: node-default.yaml, pod-default.yaml,
 * pod-with-pod-anti-affinity.yaml, pod-with-pod-affinity.yaml, pod-with-preferred-pod-affinity.yaml,
 * pod-with-topology-spreading.yaml). Pure: the runner in main.ts sends them.
 */
import type { Node, Pod } from "kubernetes-types/core/v1.js";

export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
/** A handful of zones, as the scheduler_perf node templates label them round-robin. */
export const ZONES_DEFAULT = 5;

export type Shape = "basic" | "anti-affinity" | "affinity" | "preferred-affinity" | "spread";
export const SHAPES: readonly Shape[] = ["basic", "anti-affinity", "affinity", "preferred-affinity", "spread"];

export function isShape(s: string): s is Shape {
  return (SHAPES as readonly string[]).includes(s);
}

/** node-default.yaml: 4 cpu, 32Gi, 110 pods, Ready; plus hostname and zone labels. */
export function benchNode(index: number, zones = ZONES_DEFAULT): Node {
  const name = `bench-node-${index}`;
  const resources = { cpu: "4", memory: "32Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { [LABEL_HOSTNAME]: name, [LABEL_ZONE]: `zone-${index % zones}`, bench: "scheduler" } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "bench node (API object only)" }],
      phase: "Running",
    },
  };
}

/** The label every bench pod of a shape carries; its affinity terms select on it. */
export function groupLabels(shape: Shape): Record<string, string> {
  return { bench: "scheduler", shape, color: shape === "anti-affinity" ? "green" : "blue" };
}

/** pod-default.yaml's requests: 100m cpu, 500Mi memory. */
export function benchPod(shape: Shape, name: string): Pod {
  const labels = groupLabels(shape);
  const selector = { matchLabels: { color: labels.color! } };
  const spec: NonNullable<Pod["spec"]> = {
    containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "100m", memory: "500Mi" } } }],
  };
  switch (shape) {
    case "basic":
      break;
    case "anti-affinity":
      // pod-with-pod-anti-affinity.yaml: at most one pod of the group per node.
      spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selector, topologyKey: LABEL_HOSTNAME }] } };
      break;
    case "affinity":
      // pod-with-pod-affinity.yaml: the whole group in one zone (the first pod matches itself).
      spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selector, topologyKey: LABEL_ZONE }] } };
      break;
    case "preferred-affinity":
      spec.affinity = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { labelSelector: selector, topologyKey: LABEL_ZONE } }] } };
      break;
    case "spread":
      // pod-with-topology-spreading.yaml: maxSkew 1 across zones, hard.
      spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: LABEL_ZONE, whenUnsatisfiable: "DoNotSchedule", labelSelector: selector }];
      break;
  }
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec };
}

/**
 * How many pods a shape can place on `nodes` nodes: anti-affinity one per node; required zone
 * affinity only the first zone's nodes; the rest by cpu (4 cpu / 100m = 40 per node, under 110).
 */
export function capacityPods(shape: Shape, nodes: number, zones = ZONES_DEFAULT): number {
  const perNode = 40;
  switch (shape) {
    case "anti-affinity":
      return nodes;
    case "affinity":
      return Math.ceil(nodes / zones) * perNode;
    default:
      return nodes * perNode;
  }
}

/**
 * Default init and measured pod counts (per measured phase; `phases` phases share the nodes), scaled
 * like scheduler_perf's 500/5000-node cases and bounded so a full run stays within minutes and the
 * nodes never run out of room.
 */
export function defaultCounts(shape: Shape, nodes: number, phases = 1): { init: number; measured: number } {
  const capacity = capacityPods(shape, nodes);
  // Anti-affinity pods take a node each: fewer init pods leave room for the measured ones.
  const init = shape === "anti-affinity" ? Math.min(Math.floor(nodes / 5), 1000) : Math.min(nodes, 1000);
  const wanted = nodes >= 1000 ? 2000 : 1000;
  // Anti-affinity stops at 60% of the nodes, as scheduler_perf's cases leave room (a full cluster makes
  // every cycle walk all nodes for the last free ones: a different benchmark).
  const room = shape === "anti-affinity" ? Math.floor(nodes * 0.6) : capacity;
  return { init, measured: Math.max(0, Math.min(wanted, Math.floor((room - init) / Math.max(1, phases)))) };
}
