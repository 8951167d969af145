import { test } from "node:test";
import assert from "node:assert/strict";
import { Diagnosis, fitErrorMessage } from "./fit_error.js";
import { Code, newStatus } from "./status.js";

test("fitErrorMessage: counts sort as strings, so 10 comes before 2 as in Go's sort.Strings", () => {
  const d = new Diagnosis();
  for (let i = 0; i < 10; i++) d.nodeToStatus.set(`t${i}`, newStatus(Code.UnschedulableAndUnresolvable, "zzz"));
  d.nodeToStatus.set("a", newStatus(Code.Unschedulable, "aaa"));
  d.nodeToStatus.set("b", newStatus(Code.Unschedulable, "aaa"));
  assert.equal(fitErrorMessage(12, d), "0/12 nodes are available: 10 zzz, 2 aaa.");
});

test("fitErrorMessage: a PreFilter message replaces the per-node histogram", () => {
  const d = new Diagnosis();
  d.preFilterMsg = "pod affinity terms conflict";
  d.nodeToStatus.absentNodesStatus = newStatus(Code.UnschedulableAndUnresolvable, "pod affinity terms conflict");
  d.postFilterMsg = "preemption: x";
  assert.equal(fitErrorMessage(3, d), "0/3 nodes are available: pod affinity terms conflict. preemption: x.");
});

test("fitErrorMessage: nodes never looked at count with the absent status's reasons", () => {
  const d = new Diagnosis();
  d.nodeToStatus.set("a", newStatus(Code.Unschedulable, "Insufficient cpu"));
  d.nodeToStatus.absentNodesStatus = newStatus(Code.UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [NodeAffinity]");
  assert.equal(fitErrorMessage(5, d), "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity].");
});
