import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, TopologySpreadConstraint } from "kubernetes-types/core/v1.js";
import { snapshotFrom } from "../../cache/snapshot.js";
import type { Handle } from "../../framework/interface.js";
import { filterOutcomes, makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { newPodTopologySpread, type PodTopologySpreadArgs } from "./pod_topology_spread.js";

const nodes = [
  makeNode("a1", { labels: { zone: "a" } }),
  makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }),
  makeNode("nolabel"),
];
const web = (name: string, nodeName?: string) => makePod(name, { labels: { app: "web" }, nodeName });
const SKEW = "Unschedulable: node(s) didn't match pod topology spread constraints";
const MISSING = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";

function spread(c: Partial<TopologySpreadConstraint>, extra: Partial<Pod["spec"]> = {}): Pod {
  return makePod("p", {
    labels: { app: "web" },
    spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } }, ...c }], ...extra },
  });
}
const plugin = (args?: PodTopologySpreadArgs) => (h: Handle) => newPodTopologySpread(h, args);

const cases: { name: string; pods: Pod[]; pod: Pod; want: Record<string, string> }[] = [
  {
    name: "the zone with more matching pods is rejected when it would exceed maxSkew",
    pods: [web("x", "a1"), web("y", "a2")],
    pod: spread({}),
    want: { a1: SKEW, a2: SKEW, b1: "Success", nolabel: MISSING },
  },
  {
    name: "pods in other namespaces or not matching the selector do not count",
    pods: [makePod("x", { labels: { app: "web" }, nodeName: "a1", namespace: "other" }), makePod("y", { labels: { app: "db" }, nodeName: "a1" })],
    pod: spread({}),
    want: { a1: "Success", a2: "Success", b1: "Success", nolabel: MISSING },
  },
  {
    name: "minDomains above the domain count makes the global minimum 0",
    pods: [web("x", "b1")],
    pod: spread({ minDomains: 3 }),
    want: { a1: "Success", a2: "Success", b1: SKEW, nolabel: MISSING },
  },
  {
    name: "nodeAffinityPolicy Honor leaves out domains the pod cannot use",
    pods: [web("x", "a1")],
    pod: spread({}, { nodeSelector: { zone: "a" } }),
    want: { a1: "Success", a2: "Success", b1: "Success", nolabel: MISSING },
  },
  {
    name: "nodeAffinityPolicy Ignore counts every domain",
    pods: [web("x", "a1")],
    pod: spread({ nodeAffinityPolicy: "Ignore" }, { nodeSelector: { zone: "a" } }),
    want: { a1: SKEW, a2: SKEW, b1: "Success", nolabel: MISSING },
  },
  {
    name: "matchLabelKeys narrows the selector to the pod's own value",
    pods: [makePod("x", { labels: { app: "web", rev: "1" }, nodeName: "a1" })],
    pod: makePod("p", {
      labels: { app: "web", rev: "2" },
      spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } }, matchLabelKeys: ["rev"] }] },
    }),
    want: { a1: "Success", a2: "Success", b1: "Success", nolabel: MISSING },
  },
];
for (const c of cases) {
  test(`PodTopologySpread.Filter: ${c.name}`, () => assert.deepEqual(filterOutcomes([plugin()], c.pod, snapshotFrom(nodes, c.pods)), c.want));
}

test("PodTopologySpread.Filter: ScheduleAnyway constraints and no defaults mean the filter is skipped", () => {
  const out = filterOutcomes([plugin()], spread({ whenUnsatisfiable: "ScheduleAnyway" }), snapshotFrom(nodes, [web("x", "a1"), web("y", "a2")]));
  assert.deepEqual(out, { a1: "Success", a2: "Success", b1: "Success", nolabel: "Success" });
});

test("PodTopologySpread.Filter: default constraints apply with the selector the shell derives", () => {
  const args: PodTopologySpreadArgs = {
    defaultConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" }],
    defaultSelector: () => ({ matchLabels: { app: "web" } }),
  };
  const out = filterOutcomes([plugin(args)], web("p"), snapshotFrom(nodes, [web("x", "a1"), web("y", "a2")]));
  assert.equal(out.b1, "Success");
  assert.equal(out.a1, SKEW);
});

test("PodTopologySpread.Score: the emptier zone scores higher, nodes lacking the key score 0", () => {
  const pod = spread({ whenUnsatisfiable: "ScheduleAnyway" });
  const r = scoreOutcomes([{ factory: plugin() }], pod, snapshotFrom(nodes, [web("x", "a1"), web("y", "a2"), web("z", "b1")]));
  assert.equal(r.nolabel, 0);
  assert.ok(r.b1! > r.a1!, JSON.stringify(r));
  assert.equal(r.a1, r.a2);
  assert.equal(r.b1, 100);
});

test("PodTopologySpread.Score: hostname spreading counts per node", () => {
  const pod = spread({ whenUnsatisfiable: "ScheduleAnyway", topologyKey: "kubernetes.io/hostname" });
  const r = scoreOutcomes([{ factory: plugin() }], pod, snapshotFrom(nodes, [web("x", "a1"), web("y", "a1")]));
  assert.ok(r.a2! > r.a1!, JSON.stringify(r));
  assert.equal(r.a2, 100);
});
