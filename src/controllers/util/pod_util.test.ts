import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { getPodsToDelete, isPodActive, isPodAvailable, isPodReady, podDeletesBefore, POD_DELETION_COST_ANNOTATION } from "./pod_util.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

interface P {
  name: string;
  node?: string;
  phase?: string;
  ready?: boolean;
  readySinceS?: number; // seconds before NOW
  createdS?: number; // seconds before NOW
  restarts?: number;
  cost?: number;
  deleting?: boolean;
}
function pod(p: P): Pod {
  return {
    metadata: {
      name: p.name,
      uid: `uid-${p.name}`,
      creationTimestamp: iso(NOW - (p.createdS ?? 1000) * 1000),
      ...(p.cost === undefined ? {} : { annotations: { [POD_DELETION_COST_ANNOTATION]: String(p.cost) } }),
      ...(p.deleting === true ? { deletionTimestamp: iso(NOW) } : {}),
    },
    spec: { containers: [{ name: "c" }], ...(p.node === undefined ? {} : { nodeName: p.node }) },
    status: {
      phase: p.phase ?? "Running",
      conditions: [{ type: "Ready", status: p.ready === false ? "False" : "True", lastTransitionTime: iso(NOW - (p.readySinceS ?? 500) * 1000) }],
      containerStatuses: [{ name: "c", restartCount: p.restarts ?? 0, image: "i", imageID: "", ready: true }],
    },
  } as Pod;
}

test("a pod is active unless finished or being deleted", () => {
  assert.equal(isPodActive(pod({ name: "a" })), true);
  assert.equal(isPodActive(pod({ name: "a", phase: "Succeeded" })), false);
  assert.equal(isPodActive(pod({ name: "a", phase: "Failed" })), false);
  assert.equal(isPodActive(pod({ name: "a", deleting: true })), false);
});

test("a ready pod is available only after minReadySeconds have passed", () => {
  const p = pod({ name: "a", readySinceS: 10 });
  assert.equal(isPodReady(p), true);
  assert.equal(isPodAvailable(p, 0, NOW), true);
  assert.equal(isPodAvailable(p, 9, NOW), true);
  assert.equal(isPodAvailable(p, 10, NOW), false);
  assert.equal(isPodAvailable(pod({ name: "b", ready: false }), 0, NOW), false);
});

const rankCases: { name: string; first: P; second: P }[] = [
  { name: "an unassigned pod goes before an assigned one", first: { name: "a" }, second: { name: "b", node: "n1" } },
  { name: "a pending pod goes before a running one", first: { name: "a", node: "n", phase: "Pending" }, second: { name: "b", node: "n" } },
  { name: "an unknown pod goes before a running one", first: { name: "a", node: "n", phase: "Unknown" }, second: { name: "b", node: "n" } },
  { name: "a not-ready pod goes before a ready one", first: { name: "a", node: "n", ready: false }, second: { name: "b", node: "n" } },
  { name: "a lower deletion cost goes first", first: { name: "a", node: "n", cost: -5 }, second: { name: "b", node: "n", cost: 0 } },
  { name: "a pod ready for less time goes first (different log2 buckets)", first: { name: "b", node: "n", readySinceS: 10 }, second: { name: "a", node: "n", readySinceS: 5000 } },
  { name: "more restarts go first", first: { name: "b", node: "n", restarts: 3 }, second: { name: "a", node: "n", restarts: 1 } },
  { name: "a newer pod goes first", first: { name: "b", node: "n", createdS: 10 }, second: { name: "a", node: "n", createdS: 100000 } },
  { name: "pods in the same age bucket are ordered by uid", first: { name: "a", node: "n", readySinceS: 3000 }, second: { name: "b", node: "n", readySinceS: 3001 } },
];
for (const c of rankCases) {
  test(`scale-down ranking: ${c.name}`, () => {
    const a = { pod: pod(c.first), rank: 0 };
    const b = { pod: pod(c.second), rank: 0 };
    assert.equal(podDeletesBefore(a, b, NOW), true);
    assert.equal(podDeletesBefore(b, a, NOW), false);
  });
}

test("scale-down ranking: pods doubled up on a node go first", () => {
  const pods = [pod({ name: "alone", node: "n1" }), pod({ name: "x", node: "n2" }), pod({ name: "y", node: "n2" })];
  const chosen = getPodsToDelete(pods, pods, 1, NOW).map((p) => p.metadata?.name);
  assert.equal(chosen.length, 1);
  assert.notEqual(chosen[0], "alone");
});

test("getPodsToDelete returns every pod when asked for as many", () => {
  const pods = [pod({ name: "a" }), pod({ name: "b" })];
  assert.deepEqual(getPodsToDelete(pods, pods, 5, NOW), pods);
});
