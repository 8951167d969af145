import { test } from "node:test";
import assert from "node:assert/strict";
import type { Affinity, Pod } from "kubernetes-types/core/v1.js";
import { snapshotFrom } from "../../cache/snapshot.js";
import type { Handle } from "../../framework/interface.js";
import { filterOutcomes, makeNode, makePod, scoreOutcomes } from "../../test_objects.js";
import { newInterPodAffinity } from "./inter_pod_affinity.js";

const nodes = [makeNode("a1", { labels: { zone: "a" } }), makeNode("a2", { labels: { zone: "a" } }), makeNode("b1", { labels: { zone: "b" } }), makeNode("nozone")];
const plugin = (h: Handle) => newInterPodAffinity(h);
const term = (app: string, topologyKey = "zone") => ({ labelSelector: { matchLabels: { app } }, topologyKey });
const withAffinity = (name: string, affinity: Affinity, extra: { labels?: Record<string, string>; nodeName?: string; namespace?: string } = {}): Pod =>
  makePod(name, { labels: extra.labels, nodeName: extra.nodeName, namespace: extra.namespace, spec: { affinity } });

const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

const cases: { name: string; pods: Pod[]; pod: Pod; want: Record<string, string> }[] = [
  {
    name: "required affinity admits only the zone holding a matching pod (and needs the key)",
    pods: [makePod("db", { labels: { app: "db" }, nodeName: "a2" })],
    pod: withAffinity("p", { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db")] } }),
    want: { a1: "Success", a2: "Success", b1: AFF, nozone: AFF },
  },
  {
    name: "the first pod of a self-affine group may go anywhere with the key",
    pods: [],
    pod: withAffinity("p", { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } }, { labels: { app: "web" } }),
    want: { a1: "Success", a2: "Success", b1: "Success", nozone: AFF },
  },
  {
    name: "required anti-affinity rejects the whole zone of a matching pod",
    pods: [makePod("w", { labels: { app: "web" }, nodeName: "a1" })],
    pod: withAffinity("p", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } }),
    want: { a1: ANTI, a2: ANTI, b1: "Success", nozone: "Success" },
  },
  {
    name: "an existing pod's anti-affinity keeps matching pods out of its zone",
    pods: [withAffinity("guard", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } }, { nodeName: "b1" })],
    pod: makePod("p", { labels: { app: "web" } }),
    want: { a1: "Success", a2: "Success", b1: EXISTING, nozone: "Success" },
  },
  {
    name: "terms look in the pod's own namespace unless told otherwise",
    pods: [makePod("w", { labels: { app: "web" }, nodeName: "a1", namespace: "other" })],
    pod: withAffinity("p", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web")] } }),
    want: { a1: "Success", a2: "Success", b1: "Success", nozone: "Success" },
  },
  {
    name: "an empty namespaceSelector looks in every namespace",
    pods: [makePod("w", { labels: { app: "web" }, nodeName: "a1", namespace: "other" })],
    pod: withAffinity("p", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term("web"), namespaceSelector: {} }] } }),
    want: { a1: ANTI, a2: ANTI, b1: "Success", nozone: "Success" },
  },
];
for (const c of cases) {
  test(`InterPodAffinity.Filter: ${c.name}`, () => assert.deepEqual(filterOutcomes([plugin], c.pod, snapshotFrom(nodes, c.pods)), c.want));
}

test("InterPodAffinity.Filter: a namespaceSelector matches by the namespace's labels", () => {
  const snap = snapshotFrom(nodes, [makePod("w", { labels: { app: "web" }, nodeName: "b1", namespace: "team-x" })], { namespaceLabels: new Map([["team-x", { team: "x" }]]) });
  const pod = withAffinity("p", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term("web"), namespaceSelector: { matchLabels: { team: "x" } } }] } });
  assert.equal(filterOutcomes([plugin], pod, snap).b1, ANTI);
});

test("InterPodAffinity.Score: preferred affinity pulls toward, preferred anti-affinity pushes away", () => {
  const pods = [makePod("db", { labels: { app: "db" }, nodeName: "a1" }), makePod("noisy", { labels: { app: "noisy" }, nodeName: "b1" })];
  const pod = withAffinity("p", {
    podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term("db") }] },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term("noisy") }] },
  });
  const r = scoreOutcomes([{ factory: plugin }], pod, snapshotFrom(nodes, pods));
  assert.deepEqual(r, { a1: 100, a2: 100, b1: 0, nozone: 50 });
});

test("InterPodAffinity.Score: an existing pod's required affinity to the new pod counts with hardPodAffinityWeight", () => {
  const pods = [withAffinity("fan", { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("star")] } }, { nodeName: "b1" })];
  const r = scoreOutcomes([{ factory: plugin }], makePod("p", { labels: { app: "star" } }), snapshotFrom(nodes, pods));
  assert.equal(r.b1, 100);
  assert.equal(r.a1, 0);
});
