import { test } from "node:test";
import assert from "node:assert/strict";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import {
  calculateStatus,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  planNewReplicaSet,
  planOldReplicaSets,
  planScale,
  replicaSetsToCleanUp,
  resolveFenceposts,
  rolloutStatus,
  setNewReplicaSetAnnotations,
  statusEqual,
  stuckRequeueAfterMs,
  findNewReplicaSet,
  equalIgnoreHash,
} from "./deployment_util.js";

const NOW = Date.parse("2026-01-01T00:10:00Z");

function dep(replicas: number, surge: number | string = "25%", unavailable: number | string = "25%", extra: Partial<NonNullable<Deployment["spec"]>> = {}, status?: Deployment["status"]): Deployment {
  return {
    metadata: { name: "web", namespace: "default", uid: "d1", generation: 2 },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "v2" }] } },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      ...extra,
    },
    ...(status === undefined ? {} : { status }),
  };
}

let n = 0;
function rs(name: string, replicas: number, available = replicas, opts: { created?: string; maxReplicas?: number; desired?: number; revision?: number; image?: string; statusReplicas?: number } = {}): ReplicaSet {
  n++;
  const annotations: Record<string, string> = {};
  if (opts.maxReplicas !== undefined) annotations["deployment.kubernetes.io/max-replicas"] = String(opts.maxReplicas);
  if (opts.desired !== undefined) annotations["deployment.kubernetes.io/desired-replicas"] = String(opts.desired);
  if (opts.revision !== undefined) annotations["deployment.kubernetes.io/revision"] = String(opts.revision);
  return {
    metadata: { name, uid: `uid-${name}`, creationTimestamp: opts.created ?? `2026-01-01T00:00:${String(n % 60).padStart(2, "0")}Z`, annotations, generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web", "pod-template-hash": name } }, spec: { containers: [{ name: "c", image: opts.image ?? "v1" }] } } },
    status: { replicas: opts.statusReplicas ?? replicas, availableReplicas: available, readyReplicas: available, observedGeneration: 1 },
  };
}

const fencepostCases = [
  { name: "25%/25% of 3 rounds surge up to 1 and unavailable down to 0", surge: "25%", unavail: "25%", desired: 3, want: [1, 0] },
  { name: "25%/25% of 10 is 3 surge and 2 unavailable", surge: "25%", unavail: "25%", desired: 10, want: [3, 2] },
  { name: "10%/10% of 5 rounds to 1 and 0", surge: "10%", unavail: "10%", desired: 5, want: [1, 0] },
  { name: "0 surge and 10% of 5 resolve to 0/0, so unavailable becomes 1", surge: 0, unavail: "10%", desired: 5, want: [0, 1] },
  { name: "integers are taken as they are", surge: 2, unavail: 1, desired: 3, want: [2, 1] },
  { name: "100% surge doubles", surge: "100%", unavail: 0, desired: 4, want: [4, 0] },
] as const;
for (const c of fencepostCases) test(`resolveFenceposts: ${c.name}`, () => assert.deepEqual(resolveFenceposts(c.surge, c.unavail, c.desired), c.want));

test("maxUnavailable is capped by replicas and zero for Recreate or zero replicas", () => {
  assert.equal(maxUnavailable(dep(3, 0, 5)), 3);
  assert.equal(maxUnavailable(dep(0, 1, 1)), 0);
  assert.equal(maxUnavailable({ ...dep(3), spec: { ...dep(3).spec!, strategy: { type: "Recreate" } } }), 0);
  assert.equal(maxSurge({ ...dep(3), spec: { ...dep(3).spec!, strategy: { type: "Recreate" } } }), 0);
});

const newReplicasCases = [
  { name: "a first rollout creates all replicas at once", d: dep(3), all: [] as ReplicaSet[], cur: 0, want: 3 },
  { name: "a rollout over 3 old pods surges by 1", d: dep(3), all: [rs("old", 3)], cur: 0, want: 1 },
  { name: "no room when old plus new reach replicas + surge", d: dep(3), all: [rs("old", 2)], cur: 2, want: 2 },
  { name: "growth is capped at replicas", d: dep(3, 5), all: [rs("old", 1)], cur: 2, want: 3 },
  { name: "10 replicas with 25% surge may grow to 3 over 10 old", d: dep(10), all: [rs("old", 10)], cur: 0, want: 3 },
];
for (const c of newReplicasCases) {
  test(`newRSNewReplicas: ${c.name}`, () => {
    const cur = rs("new", c.cur);
    assert.equal(newRSNewReplicas(c.d, [...c.all, cur], cur), c.want);
  });
}

test("planNewReplicaSet scales an oversized new set down to replicas and leaves a full one alone", () => {
  assert.equal(planNewReplicaSet(dep(3), [rs("new", 5)], rs("new", 5)), 3);
  assert.equal(planNewReplicaSet(dep(3), [rs("new", 3)], rs("new", 3)), undefined);
});

const oldCases = [
  {
    name: "nothing is scaled down while the new pods are unavailable and maxUnavailable is 0",
    d: dep(3), old: [rs("old", 3, 3)], cur: rs("new", 1, 0), want: [],
  },
  {
    name: "one old pod goes for each available new pod beyond the minimum",
    d: dep(3), old: [rs("old", 3, 3)], cur: rs("new", 1, 1), want: [["old", 2]],
  },
  {
    name: "unhealthy old replicas go first, as many as replicas + surge - minAvailable allows",
    d: dep(3), old: [rs("old", 3, 1)], cur: rs("new", 1, 1), want: [["old", 2]],
  },
  {
    name: "with room, all 4 unhealthy old replicas go, then 1 available one above minAvailable 8",
    d: dep(10), old: [rs("old", 10, 6)], cur: rs("new", 3, 3), want: [["old", 5]],
  },
  {
    name: "maxUnavailable 2 of 10 lets 2 old pods go before any new pod is ready",
    d: dep(10), old: [rs("old", 10, 10)], cur: rs("new", 3, 0), want: [["old", 8]],
  },
  {
    name: "the oldest set shrinks first",
    d: dep(4, 1, 1), old: [rs("older", 2, 2, { created: "2026-01-01T00:00:00Z" }), rs("newer", 2, 2, { created: "2026-01-01T00:00:30Z" })], cur: rs("new", 1, 1), want: [["older", 0]],
  },
];
for (const c of oldCases) {
  test(`planOldReplicaSets: ${c.name}`, () => {
    const plan = planOldReplicaSets(c.d, [...c.old, c.cur], c.old, c.cur);
    // The last plan for each set is its final size.
    const final = new Map<string, number>();
    for (const p of plan) final.set(p.rs.metadata!.name!, p.replicas);
    assert.deepEqual([...final], c.want);
  });
}

test("planScale: a single active set takes the whole new size", () => {
  const plan = planScale(dep(5), rs("new", 3, 3, { maxReplicas: 4, desired: 3 }), [rs("old", 0)]);
  assert.deepEqual(plan.map((p) => [p.rs.metadata!.name, p.replicas, p.operation]), [["new", 5, "up"]]);
});

test("planScale: mid-rollout, a scale from 10 to 20 is spread in proportion with leftovers to the largest", () => {
  const d = dep(20, 3, 0);
  const plan = planScale(d, rs("new", 5, 5, { maxReplicas: 13, desired: 10, created: "2026-01-01T00:00:30Z" }), [rs("old", 8, 8, { maxReplicas: 13, desired: 10, created: "2026-01-01T00:00:00Z" })]);
  assert.deepEqual(plan.map((p) => [p.rs.metadata!.name, p.replicas, p.operation]), [["old", 14, "up"], ["new", 9, "up"]]);
});

test("planScale: scaling down to 0 mid-rollout empties every set", () => {
  const d = dep(0, 3, 0);
  const plan = planScale(d, rs("new", 5, 5, { maxReplicas: 13, created: "2026-01-01T00:00:30Z" }), [rs("old", 8, 8, { maxReplicas: 13, created: "2026-01-01T00:00:00Z" })]);
  assert.deepEqual(plan.map((p) => [p.rs.metadata!.name, p.replicas]).sort(), [["new", 0], ["old", 0]]);
});

test("planScale: a saturated new set leaves the old ones at zero", () => {
  const plan = planScale(dep(3), rs("new", 3, 3, { desired: 3 }), [rs("old", 1, 1)]);
  assert.deepEqual(plan.map((p) => [p.rs.metadata!.name, p.replicas]), [["old", 0]]);
});

test("isScalingEvent compares spec.replicas with the active sets' desired-replicas", () => {
  assert.equal(isScalingEvent(dep(5), [rs("a", 3, 3, { desired: 3 })]), true);
  assert.equal(isScalingEvent(dep(3), [rs("a", 3, 3, { desired: 3 })]), false);
  assert.equal(isScalingEvent(dep(5), [rs("a", 0, 0, { desired: 3 })]), false);
});

test("new ReplicaSet annotations: change-cause copied, last-applied skipped, replicas annotations set", () => {
  const d = dep(3);
  d.metadata!.annotations = { "kubernetes.io/change-cause": "kubectl set image", "kubectl.kubernetes.io/last-applied-configuration": "{}", "deployment.kubernetes.io/revision": "7" };
  const r: ReplicaSet = { metadata: { name: "x" } };
  assert.equal(setNewReplicaSetAnnotations(d, r, "2", false), true);
  assert.deepEqual(r.metadata?.annotations, {
    "kubernetes.io/change-cause": "kubectl set image",
    "deployment.kubernetes.io/revision": "2",
    "deployment.kubernetes.io/desired-replicas": "3",
    "deployment.kubernetes.io/max-replicas": "4",
  });
  assert.equal(setNewReplicaSetAnnotations(d, r, "2", true), false);
});

test("a rollback to an old ReplicaSet raises its revision and keeps the old one in revision-history", () => {
  const d = dep(3);
  const r = rs("old", 0, 0, { revision: 1 });
  setNewReplicaSetAnnotations(d, r, "3", true);
  assert.equal(r.metadata?.annotations?.["deployment.kubernetes.io/revision"], "3");
  assert.equal(r.metadata?.annotations?.["deployment.kubernetes.io/revision-history"], "1");
  setNewReplicaSetAnnotations(d, r, "5", true);
  assert.equal(r.metadata?.annotations?.["deployment.kubernetes.io/revision-history"], "1,3");
  // A lower revision never lowers it.
  assert.equal(setNewReplicaSetAnnotations(d, r, "4", true), false);
});

test("the new ReplicaSet is the oldest one whose template matches apart from the hash label", () => {
  const d = dep(3);
  const a = rs("a", 1, 1, { image: "v2", created: "2026-01-01T00:00:05Z" });
  const b = rs("b", 1, 1, { image: "v2", created: "2026-01-01T00:00:01Z" });
  assert.equal(equalIgnoreHash(a.spec?.template, d.spec?.template), true);
  assert.equal(findNewReplicaSet(d, [rs("c", 1, 1, { image: "v1" }), a, b])?.metadata?.name, "b");
});

test("status: Available True at replicas - maxUnavailable, False below it", () => {
  const d = dep(10);
  const ok = calculateStatus([rs("a", 10, 8)], rs("a", 10, 8), d, NOW);
  assert.deepEqual([ok.availableReplicas, ok.unavailableReplicas, ok.conditions?.[0]?.status, ok.conditions?.[0]?.reason], [8, 2, "True", "MinimumReplicasAvailable"]);
  const bad = calculateStatus([rs("a", 10, 7)], rs("a", 10, 7), d, NOW);
  assert.deepEqual([bad.conditions?.[0]?.status, bad.conditions?.[0]?.reason, bad.conditions?.[0]?.message], ["False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."]);
});

test("rollout status: complete → NewReplicaSetAvailable; progress → ReplicaSetUpdated; no progress past the deadline → ProgressDeadlineExceeded", () => {
  const created = { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: "", lastUpdateTime: "2026-01-01T00:09:00Z", lastTransitionTime: "2026-01-01T00:09:00Z" };
  const base = { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2, readyReplicas: 2, conditions: [created] };
  const d = dep(3, "25%", "25%", { progressDeadlineSeconds: 30 }, base);
  const newRS = rs("new", 3, 3);
  const complete = rolloutStatus([newRS], newRS, d, NOW);
  const c1 = complete.conditions!.find((c) => c.type === "Progressing")!;
  assert.deepEqual([c1.status, c1.reason, c1.message], ["True", "NewReplicaSetAvailable", 'ReplicaSet "new" has successfully progressed.']);

  const partial = rs("new", 2, 2, { statusReplicas: 2 });
  const progressing = rolloutStatus([rs("old", 1, 1), partial], partial, d, NOW);
  const c2 = progressing.conditions!.find((c) => c.type === "Progressing")!;
  assert.deepEqual([c2.status, c2.reason, c2.lastTransitionTime], ["True", "ReplicaSetUpdated", "2026-01-01T00:09:00Z"]);

  const stuck = rs("new", 1, 0, { statusReplicas: 1 });
  const dStuck = dep(3, "25%", "25%", { progressDeadlineSeconds: 30 }, { ...base, updatedReplicas: 1, availableReplicas: 2, readyReplicas: 2 });
  const timedOut = rolloutStatus([rs("old", 2, 2), stuck], stuck, dStuck, NOW);
  const c3 = timedOut.conditions!.find((c) => c.type === "Progressing")!;
  assert.deepEqual([c3.status, c3.reason, c3.message], ["False", "ProgressDeadlineExceeded", 'ReplicaSet "new" has timed out progressing.']);
  // Before the deadline the same state asks to be looked at again when it passes.
  assert.equal(stuckRequeueAfterMs(dStuck, timedOut, Date.parse("2026-01-01T00:09:10Z")), 21_000);
});

test("cleanup deletes the lowest revisions beyond revisionHistoryLimit, only when empty and observed", () => {
  const d = dep(3, "25%", "25%", { revisionHistoryLimit: 1 });
  const old = [rs("r1", 0, 0, { revision: 1 }), rs("r2", 0, 0, { revision: 2 }), rs("r3", 0, 0, { revision: 3 }), rs("busy", 1, 1, { revision: 0 })];
  assert.deepEqual(replicaSetsToCleanUp(d, old).map((r) => r.metadata?.name), ["r1", "r2"]);
});

test("statuses equal when they differ only in zero counts the wire omits", () => {
  assert.equal(statusEqual({ replicas: 0, observedGeneration: 1 }, { observedGeneration: 1 }), true);
  assert.equal(statusEqual({ collisionCount: 0 }, {}), false);
});

test("Recreate waits while an old set reports pods or any old pod is not finished", async () => {
  const { oldPodsRunning } = await import("./deployment_controller.js");
  const newRS = rs("new", 1, 0);
  const old = rs("old", 0, 0, { statusReplicas: 0 });
  const pod = (phase: string) => ({ metadata: { name: phase }, status: { phase } });
  assert.equal(oldPodsRunning(newRS, [rs("old", 0, 0, { statusReplicas: 1 })], new Map()), true);
  assert.equal(oldPodsRunning(newRS, [old], new Map([["uid-old", [pod("Running")]]])), true);
  assert.equal(oldPodsRunning(newRS, [old], new Map([["uid-old", [pod("Succeeded"), pod("Failed")]]])), false);
  assert.equal(oldPodsRunning(newRS, [old], new Map([[newRS.metadata!.uid!, [pod("Running")]]])), false);
});

/**
 * A whole rolling update driven by the planners alone: each step applies what the controller would
 * (grow the new set, else shrink the old), then the ReplicaSet controller's pods catch up one step
 * later. At every step total replicas stay within replicas + maxSurge and available pods at or
 * above replicas - maxUnavailable, and the rollout finishes.
 */
const rollCases = [
  { replicas: 3, surge: "25%", unavailable: "25%" },
  { replicas: 10, surge: "25%", unavailable: "25%" },
  { replicas: 10, surge: 0, unavailable: 3 },
  { replicas: 5, surge: "100%", unavailable: 0 },
  { replicas: 1, surge: 0, unavailable: 1 },
  { replicas: 7, surge: 2, unavailable: "50%" },
] as const;
for (const c of rollCases) {
  test(`a rolling update of ${c.replicas} with maxSurge ${c.surge} and maxUnavailable ${c.unavailable} stays within bounds and completes`, () => {
    const d = dep(c.replicas, c.surge, c.unavailable);
    const [surge, unavailableRaw] = resolveFenceposts(c.surge, c.unavailable, c.replicas);
    const unavailable = Math.min(unavailableRaw, c.replicas);
    const old = rs("old", c.replicas, c.replicas, { created: "2026-01-01T00:00:00Z" });
    const cur = rs("new", 0, 0, { created: "2026-01-01T00:00:10Z", image: "v2" });
    const spec = (r: ReplicaSet): number => r.spec!.replicas!;
    const avail = (r: ReplicaSet): number => r.status!.availableReplicas!;
    let steps = 0;
    for (; steps < 100 && !(spec(cur) === c.replicas && spec(old) === 0 && avail(cur) === c.replicas); steps++) {
      const target = planNewReplicaSet(d, [old, cur], cur);
      if (target !== undefined) {
        cur.spec!.replicas = target;
      } else {
        for (const p of planOldReplicaSets(d, [old, cur], [old].filter((r) => spec(r) > 0), cur)) {
          old.spec!.replicas = p.replicas;
          // The ReplicaSet controller deletes unavailable pods first.
          Object.assign(old, { status: { ...old.status, replicas: p.replicas, availableReplicas: Math.min(avail(old), p.replicas) } });
        }
      }
      assert.ok(spec(old) + spec(cur) <= c.replicas + surge, `step ${steps}: ${spec(old)} + ${spec(cur)} replicas exceed ${c.replicas} + ${surge}`);
      assert.ok(avail(old) + avail(cur) >= c.replicas - unavailable, `step ${steps}: ${avail(old)} + ${avail(cur)} available is below ${c.replicas} - ${unavailable}`);
      // New pods start and become available before the next look.
      Object.assign(cur, { status: { ...cur.status, replicas: spec(cur), availableReplicas: spec(cur) } });
    }
    assert.ok(steps < 100, "the rollout finished");
    assert.equal(spec(old), 0);
  });
}
