import { test } from "node:test";
import assert from "node:assert/strict";
import { makeNode, makePod } from "../test_objects.js";
import { ActionType, assignedPodUpdateEvents, eventMatches, nodeUpdateEvents, EVENT_UNSCHEDULABLE_TIMEOUT } from "./events.js";

test("nodeUpdateEvents: each scheduling-relevant change is its own event", () => {
  const old = makeNode("n", { cpu: "1", labels: { zone: "a" } });
  const cases = [
    { name: "cordon", next: makeNode("n", { cpu: "1", labels: { zone: "a" }, unschedulable: true }), want: ["NodeSpecUnschedulableChange"] },
    { name: "more cpu", next: makeNode("n", { cpu: "2", labels: { zone: "a" } }), want: ["NodeAllocatableChange"] },
    { name: "relabel", next: makeNode("n", { cpu: "1", labels: { zone: "b" } }), want: ["NodeLabelChange"] },
    { name: "taint", next: makeNode("n", { cpu: "1", labels: { zone: "a" }, taints: [{ key: "k", effect: "NoSchedule" }] }), want: ["NodeTaintChange"] },
    { name: "nothing", next: makeNode("n", { cpu: "1", labels: { zone: "a" } }), want: [] },
  ];
  for (const c of cases) assert.deepEqual(nodeUpdateEvents(old, c.next).map((e) => e.label), c.want, c.name);
});

test("assignedPodUpdateEvents: label changes and request changes", () => {
  const p = makePod("p", { cpu: "1", labels: { a: "1" }, nodeName: "n" });
  assert.deepEqual(assignedPodUpdateEvents(p, makePod("p", { cpu: "1", labels: { a: "2" }, nodeName: "n" })).map((e) => e.actionType), [ActionType.UpdatePodLabel]);
  assert.deepEqual(assignedPodUpdateEvents(p, makePod("p", { cpu: "500m", labels: { a: "1" }, nodeName: "n" })).map((e) => e.actionType), [ActionType.UpdatePodScaleDown]);
});

test("eventMatches: resource and action must both match; Pod covers assigned and unscheduled pods; the timeout matches all", () => {
  assert.equal(eventMatches({ resource: "Node", actionType: ActionType.Add, label: "" }, { resource: "Node", actionType: ActionType.Add, label: "" }), true);
  assert.equal(eventMatches({ resource: "Node", actionType: ActionType.Add, label: "" }, { resource: "Node", actionType: ActionType.Delete, label: "" }), false);
  assert.equal(eventMatches({ resource: "Pod", actionType: ActionType.Delete, label: "" }, { resource: "AssignedPod", actionType: ActionType.Delete, label: "" }), true);
  assert.equal(eventMatches({ resource: "AssignedPod", actionType: ActionType.Delete, label: "" }, { resource: "Node", actionType: ActionType.Delete, label: "" }), false);
  assert.equal(eventMatches({ resource: "Node", actionType: ActionType.Add, label: "" }, EVENT_UNSCHEDULABLE_TIMEOUT), true);
});
