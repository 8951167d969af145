import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { ManualClock } from "../../env/manual_clock.js";
import {
  DELETION_TIMEOUT_MS,
  buildDisruptedPodMap,
  countHealthyPods,
  desiredPdbStatus,
  expectedPodCount,
  failSafeStatus,
  scaledValueFromIntOrPercent,
  setStatusCondition,
  type ControllerScale,
} from "./disruption.js";

function pod(name: string, ready: boolean, owner?: string, extra: Pod["metadata"] = {}): Pod {
  return {
    metadata: { name, namespace: "ns", ...(owner === undefined ? {} : { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: owner, controller: true }] }), ...extra },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function pdb(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget {
  return { metadata: { name: "b", namespace: "ns", generation: 2 }, spec: { selector: {}, ...spec }, ...(status === undefined ? {} : { status }) };
}

const scales: Record<string, ControllerScale> = { rs1: { uid: "dep1", scale: 4 }, rs2: { uid: "dep1", scale: 4 }, ss: { uid: "ss", scale: 3 } };
const controllerOf = (p: Pod): ControllerScale | null | undefined => {
  const ref = p.metadata?.ownerReferences?.[0];
  return ref === undefined ? undefined : (scales[ref.uid] ?? null);
};

test("scaledValueFromIntOrPercent: ints pass, percents scale and round, others are upstream's errors", () => {
  assert.equal(scaledValueFromIntOrPercent(3, 10, true), 3);
  assert.equal(scaledValueFromIntOrPercent("25%", 5, true), 2);
  assert.equal(scaledValueFromIntOrPercent("25%", 5, false), 1);
  assert.throws(() => scaledValueFromIntOrPercent("abc", 5, true), /^Error: invalid value for IntOrString: invalid type: string is not a percentage$/);
  assert.throws(() => scaledValueFromIntOrPercent("x%", 5, true), /invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax/);
});

const expectedCases: { name: string; spec: PodDisruptionBudget["spec"]; pods: Pod[]; want: { expectedCount: number; desiredHealthy: number; unmanagedPods: string[] } }[] = [
  { name: "minAvailable as an int counts the matching pods", spec: { minAvailable: 2 }, pods: [pod("a", true), pod("b", true), pod("c", false)], want: { expectedCount: 3, desiredHealthy: 2, unmanagedPods: [] } },
  { name: "minAvailable as a percent scales against the controller, each once", spec: { minAvailable: "50%" }, pods: [pod("a", true, "rs1"), pod("b", true, "rs2"), pod("c", true, "ss")], want: { expectedCount: 7, desiredHealthy: 4, unmanagedPods: [] } },
  { name: "maxUnavailable subtracts from the controller's scale", spec: { maxUnavailable: 1 }, pods: [pod("a", true, "rs1")], want: { expectedCount: 4, desiredHealthy: 3, unmanagedPods: [] } },
  { name: "maxUnavailable as a percent rounds up", spec: { maxUnavailable: "25%" }, pods: [pod("a", true, "ss")], want: { expectedCount: 3, desiredHealthy: 2, unmanagedPods: [] } },
  { name: "desiredHealthy is never negative", spec: { maxUnavailable: 10 }, pods: [pod("a", true, "ss")], want: { expectedCount: 3, desiredHealthy: 0, unmanagedPods: [] } },
  { name: "pods without a controller are reported as unmanaged", spec: { maxUnavailable: 1 }, pods: [pod("lone", true), pod("a", true, "ss")], want: { expectedCount: 3, desiredHealthy: 2, unmanagedPods: ["lone"] } },
];
for (const c of expectedCases) test(`expectedPodCount: ${c.name}`, () => assert.deepEqual(expectedPodCount(pdb(c.spec), c.pods, controllerOf), c.want));

test("expectedPodCount: a pod whose controller is gone is upstream's error", () => {
  assert.throws(() => expectedPodCount(pdb({ maxUnavailable: 1 }), [pod("orphan", true, "gone")], controllerOf), /found no controllers for pod "orphan"/);
});

test("disrupted pods stay unhealthy for DeletionTimeout, then are dropped and count again", () => {
  const clock = new ManualClock();
  const at = new Date(clock.wallMs()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const b = pdb({ minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1, disruptedPods: { a: at, gone: at } });
  const pods = [pod("a", true), pod("b", true)];
  let m = buildDisruptedPodMap(pods, b, clock.wallMs());
  assert.deepEqual(m.disruptedPods, { a: at }, "a pod that no longer exists is dropped");
  assert.equal(m.recheckWallMs, clock.wallMs() + DELETION_TIMEOUT_MS);
  assert.equal(countHealthyPods(pods, m.disruptedPods, clock.wallMs()), 1);
  clock.advance(DELETION_TIMEOUT_MS + 1);
  m = buildDisruptedPodMap(pods, b, clock.wallMs());
  assert.deepEqual(m.disruptedPods, {});
  assert.deepEqual(m.expired.map((p) => p.metadata?.name), ["a"]);
  assert.equal(countHealthyPods(pods, m.disruptedPods, clock.wallMs()), 2);
});

test("countHealthyPods: only Ready pods that are not being deleted count", () => {
  assert.equal(countHealthyPods([pod("a", true), pod("b", false), pod("c", true, undefined, { deletionTimestamp: "2026-01-01T00:00:00Z" })], {}, 0), 1);
});

test("desiredPdbStatus: allowed disruptions set the condition SufficientPods; no change writes nothing", () => {
  const now = "2026-01-01T00:00:00Z";
  const b = pdb({ minAvailable: 2 });
  const s = desiredPdbStatus(b, { currentHealthy: 3, desiredHealthy: 2, expectedCount: 3, disruptedPods: {} }, now)!;
  assert.deepEqual(s, {
    currentHealthy: 3,
    desiredHealthy: 2,
    expectedPods: 3,
    disruptionsAllowed: 1,
    observedGeneration: 2,
    conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 2, lastTransitionTime: now }],
  });
  assert.equal(desiredPdbStatus({ ...b, status: s }, { currentHealthy: 3, desiredHealthy: 2, expectedCount: 3, disruptedPods: {} }, "2026-01-01T00:01:00Z"), null);
  const fewer = desiredPdbStatus({ ...b, status: s }, { currentHealthy: 2, desiredHealthy: 2, expectedCount: 3, disruptedPods: {} }, "2026-01-01T00:01:00Z")!;
  assert.equal(fewer.disruptionsAllowed, 0);
  assert.deepEqual(fewer.conditions?.map((c) => [c.status, c.reason, c.lastTransitionTime]), [["False", "InsufficientPods", "2026-01-01T00:01:00Z"]]);
});

test("desiredPdbStatus: no expected pods allow no disruptions", () => {
  const s = desiredPdbStatus(pdb({ maxUnavailable: 1 }), { currentHealthy: 1, desiredHealthy: 0, expectedCount: 0, disruptedPods: {} }, "2026-01-01T00:00:00Z")!;
  assert.equal(s.disruptionsAllowed, 0);
});

test("failSafeStatus and setStatusCondition: a failure allows nothing and keeps the transition time while the status holds", () => {
  const s = failSafeStatus(pdb({ maxUnavailable: 1 }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 }), "found no controllers for pod \"x\"", "t1");
  assert.equal(s.disruptionsAllowed, 0);
  assert.deepEqual(s.conditions?.[0], { type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: "found no controllers for pod \"x\"", observedGeneration: 0, lastTransitionTime: "t1" });
  const again = setStatusCondition(s.conditions!, { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "" }, "t2");
  assert.equal(again[0]!.lastTransitionTime, "t1");
});
