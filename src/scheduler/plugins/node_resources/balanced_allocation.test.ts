import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { balancedResourceScore, newNodeResourcesBalancedAllocation } from "./balanced_allocation.js";

const cases = [
  { name: "equal fractions are perfectly balanced", req: [500, 500], alloc: [1000, 1000], want: 100 },
  { name: "two resources: 100 × (1 − |f1 − f2| / 2)", req: [800, 200], alloc: [1000, 1000], want: 70 },
  { name: "fractions over 1 are capped", req: [3000, 0], alloc: [1000, 1000], want: 50 },
  { name: "a resource the node lacks is left out", req: [500, 0], alloc: [1000, 0], want: 100 },
  { name: "three resources use the standard deviation", req: [0, 500, 1000], alloc: [1000, 1000, 1000], want: 59 },
];
for (const c of cases) test(`balancedResourceScore: ${c.name}`, () => assert.equal(balancedResourceScore(c.req, c.alloc), c.want));

test("NodeResourcesBalancedAllocation.Score: the node whose cpu and memory stay even wins", () => {
  const s = snapshotFrom(
    [makeNode("cpuheavy", { cpu: "2", memory: "2Gi" }), makeNode("even", { cpu: "2", memory: "2Gi" })],
    [makePod("x", { cpu: "1500m", nodeName: "cpuheavy" }), makePod("y", { cpu: "500m", memory: "512Mi", nodeName: "even" })],
  );
  const r = scoreOutcomes([{ factory: () => newNodeResourcesBalancedAllocation() }], makePod("p", { cpu: "100m", memory: "100Mi" }), s);
  assert.ok(r.even! > r.cpuheavy!, JSON.stringify(r));
});
