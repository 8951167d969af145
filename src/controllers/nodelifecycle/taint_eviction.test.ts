import { test } from "node:test";
import assert from "node:assert/strict";
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";
import { decidePodEviction, noExecuteTaints, type EvictionDecision, type ScheduledEviction } from "./taint_eviction.js";

const unreachable: Taint = { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2026-01-01T00:00:00Z" };
const defaultTolerations: Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
];

const cases: { name: string; taints: Taint[]; tolerations: Toleration[]; scheduled?: ScheduledEviction; nowMs: number; want: EvictionDecision }[] = [
  { name: "a pod without tolerations is evicted at once", taints: [unreachable], tolerations: [], nowMs: 5_000, want: { kind: "evictNow" } },
  { name: "the default tolerations schedule an eviction 300 s later", taints: [unreachable], tolerations: defaultTolerations, nowMs: 5_000, want: { kind: "schedule", createdAtMs: 5_000, fireAtMs: 305_000 } },
  { name: "a pending eviction keeps its time", taints: [unreachable], tolerations: defaultTolerations, scheduled: { createdAtMs: 5_000, fireAtMs: 305_000 }, nowMs: 9_000, want: { kind: "keep" } },
  { name: "no taints cancel what is pending", taints: [], tolerations: [], scheduled: { createdAtMs: 5_000, fireAtMs: 305_000 }, nowMs: 9_000, want: { kind: "cancel" } },
  { name: "a toleration without seconds tolerates forever", taints: [unreachable], tolerations: [{ operator: "Exists" }], nowMs: 0, want: { kind: "cancel" } },
  { name: "an evicted pod is not evicted again", taints: [unreachable], tolerations: [], scheduled: "done", nowMs: 9_000, want: { kind: "keep" } },
  { name: "a pending eviction becomes immediate when a taint is no longer tolerated", taints: [unreachable, { key: "x", effect: "NoExecute" }], tolerations: defaultTolerations, scheduled: { createdAtMs: 5_000, fireAtMs: 305_000 }, nowMs: 9_000, want: { kind: "evictNow" } },
  { name: "tolerationSeconds 0 evicts at once", taints: [unreachable], tolerations: [{ operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }], nowMs: 0, want: { kind: "evictNow" } },
];
for (const c of cases) {
  test(`decidePodEviction: ${c.name}`, () => {
    assert.deepEqual(decidePodEviction({ taints: c.taints, tolerations: c.tolerations, scheduled: c.scheduled, nowMs: c.nowMs }), c.want);
  });
}

test("noExecuteTaints: keeps only NoExecute taints", () => {
  assert.deepEqual(noExecuteTaints([unreachable, { key: "a", effect: "NoSchedule" }]), [unreachable]);
  assert.deepEqual(noExecuteTaints(undefined), []);
});
