import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { DaemonSet } from "kubernetes-types/apps/v1.js";
import { daemonPodTemplate, nodeShouldRunDaemonPod, pinToNode, planDaemonSet, targetNodeName, tolerates } from "./daemonset_core.js";

const NOW = Date.parse("2024-05-01T00:00:00Z");

function ds(spec: Partial<NonNullable<DaemonSet["spec"]>["template"]["spec"]> = {}, extra: Partial<NonNullable<DaemonSet["spec"]>> = {}): DaemonSet {
  return {
    metadata: { name: "agent", namespace: "kube-system", uid: "ds-uid", generation: 2 },
    spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "a", image: "a" }], ...spec } }, ...extra },
  };
}

function node(name: string, opts: { labels?: Record<string, string>; taints?: NonNullable<Node["spec"]>["taints"] } = {}): Node {
  return { metadata: { name, labels: { "kubernetes.io/hostname": name, ...(opts.labels ?? {}) } }, spec: { ...(opts.taints === undefined ? {} : { taints: opts.taints }) } };
}

function pod(d: DaemonSet, nodeName: string, hash: string, state: "ready" | "pending" | "failed" = "ready", name = `agent-${nodeName}-${hash}`): Pod {
  const t = pinToNode(daemonPodTemplate(d, hash), nodeName);
  return {
    metadata: { ...t.metadata, name, namespace: "kube-system", uid: `uid-${name}`, creationTimestamp: "2024-04-01T00:00:00Z" },
    spec: { ...t.spec!, nodeName },
    status: state === "ready" ? { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-04-01T00:00:00Z" }] } : { phase: state === "failed" ? "Failed" : "Pending" },
  };
}

const eligibility = [
  { name: "a plain node runs the pod", d: ds(), n: node("n1"), want: { shouldRun: true, shouldContinueRunning: true } },
  { name: "a nodeSelector that does not match excludes the node", d: ds({ nodeSelector: { disk: "ssd" } }), n: node("n1"), want: { shouldRun: false, shouldContinueRunning: false } },
  { name: "a matching nodeSelector includes it", d: ds({ nodeSelector: { disk: "ssd" } }), n: node("n1", { labels: { disk: "ssd" } }), want: { shouldRun: true, shouldContinueRunning: true } },
  {
    name: "required node affinity is honoured",
    d: ds({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] } } } }),
    n: node("n1", { labels: { zone: "b" } }),
    want: { shouldRun: false, shouldContinueRunning: false },
  },
  { name: "an untolerated NoSchedule taint stops new pods but keeps a running one", d: ds(), n: node("n1", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }), want: { shouldRun: false, shouldContinueRunning: true } },
  { name: "an untolerated NoExecute taint evicts", d: ds(), n: node("n1", { taints: [{ key: "dedicated", value: "db", effect: "NoExecute" }] }), want: { shouldRun: false, shouldContinueRunning: false } },
  { name: "a tolerated taint is fine", d: ds({ tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }] }), n: node("n1", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }), want: { shouldRun: true, shouldContinueRunning: true } },
  { name: "daemon pods tolerate an unschedulable node", d: ds(), n: node("n1", { taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] }), want: { shouldRun: true, shouldContinueRunning: true } },
  { name: "daemon pods tolerate a not-ready node", d: ds(), n: node("n1", { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }] }), want: { shouldRun: true, shouldContinueRunning: true } },
  { name: "a PreferNoSchedule taint does not matter", d: ds(), n: node("n1", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }), want: { shouldRun: true, shouldContinueRunning: true } },
];
for (const c of eligibility) test(`nodeShouldRunDaemonPod: ${c.name}`, () => assert.deepEqual(nodeShouldRunDaemonPod(c.n, c.d), c.want));

test("tolerates: an empty key with Exists tolerates every taint of the effect", () => {
  assert.equal(tolerates({ operator: "Exists" }, { key: "a", effect: "NoSchedule" }), true);
  assert.equal(tolerates({ operator: "Exists", effect: "NoExecute" }, { key: "a", effect: "NoSchedule" }), false);
  assert.equal(tolerates({ key: "a", operator: "Equal", value: "1" }, { key: "a", value: "2", effect: "NoSchedule" }), false);
});

