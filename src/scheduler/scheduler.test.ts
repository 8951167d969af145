import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../env/seeded_rng.js";
import { PodInfo } from "./cache/pod_info.js";
import { snapshotFrom } from "./cache/snapshot.js";
import { defaultProfile } from "./plugins/registry.js";
import { numFeasibleNodesToFind, Scheduler, selectHost, truncateMessage, type ScheduleDecision } from "./scheduler.js";
import { CONTROL_PLANE_TAINT, makeNode, makePod } from "./test_objects.js";
import type { Node, Pod } from "kubernetes-types/core/v1.js";

function newScheduler(seed = 1, disabled: string[] = []): Scheduler {
  const rng = new SeededRng(seed);
  return new Scheduler({ profiles: [defaultProfile({ rng, disabled })], rng });
}

function run(nodes: Node[], pods: Pod[], pod: Pod, seed = 1): ScheduleDecision {
  return newScheduler(seed).schedulePod(pod, snapshotFrom(nodes, pods));
}

const cycles: { name: string; nodes: Node[]; pods?: Pod[]; pod: Pod; want: string }[] = [
  // Upstream nests one FitError message in the other, each ending in ".", so real events end in "..".
  {
    name: "a pod too big for the one free node and tainted control planes gets upstream's message",
    nodes: [makeNode("n1", { cpu: "2" }), makeNode("cp1", { taints: [CONTROL_PLANE_TAINT] }), makeNode("cp2", { taints: [CONTROL_PLANE_TAINT] })],
    pod: makePod("big", { cpu: "3" }),
    want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
  },
  {
    name: "a full node without lower-priority pods says no victims were found",
    nodes: [makeNode("n1", { cpu: "2" }), makeNode("cp1", { taints: [CONTROL_PLANE_TAINT] }), makeNode("cp2", { taints: [CONTROL_PLANE_TAINT] })],
    pods: [makePod("busy", { cpu: "1500m", nodeName: "n1" })],
    pod: makePod("p", { cpu: "1" }),
    want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..",
  },
  {
    name: "unreachable taint, selector mismatch and cordon count once each, the first failing filter deciding (cordon before selector)",
    nodes: [
      makeNode("a", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }),
      makeNode("b", { labels: { disk: "hdd" } }),
      makeNode("c", { unschedulable: true, labels: { disk: "ssd" } }),
    ],
    pod: makePod("p", { nodeSelector: { disk: "ssd" } }),
    want: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
  },
  {
    name: "two shortages on one node count as two reasons",
    nodes: [makeNode("a", { cpu: "1", memory: "1Gi" }), makeNode("b", { cpu: "1", memory: "1Gi" })],
    pods: [makePod("x", { cpu: "900m", memory: "900Mi", nodeName: "a" }), makePod("y", { cpu: "900m", nodeName: "b" })],
    pod: makePod("p", { cpu: "500m", memory: "500Mi" }),
    want: "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
  },
  {
    name: "host port conflicts are resolvable by preemption but there is nothing lower to evict",
    nodes: [makeNode("a")],
    pods: [makePod("x", { hostPorts: [8080], nodeName: "a" })],
    pod: makePod("p", { hostPorts: [8080] }),
    want: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..",
  },
  {
    name: "preemptionPolicy Never says so after the filter reasons (with upstream's double period)",
    nodes: [makeNode("a", { cpu: "1" })],
    pods: [makePod("x", { cpu: "900m", nodeName: "a" })],
    pod: makePod("p", { cpu: "500m", priority: 100, spec: { preemptionPolicy: "Never" } }),
    want: "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..",
  },
  {
    name: "a nodeName that does not exist rejects every node",
    nodes: [makeNode("a"), makeNode("b")],
    pod: makePod("p", { spec: { nodeName: "zz" } }),
    want: "0/2 nodes are available: 2 node(s) didn't match the requested node name. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
  },
  {
    name: "matchFields on metadata.name narrows the nodes and the others are reported by plugin",
    nodes: [makeNode("a", { cpu: "1" }), makeNode("b"), makeNode("c")],
    pod: makePod("p", {
      cpu: "2",
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }] }] } } } },
    }),
    want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
  },
  {
    name: "no nodes at all",
    nodes: [],
    pod: makePod("p"),
    want: "no nodes available to schedule pods",
  },
];

for (const c of cycles) {
  test(`Scheduler.schedulePod: ${c.name}`, () => {
    const d = run(c.nodes, c.pods ?? [], c.pod);
    assert.equal(d.kind, "unschedulable");
    assert.equal(d.message, c.want);
    assert.deepEqual(d.condition, { type: "PodScheduled", status: "False", reason: "Unschedulable", message: c.want });
    assert.equal(d.event.type, "Warning");
    assert.equal(d.event.reason, "FailedScheduling");
    assert.equal(d.event.action, "Scheduling");
    assert.equal(d.event.note, c.want);
  });
}

