import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod } from "../../test_objects.js";
import { newNodeName } from "./node_name.js";

const snap = snapshotFrom([makeNode("a"), makeNode("b")]);
const cases = [
  { name: "a pod without nodeName fits every node", pod: makePod("p"), want: { a: "Success", b: "Success" } },
  {
    name: "a pod naming a node fits only that node",
    pod: makePod("p", { spec: { nodeName: "b" } }),
    want: { a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name", b: "Success" },
  },
];
for (const c of cases) test(`NodeName: ${c.name}`, () => assert.deepEqual(filterOutcomes([() => newNodeName()], c.pod, snap), c.want));
