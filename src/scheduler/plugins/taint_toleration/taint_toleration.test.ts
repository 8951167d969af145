import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { newTaintToleration } from "./taint_toleration.js";
import { toleratesTaint } from "./tolerations.js";

const snap = snapshotFrom([
  makeNode("clean"),
  makeNode("gpu", { taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] }),
  makeNode("down", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }),
  makeNode("soft", { taints: [{ key: "spot", value: "yes", effect: "PreferNoSchedule" }] }),
]);

const filterCases = [
  {
    name: "untolerated NoSchedule and NoExecute taints reject with key and value; PreferNoSchedule does not",
    pod: makePod("p"),
    want: {
      clean: "Success",
      gpu: "UnschedulableAndUnresolvable: node(s) had untolerated taint {gpu: true}",
      down: "UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
      soft: "Success",
    },
  },
  {
    name: "an Equal toleration with the right value and an Exists toleration tolerate",
    pod: makePod("p", { tolerations: [{ key: "gpu", operator: "Equal", value: "true" }, { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }] }),
    want: { clean: "Success", gpu: "Success", down: "Success", soft: "Success" },
  },
  {
    name: "an Equal toleration with another value does not",
    pod: makePod("p", { tolerations: [{ key: "gpu", value: "false" }] }),
    want: {
      clean: "Success",
      gpu: "UnschedulableAndUnresolvable: node(s) had untolerated taint {gpu: true}",
      down: "UnschedulableAndUnresolvable: node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
      soft: "Success",
    },
  },
];
for (const c of filterCases) test(`TaintToleration.Filter: ${c.name}`, () => assert.deepEqual(filterOutcomes([() => newTaintToleration()], c.pod, snap), c.want));

test("TaintToleration.Score: fewer untolerated PreferNoSchedule taints score higher (reversed normalize)", () => {
  const s = scoreOutcomes([{ factory: () => newTaintToleration() }], makePod("p"), snap);
  assert.deepEqual(s, { clean: 100, gpu: 100, down: 100, soft: 0 });
  const tolerant = scoreOutcomes([{ factory: () => newTaintToleration() }], makePod("p", { tolerations: [{ key: "spot", operator: "Exists" }] }), snap);
  assert.equal(tolerant.soft, 100);
});

test("toleratesTaint: an empty key with Exists tolerates everything", () => {
  assert.equal(toleratesTaint({ operator: "Exists" }, { key: "any", effect: "NoSchedule" }), true);
  assert.equal(toleratesTaint({ operator: "Bogus" }, { key: "any", effect: "NoSchedule" }), false);
});
