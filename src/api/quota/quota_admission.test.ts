import { test } from "node:test";
import assert from "node:assert/strict";
import type { ResourceQuota } from "kubernetes-types/core/v1.js";
import { podQuotaDelta, quotaAdmission } from "./quota_admission.js";

function quota(hard: Record<string, string>, used: Record<string, string> | undefined): ResourceQuota {
  return { metadata: { name: "q", namespace: "ns" }, spec: { hard }, status: { hard, ...(used === undefined ? {} : { used }) } };
}

const cases: { name: string; quota: ResourceQuota; delta: Record<string, string>; want: ReturnType<typeof quotaAdmission> }[] = [
  { name: "a request within the limit is allowed and charged", quota: quota({ pods: "10" }, { pods: "9" }), delta: { pods: "1" }, want: { allowed: true, newUsed: { pods: "10" } } },
  {
    name: "a request over the limit gets upstream's message",
    quota: quota({ pods: "10" }, { pods: "10" }),
    delta: { pods: "1" },
    want: { allowed: false, message: "exceeded quota: q, requested: pods=1, used: pods=10, limited: pods=10" },
  },
  {
    name: "only the exceeded resources are named, sorted",
    quota: quota({ pods: "10", "requests.cpu": "1", "requests.memory": "1Gi" }, { pods: "1", "requests.cpu": "900m", "requests.memory": "1Gi" }),
    delta: { pods: "1", "requests.cpu": "200m", "requests.memory": "1Mi" },
    want: { allowed: false, message: "exceeded quota: q, requested: requests.cpu=200m,requests.memory=1Mi, used: requests.cpu=900m,requests.memory=1Gi, limited: requests.cpu=1,requests.memory=1Gi" },
  },
  { name: "resources the quota does not limit pass", quota: quota({ services: "1" }, { services: "1" }), delta: { pods: "1" }, want: { allowed: true, newUsed: {} } },
  { name: "a quota without usage yet refuses", quota: quota({ pods: "10" }, undefined), delta: { pods: "1" }, want: { allowed: false, message: "status unknown for quota: q, resource: pods" } },
];
for (const c of cases) test(`quotaAdmission: ${c.name}`, () => assert.deepEqual(quotaAdmission(c.quota, c.delta), c.want));

test("podQuotaDelta: a pod is charged one pod and its requests, nothing for other objects", () => {
  const q = quota({ pods: "10", "requests.cpu": "2", services: "2", "services.nodeports": "1" }, {});
  const delta = podQuotaDelta(q, { metadata: { name: "p" }, spec: { containers: [{ name: "c", resources: { requests: { cpu: "250m" } } }] } });
  assert.deepEqual(delta, { pods: "1", "requests.cpu": "250m" });
});
