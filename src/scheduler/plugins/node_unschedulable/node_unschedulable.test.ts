import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod } from "../../test_objects.js";
import { newNodeUnschedulable } from "./node_unschedulable.js";

const snap = snapshotFrom([makeNode("open"), makeNode("cordoned", { unschedulable: true })]);
const cases = [
  { name: "a cordoned node rejects an ordinary pod", pod: makePod("p"), want: { open: "Success", cordoned: "UnschedulableAndUnresolvable: node(s) were unschedulable" } },
  {
    name: "tolerating the unschedulable taint lets the pod onto a cordoned node",
    pod: makePod("p", { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] }),
    want: { open: "Success", cordoned: "Success" },
  },
  {
    name: "a toleration for another effect does not count",
    pod: makePod("p", { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }] }),
    want: { open: "Success", cordoned: "UnschedulableAndUnresolvable: node(s) were unschedulable" },
  },
];
for (const c of cases) test(`NodeUnschedulable: ${c.name}`, () => assert.deepEqual(filterOutcomes([() => newNodeUnschedulable()], c.pod, snap), c.want));
