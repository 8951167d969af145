import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTokenFile } from "./authenticator.js";
import { authorize, forbidden } from "./authorizer.js";
import { parseRequestInfo } from "../request/request_info.js";
import { ApiError } from "../../api/status.js";

test("token file: upstream's CSV with quoted groups", () => {
  const t = parseTokenFile('# comment\nabc,alice,1001,"dev,ops"\nxyz,bob,1002\n');
  assert.deepEqual(t.get("abc"), { name: "alice", uid: "1001", groups: ["dev", "ops", "system:authenticated"] });
  assert.deepEqual(t.get("xyz")?.groups, ["system:authenticated"]);
  assert.throws(() => parseTokenFile("only-a-token\n"), /line 1/);
});

test("authorizer: system:masters may do anything; anyone else gets upstream's forbidden message", () => {
  const info = parseRequestInfo("GET", "/api/v1/namespaces/default/pods", new URLSearchParams());
  authorize({ name: "admin", uid: "", groups: ["system:masters"] }, info);
  assert.throws(() => authorize({ name: "alice", uid: "", groups: [] }, info), (e: unknown) =>
    e instanceof ApiError && e.code === 403 && e.message === 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
  const named = forbidden({ name: "bob", uid: "", groups: [] }, parseRequestInfo("DELETE", "/apis/apps/v1/namespaces/x/deployments/web", new URLSearchParams()));
  assert.equal(named.message, 'deployments.apps "web" is forbidden: User "bob" cannot delete resource "deployments" in API group "apps" in the namespace "x"');
});
