import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { SeededRng } from "../../../env/seeded_rng.js";
import { PodInfo } from "../../cache/pod_info.js";
import { snapshotFrom } from "../../cache/snapshot.js";
import { Scheduler } from "../../scheduler.js";
import { makeNode, makePod } from "../../test_objects.js";
import { defaultProfile } from "../registry.js";
import { filterPodsWithPDBViolation, pickOneNodeForPreemption, type Candidate } from "./default_preemption.js";

function schedule(nodes: Node[], pods: Pod[], pod: Pod, pdbs: PodDisruptionBudget[] = []) {
  const rng = new SeededRng(7);
  return new Scheduler({ profiles: [defaultProfile({ rng })], rng }).schedulePod(pod, snapshotFrom(nodes, pods, { pdbs }));
}

const pdb = (name: string, app: string, allowed: number): PodDisruptionBudget => ({
  metadata: { name, namespace: "default" },
  spec: { selector: { matchLabels: { app } } },
  status: { disruptionsAllowed: allowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
});

test("DefaultPreemption: only as many low-priority pods as needed are evicted, highest priority reprieved first", () => {
  const pods = [
    makePod("p1", { cpu: "500m", priority: 1, nodeName: "n", startTime: "2024-01-01T00:00:00Z" }),
    makePod("p5", { cpu: "500m", priority: 5, nodeName: "n", startTime: "2024-01-01T00:00:00Z" }),
    makePod("p9", { cpu: "500m", priority: 9, nodeName: "n", startTime: "2024-01-01T00:00:00Z" }),
  ];
  const d = schedule([makeNode("n", { cpu: "2" })], pods, makePod("hi", { cpu: "1", priority: 100 }));
  assert.equal(d.kind, "preempt");
  assert.deepEqual(d.victims.map((v) => v.metadata?.name), ["p1"]);
});

test("DefaultPreemption: pods of equal or higher priority are never victims", () => {
  const d = schedule([makeNode("n", { cpu: "1" })], [makePod("same", { cpu: "1", priority: 10, nodeName: "n" })], makePod("p", { cpu: "1", priority: 10 }));
  assert.equal(d.kind, "unschedulable");
  assert.equal(d.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..");
});

test("DefaultPreemption: a node whose victims a PDB protects loses to one without", () => {
  const nodes = [makeNode("a", { cpu: "1" }), makeNode("b", { cpu: "1" })];
  const pods = [makePod("guarded", { cpu: "1", priority: 1, nodeName: "a", labels: { app: "db" } }), makePod("free", { cpu: "1", priority: 1, nodeName: "b", labels: { app: "web" } })];
  for (let i = 0; i < 5; i++) {
    const d = schedule(nodes, pods, makePod("hi", { cpu: "1", priority: 100 }), [pdb("db", "db", 0)]);
    assert.equal(d.kind, "preempt");
    assert.equal(d.nominatedNode, "b");
  }
});

test("DefaultPreemption: a PDB-protected pod is still evicted when nothing else helps", () => {
  const d = schedule([makeNode("a", { cpu: "1" })], [makePod("guarded", { cpu: "1", priority: 1, nodeName: "a", labels: { app: "db" } })], makePod("hi", { cpu: "1", priority: 100 }), [pdb("db", "db", 0)]);
  assert.equal(d.kind, "preempt");
  assert.deepEqual(d.victims.map((v) => v.metadata?.name), ["guarded"]);
});

test("DefaultPreemption: a terminating victim on the nominated node makes the pod wait instead of preempting again", () => {
  const base = makePod("going", { cpu: "1", priority: 1, nodeName: "a", status: { conditions: [{ type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler" }] } });
  const victim: Pod = { ...base, metadata: { ...base.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" } };
  const d = schedule([makeNode("a", { cpu: "1" })], [victim], makePod("hi", { cpu: "1", priority: 100, status: { nominatedNodeName: "a" } }));
  assert.equal(d.kind, "unschedulable");
  assert.equal(d.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node..");
  assert.equal(d.kind === "unschedulable" ? d.nominatedNodeName : "", null, "the nomination is left as it is");
});

test("DefaultPreemption: preemption respects what the filters need besides resources (host ports)", () => {
  const low = makePod("low", { hostPorts: [80], priority: 1, nodeName: "a" });
  const d = schedule([makeNode("a")], [low], makePod("hi", { hostPorts: [80], priority: 100 }));
  assert.equal(d.kind, "preempt");
  assert.deepEqual(d.victims.map((v) => v.metadata?.name), ["low"]);
});

test("filterPodsWithPDBViolation: each victim uses up one allowed disruption", () => {
  const pods = ["x", "y", "z"].map((n) => new PodInfo(makePod(n, { labels: { app: "db" } })));
  const { violating, nonViolating } = filterPodsWithPDBViolation(pods, [pdb("db", "db", 1)]);
  assert.deepEqual(nonViolating.map((p) => p.pod.metadata?.name), ["x"]);
  assert.deepEqual(violating.map((p) => p.pod.metadata?.name), ["y", "z"]);
});

test("pickOneNodeForPreemption: fewer PDB violations, then lower top priority, then smaller sum, then fewer victims", () => {
  const v = (prio: number) => makePod(`v${prio}`, { priority: prio });
  const cases: { name: string; cands: Candidate[]; want: string }[] = [
    { name: "PDB violations first", cands: [{ nodeName: "a", victims: [v(1)], numPDBViolations: 1 }, { nodeName: "b", victims: [v(50)], numPDBViolations: 0 }], want: "b" },
    { name: "lowest highest-priority victim", cands: [{ nodeName: "a", victims: [v(9), v(1)], numPDBViolations: 0 }, { nodeName: "b", victims: [v(5), v(5)], numPDBViolations: 0 }], want: "b" },
    { name: "smallest priority sum", cands: [{ nodeName: "a", victims: [v(5), v(4)], numPDBViolations: 0 }, { nodeName: "b", victims: [v(5), v(1)], numPDBViolations: 0 }], want: "b" },
    { name: "fewest victims", cands: [{ nodeName: "a", victims: [v(-5), v(-5)], numPDBViolations: 0 }, { nodeName: "b", victims: [v(-5)], numPDBViolations: 0 }], want: "b" },
  ];
  for (const c of cases) assert.equal(pickOneNodeForPreemption(c.cands)?.nodeName, c.want, c.name);
});
