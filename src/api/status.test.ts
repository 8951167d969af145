import { test } from "node:test";
import assert from "node:assert/strict";
import { alreadyExists, conflict, notFound, tooOldResourceVersion } from "./status.js";

const pods = { group: "", resource: "pods" };
const deployments = { group: "apps", resource: "deployments" };

const cases = [
  { name: "not found in the core group", err: notFound(pods, "web"), code: 404, reason: "NotFound", message: 'pods "web" not found', details: { name: "web", kind: "pods" } },
  { name: "not found in a named group", err: notFound(deployments, "web"), code: 404, reason: "NotFound", message: 'deployments.apps "web" not found', details: { name: "web", group: "apps", kind: "deployments" } },
  { name: "already exists", err: alreadyExists(pods, "web"), code: 409, reason: "AlreadyExists", message: 'pods "web" already exists', details: { name: "web", kind: "pods" } },
  {
    name: "a stale update",
    err: conflict(deployments, "web"),
    code: 409,
    reason: "Conflict",
    message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    details: { name: "web", group: "apps", kind: "deployments" },
  },
  { name: "a resource version older than the datastore keeps", err: tooOldResourceVersion(5, 10), code: 410, reason: "Expired", message: "too old resource version: 5 (10)", details: undefined },
];

for (const c of cases) {
  test(`Status for ${c.name} carries apimachinery's code, reason and exact message`, () => {
    const s = c.err.toStatus();
    assert.deepEqual(
      { kind: s.kind, apiVersion: s.apiVersion, status: s.status, code: s.code, reason: s.reason, message: s.message, details: s.details },
      { kind: "Status", apiVersion: "v1", status: "Failure", code: c.code, reason: c.reason, message: c.message, details: c.details },
    );
  });
}
