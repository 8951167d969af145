/**
 * CPU and memory from a pod's requests and limits to the CRI's LinuxContainerResources, as upstream's
 * kuberuntime (calculateLinuxResources, calculateSandboxResources), pkg/kubelet/cm (MilliCPUToShares,
 * milliCPUToQuota), pkg/kubelet/qos (GetContainerOOMScoreAdjust) and the pod's cgroup parent under the
 * cgroupfs driver with --cgroups-per-qos (`/kubepods[/burstable|/besteffort]/pod<uid>`). Pure.
 *
 *   cpu request 250m        → cpuShares 256 (250 × 1024 / 1000; at least 2)
 *   cpu limit 500m          → cpuQuota 50000 per cpuPeriod 100000 µs (at least 1000; 0 = no limit)
 *   memory limit 64Mi       → memoryLimitInBytes 67108864 (0 = no limit)
 *   no cpu request, a limit → shares from the limit (the request defaults to it)
 */
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import { milliValue, parseQuantity, quantityValue } from "../api/validation/quantity.js";
import type { LinuxContainerResources } from "./cri/cri.js";

/** cm.MinShares / cm.SharesPerCPU / cm.MaxShares. */
export const MIN_SHARES = 2;
export const SHARES_PER_CPU = 1024;
export const MAX_SHARES = 262_144;
/** The CFS period upstream uses (100 ms, in µs), and the least quota it sets (1 ms). */
export const QUOTA_PERIOD_US = 100_000;
export const MIN_QUOTA_PERIOD_US = 1_000;
/** pkg/kubelet/qos policy.go. */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
/** The cgroup every pod goes under (upstream's --cgroup-root "/" + "kubepods"). */
export const KUBEPODS_CGROUP = "/kubepods";

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

type ResourceMap = Readonly<Record<string, unknown>> | undefined;

function quantity(list: ResourceMap, name: string): { milli: bigint; value: bigint } | null {
  const raw = list?.[name];
  if (raw === undefined || raw === null) return null;
  const q = parseQuantity(raw as string | number);
  return { milli: milliValue(q), value: quantityValue(q) };
}

export function milliCpuToShares(milliCpu: bigint): number {
  if (milliCpu === 0n) return MIN_SHARES;
  const shares = Number((milliCpu * BigInt(SHARES_PER_CPU)) / 1000n);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

export function milliCpuToQuota(milliCpu: bigint, periodUs: number): number {
  if (milliCpu === 0n) return 0;
  const quota = Number((milliCpu * BigInt(periodUs)) / 1000n);
  return Math.max(MIN_QUOTA_PERIOD_US, quota);
}

/** upstream's calculateLinuxResources: a null cpuRequest with a limit takes the limit. */
export function linuxResources(cpuRequestMilli: bigint | null, cpuLimitMilli: bigint, memoryLimitBytes: bigint): LinuxContainerResources {
  const shares = cpuRequestMilli === null && cpuLimitMilli > 0n ? milliCpuToShares(cpuLimitMilli) : milliCpuToShares(cpuRequestMilli ?? 0n);
  return {
    cpuShares: shares,
    ...(memoryLimitBytes > 0n ? { memoryLimitInBytes: Number(memoryLimitBytes) } : {}),
    cpuQuota: milliCpuToQuota(cpuLimitMilli, QUOTA_PERIOD_US),
    cpuPeriod: QUOTA_PERIOD_US,
  };
}

/** The pod's QoS class (the API server sets status.qosClass; computed as upstream's GetPodQOS when it is missing). */
export function podQos(pod: Pod): QosClass {
  const set = pod.status?.qosClass;
  if (set === "Guaranteed" || set === "Burstable" || set === "BestEffort") return set;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests as ResourceMap;
    const lim = c.resources?.limits as ResourceMap;
    for (const name of ["cpu", "memory"]) {
      const r = quantity(req, name);
      const l = quantity(lim, name);
      if ((r !== null && r.milli > 0n) || (l !== null && l.milli > 0n)) any = true;
      // Guaranteed: every container limits cpu and memory, and any request equals its limit.
      if (l === null || l.milli === 0n) guaranteed = false;
      else if (r !== null && r.milli !== l.milli) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The resources of one container (upstream's generateLinuxContainerResources, without hugepages and swap). */
export function containerLinuxResources(pod: Pod, c: Container, memoryCapacityBytes: number): LinuxContainerResources {
  const req = c.resources?.requests as ResourceMap;
  const lim = c.resources?.limits as ResourceMap;
  const cpuRequest = quantity(req, "cpu");
  return {
    ...linuxResources(cpuRequest === null ? null : cpuRequest.milli, quantity(lim, "cpu")?.milli ?? 0n, quantity(lim, "memory")?.value ?? 0n),
    oomScoreAdj: oomScoreAdj(pod, c, memoryCapacityBytes),
  };
}

/** upstream's GetContainerOOMScoreAdjust (node-critical pods aside). */
export function oomScoreAdj(pod: Pod, c: Container, memoryCapacityBytes: number): number {
  const qos = podQos(pod);
  if (qos === "Guaranteed") return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === "BestEffort") return BESTEFFORT_OOM_SCORE_ADJ;
  const memoryRequest = Number(quantity(c.resources?.requests as ResourceMap, "memory")?.value ?? 0n);
  if (memoryCapacityBytes <= 0) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  const adj = Math.trunc(1000 - (1000 * memoryRequest) / memoryCapacityBytes);
  // A Guaranteed pod using all memory scores 3; Burstable ones stay above that and below BestEffort.
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/** Sums a resource over the regular containers, taking the max with each init container (upstream's PodRequests/PodLimits). */
function podTotal(pod: Pod, kind: "requests" | "limits", name: string, unit: "milli" | "value"): { total: bigint; present: boolean } {
  let total = 0n;
  let present = false;
  for (const c of pod.spec?.containers ?? []) {
    const q = quantity(c.resources?.[kind] as ResourceMap, name);
    if (q === null) continue;
    present = true;
    total += q[unit];
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const q = quantity(c.resources?.[kind] as ResourceMap, name);
    if (q === null) continue;
    present = true;
    if (q[unit] > total) total = q[unit];
  }
  return { total, present };
}

/** The sandbox's resources (upstream's calculateSandboxResources, overhead excluded). */
export function sandboxLinuxResources(pod: Pod): LinuxContainerResources {
  const cpuRequest = podTotal(pod, "requests", "cpu", "milli");
  return linuxResources(cpuRequest.present ? cpuRequest.total : null, podTotal(pod, "limits", "cpu", "milli").total, podTotal(pod, "limits", "memory", "value").total);
}

/** The pod's cgroup under the cgroupfs driver with cgroups per QoS: `/kubepods/burstable/pod<uid>`. */
export function podCgroupParent(pod: Pod): string {
  const uid = pod.metadata?.uid ?? "";
  const qos = podQos(pod);
  if (qos === "Guaranteed") return `${KUBEPODS_CGROUP}/pod${uid}`;
  return `${KUBEPODS_CGROUP}/${qos.toLowerCase()}/pod${uid}`;
}
