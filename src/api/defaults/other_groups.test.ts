import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults } from "./defaults.js";

const cases: { name: string; group: string; kind: string; sent: Record<string, unknown>; want: Record<string, unknown> }[] = [
  {
    name: "EndpointSlice: ports get name \"\" and protocol TCP",
    group: "discovery.k8s.io",
    kind: "EndpointSlice",
    sent: { addressType: "IPv4", endpoints: [], ports: [{ port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] },
    want: { addressType: "IPv4", endpoints: [], ports: [{ port: 80, name: "", protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }] },
  },
  {
    name: "PriorityClass: preempts lower priorities unless told not to",
    group: "scheduling.k8s.io",
    kind: "PriorityClass",
    sent: { value: 1000 },
    want: { value: 1000, preemptionPolicy: "PreemptLowerPriority" },
  },
  {
    name: "PriorityClass: Never is kept",
    group: "scheduling.k8s.io",
    kind: "PriorityClass",
    sent: { value: 1000, preemptionPolicy: "Never" },
    want: { value: 1000, preemptionPolicy: "Never" },
  },
  {
    name: "StorageClass: volumes are deleted with their claim and bound immediately",
    group: "storage.k8s.io",
    kind: "StorageClass",
    sent: { provisioner: "example.com/csi" },
    want: { provisioner: "example.com/csi", reclaimPolicy: "Delete", volumeBindingMode: "Immediate" },
  },
  {
    name: "StorageClass: policies given are kept",
    group: "storage.k8s.io",
    kind: "StorageClass",
    sent: { provisioner: "p", reclaimPolicy: "Retain", volumeBindingMode: "WaitForFirstConsumer" },
    want: { provisioner: "p", reclaimPolicy: "Retain", volumeBindingMode: "WaitForFirstConsumer" },
  },
];

for (const c of cases) {
  test(`applyDefaults: ${c.name}`, () => {
    const obj = structuredClone(c.sent);
    applyDefaults(c.group, "v1", c.kind, obj);
    assert.deepEqual(obj, c.want);
  });
}
