import { test } from "node:test";
import assert from "node:assert/strict";
import {
  endpointSlicePrinter,
  eventsV1EventPrinter,
  eventsV1ToCore,
  formatDiscoveryPorts,
  leasePrinter,
  podDisruptionBudgetPrinter,
  priorityClassPrinter,
  storageClassPrinter,
} from "./other_printers.js";
import { eventPrinter } from "./core_printers.js";
import type { Printer } from "./printer.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ctx = { nowMs: NOW };
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: ago(90_000), ...extra });
const cells = (p: Printer, obj: object) => p.print(obj, ctx).cells;

test("lease: the holder, empty when nobody holds it", () => {
  assert.deepEqual(cells(leasePrinter, { metadata: meta("kube-scheduler"), spec: { holderIdentity: "cp-1_abc" } }), ["kube-scheduler", "cp-1_abc", "90s"]);
  assert.deepEqual(cells(leasePrinter, { metadata: meta("free"), spec: {} }), ["free", "", "90s"]);
});

test("endpointslice: address type, ports and addresses, three of each shown", () => {
  const slice = {
    metadata: meta("web-abc"),
    addressType: "IPv4",
    ports: [{ port: 80, name: "http" }, { name: "metrics" }, {}],
    endpoints: [{ addresses: ["10.0.0.1"] }, { addresses: ["10.0.0.2", "10.0.0.3"] }, { addresses: ["10.0.0.4"] }],
  };
  assert.deepEqual(cells(endpointSlicePrinter, slice), ["web-abc", "IPv4", "80,metrics,*", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "90s"]);
  assert.deepEqual(cells(endpointSlicePrinter, { metadata: meta("empty"), addressType: "IPv4", endpoints: [] }), ["empty", "IPv4", "<unset>", "<unset>", "90s"]);
  assert.equal(formatDiscoveryPorts([{ port: 1 }, { port: 2 }, { port: 3 }, { port: 4 }, { port: 5 }]), "1,2,3 + 2 more...");
});

test("events.k8s.io event: mapped to the core shape and printed with the core event columns", () => {
  const ev = {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: meta("web.1"),
    regarding: { kind: "Pod", name: "web", fieldPath: "spec.containers{app}" },
    note: "Started container app",
    reason: "Started",
    type: "Normal",
    eventTime: null,
    deprecatedSource: { component: "kubelet", host: "node-1" },
    deprecatedFirstTimestamp: ago(60_000),
    deprecatedLastTimestamp: ago(30_000),
    deprecatedCount: 2,
  };
  const core = eventsV1ToCore(ev);
  assert.equal(core.message, "Started container app");
  assert.deepEqual(core.involvedObject, ev.regarding);
  assert.deepEqual(cells(eventsV1EventPrinter, ev), ["30s", "Normal", "Started", "pod/web", "spec.containers{app}", "kubelet, node-1", "Started container app", "60s", 2, "web.1"]);
  assert.deepEqual(eventsV1EventPrinter.columns, eventPrinter.columns);
  const reported = { apiVersion: "events.k8s.io/v1", metadata: meta("e2"), regarding: { kind: "Node", name: "n1" }, eventTime: ago(5000), reportingController: "kubelet", reportingInstance: "n1", note: "x" };
  assert.deepEqual(cells(eventsV1EventPrinter, reported), ["5s", "", "", "node/n1", "", "kubelet, n1", "x", "5s", 1, "e2"]);
});

test("poddisruptionbudget: min/max as int or percent, N/A when unset", () => {
  const pdb = { metadata: meta("web"), spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } };
  assert.deepEqual(cells(podDisruptionBudgetPrinter, pdb), ["web", "2", "N/A", 1, "90s"]);
  const pct = { metadata: meta("db"), spec: { maxUnavailable: "25%" } };
  assert.deepEqual(cells(podDisruptionBudgetPrinter, pct), ["db", "N/A", "25%", 0, "90s"]);
});

test("priorityclass: value, global default and preemption policy (shown without -o wide, as upstream)", () => {
  const pc = { metadata: meta("system-node-critical"), value: 2000001000, preemptionPolicy: "PreemptLowerPriority" };
  assert.deepEqual(cells(priorityClassPrinter, pc), ["system-node-critical", 2000001000, false, "90s", "PreemptLowerPriority"]);
  assert.ok(priorityClassPrinter.columns.every((c) => c.priority === 0));
});

test("storageclass: the default class is marked, policies default to Delete and Immediate", () => {
  const sc = {
    metadata: meta("standard", { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } }),
    provisioner: "rancher.io/local-path",
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
  assert.deepEqual(cells(storageClassPrinter, sc), ["standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", false, "90s"]);
  const beta = { metadata: meta("old", { annotations: { "storageclass.beta.kubernetes.io/is-default-class": "true" } }), provisioner: "p", allowVolumeExpansion: true };
  assert.deepEqual(cells(storageClassPrinter, beta), ["old (default)", "p", "Delete", "Immediate", true, "90s"]);
  assert.equal(cells(storageClassPrinter, { metadata: meta("plain", { annotations: { "storageclass.kubernetes.io/is-default-class": "false" } }), provisioner: "p" })[0], "plain");
});
