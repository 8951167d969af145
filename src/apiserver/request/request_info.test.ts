import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRequestInfo } from "./request_info.js";

const cases = [
  { name: "a namespaced collection GET is a list", m: "GET", p: "/api/v1/namespaces/default/pods", q: "", want: { verb: "list", apiGroup: "", namespace: "default", resource: "pods", name: "" } },
  { name: "a GET with watch=true is a watch", m: "GET", p: "/api/v1/namespaces/default/pods", q: "watch=true", want: { verb: "watch", resource: "pods" } },
  { name: "a named status subresource", m: "PUT", p: "/apis/apps/v1/namespaces/ns1/deployments/web/status", q: "", want: { verb: "update", apiGroup: "apps", namespace: "ns1", resource: "deployments", name: "web", subresource: "status" } },
  { name: "a namespace itself is not scoped by a namespace", m: "GET", p: "/api/v1/namespaces/kube-system", q: "", want: { verb: "get", resource: "namespaces", name: "kube-system", namespace: "kube-system" } },
  { name: "namespace finalize is a subresource of the namespace", m: "PUT", p: "/api/v1/namespaces/x/finalize", q: "", want: { resource: "namespaces", name: "x", subresource: "finalize" } },
  { name: "DELETE on a collection is deletecollection", m: "DELETE", p: "/api/v1/namespaces/a/configmaps", q: "", want: { verb: "deletecollection" } },
  { name: "the legacy /watch/ prefix", m: "GET", p: "/api/v1/watch/namespaces/a/pods/p", q: "", want: { verb: "watch", name: "p" } },
  { name: "cluster-scoped list", m: "GET", p: "/api/v1/nodes", q: "", want: { verb: "list", namespace: "", resource: "nodes" } },
];
for (const c of cases) {
  test(`parseRequestInfo: ${c.name}`, () => {
    const info = parseRequestInfo(c.m, c.p, new URLSearchParams(c.q));
    assert.equal(info.isResourceRequest, true);
    for (const [k, v] of Object.entries(c.want)) assert.equal((info as unknown as Record<string, unknown>)[k], v, k);
  });
}

test("parseRequestInfo: discovery paths are not resource requests", () => {
  assert.equal(parseRequestInfo("GET", "/api/v1", new URLSearchParams()).isResourceRequest, false);
  assert.equal(parseRequestInfo("GET", "/apis/apps", new URLSearchParams()).isResourceRequest, false);
  assert.equal(parseRequestInfo("GET", "/healthz", new URLSearchParams()).isResourceRequest, false);
});