test("daemon pod template: default tolerations, revision labels and node pinning", () => {
  const t = pinToNode(daemonPodTemplate(ds({ hostNetwork: true }), "h1"), "n7");
  assert.deepEqual(
    t.spec?.tolerations?.map((x) => `${x.key}:${x.effect}`),
    [
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unschedulable:NoSchedule",
      "node.kubernetes.io/network-unavailable:NoSchedule",
    ],
  );
  assert.deepEqual(t.metadata?.labels, { app: "agent", "pod-template-generation": "2", "controller-revision-hash": "h1" });
  assert.deepEqual(t.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n7"] }] }],
  });
  assert.equal(targetNodeName({ spec: t.spec! }), "n7");
});

test("planDaemonSet: creates on nodes without a pod, deletes failed, duplicate, misscheduled and orphaned pods", () => {
  const d = ds({ nodeSelector: { role: "worker" } });
  const nodes = [node("a", { labels: { role: "worker" } }), node("b", { labels: { role: "worker" } }), node("c", { labels: { role: "worker" } }), node("d")];
  const pods = [pod(d, "b", "h", "failed"), pod(d, "c", "h", "ready", "c1"), pod(d, "c", "h", "ready", "c2"), pod(d, "d", "h"), pod(d, "gone", "h")];
  const plan = planDaemonSet({ ds: d, nodes, pods, hash: "h", nowMs: NOW, satisfiedExpectations: true });
  assert.deepEqual(plan.nodesToCreate, ["a"]);
  assert.deepEqual(plan.podsToDelete.map((x) => `${x.why} ${x.pod.metadata?.name}`).sort(), ["duplicate c2", "failed agent-b-h", "misscheduled agent-d-h", "orphaned agent-gone-h"]);
  assert.deepEqual(plan.status, {
    observedGeneration: 2,
    desiredNumberScheduled: 3,
    currentNumberScheduled: 2,
    numberMisscheduled: 1,
    numberReady: 1,
    numberAvailable: 1,
    updatedNumberScheduled: 2,
    numberUnavailable: 2,
  });
});

test("planDaemonSet: nothing is done while expectations are unmet, but status is still computed", () => {
  const plan = planDaemonSet({ ds: ds(), nodes: [node("a")], pods: [], hash: "h", nowMs: NOW, satisfiedExpectations: false });
  assert.deepEqual(plan.nodesToCreate, []);
  assert.equal(plan.status.desiredNumberScheduled, 1);
});

test("planDaemonSet: a rolling update replaces at most maxUnavailable available old pods at a time", () => {
  const d = ds({}, { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } } });
  const nodes = [node("a"), node("b"), node("c")];
  const all = planDaemonSet({ ds: d, nodes, pods: [pod(d, "a", "old"), pod(d, "b", "old"), pod(d, "c", "old")], hash: "new", nowMs: NOW, satisfiedExpectations: true });
  assert.deepEqual(all.podsToDelete.map((x) => `${x.why} ${x.pod.metadata?.name}`), ["update agent-a-old"]);
  // One new pod not yet ready uses up the budget.
  const busy = planDaemonSet({ ds: d, nodes, pods: [pod(d, "a", "new", "pending"), pod(d, "b", "old"), pod(d, "c", "old")], hash: "new", nowMs: NOW, satisfiedExpectations: true });
  assert.deepEqual(busy.podsToDelete, []);
  // An old pod that is unavailable anyway goes at once.
  const broken = planDaemonSet({ ds: d, nodes, pods: [pod(d, "a", "new", "pending"), pod(d, "b", "old", "pending"), pod(d, "c", "old")], hash: "new", nowMs: NOW, satisfiedExpectations: true });
  assert.deepEqual(broken.podsToDelete.map((x) => x.pod.metadata?.name), ["agent-b-old"]);
  const ondelete = planDaemonSet({ ds: ds({}, { updateStrategy: { type: "OnDelete" } }), nodes, pods: [pod(d, "a", "old")], hash: "new", nowMs: NOW, satisfiedExpectations: true });
  assert.deepEqual(ondelete.podsToDelete, []);
});
