import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeSelectorTerm } from "kubernetes-types/core/v1.js";
import { makeNode, makePod } from "../test_objects.js";
import { labelSelector, nodeSelectorTermMatches, podMatchesNodeSelectorAndAffinityTerms } from "./labels.js";

const node = makeNode("n1", { labels: { zone: "a", cores: "8", disk: "ssd" } });

const terms: { name: string; term: NodeSelectorTerm; want: boolean }[] = [
  { name: "In matches a listed value", term: { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, want: true },
  { name: "NotIn matches an absent label", term: { matchExpressions: [{ key: "gpu", operator: "NotIn", values: ["x"] }] }, want: true },
  { name: "Exists needs the key", term: { matchExpressions: [{ key: "gpu", operator: "Exists" }] }, want: false },
  { name: "DoesNotExist rejects a present key", term: { matchExpressions: [{ key: "disk", operator: "DoesNotExist" }] }, want: false },
  { name: "Gt compares integers", term: { matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }] }, want: true },
  { name: "Lt compares integers", term: { matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }, want: false },
  { name: "Gt with a non-integer value is invalid and matches nothing", term: { matchExpressions: [{ key: "cores", operator: "Gt", values: ["x"] }] }, want: false },
  { name: "an empty term matches nothing", term: {}, want: false },
  { name: "matchFields on metadata.name", term: { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }, want: true },
  { name: "matchFields NotIn", term: { matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n1"] }] }, want: false },
  {
    name: "expressions and fields are ANDed",
    term: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }], matchFields: [{ key: "metadata.name", operator: "In", values: ["n2"] }] },
    want: false,
  },
];
for (const c of terms) test(`nodeSelectorTermMatches: ${c.name}`, () => assert.equal(nodeSelectorTermMatches(c.term, node), c.want));

test("podMatchesNodeSelectorAndAffinityTerms: nodeSelector and required terms must both hold; terms are ORed", () => {
  const pod = makePod("p", {
    nodeSelector: { disk: "ssd" },
    spec: {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z"] }] }, { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }],
          },
        },
      },
    },
  });
  assert.equal(podMatchesNodeSelectorAndAffinityTerms(pod, node), true);
  assert.equal(podMatchesNodeSelectorAndAffinityTerms({ ...pod, spec: { ...pod.spec!, nodeSelector: { disk: "hdd" } } }, node), false);
});

test("labelSelector: null matches nothing, empty matches everything, expressions AND", () => {
  assert.equal(labelSelector(null).matches({ a: "1" }), false);
  assert.equal(labelSelector({}).matches({}), true);
  const sel = labelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] });
  assert.equal(sel.matches({ app: "web" }), true);
  assert.equal(sel.matches({ app: "web", tier: "db" }), false);
  assert.equal(sel.matches({ app: "api" }), false);
});
