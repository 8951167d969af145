import { test } from "node:test";
import assert from "node:assert/strict";
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";
import { applyTaintChange, getMatchingTolerations, minTolerationTimeMs, toleratesTaint } from "./taints.js";

const unreachable: Taint = { key: "node.kubernetes.io/unreachable", effect: "NoExecute" };

const tolerateCases: { name: string; t: Toleration; taint: Taint; want: boolean }[] = [
  { name: "Exists with the same key and effect tolerates", t: { key: unreachable.key, operator: "Exists", effect: "NoExecute" }, taint: unreachable, want: true },
  { name: "an empty key with Exists tolerates everything", t: { operator: "Exists" }, taint: unreachable, want: true },
  { name: "another effect does not tolerate", t: { key: unreachable.key, operator: "Exists", effect: "NoSchedule" }, taint: unreachable, want: false },
  { name: "Equal compares values", t: { key: "k", operator: "Equal", value: "a" }, taint: { key: "k", value: "b", effect: "NoExecute" }, want: false },
  { name: "an empty operator means Equal", t: { key: "k", value: "a" }, taint: { key: "k", value: "a", effect: "NoExecute" }, want: true },
  { name: "another key does not tolerate", t: { key: "x", operator: "Exists" }, taint: unreachable, want: false },
];
for (const c of tolerateCases) test(`toleratesTaint: ${c.name}`, () => assert.equal(toleratesTaint(c.t, c.taint), c.want));

test("getMatchingTolerations: one untolerated taint fails the whole set", () => {
  const r = getMatchingTolerations([unreachable, { key: "other", effect: "NoExecute" }], [{ key: unreachable.key, operator: "Exists" }]);
  assert.equal(r.allTolerated, false);
});

const minCases: { name: string; used: Toleration[]; want: number }[] = [
  { name: "no tolerations means at once", used: [], want: 0 },
  { name: "tolerations without seconds mean forever", used: [{ operator: "Exists" }], want: -1 },
  { name: "the smallest tolerationSeconds wins", used: [{ tolerationSeconds: 300 }, { tolerationSeconds: 30 }, { operator: "Exists" }], want: 30_000 },
  { name: "zero or negative seconds mean at once", used: [{ tolerationSeconds: 300 }, { tolerationSeconds: -5 }], want: 0 },
];
for (const c of minCases) test(`minTolerationTimeMs: ${c.name}`, () => assert.equal(minTolerationTimeMs(c.used), c.want));

test("applyTaintChange: returns null when nothing changes and replaces by key and effect", () => {
  assert.equal(applyTaintChange([unreachable], [unreachable], []), null);
  assert.equal(applyTaintChange([], [], [unreachable]), null);
  assert.deepEqual(applyTaintChange([{ key: "a", effect: "NoSchedule" }, unreachable], [], [unreachable]), [{ key: "a", effect: "NoSchedule" }]);
  assert.deepEqual(applyTaintChange([{ key: "a", value: "1", effect: "NoSchedule" }], [{ key: "a", value: "2", effect: "NoSchedule" }], []), [{ key: "a", value: "2", effect: "NoSchedule" }]);
});
