import type { Container, Node, Pod, Taint, Toleration } from "kubernetes-types/core/v1.js";

/**
 * Small builders for scheduler tests (in the spirit of upstream's st.MakePod / st.MakeNode): plain
 * objects, nothing more, so a test reads as the cluster it describes.
 */
export interface NodeSpec {
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly labels?: Record<string, string>;
  readonly taints?: Taint[];
  readonly unschedulable?: boolean;
  readonly extra?: Record<string, string>;
}

export function makeNode(name: string, spec: NodeSpec = {}): Node {
  const allocatable: Record<string, string> = { cpu: spec.cpu ?? "4", memory: spec.memory ?? "8Gi", pods: String(spec.pods ?? 110), ...spec.extra };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...spec.labels } },
    spec: { taints: spec.taints, unschedulable: spec.unschedulable },
    status: { allocatable, capacity: allocatable },
  };
}

export interface PodSpecLite {
  readonly namespace?: string;
  readonly uid?: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly nodeName?: string;
  readonly priority?: number;
  readonly labels?: Record<string, string>;
  readonly tolerations?: Toleration[];
  readonly nodeSelector?: Record<string, string>;
  readonly hostPorts?: number[];
  readonly containers?: Container[];
  readonly initContainers?: Container[];
  readonly spec?: Partial<NonNullable<Pod["spec"]>>;
  readonly status?: Pod["status"];
  readonly startTime?: string;
}

export function makePod(name: string, p: PodSpecLite = {}): Pod {
  const requests: Record<string, string> = {};
  if (p.cpu !== undefined) requests.cpu = p.cpu;
  if (p.memory !== undefined) requests.memory = p.memory;
  const container: Container = {
    name: "c",
    image: "busybox",
    resources: Object.keys(requests).length > 0 ? { requests } : {},
    ports: p.hostPorts?.map((hostPort) => ({ containerPort: hostPort, hostPort, protocol: "TCP" })),
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: p.namespace ?? "default", uid: p.uid ?? `uid-${name}`, labels: p.labels, creationTimestamp: p.startTime },
    spec: {
      containers: p.containers ?? [container],
      initContainers: p.initContainers,
      nodeName: p.nodeName,
      priority: p.priority,
      tolerations: p.tolerations,
      nodeSelector: p.nodeSelector,
      ...p.spec,
    },
    status: { ...(p.status ?? {}), ...(p.startTime !== undefined ? { startTime: p.startTime } : {}) },
  };
}

export const CONTROL_PLANE_TAINT: Taint = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

import type { Snapshot } from "./cache/snapshot.js";
import { Framework, type PluginFactory } from "./framework/framework.js";

/**
 * Runs PreFilter then Filter of a small profile on every node of `snapshot`, as the scheduler would,
 * and gives each node's outcome as "Success" or "<Code>: <reasons>" (PreFilter rejections apply to all).
 */
export function filterOutcomes(factories: PluginFactory[], pod: Pod, snapshot: Snapshot): Record<string, string> {
  const fwk = new Framework({ schedulerName: "test", plugins: factories.map((factory) => ({ factory })) });
  fwk.beginCycle(snapshot);
  const state = fwk.newCycleState();
  const pre = fwk.runPreFilterPlugins(state, pod, snapshot.nodeInfos);
  const out: Record<string, string> = {};
  for (const ni of snapshot.nodeInfos) {
    if (!pre.status.isSuccess()) out[ni.name] = pre.status.toString();
    else if (pre.result?.nodeNames != null && !pre.result.nodeNames.has(ni.name)) out[ni.name] = "Filtered by PreFilter";
    else {
      const s = fwk.runFilterPlugins(state, pod, ni);
      out[ni.name] = s.isSuccess() ? "Success" : s.toString();
    }
  }
  return out;
}

/** Runs PreScore, Score and NormalizeScore of a profile over all nodes; weights applied. */
export function scoreOutcomes(factories: { factory: PluginFactory; weight?: number }[], pod: Pod, snapshot: Snapshot): Record<string, number> {
  const fwk = new Framework({ schedulerName: "test", plugins: factories });
  fwk.beginCycle(snapshot);
  const state = fwk.newCycleState();
  const pre = fwk.runPreFilterPlugins(state, pod, snapshot.nodeInfos);
  if (!pre.status.isSuccess() && !pre.status.isRejected()) throw new Error(pre.status.message());
  const ps = fwk.runPreScorePlugins(state, pod, snapshot.nodeInfos);
  if (!ps.isSuccess()) throw new Error(ps.message());
  const r = fwk.runScorePlugins(state, pod, snapshot.nodeInfos);
  if (!r.status.isSuccess()) throw new Error(r.status.message());
  return Object.fromEntries(r.scores.map((s) => [s.name, s.totalScore]));
}
