import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import { containerLinuxResources, linuxResources, milliCpuToQuota, milliCpuToShares, oomScoreAdj, podCgroupParent, podQos, sandboxLinuxResources } from "./linux_resources.js";

const GiB = 1024 ** 3;

function podOf(containers: Container[], extra: Partial<Pod["spec"]> = {}): Pod {
  return { metadata: { name: "p", namespace: "ns", uid: "u1" }, spec: { containers, ...extra } };
}

const shareCases = [
  { name: "no request gives the least shares", milli: 0n, want: 2 },
  { name: "1m is still the least", milli: 1n, want: 2 },
  { name: "250m is a quarter of 1024", milli: 250n, want: 256 },
  { name: "2 CPUs", milli: 2000n, want: 2048 },
  { name: "beyond the maximum is capped", milli: 1_000_000n, want: 262_144 },
];
for (const c of shareCases) test(`milliCpuToShares: ${c.name}`, () => assert.equal(milliCpuToShares(c.milli), c.want));

const quotaCases = [
  { name: "no limit is no quota", milli: 0n, want: 0 },
  { name: "500m is half the period", milli: 500n, want: 50_000 },
  { name: "a tiny limit gets the 1 ms minimum", milli: 5n, want: 1_000 },
];
for (const c of quotaCases) test(`milliCpuToQuota: ${c.name}`, () => assert.equal(milliCpuToQuota(c.milli, 100_000), c.want));

test("linuxResources: without a CPU request the shares come from the limit, as upstream", () => {
  assert.deepEqual(linuxResources(null, 500n, 0n), { cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000 });
  assert.deepEqual(linuxResources(100n, 500n, 64n * 1024n * 1024n), { cpuShares: 102, memoryLimitInBytes: 67_108_864, cpuQuota: 50_000, cpuPeriod: 100_000 });
});

const qosCases: { name: string; containers: Container[]; want: string }[] = [
  { name: "no requests or limits is BestEffort", containers: [{ name: "a" }], want: "BestEffort" },
  { name: "limits alone (requests default to them) is Guaranteed", containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }], want: "Guaranteed" },
  { name: "requests equal to limits is Guaranteed", containers: [{ name: "a", resources: { requests: { cpu: "1000m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } }], want: "Guaranteed" },
  { name: "a memory limit only is Burstable", containers: [{ name: "a", resources: { limits: { memory: "16Mi" } } }], want: "Burstable" },
  { name: "one unlimited container makes the pod Burstable", containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }, { name: "b" }], want: "Burstable" },
];
for (const c of qosCases) test(`podQos: ${c.name}`, () => assert.equal(podQos(podOf(c.containers)), c.want));

test("podQos: the API server's status.qosClass wins", () => {
  assert.equal(podQos({ ...podOf([{ name: "a" }]), status: { qosClass: "Guaranteed" } }), "Guaranteed");
});

test("oomScoreAdj: Guaranteed -997, BestEffort 1000, Burstable by its share of the node's memory", () => {
  const guaranteed = podOf([{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }]);
  assert.equal(oomScoreAdj(guaranteed, guaranteed.spec!.containers[0]!, 4 * GiB), -997);
  const best = podOf([{ name: "a" }]);
  assert.equal(oomScoreAdj(best, best.spec!.containers[0]!, 4 * GiB), 1000);
  const burst = podOf([{ name: "a", resources: { requests: { memory: "1Gi" } } }]);
  assert.equal(oomScoreAdj(burst, burst.spec!.containers[0]!, 4 * GiB), 750);
  const tiny = podOf([{ name: "a", resources: { requests: { cpu: "1m" } } }]);
  assert.equal(oomScoreAdj(tiny, tiny.spec!.containers[0]!, 4 * GiB), 999, "no memory request stays below BestEffort");
  const huge = podOf([{ name: "a", resources: { requests: { memory: "4Gi" } } }]);
  assert.equal(oomScoreAdj(huge, huge.spec!.containers[0]!, 4 * GiB), 3, "never at or under a Guaranteed pod's");
});

test("containerLinuxResources: requests and limits of one container, with its OOM score", () => {
  const p = podOf([{ name: "a", resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } } }]);
  assert.deepEqual(containerLinuxResources(p, p.spec!.containers[0]!, 0), { cpuShares: 256, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitInBytes: 67_108_864, oomScoreAdj: 999 });
});

test("sandboxLinuxResources: sums the containers and takes the larger init container", () => {
  const p = podOf(
    [{ name: "a", resources: { requests: { cpu: "100m" }, limits: { cpu: "200m", memory: "10Mi" } } }, { name: "b", resources: { requests: { cpu: "100m" }, limits: { memory: "20Mi" } } }],
    { initContainers: [{ name: "i", resources: { requests: { cpu: "500m" } } }] },
  );
  assert.deepEqual(sandboxLinuxResources(p), { cpuShares: 512, memoryLimitInBytes: 30 * 1024 * 1024, cpuQuota: 20_000, cpuPeriod: 100_000 });
});

test("podCgroupParent: under /kubepods by QoS class, as the cgroupfs driver names them", () => {
  assert.equal(podCgroupParent(podOf([{ name: "a" }])), "/kubepods/besteffort/podu1");
  assert.equal(podCgroupParent(podOf([{ name: "a", resources: { limits: { memory: "1Mi" } } }])), "/kubepods/burstable/podu1");
  assert.equal(podCgroupParent(podOf([{ name: "a", resources: { limits: { cpu: "1", memory: "1Mi" } } }])), "/kubepods/podu1");
});
