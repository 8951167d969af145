import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../env/manual_clock.js";
import { PodInfo } from "../cache/pod_info.js";
import { makeNode, makePod } from "../test_objects.js";
import { ActionType, EVENT_NODE_ADD, nodeUpdateEvents } from "./events.js";
import { SchedulingQueue, type QueuedPodInfo } from "./scheduling_queue.js";

function setup() {
  const clock = new ManualClock();
  const q = new SchedulingQueue({ clock });
  return { clock, q };
}

function fail(q: SchedulingQueue, p: QueuedPodInfo, plugins: string[], cycle = q.schedulingCycle): void {
  p.unschedulablePlugins = new Set(plugins);
  q.addUnschedulableIfNotPresent(p, cycle);
}

test("SchedulingQueue.pop: higher priority first, then first come first served", () => {
  const { clock, q } = setup();
  q.add(makePod("low-early", { priority: 1 }));
  clock.advance(10);
  q.add(makePod("high", { priority: 10 }));
  q.add(makePod("low-late", { priority: 1 }));
  q.add(makePod("low-same-time", { priority: 1 }));
  const order: string[] = [];
  for (let p = q.pop(); p !== null; p = q.pop()) order.push(p.podInfo.pod.metadata!.name!);
  assert.deepEqual(order, ["high", "low-early", "low-late", "low-same-time"]);
});

test("SchedulingQueue.backoffDurationMs: 1 s doubling per attempt up to 10 s", () => {
  const { q } = setup();
  assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map((a) => q.backoffDurationMs(a)), [1000, 2000, 4000, 8000, 10000, 10000, 10000]);
});

test("SchedulingQueue: a pod that failed with an error backs off, then returns to activeQ", () => {
  const { clock, q } = setup();
  q.add(makePod("p"));
  const p = q.pop()!;
  fail(q, p, []);
  assert.equal(q.whereIs(p.podInfo.pod), "backoff");
  clock.advance(999);
  q.flushBackoffQCompleted();
  assert.equal(q.pop(), null);
  clock.advance(1);
  q.flushBackoffQCompleted();
  assert.equal(q.pop()?.podInfo.pod.metadata?.name, "p");
});

test("SchedulingQueue: the second failure waits 2 s, with run() doing the flushing on the clock", () => {
  const { clock, q } = setup();
  q.run();
  q.add(makePod("p"));
  fail(q, q.pop()!, []);
  clock.advance(1000);
  const second = q.pop()!;
  assert.equal(second.attempts, 2);
  fail(q, second, []);
  clock.advance(1999);
  assert.equal(q.counts().active, 0);
  clock.advance(1000);
  assert.equal(q.counts().active, 1);
  q.close();
});

test("SchedulingQueue: an unschedulable pod waits for an event its rejecting plugin registered", () => {
  const { clock, q } = setup();
  q.add(makePod("fit"));
  q.add(makePod("taint"));
  const a = q.pop()!;
  const b = q.pop()!;
  fail(q, a, ["NodeResourcesFit"]);
  fail(q, b, ["TaintToleration"]);
  assert.equal(q.counts().unschedulable, 2);
  // A pod deleted from a node frees resources but removes no taint.
  q.assignedPodDeleted(makePod("gone", { nodeName: "n" }));
  assert.equal(q.whereIs(a.podInfo.pod), "backoff", "still within its 1 s backoff");
  assert.equal(q.whereIs(b.podInfo.pod), "unschedulable");
  // A node's taint change moves the TaintToleration pod; its backoff has passed by now.
  clock.advance(5000);
  const old = makeNode("n", { taints: [{ key: "k", effect: "NoSchedule" }] });
  for (const ev of nodeUpdateEvents(old, makeNode("n"))) q.moveAllToActiveOrBackoffQueue(ev);
  assert.equal(q.whereIs(b.podInfo.pod), "active");
});

test("SchedulingQueue: a node annotation change does not wake a pod rejected for resources, a new node does", () => {
  const { q } = setup();
  q.add(makePod("p"));
  const p = q.pop()!;
  fail(q, p, ["NodeResourcesFit"]);
  q.moveAllToActiveOrBackoffQueue({ resource: "Node", actionType: ActionType.UpdateNodeAnnotation, label: "NodeAnnotationChange" });
  assert.equal(q.whereIs(p.podInfo.pod), "unschedulable");
  q.moveAllToActiveOrBackoffQueue(EVENT_NODE_ADD);
  assert.equal(q.whereIs(p.podInfo.pod), "backoff");
});

test("SchedulingQueue: a move request during the pod's cycle sends it to backoff instead of unschedulable", () => {
  const { q } = setup();
  q.add(makePod("p"));
  const p = q.pop()!;
  const cycle = q.schedulingCycle;
  q.moveAllToActiveOrBackoffQueue(EVENT_NODE_ADD);
  fail(q, p, ["NodeResourcesFit"], cycle);
  assert.equal(q.whereIs(p.podInfo.pod), "backoff");
});

