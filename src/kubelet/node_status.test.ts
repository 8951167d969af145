import assert from "node:assert/strict";
import { test } from "node:test";
import type { MachineInfo } from "./machine_info.js";
import { parseOsRelease } from "./machine_info.js";
import { allocatableOf, buildNodeStatus, capacityOf, initialNode, nodeStatusNeedsWrite } from "./node_status.js";

const machine: MachineInfo = {
  hostname: "n1", cpuCores: 4, memoryBytes: 8 * 1024 ** 3, rootfsBytes: 100 * 1024 ** 3, kernelVersion: "6.1.0", osImage: "Debian GNU/Linux 12 (bookworm)",
  machineID: "m", bootID: "b", systemUUID: "s", architecture: "amd64", operatingSystem: "linux", internalIP: "10.0.0.9",
};
const input = { machine, nodeName: "n1", containerRuntimeVersion: "tk8s-process://0.1.0", kubeletPort: 10250, nowMs: 1_700_000_000_000, runtimeReady: true };

test("capacity comes from the machine, in the API's canonical quantities; allocatable holds back the default eviction thresholds", () => {
  // 104857600Ki and 8388608Ki, spelt as the API server stores them.
  assert.deepEqual(capacityOf(machine), { cpu: "4", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0", "hugepages-2Mi": "0", memory: "8Gi", pods: "110" });
  assert.equal(capacityOf({ ...machine, rootfsBytes: 0 })["ephemeral-storage"], "0");
  const a = allocatableOf(machine);
  assert.equal(a.memory, "8092Mi", "(8388608 - 102400)Ki");
  assert.equal(a["ephemeral-storage"], String(Math.floor(100 * 1024 ** 3 * 0.9)));
});

test("initialNode: upstream's labels, addresses, nodeInfo and conditions", () => {
  const n = initialNode(input);
  assert.deepEqual(n.metadata?.labels, { "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux" });
  assert.deepEqual(n.status?.addresses, [{ type: "InternalIP", address: "10.0.0.9" }, { type: "Hostname", address: "n1" }]);
  assert.deepEqual(n.status?.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.deepEqual(n.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ["MemoryPressure", "False", "KubeletHasSufficientMemory"], ["DiskPressure", "False", "KubeletHasNoDiskPressure"],
    ["PIDPressure", "False", "KubeletHasSufficientPID"], ["Ready", "True", "KubeletReady"],
  ]);
  assert.equal(n.status?.nodeInfo?.kubeletVersion, "v1.32.0-tk8s");
});

test("nodeStatusNeedsWrite: only a change or the 5 minute report period causes a write", () => {
  const first = buildNodeStatus(input, undefined);
  const later = buildNodeStatus({ ...input, nowMs: input.nowMs + 10_000 }, first);
  assert.equal(later.conditions![3]!.lastTransitionTime, first.conditions![3]!.lastTransitionTime);
  assert.equal(nodeStatusNeedsWrite(first, later, 0, 10_000), false, "only heartbeats moved");
  assert.equal(nodeStatusNeedsWrite(first, later, 0, 300_000), true, "the report period passed");
  const notReady = buildNodeStatus({ ...input, runtimeReady: false, runtimeMessage: "container runtime is down" }, first);
  assert.equal(nodeStatusNeedsWrite(first, notReady, 0, 10_000), true);
  assert.equal(notReady.conditions![3]!.reason, "KubeletNotReady");
  assert.equal(nodeStatusNeedsWrite(undefined, first, null, 0), true);
});

test("parseOsRelease: PRETTY_NAME, unquoted", () => {
  assert.equal(parseOsRelease('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), "Debian GNU/Linux 12 (bookworm)");
  assert.equal(parseOsRelease(""), "Linux");
});
