import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { newNodeAffinity } from "./node_affinity.js";

const snap = snapshotFrom([makeNode("a", { labels: { zone: "z1", disk: "ssd" } }), makeNode("b", { labels: { zone: "z2" } }), makeNode("c", { labels: { zone: "z1" } })]);
const MISS = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";

function withRequired(terms: NonNullable<NonNullable<NonNullable<Pod["spec"]>["affinity"]>["nodeAffinity"]>): Pod {
  return makePod("p", { spec: { affinity: { nodeAffinity: terms } } });
}

const cases: { name: string; pod: Pod; want: Record<string, string> }[] = [
  { name: "a pod with no selector or affinity is skipped", pod: makePod("p"), want: { a: "Success", b: "Success", c: "Success" } },
  { name: "nodeSelector must match every label", pod: makePod("p", { nodeSelector: { zone: "z1", disk: "ssd" } }), want: { a: "Success", b: MISS, c: MISS } },
  {
    name: "required matchExpressions",
    pod: withRequired({ requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["z1"] }] }] } }),
    want: { a: MISS, b: "Success", c: MISS },
  },
  {
    name: "matchFields metadata.name In becomes a PreFilter result",
    pod: withRequired({ requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }] } }),
    want: { a: "Filtered by PreFilter", b: "Filtered by PreFilter", c: "Success" },
  },
  {
    name: "terms naming disjoint nodes in one term conflict",
    pod: withRequired({
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["a"] }, { key: "metadata.name", operator: "In", values: ["b"] }] }],
      },
    }),
    want: { a: "UnschedulableAndUnresolvable: pod affinity terms conflict", b: "UnschedulableAndUnresolvable: pod affinity terms conflict", c: "UnschedulableAndUnresolvable: pod affinity terms conflict" },
  },
];
for (const c of cases) test(`NodeAffinity.Filter: ${c.name}`, () => assert.deepEqual(filterOutcomes([() => newNodeAffinity()], c.pod, snap), c.want));

test("NodeAffinity.Filter: addedAffinity from the profile applies to every pod", () => {
  const added = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z2"] }] }] } };
  const out = filterOutcomes([() => newNodeAffinity({ addedAffinity: added })], makePod("p"), snap);
  assert.equal(out.b, "Success");
  assert.equal(out.a, "UnschedulableAndUnresolvable: node(s) didn't match scheduler-enforced node affinity");
});

test("NodeAffinity.Score: matching preferred weights add up and normalize to 100 for the best", () => {
  const pod = withRequired({
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 10, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] } },
      { weight: 30, preference: { matchExpressions: [{ key: "disk", operator: "Exists" }] } },
    ],
  });
  assert.deepEqual(scoreOutcomes([{ factory: () => newNodeAffinity() }], pod, snap), { a: 100, b: 0, c: 25 });
});