test("SchedulingQueue: unschedulable pods are retried after 5 minutes without any event", () => {
  const { clock, q } = setup();
  q.run();
  q.add(makePod("p"));
  const p = q.pop()!;
  fail(q, p, ["NodeAffinity"]);
  clock.advance(5 * 60 * 1000);
  assert.equal(q.whereIs(p.podInfo.pod), "unschedulable", "exactly 5 minutes is not over the limit");
  clock.advance(30_000);
  assert.equal(q.whereIs(p.podInfo.pod), "active");
  q.close();
});

test("SchedulingQueue: an update to an unschedulable pod's spec retries it; a status-only update does not", () => {
  const { clock, q } = setup();
  const pod = makePod("p");
  q.add(pod);
  const p = q.pop()!;
  fail(q, p, ["NodeAffinity"]);
  clock.advance(20_000);
  q.update(pod, { ...pod, status: { phase: "Pending" } });
  assert.equal(q.whereIs(pod), "unschedulable");
  q.update(pod, { ...pod, spec: { ...pod.spec!, nodeSelector: { disk: "ssd" } } });
  assert.equal(q.whereIs(pod), "active");
});

test("SchedulingQueue: scheduling gates hold a pod until they are removed", () => {
  const { q } = setup();
  const gated = makePod("g", { spec: { schedulingGates: [{ name: "example.com/wait" }] } });
  q.add(gated);
  assert.equal(q.pop(), null);
  assert.equal(q.whereIs(gated), "unschedulable");
  q.moveAllToActiveOrBackoffQueue(EVENT_NODE_ADD);
  assert.equal(q.whereIs(gated), "unschedulable", "no cluster event ungates a pod");
  q.update(gated, { ...gated, spec: { ...gated.spec!, schedulingGates: [] } });
  assert.equal(q.pop()?.podInfo.pod.metadata?.name, "g");
});

test("SchedulingQueue: deleting a pending pod removes it from every sub-queue and the nominator", () => {
  const { q } = setup();
  const pod = makePod("p", { status: { nominatedNodeName: "n1" } });
  q.add(pod);
  assert.equal(q.nominatedPodsForNode("n1").length, 1);
  q.delete(pod);
  assert.equal(q.pop(), null);
  assert.equal(q.nominatedPodsForNode("n1").length, 0);
});

test("SchedulingQueue nominator: a nomination overrides, an empty name clears, null keeps the pod's own", () => {
  const { q } = setup();
  const pi = new PodInfo(makePod("p"));
  q.addNominatedPod(pi, "a");
  assert.deepEqual(q.nominatedPodsForNode("a").map((p) => p.key), ["uid-p"]);
  q.addNominatedPod(pi, "b");
  assert.equal(q.nominatedPodsForNode("a").length, 0);
  assert.equal(q.nominatedPodsForNode("b").length, 1);
  q.addNominatedPod(pi, "");
  assert.equal(q.nominatedPodsForNode("b").length, 0);
});

test("SchedulingQueue: an assigned pod with labels wakes pods with affinity to it only", () => {
  const { clock, q } = setup();
  const affine = makePod("affine", { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "zone" }] } } } });
  q.add(affine);
  q.add(makePod("plain"));
  const a = q.pop()!;
  const b = q.pop()!;
  fail(q, a, ["InterPodAffinity"]);
  fail(q, b, ["InterPodAffinity"]);
  clock.advance(10_000);
  q.assignedPodAdded(makePod("db", { labels: { app: "db" }, nodeName: "n" }));
  assert.equal(q.whereIs(affine), "active");
  assert.equal(q.whereIs(b.podInfo.pod), "unschedulable");
});

test("SchedulingQueue: a full queue refuses new pods", () => {
  const clock = new ManualClock();
  const q = new SchedulingQueue({ clock }, { pendingPodsMax: 2 });
  assert.equal(q.add(makePod("a")), true);
  assert.equal(q.add(makePod("b")), true);
  assert.equal(q.add(makePod("c")), false);
});

test("SchedulingQueue.onActive: the shell is told when a pod becomes ready", () => {
  const { clock, q } = setup();
  let wakeups = 0;
  q.onActive(() => wakeups++);
  q.add(makePod("p"));
  fail(q, q.pop()!, []);
  clock.advance(1000);
  q.flushBackoffQCompleted();
  assert.equal(wakeups, 2);
});

test("SchedulingQueue.add: re-adding an unchanged unschedulable pod (an informer resync) leaves it waiting", () => {
  const { q } = setup();
  const pod = makePod("p");
  q.add(pod);
  fail(q, q.pop()!, ["NodeAffinity"]);
  q.add(pod);
  assert.equal(q.whereIs(pod), "unschedulable");
});

test("SchedulingQueue.addUnschedulableIfNotPresent: a preemption's nomination is kept for the filters of other pods", () => {
  const { q } = setup();
  const pod = makePod("hi", { priority: 100 });
  q.add(pod);
  const p = q.pop()!;
  p.unschedulablePlugins = new Set(["NodeResourcesFit"]);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycle, "n1");
  assert.deepEqual(q.nominatedPodsForNode("n1").map((x) => x.pod.metadata?.name), ["hi"]);
  q.deleteNominatedPodIfExists(pod);
  assert.equal(q.nominatedPodsForNode("n1").length, 0);
});
