import { test } from "node:test";
import assert from "node:assert/strict";
import { allowed } from "./authorizer.js";
import { parseRequestInfo } from "../request/request_info.js";

const node = { name: "system:node:n1", uid: "", groups: ["system:nodes", "system:authenticated"] };
const bootstrapper = { name: "system:bootstrap:abcdef", uid: "", groups: ["system:bootstrappers", "system:authenticated"] };
const nobody = { name: "alice", uid: "", groups: ["system:authenticated"] };
const req = (method: string, url: string) => {
  const [path, query] = url.split("?");
  return parseRequestInfo(method, path!, new URLSearchParams(query ?? ""));
};

test("nodes get upstream's system:node rules: their pods, status, leases and events, but no other writes", () => {
  const cases: [string, string, boolean][] = [
    ["GET", "/api/v1/pods?watch=1", true],
    ["PATCH", "/api/v1/namespaces/default/pods/p/status", true],
    ["DELETE", "/api/v1/namespaces/default/pods/p", true],
    ["PATCH", "/api/v1/nodes/n1/status", true],
    ["POST", "/api/v1/nodes", true],
    ["PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", true],
    ["POST", "/api/v1/namespaces/default/events", true],
    ["POST", "/api/v1/namespaces/default/serviceaccounts/default/token", true],
    ["GET", "/api/v1/namespaces/default/secrets/s", true],
    ["POST", "/api/v1/namespaces/default/configmaps", false],
    ["PUT", "/api/v1/namespaces/default/pods/p", false],
    ["DELETE", "/api/v1/nodes/n1", false],
    ["POST", "/apis/apps/v1/namespaces/default/deployments", false],
    ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", false],
  ];
  for (const [method, path, want] of cases) assert.equal(allowed(node, req(method, path)), want, `${method} ${path}`);
});

test("bootstrappers may only ask for certificates; other users get nothing but discovery", () => {
  assert.equal(allowed(bootstrapper, req("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests")), true);
  assert.equal(allowed(bootstrapper, req("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-1")), true);
  assert.equal(allowed(bootstrapper, req("PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-1/approval")), false);
  assert.equal(allowed(bootstrapper, req("GET", "/api/v1/pods")), false);
  assert.equal(allowed(nobody, req("GET", "/apis")), true);
  assert.equal(allowed(nobody, req("GET", "/api/v1/namespaces")), false);
});
