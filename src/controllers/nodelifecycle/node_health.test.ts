import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, NodeCondition } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { ManualClock } from "../../env/manual_clock.js";
import {
  NOT_READY_TAINT,
  UNREACHABLE_TAINT,
  noExecuteTaintChange,
  noScheduleTaintChange,
  rfc3339,
  tryUpdateNodeHealth,
  type NodeHealth,
} from "./node_health.js";

const GRACE_MS = 40_000;
const STARTUP_GRACE_MS = 60_000;

function readyNode(clock: ManualClock, extra: NodeCondition[] = []): Node {
  const t = rfc3339(clock.wallMs());
  return {
    metadata: { name: "n1", creationTimestamp: t },
    status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: t, lastTransitionTime: t }, ...extra] },
  };
}

function lease(renewWallMs: number): Lease {
  return { metadata: { name: "n1", namespace: "kube-node-lease" }, spec: { holderIdentity: "n1", renewTime: new Date(renewWallMs).toISOString() } };
}

function step(clock: ManualClock, node: Node, l: Lease | undefined, saved: NodeHealth | undefined) {
  return tryUpdateNodeHealth({ node, lease: l, saved, nowMs: clock.nowMs(), wallMs: clock.wallMs(), gracePeriodMs: GRACE_MS, startupGracePeriodMs: STARTUP_GRACE_MS });
}

test("tryUpdateNodeHealth: a node whose lease keeps being renewed stays Ready", () => {
  const clock = new ManualClock();
  const node = readyNode(clock);
  let r = step(clock, node, lease(clock.wallMs()), undefined);
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    r = step(clock, node, lease(clock.wallMs()), r.health);
    assert.equal(r.statusUpdate, null);
  }
  assert.equal(r.currentReady?.status, "True");
});

test("tryUpdateNodeHealth: a lease not renewed for the grace period turns every monitored condition Unknown", () => {
  const clock = new ManualClock();
  const node = readyNode(clock, [{ type: "MemoryPressure", status: "False", reason: "KubeletHasSufficientMemory" }]);
  const l = lease(clock.wallMs());
  let r = step(clock, node, l, undefined);
  clock.advance(GRACE_MS);
  r = step(clock, node, l, r.health);
  assert.equal(r.statusUpdate, null, "exactly at the grace period the node is still fine");
  clock.advance(1);
  r = step(clock, node, l, r.health);
  assert.notEqual(r.statusUpdate, null);
  const conds = r.statusUpdate!.status!.conditions!;
  const ready = conds.find((c) => c.type === "Ready")!;
  assert.deepEqual([ready.status, ready.reason, ready.message], ["Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."]);
  assert.equal(ready.lastTransitionTime, rfc3339(clock.wallMs()));
  assert.equal(ready.lastHeartbeatTime, node.status!.conditions![0]!.lastHeartbeatTime, "the heartbeat is the kubelet's, kept");
  assert.equal(conds.find((c) => c.type === "MemoryPressure")!.reason, "NodeStatusUnknown");
  const never = conds.find((c) => c.type === "DiskPressure")!;
  assert.deepEqual([never.status, never.reason, never.message], ["Unknown", "NodeStatusNeverUpdated", "Kubelet never posted node status."]);
  assert.equal(r.observedReady.status, "True");
  assert.equal(r.currentReady?.status, "Unknown");
  // Once written, the next pass sees Unknown already and writes nothing.
  clock.advance(5_000);
  const again = step(clock, r.statusUpdate!, l, r.health);
  assert.equal(again.statusUpdate, null);
  assert.equal(again.observedReady.status, "Unknown");
});

test("tryUpdateNodeHealth: a renewed lease after silence counts as life again", () => {
  const clock = new ManualClock();
  const node = readyNode(clock);
  let r = step(clock, node, lease(clock.wallMs()), undefined);
  clock.advance(30_000);
  r = step(clock, node, lease(clock.wallMs()), r.health);
  clock.advance(30_000);
  r = step(clock, node, lease(clock.wallMs() - 30_000), r.health);
  assert.equal(r.statusUpdate, null, "30 s after the last renewal is within grace");
});

test("tryUpdateNodeHealth: a node that never posted status gets the startup grace period", () => {
  const clock = new ManualClock();
  const node: Node = { metadata: { name: "n1", creationTimestamp: rfc3339(clock.wallMs()) }, status: {} };
  let r = step(clock, node, undefined, undefined);
  clock.advance(GRACE_MS + 1);
  r = step(clock, node, undefined, r.health);
  assert.equal(r.statusUpdate, null);
  clock.advance(STARTUP_GRACE_MS - GRACE_MS);
  r = step(clock, node, undefined, r.health);
  const ready = r.statusUpdate!.status!.conditions!.find((c) => c.type === "Ready")!;
  assert.equal(ready.reason, "NodeStatusNeverUpdated");
});

const taintCases: { name: string; taints: Node["spec"]; observed: string; want: { add: string[]; remove: string[] } | null }[] = [
  { name: "Unknown adds unreachable", taints: {}, observed: "Unknown", want: { add: [UNREACHABLE_TAINT.key], remove: [NOT_READY_TAINT.key] } },
  { name: "False swaps unreachable for not-ready", taints: { taints: [UNREACHABLE_TAINT] }, observed: "False", want: { add: [NOT_READY_TAINT.key], remove: [UNREACHABLE_TAINT.key] } },
  { name: "True removes both", taints: { taints: [UNREACHABLE_TAINT, { key: "mine", effect: "NoExecute" }] }, observed: "True", want: { add: [], remove: [UNREACHABLE_TAINT.key, NOT_READY_TAINT.key] } },
  { name: "True on an untainted node does nothing", taints: {}, observed: "True", want: null },
  { name: "Unknown on a node already unreachable does nothing", taints: { taints: [UNREACHABLE_TAINT] }, observed: "Unknown", want: null },
];
for (const c of taintCases) {
  test(`noExecuteTaintChange: ${c.name}`, () => {
    const change = noExecuteTaintChange({ metadata: { name: "n1" }, spec: c.taints }, c.observed, 1_700_000_000_000);
    assert.deepEqual(change === null ? null : { add: change.add.map((t) => t.key), remove: change.remove.map((t) => t.key) }, c.want);
    for (const t of change?.add ?? []) assert.equal(t.timeAdded, "2023-11-14T22:13:20Z");
  });
}

test("noScheduleTaintChange: conditions and unschedulable map to NoSchedule taints, stale ones are removed", () => {
  const node: Node = {
    metadata: { name: "n1" },
    spec: { unschedulable: true, taints: [{ key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" }, { key: "custom", effect: "NoSchedule" }] },
    status: { conditions: [{ type: "Ready", status: "False" }, { type: "DiskPressure", status: "False" }, { type: "MemoryPressure", status: "True" }] },
  };
  const change = noScheduleTaintChange(node)!;
  assert.deepEqual(change.add.map((t) => t.key).sort(), ["node.kubernetes.io/memory-pressure", "node.kubernetes.io/not-ready", "node.kubernetes.io/unschedulable"]);
  assert.deepEqual(change.remove.map((t) => t.key), ["node.kubernetes.io/disk-pressure"]);
  assert.equal(noScheduleTaintChange({ metadata: { name: "n1" }, status: { conditions: [{ type: "Ready", status: "True" }] } }), null);
});
