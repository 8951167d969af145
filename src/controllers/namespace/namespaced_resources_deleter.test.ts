import { test } from "node:test";
import assert from "node:assert/strict";
import { findResource } from "../../api/resources.js";
import { deletableNamespacedResources, estimateGracefulTerminationForPods, FINALIZER_ESTIMATE_SECONDS, judgeRemaining } from "./namespaced_resources_deleter.js";
import { requeueDelayMs } from "./namespace_controller.js";

test("the deletable resources are the namespaced ones with delete and list, not bindings or cluster-scoped kinds", () => {
  const names = deletableNamespacedResources().map((r) => `${r.resource}.${r.group}`);
  assert.ok(names.includes("pods."));
  assert.ok(names.includes("configmaps."));
  assert.ok(names.includes("deployments.apps"));
  assert.ok(names.includes("endpointslices.discovery.k8s.io"));
  assert.ok(!names.includes("bindings."));
  assert.ok(!names.includes("namespaces."));
  assert.ok(!names.includes("nodes."));
});

const pod = (phase: string, grace?: number) => ({ spec: { containers: [], ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }) }, status: { phase } });
const estimateCases = [
  { name: "no pods need no time", pods: [], want: 0 },
  { name: "the longest grace period of running pods", pods: [pod("Running", 30), pod("Pending", 45)], want: 45 },
  { name: "finished pods do not count", pods: [pod("Succeeded", 90), pod("Failed", 90), pod("Running", 10)], want: 10 },
  { name: "a pod without a grace period adds nothing", pods: [pod("Running")], want: 0 },
];
for (const c of estimateCases) test(`estimateGracefulTerminationForPods: ${c.name}`, () => assert.equal(estimateGracefulTerminationForPods(c.pods), c.want));

const cm = findResource("", "v1", "configmaps")!;
const remainingCases = [
  { name: "nothing left is done whatever the estimate", items: [], estimate: 30, want: { estimateSeconds: 0, remaining: 0 } },
  { name: "items within a grace period keep the estimate", items: [{ metadata: { name: "a" } }], estimate: 30, want: { estimateSeconds: 30, remaining: 1 } },
  {
    name: "items held by finalizers wait upstream's 15 s",
    items: [{ metadata: { name: "a", finalizers: ["x/y"] } }],
    estimate: 0,
    want: { estimateSeconds: FINALIZER_ESTIMATE_SECONDS, remaining: 1 },
  },
];
for (const c of remainingCases) {
  test(`judgeRemaining: ${c.name}`, () => {
    const got = judgeRemaining(cm, "ns1", c.items, c.estimate);
    assert.deepEqual({ estimateSeconds: got.estimateSeconds, remaining: got.remaining }, c.want);
    assert.equal(got.error, undefined);
  });
}

test("judgeRemaining: items left with no grace period and no finalizer are an error as upstream words it", () => {
  const got = judgeRemaining(cm, "ns1", [{ metadata: { name: "a" } }], 0);
  assert.equal(got.error, "unexpected items still remain in namespace: ns1 for gvr: /v1, Resource=configmaps");
});

test("a namespace with content left is looked at again after estimate/2+1 seconds", () => {
  assert.equal(requeueDelayMs(30), 16_000);
  assert.equal(requeueDelayMs(15), 8_000);
  assert.equal(requeueDelayMs(0), 1_000);
});
