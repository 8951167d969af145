import { test } from "node:test";
import assert from "node:assert/strict";
import { makeNode, makePod } from "../test_objects.js";
import { CacheError, SchedulerCache } from "./cache.js";

function cpuOn(cache: SchedulerCache, node: string): number | undefined {
  return cache.snapshot().get(node)?.requested.milliCPU;
}

test("SchedulerCache: an assumed pod counts until the informer confirms it, and only once after", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("n"));
  const pod = makePod("p", { cpu: "300m", nodeName: "n" });
  c.assumePod(pod);
  assert.equal(cpuOn(c, "n"), 300);
  assert.equal(c.isAssumedPod(pod), true);
  c.finishBinding(pod);
  c.addPod(pod);
  assert.equal(cpuOn(c, "n"), 300);
  assert.equal(c.isAssumedPod(pod), false);
  assert.equal(c.podCount, 1);
});

test("SchedulerCache: forgetting an assumed pod gives its room back", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("n"));
  const pod = makePod("p", { cpu: "300m", nodeName: "n" });
  c.assumePod(pod);
  c.forgetPod(pod);
  assert.equal(cpuOn(c, "n"), 0);
  const confirmed = makePod("q", { nodeName: "n" });
  c.addPod(confirmed);
  assert.throws(() => c.forgetPod(confirmed), CacheError, "only assumed pods can be forgotten");
});

test("SchedulerCache: a pod confirmed on another node than assumed moves there", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("a"));
  c.addNode(makeNode("b"));
  c.assumePod(makePod("p", { cpu: "1", nodeName: "a" }));
  c.addPod(makePod("p", { cpu: "1", nodeName: "b" }));
  assert.equal(cpuOn(c, "a"), 0);
  assert.equal(cpuOn(c, "b"), 1000);
});

test("SchedulerCache: updates and removals adjust the node's sums and ports", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("n"));
  const old = makePod("p", { cpu: "100m", nodeName: "n", hostPorts: [80] });
  c.addPod(old);
  c.updatePod(old, makePod("p", { cpu: "200m", nodeName: "n" }));
  assert.equal(cpuOn(c, "n"), 200);
  assert.equal(c.snapshot().get("n")!.usedPorts.size, 0);
  c.removePod(old);
  assert.equal(cpuOn(c, "n"), 0);
  assert.equal(c.snapshot().get("n")!.pods.length, 0);
});

test("SchedulerCache: a removed node with pods left is hidden from snapshots until they go", () => {
  const c = new SchedulerCache();
  const n = makeNode("n");
  c.addNode(n);
  const pod = makePod("p", { nodeName: "n" });
  c.addPod(pod);
  c.removeNode(n);
  assert.equal(c.snapshot().get("n"), undefined);
  assert.equal(c.nodeCount, 1);
  c.removePod(pod);
  assert.equal(c.nodeCount, 0);
});

test("SchedulerCache.snapshot: unchanged nodes are shared between snapshots, changed ones copied", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("a"));
  c.addNode(makeNode("b"));
  const s1 = c.snapshot();
  const a1 = s1.get("a")!;
  const b1 = s1.get("b")!;
  c.addPod(makePod("p", { nodeName: "b" }));
  const s2 = c.snapshot();
  assert.equal(s2.get("a"), a1);
  assert.notEqual(s2.get("b"), b1);
  assert.equal(b1.pods.length, 0, "a NodeInfo handed out never changes");
  assert.equal(s2.get("b")!.pods.length, 1);
});

test("SchedulerCache.snapshot: removals, additions and affinity lists stay consistent across many changes", () => {
  const c = new SchedulerCache();
  const anti = (name: string, node: string) =>
    makePod(name, { nodeName: node, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: "zone" }] } } } });
  for (const n of ["a", "b", "c", "d"]) c.addNode(makeNode(n));
  c.addPod(anti("x", "b"));
  c.snapshot();
  c.removeNode(makeNode("a"));
  c.addNode(makeNode("e"));
  c.addPod(anti("y", "e"));
  c.removeNode(makeNode("c"));
  let s = c.snapshot();
  assert.deepEqual(s.nodeInfos.map((n) => n.name), ["b", "d", "e"]);
  assert.deepEqual(s.havePodsWithRequiredAntiAffinity.map((n) => n.name), ["b", "e"]);
  assert.equal(s.get("e")!.name, "e");
  assert.equal(s.get("a"), undefined);
  c.removePod(anti("x", "b"));
  s = c.snapshot();
  assert.deepEqual(s.havePodsWithRequiredAntiAffinity.map((n) => n.name), ["e"]);
  assert.deepEqual(s.havePodsWithAffinity.map((n) => n.name), ["e"]);
});

test("SchedulerCache: assuming a pod that is already cached is refused", () => {
  const c = new SchedulerCache();
  c.addNode(makeNode("n"));
  c.addPod(makePod("p", { nodeName: "n" }));
  assert.throws(() => c.assumePod(makePod("p", { nodeName: "n" })), /can't be assumed/);
});
