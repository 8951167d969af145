/**
 * The Node object the kubelet registers and the status it keeps posting (upstream's
 * kubelet_node_status.go and nodestatus setters), built without IO from MachineInfo.
 *
 * Allocatable = capacity minus the kubelet's default hard eviction thresholds (memory.available
 * 100Mi, nodefs.available 10%) with no kube/system reservations, as a default upstream kubelet reports.
 * Updates: every 10 s (nodeStatusUpdateFrequency) the status is computed; it is written when it changed
 * or when 5 min (nodeStatusReportFrequency) passed since the last write.
 */
import type { Node, NodeCondition, NodeStatus } from "kubernetes-types/core/v1.js";
import type { MachineInfo } from "./machine_info.js";
import { rfc3339 } from "./pod_status.js";
import { jsonEqual } from "../util/json_equal.js";
import { canonicalQuantity } from "../api/validation/quantity.js";

export const KUBELET_VERSION = "v1.32.0-tk8s";
export const NODE_STATUS_UPDATE_FREQUENCY_MS = 10_000;
export const NODE_STATUS_REPORT_FREQUENCY_MS = 5 * 60_000;
export const MAX_PODS = 110;
export const KUBELET_PORT_DEFAULT = 10250;
/** The default hard eviction threshold for memory.available, held back from allocatable. */
export const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;
/** The default nodefs.available threshold, held back from allocatable ephemeral-storage. */
export const EVICTION_NODEFS_FRACTION = 0.1;

export interface NodeStatusInput {
  readonly machine: MachineInfo;
  readonly nodeName: string;
  /** `<runtimeName>://<runtimeVersion>` from the runtime's Version. */
  readonly containerRuntimeVersion: string;
  readonly kubeletPort: number;
  readonly nowMs: number;
  /** The runtime answered Status with RuntimeReady and NetworkReady. */
  readonly runtimeReady: boolean;
  readonly runtimeMessage?: string;
}

/** The labels a kubelet puts on its Node (kubelet_node_status.go initialNode). */
export function nodeLabels(machine: MachineInfo, nodeName: string): Record<string, string> {
  return {
    "beta.kubernetes.io/arch": machine.architecture,
    "beta.kubernetes.io/os": machine.operatingSystem,
    "kubernetes.io/arch": machine.architecture,
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": machine.operatingSystem,
  };
}

export function capacityOf(m: MachineInfo): Record<string, string> {
  return {
    cpu: String(m.cpuCores),
    // Canonical forms, as the API server stores them (`0Ki` is `0`, `1048576Ki` is `1Gi`): the status
    // round compares with the stored Node, and a spelling difference would rewrite it every 10 s.
    "ephemeral-storage": canonicalQuantity(`${Math.floor(m.rootfsBytes / 1024)}Ki`),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: canonicalQuantity(`${Math.floor(m.memoryBytes / 1024)}Ki`),
    pods: String(MAX_PODS),
  };
}

export function allocatableOf(m: MachineInfo): Record<string, string> {
  const rootfsKiB = Math.floor(m.rootfsBytes / 1024);
  const memKiB = Math.max(0, Math.floor((m.memoryBytes - EVICTION_MEMORY_BYTES) / 1024));
  return {
    cpu: String(m.cpuCores),
    // As upstream: capacity in Ki less 10%, printed in bytes.
    "ephemeral-storage": String(Math.floor(rootfsKiB * 1024 * (1 - EVICTION_NODEFS_FRACTION))),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: canonicalQuantity(`${memKiB}Ki`),
    pods: String(MAX_PODS),
  };
}

function cond(type: string, status: "True" | "False" | "Unknown", reason: string, message: string): Omit<NodeCondition, "lastHeartbeatTime" | "lastTransitionTime"> {
  return { type, status, reason, message };
}

/** The status to post; heartbeat times are now, transition times kept from `previous` when unchanged. */
export function buildNodeStatus(i: NodeStatusInput, previous: NodeStatus | undefined): NodeStatus {
  const now = rfc3339(i.nowMs);
  const wanted = [
    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    i.runtimeReady
      ? cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
      : cond("Ready", "False", "KubeletNotReady", i.runtimeMessage ?? "container runtime is down"),
  ];
  const conditions: NodeCondition[] = wanted.map((c) => {
    const old = previous?.conditions?.find((o) => o.type === c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status && old.lastTransitionTime !== undefined ? old.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime };
  });
  const m = i.machine;
  return {
    ...previous,
    capacity: capacityOf(m),
    allocatable: allocatableOf(m),
    conditions,
    addresses: [{ type: "InternalIP", address: m.internalIP }, { type: "Hostname", address: m.hostname }],
    daemonEndpoints: { kubeletEndpoint: { Port: i.kubeletPort } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: i.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: "",
      operatingSystem: m.operatingSystem,
      architecture: m.architecture,
    },
  };
}

/** The status without heartbeat times: what "changed" means for the update loop. */
function withoutHeartbeats(s: NodeStatus | undefined): unknown {
  return { ...s, conditions: (s?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined })), images: undefined };
}

/** Whether to write `next`: it differs beyond heartbeats, or the report period passed since `lastReportMs`. */
export function nodeStatusNeedsWrite(current: NodeStatus | undefined, next: NodeStatus, lastReportMs: number | null, nowMs: number): boolean {
  if (lastReportMs === null) return true;
  if (nowMs - lastReportMs >= NODE_STATUS_REPORT_FREQUENCY_MS) return true;
  return !jsonEqual(withoutHeartbeats(current), withoutHeartbeats(next));
}

/** The Node to create at registration. */
export function initialNode(i: NodeStatusInput): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: i.nodeName,
      labels: nodeLabels(i.machine, i.nodeName),
      annotations: { "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
    },
    spec: {},
    status: buildNodeStatus(i, undefined),
  };
}
