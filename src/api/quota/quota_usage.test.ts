import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, ResourceQuota, Service } from "kubernetes-types/core/v1.js";
import { calculateUsage, countedResource, desiredQuotaStatus, podIsCharged, podResources, resourceListsEqual, type NamespaceObjects } from "./quota_usage.js";
import { quantityString } from "../validation/quantity.js";

function pod(name: string, cpu: string | undefined, memLimit: string | undefined, extra: Partial<Pod> = {}): Pod {
  return {
    metadata: { name, namespace: "ns" },
    spec: {
      containers: [{ name: "c", resources: { ...(cpu === undefined ? {} : { requests: { cpu } }), ...(memLimit === undefined ? {} : { limits: { memory: memLimit } }) } }],
      ...extra.spec,
    },
    status: { phase: "Running", ...extra.status },
  };
}

function objects(pods: Pod[], services: Service[] = [], counts: Record<string, number> = {}): NamespaceObjects {
  return { pods, services, persistentVolumeClaims: [], countOf: (n) => counts[n] };
}

function quota(hard: Record<string, string>, spec: ResourceQuota["spec"] = {}): ResourceQuota {
  return { metadata: { name: "q", namespace: "ns" }, spec: { ...spec, hard } };
}

const cases: { name: string; quota: ResourceQuota; objects: NamespaceObjects; want: Record<string, string> }[] = [
  {
    name: "counts non-terminal pods and sums their requests and limits",
    quota: quota({ pods: "10", "requests.cpu": "2", cpu: "2", "limits.memory": "4Gi", "count/pods": "5" }),
    objects: objects([pod("a", "250m", "1Gi"), pod("b", "250m", "512Mi"), pod("done", "1", "1Gi", { status: { phase: "Succeeded" } })]),
    want: { pods: "2", "requests.cpu": "500m", cpu: "500m", "limits.memory": "1536Mi", "count/pods": "2" },
  },
  {
    name: "nothing matching gives zero",
    quota: quota({ pods: "10", "requests.memory": "1Gi" }),
    objects: objects([]),
    want: { pods: "0", "requests.memory": "0" },
  },
  {
    name: "services, load balancers and node ports",
    quota: quota({ services: "5", "services.loadbalancers": "1", "services.nodeports": "3" }),
    objects: objects([], [
      { metadata: { name: "a" }, spec: { type: "ClusterIP" } },
      { metadata: { name: "b" }, spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }] } },
      { metadata: { name: "c" }, spec: { type: "LoadBalancer", ports: [{ port: 80, nodePort: 30090 }] } },
    ], { services: 3 }),
    want: { services: "3", "services.loadbalancers": "1", "services.nodeports": "3" },
  },
  {
    name: "object counts come from the caches; unknown names are left out",
    quota: quota({ configmaps: "10", "count/deployments.apps": "2", "example.com/gpu": "1" }),
    objects: objects([], [], { configmaps: 4, "count/deployments.apps": 1 }),
    want: { configmaps: "4", "count/deployments.apps": "1" },
  },
  {
    name: "a BestEffort-scoped quota counts only best-effort pods and nothing else",
    quota: quota({ pods: "10", configmaps: "3" }, { scopes: ["BestEffort"] }),
    objects: objects([pod("be", undefined, undefined), pod("burst", "100m", undefined)], [], { configmaps: 2 }),
    want: { pods: "1" },
  },
  {
    name: "a Terminating-scoped quota counts pods with activeDeadlineSeconds",
    quota: quota({ pods: "10" }, { scopes: ["Terminating"] }),
    objects: objects([pod("t", undefined, undefined, { spec: { containers: [{ name: "c" }], activeDeadlineSeconds: 30 } }), pod("n", undefined, undefined)]),
    want: { pods: "1" },
  },
  {
    name: "a PriorityClass scope selector picks pods by class",
    quota: quota({ pods: "10" }, { scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }] } }),
    objects: objects([pod("h", undefined, undefined, { spec: { containers: [{ name: "c" }], priorityClassName: "high" } }), pod("l", undefined, undefined)]),
    want: { pods: "1" },
  },
];
for (const c of cases) test(`calculateUsage: ${c.name}`, () => assert.deepEqual(calculateUsage(c.quota, c.objects, 0), c.want));

test("podIsCharged: a pod past its deletion grace period is no longer charged", () => {
  const deleting: Pod = { metadata: { name: "p", deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 }, status: { phase: "Running" } };
  const t = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(podIsCharged(deleting, t + 30_000), true);
  assert.equal(podIsCharged(deleting, t + 30_001), false);
  assert.equal(podIsCharged({ status: { phase: "Failed" } }, t), false);
});

test("podResources: the largest init container wins over the sum of app containers; sidecars add", () => {
  const p: Pod = {
    spec: {
      initContainers: [{ name: "i", resources: { requests: { cpu: "1" } } }, { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "100m" } } }],
      containers: [{ name: "a", resources: { requests: { cpu: "200m" } } }, { name: "b", resources: { requests: { cpu: "300m" } } }],
      overhead: { cpu: "10m" },
    },
  };
  assert.equal(quantityString(podResources(p, "requests").get("cpu")!), "1010m");
});

test("countedResource: legacy names and count/<resource>.<group> map to API resources", () => {
  assert.equal(countedResource("pods")?.resource, "pods");
  assert.equal(countedResource("count/deployments.apps")?.group, "apps");
  assert.equal(countedResource("count/secrets")?.resource, "secrets");
  assert.equal(countedResource("requests.cpu"), undefined);
  assert.equal(countedResource("count/nodes"), undefined, "cluster-scoped resources are not counted per namespace");
});

test("desiredQuotaStatus: first sync writes hard and used; an equal status is not rewritten", () => {
  const q = quota({ pods: "10", "example.com/x": "1" });
  const s = desiredQuotaStatus(q, { pods: "2" });
  assert.deepEqual(s, { hard: { pods: "10", "example.com/x": "1" }, used: { pods: "2" } });
  assert.equal(desiredQuotaStatus({ ...q, status: s! }, { pods: "2.0" }), null);
  assert.deepEqual(desiredQuotaStatus({ ...q, status: s! }, { pods: "3" })?.used, { pods: "3" });
  assert.ok(resourceListsEqual({ cpu: "1000m" }, { cpu: "1" }));
});