test("Scheduler.schedulePod: without PostFilter plugins the message has no preemption part", () => {
  const s = newScheduler(1, ["DefaultPreemption"]);
  const d = s.schedulePod(makePod("p", { cpu: "3" }), snapshotFrom([makeNode("n1", { cpu: "2" })]));
  assert.equal(d.kind, "unschedulable");
  assert.equal(d.message, "0/1 nodes are available: 1 Insufficient cpu.");
});

test("Scheduler.schedulePod: the least allocated node wins and the bind event names it", () => {
  const nodes = [makeNode("a"), makeNode("b"), makeNode("c")];
  const pods = [makePod("x", { cpu: "2", memory: "2Gi", nodeName: "a" }), makePod("y", { cpu: "1", memory: "1Gi", nodeName: "b" })];
  const d = run(nodes, pods, makePod("p", { cpu: "500m", memory: "512Mi" }));
  assert.equal(d.kind, "bind");
  assert.equal(d.nodeName, "c");
  assert.equal(d.event.note, "Successfully assigned default/p to c");
  assert.equal(d.feasibleNodes, 3);
});

test("Scheduler.schedulePod: ties are broken by the injected Rng and the same seed picks the same node", () => {
  const nodes = ["a", "b", "c", "d"].map((n) => makeNode(n));
  const picks = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    const first = run(nodes, [], makePod("p"), seed);
    const again = run(nodes, [], makePod("p"), seed);
    assert.equal(first.kind, "bind");
    assert.equal(again.kind, "bind");
    assert.equal(first.nodeName, again.nodeName);
    picks.add(first.nodeName);
  }
  assert.ok(picks.size > 1, `expected ties to spread over nodes, got ${[...picks].join(",")}`);
});

test("Scheduler.schedulePod: a tolerated taint lets the pod onto the control plane", () => {
  const nodes = [makeNode("cp", { taints: [CONTROL_PLANE_TAINT] })];
  const d = run(nodes, [], makePod("p", { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }] }));
  assert.equal(d.kind, "bind");
});

test("Scheduler.schedulePod: a higher-priority pod preempts the lowest-priority pod that frees enough room", () => {
  const nodes = [makeNode("a", { cpu: "2" }), makeNode("b", { cpu: "2" })];
  const pods = [
    makePod("a-low", { cpu: "1500m", priority: 1, nodeName: "a" }),
    makePod("b-mid", { cpu: "1500m", priority: 50, nodeName: "b" }),
  ];
  const d = run(nodes, pods, makePod("urgent", { cpu: "1", priority: 100 }));
  assert.equal(d.kind, "preempt");
  assert.equal(d.nominatedNode, "a");
  assert.deepEqual(d.victims.map((v) => v.metadata?.name), ["a-low"]);
  assert.equal(d.message, "0/2 nodes are available: 2 Insufficient cpu.");
  assert.equal(d.victimCondition.reason, "PreemptionByScheduler");
  assert.equal(d.victimCondition.message, "default-scheduler: preempting to accommodate a higher priority pod");
  assert.equal(d.victimEvents[0]!.note, "Preempted by pod uid-urgent on node a");
});

test("Scheduler.schedulePod: a nominated node is tried first and the nominated pod's room is kept from lower pods", () => {
  const rng = new SeededRng(3);
  const nominated = makePod("high", { cpu: "1500m", priority: 100, status: { nominatedNodeName: "a" } });
  const s = new Scheduler({
    profiles: [defaultProfile({ rng })],
    rng,
    nominator: (node) => (node === "a" ? [new PodInfo(nominated)] : []),
  });
  const snap = snapshotFrom([makeNode("a", { cpu: "2" })]);
  const low = s.schedulePod(makePod("low", { cpu: "1", priority: 1 }), snap);
  assert.equal(low.kind, "unschedulable");
  assert.match(low.message, /^0\/1 nodes are available: 1 Insufficient cpu\./);
  const again = s.schedulePod(nominated, snap);
  assert.equal(again.kind, "bind");
  assert.equal(again.nodeName, "a");
});


test("numFeasibleNodesToFind: all nodes below 100, adaptive percentage above", () => {
  const cases = [
    { nodes: 50, pct: 0, want: 50 },
    { nodes: 100, pct: 0, want: 100 },
    { nodes: 1000, pct: 0, want: 420 },
    { nodes: 5000, pct: 0, want: 500 },
    { nodes: 10000, pct: 0, want: 500 },
    { nodes: 1000, pct: 30, want: 300 },
  ];
  for (const c of cases) assert.equal(numFeasibleNodesToFind(c.pct, c.nodes), c.want, `${c.nodes} nodes at ${c.pct}%`);
});

test("selectHost: the highest total wins regardless of order", () => {
  const rng = new SeededRng(9);
  assert.equal(selectHost([{ name: "a", scores: [], totalScore: 10 }, { name: "b", scores: [], totalScore: 30 }, { name: "c", scores: [], totalScore: 20 }], rng), "b");
});

test("truncateMessage: notes over 1024 bytes end in ' ...'", () => {
  const long = "x".repeat(2000);
  const t = truncateMessage(long);
  assert.equal(t.length, 1024);
  assert.ok(t.endsWith(" ..."));
  assert.equal(truncateMessage("short"), "short");
});
