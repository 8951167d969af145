import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { leastRequestedScore, mostRequestedScore, newNodeResourcesFit } from "./fit.js";

const snap = snapshotFrom(
  [makeNode("small", { cpu: "1", memory: "1Gi", pods: 2 }), makeNode("big", { cpu: "8", memory: "16Gi", extra: { "example.com/foo": "2" } })],
  [makePod("x", { cpu: "500m", memory: "512Mi", nodeName: "small" }), makePod("y", { nodeName: "small" })],
);
const fit = () => newNodeResourcesFit();

const cases = [
  { name: "a small pod fits where there is room", pod: makePod("p", { cpu: "100m" }), want: { small: "Unschedulable: Too many pods", big: "Success" } },
  {
    name: "every shortage is a reason; a request above allocatable is unresolvable",
    pod: makePod("p", { cpu: "2", memory: "600Mi" }),
    want: { small: "UnschedulableAndUnresolvable: Too many pods, Insufficient cpu, Insufficient memory", big: "Success" },
  },
  {
    name: "extended resources are checked by name",
    pod: makePod("p", { containers: [{ name: "c", resources: { requests: { "example.com/foo": "3" } } }] }),
    want: { small: "UnschedulableAndUnresolvable: Too many pods, Insufficient example.com/foo", big: "UnschedulableAndUnresolvable: Insufficient example.com/foo" },
  },
];
for (const c of cases) test(`NodeResourcesFit.Filter: ${c.name}`, () => assert.deepEqual(filterOutcomes([fit], c.pod, snap), c.want));

test("NodeResourcesFit.Filter: a shortage a pod could free is plain Unschedulable", () => {
  const s = snapshotFrom([makeNode("n", { cpu: "1" })], [makePod("x", { cpu: "800m", nodeName: "n" })]);
  assert.deepEqual(filterOutcomes([fit], makePod("p", { cpu: "500m" }), s), { n: "Unschedulable: Insufficient cpu" });
});

test("leastRequestedScore and mostRequestedScore: integer shares of 100", () => {
  assert.equal(leastRequestedScore(250, 1000), 75);
  assert.equal(leastRequestedScore(1001, 1000), 0);
  assert.equal(leastRequestedScore(1, 3), 66);
  assert.equal(mostRequestedScore(250, 1000), 25);
  assert.equal(mostRequestedScore(2000, 1000), 100);
});

test("NodeResourcesFit.Score: LeastAllocated counts best-effort pods as 100m/200MB", () => {
  const s = snapshotFrom([makeNode("a", { cpu: "1", memory: "1000Mi" }), makeNode("b", { cpu: "1", memory: "1000Mi" })], [makePod("x", { nodeName: "a" })]);
  // a: cpu (1000m − 2×100m)/1000m → 80, memory (1000Mi − 2×200Mi)/1000Mi → 60, mean 70; b: 90 and 80 → 85.
  assert.deepEqual(scoreOutcomes([{ factory: fit }], makePod("p"), s), { a: 70, b: 85 });
});

test("NodeResourcesFit.Score: MostAllocated prefers the fuller node", () => {
  const s = snapshotFrom([makeNode("a", { cpu: "1", memory: "1Gi" }), makeNode("b", { cpu: "1", memory: "1Gi" })], [makePod("x", { cpu: "500m", memory: "512Mi", nodeName: "a" })]);
  const r = scoreOutcomes([{ factory: () => newNodeResourcesFit({ scoringStrategy: { type: "MostAllocated" } }) }], makePod("p", { cpu: "100m", memory: "100Mi" }), s);
  assert.ok(r.a! > r.b!, JSON.stringify(r));
});
