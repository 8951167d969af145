import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { ManualClock } from "../env/manual_clock.js";
import { SeededRng } from "../env/seeded_rng.js";
import { SchedulerCache } from "./cache/cache.js";
import { PodInfo } from "./cache/pod_info.js";
import { defaultProfile } from "./plugins/registry.js";
import { EVENT_NODE_ADD } from "./queue/events.js";
import { SchedulingQueue } from "./queue/scheduling_queue.js";
import { Scheduler, type ScheduleDecision } from "./scheduler.js";
import { makeNode, makePod } from "./test_objects.js";

/**
 * A miniature of the shell the lead wires to informers and pods/binding: pop, decide, assume and
 * "bind" (the informer's confirmation is immediate here), or requeue with the rejecting plugins.
 */
class MiniShell {
  readonly clock = new ManualClock();
  readonly cache = new SchedulerCache();
  readonly queue = new SchedulingQueue({ clock: this.clock });
  readonly scheduler: Scheduler;
  readonly bound = new Map<string, string>();
  readonly decisions: ScheduleDecision[] = [];
  readonly evicted: string[] = [];

  constructor(seed: number) {
    const rng = new SeededRng(seed);
    this.scheduler = new Scheduler({ profiles: [defaultProfile({ rng })], rng, nominator: (n) => this.queue.nominatedPodsForNode(n) });
  }

  addNode(n: Node): void {
    this.cache.addNode(n);
    this.queue.moveAllToActiveOrBackoffQueue(EVENT_NODE_ADD);
  }

  /** Runs cycles until activeQ is empty (bounded: a cycle per pod at most `max` times). */
  drain(max = 1000): void {
    for (let i = 0; i < max; i++) {
      const q = this.queue.pop();
      if (q === null) return;
      const pod = q.podInfo.pod;
      const cycle = this.queue.schedulingCycle;
      const d = this.scheduler.schedulePod(pod, this.cache.snapshot());
      this.decisions.push(d);
      if (d.kind === "bind") {
        const boundPod: Pod = { ...pod, spec: { ...pod.spec!, nodeName: d.nodeName } };
        this.cache.assumePod(boundPod);
        this.cache.finishBinding(boundPod);
        this.cache.addPod(boundPod);
        this.queue.done(pod);
        this.queue.deleteNominatedPodIfExists(pod);
        this.queue.assignedPodAdded(boundPod);
        this.bound.set(pod.metadata!.name!, d.nodeName);
      } else if (d.kind === "preempt") {
        // The shell patches status.nominatedNodeName, then deletes the victims; the informer reports both.
        const nominated: Pod = { ...pod, status: { ...pod.status, nominatedNodeName: d.nominatedNode } };
        q.podInfo = new PodInfo(nominated);
        q.unschedulablePlugins = new Set(d.unschedulablePlugins);
        this.queue.addUnschedulableIfNotPresent(q, cycle, d.nominatedNode);
        for (const v of d.victims) {
          this.cache.removePod(v);
          this.queue.assignedPodDeleted(v);
          this.evicted.push(v.metadata!.name!);
        }
      } else {
        q.unschedulablePlugins = new Set(d.unschedulablePlugins);
        this.queue.addUnschedulableIfNotPresent(q, cycle, d.nominatedNodeName);
      }
    }
    assert.fail("drain did not finish");
  }
}

test("scheduling cycle: a spread Deployment lands evenly over zones and the same seed replays the same placement", () => {
  const place = (seed: number): Map<string, string> => {
    const s = new MiniShell(seed);
    for (const [name, zone] of [["a1", "a"], ["a2", "a"], ["b1", "b"], ["c1", "c"]] as const) s.addNode(makeNode(name, { labels: { zone } }));
    for (let i = 0; i < 9; i++) {
      s.queue.add(makePod(`web-${i}`, {
        cpu: "100m",
        labels: { app: "web" },
        spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } } }] },
      }));
    }
    s.drain();
    return s.bound;
  };
  const bound = place(11);
  assert.equal(bound.size, 9);
  const perZone = new Map<string, number>();
  for (const node of bound.values()) perZone.set(node[0]!, (perZone.get(node[0]!) ?? 0) + 1);
  assert.deepEqual([...perZone.values()].sort(), [3, 3, 3]);
  assert.deepEqual([...place(11)], [...bound]);
});

test("scheduling cycle: a pod that fits nowhere waits as unschedulable and is placed when a big enough node joins", () => {
  const s = new MiniShell(5);
  s.addNode(makeNode("small", { cpu: "1" }));
  s.queue.add(makePod("big", { cpu: "2" }));
  s.drain();
  const first = s.decisions[0]!;
  assert.equal(first.kind, "unschedulable");
  assert.equal(first.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..");
  assert.deepEqual([...first.unschedulablePlugins], ["NodeResourcesFit"]);
  assert.equal(s.queue.counts().unschedulable, 1);
  s.clock.advance(2000);
  s.addNode(makeNode("large", { cpu: "4" }));
  s.drain();
  assert.equal(s.bound.get("big"), "large");
});

test("scheduling cycle: assumed pods take room at once, so a burst does not overcommit a node", () => {
  const s = new MiniShell(3);
  s.addNode(makeNode("n", { cpu: "1" }));
  for (let i = 0; i < 4; i++) s.queue.add(makePod(`p${i}`, { cpu: "300m" }));
  s.drain();
  assert.equal(s.bound.size, 3);
  assert.equal(s.queue.counts().unschedulable, 1);
});

test("scheduling cycle: required anti-affinity puts one replica per node", () => {
  const s = new MiniShell(8);
  for (const n of ["a", "b", "c"]) s.addNode(makeNode(n));
  for (let i = 0; i < 4; i++) {
    s.queue.add(makePod(`db-${i}`, {
      labels: { app: "db" },
      spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" }] } } },
    }));
  }
  s.drain();
  assert.equal(new Set(s.bound.values()).size, 3);
  assert.equal(s.bound.size, 3);
  const last = s.decisions.at(-1)!;
  assert.equal(last.kind, "unschedulable");
  assert.equal(last.message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..");
});

test("scheduling cycle: a high-priority pod preempts, its nominated room is not taken by a lower pod, and it binds there", () => {
  const s = new MiniShell(2);
  s.addNode(makeNode("n", { cpu: "2" }));
  s.cache.addPod(makePod("low-a", { cpu: "1", priority: 1, nodeName: "n" }));
  s.cache.addPod(makePod("low-b", { cpu: "1", priority: 1, nodeName: "n" }));
  s.queue.add(makePod("high", { cpu: "1", priority: 1000 }));
  s.drain();
  const first = s.decisions[0]!;
  assert.equal(first.kind, "preempt");
  assert.equal(first.message, "0/1 nodes are available: 1 Insufficient cpu.");
  assert.equal(s.evicted.length, 1);
  // While "high" backs off, a new low pod must not take the room freed for it.
  s.queue.add(makePod("sneaky", { cpu: "1", priority: 1 }));
  s.drain();
  assert.equal(s.bound.get("sneaky"), undefined);
  const sneaky = s.decisions.at(-1)!;
  assert.equal(sneaky.kind, "unschedulable");
  s.clock.advance(1000);
  s.queue.flushBackoffQCompleted();
  s.drain();
  assert.equal(s.bound.get("high"), "n");
});
