/**
 * The API server's own endpoints and the subresources no kubectl verb reaches directly: health checks,
 * metrics, the in-flight limit (429), pods/binding, pods/eviction, and events.k8s.io/v1 Events stored
 * as core/v1 ones.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { rawRequest } from "./raw_https.js";

const json = { "Content-Type": "application/json" };

function pod(name: string, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers: [{ name: "c", image: "busybox:1.36" }] } });
}

describe("API server endpoints and subresources", { timeout: 120_000 }, () => {
  let server: ApiServerProcess;
  let limited: ApiServerProcess;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer();
    limited = await startApiServer({ extraArgs: ["--max-mutating-requests-inflight", "1"] });
  }, { timeout: 60_000 });
  after(async () => {
    await server?.stop();
    await limited?.stop();
  });

  test("/readyz?verbose lists every check as upstream formats it; /livez/ping and /version answer", async () => {
    const ready = await rawRequest(server, "/readyz?verbose");
    assert.equal(ready.status, 200);
    for (const check of ["ping", "log", "etcd", "informer-sync"]) assert.match(ready.body, new RegExp(`^\\[\\+\\]${check} ok$`, "m"));
    assert.match(ready.body, /readyz check passed\n$/);
    const ping = await rawRequest(server, "/livez/ping", { identity: null });
    assert.equal(ping.body, "ok");
    assert.equal((await rawRequest(server, "/readyz/nope")).status, 404);
    const version = JSON.parse((await rawRequest(server, "/version", { identity: null })).body);
    assert.equal(version.major, "1");
    assert.match(version.gitVersion, /^v1\.32\./);
  });

  test("/metrics counts requests by verb, resource and code, their latency, and registered watchers", async () => {
    await rawRequest(server, "/api/v1/namespaces/default/configmaps");
    await rawRequest(server, "/api/v1/namespaces/default/configmaps/missing");
    const metrics = (await rawRequest(server, "/metrics")).body;
    assert.match(metrics, /apiserver_request_total\{[^}]*verb="LIST"[^}]*resource="configmaps"[^}]*code="200"[^}]*\} [1-9]/);
    assert.match(metrics, /apiserver_request_total\{[^}]*verb="GET"[^}]*resource="configmaps"[^}]*code="404"[^}]*\} [1-9]/);
    assert.match(metrics, /apiserver_request_duration_seconds_bucket\{/);
    assert.match(metrics, /# TYPE apiserver_registered_watchers gauge/);
    assert.equal((await rawRequest(server, "/metrics", { identity: null })).status, 401, "metrics need credentials");
  });

  test("writes beyond --max-mutating-requests-inflight get 429 TooManyRequests with Retry-After, and the server keeps serving", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rawRequest(limited, "/api/v1/namespaces/default/configmaps", {
          method: "POST",
          headers: json,
          body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}` }, data: { big: "x".repeat(64 * 1024) } }),
        }),
      ),
    );
    const refused = attempts.filter((r) => r.status === 429);
    const created = attempts.filter((r) => r.status === 201);
    assert.ok(refused.length > 0, `expected some 429s among ${attempts.map((r) => r.status).join(",")}`);
    assert.ok(created.length > 0);
    assert.equal(refused.length + created.length, attempts.length);
    const status = JSON.parse(refused[0]!.body);
    assert.equal(status.reason, "TooManyRequests");
    assert.equal(status.message, "Too many requests, please try again later.");
    assert.equal(refused[0]!.headers["retry-after"], "1");
    assert.equal((await rawRequest(limited, "/readyz")).status, 200);
  });

  test("pods/binding assigns the node once, records PodScheduled, and a second binding is 409", async () => {
    kubectlOk(server, ["apply", "-f", "-"], { input: pod("bind-me") });
    const binding = (node: string) =>
      rawRequest(server, "/api/v1/namespaces/default/pods/bind-me/binding", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "bind-me" }, target: { apiVersion: "v1", kind: "Node", name: node } }),
      });
    const first = await binding("node-a");
    assert.equal(first.status, 201, first.body);
    assert.equal(JSON.parse(first.body).status, "Success");
    const out = kubectlOk(server, ["get", "pod", "bind-me", "-o", "jsonpath={.spec.nodeName} {.status.conditions[?(@.type==\"PodScheduled\")].status}"]);
    assert.equal(out, "node-a True");
    const second = await binding("node-b");
    assert.equal(second.status, 409);
    assert.equal(JSON.parse(second.body).message, 'Operation cannot be fulfilled on pods/binding "bind-me": pod bind-me is already assigned to node "node-a"');
  });

  test("pods/eviction refuses while a PodDisruptionBudget is unprocessed, then deletes (gracefully, for a bound pod) once none applies", async () => {
    kubectlOk(server, ["apply", "-f", "-"], { input: pod("evict-me", { app: "guarded" }) });
    await rawRequest(server, "/api/v1/namespaces/default/pods/evict-me/binding", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "evict-me" }, target: { kind: "Node", name: "node-a" } }),
    });
    // A running pod is what budgets protect; a kubelet would report this.
    kubectlOk(server, ["patch", "pod", "evict-me", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running"}}']);
    kubectlOk(server, ["create", "pdb", "guard", "--selector=app=guarded", "--min-available=1"]);
    const evict = () =>
      rawRequest(server, "/api/v1/namespaces/default/pods/evict-me/eviction", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "evict-me", namespace: "default" } }),
      });
    const refused = await evict();
    assert.equal(refused.status, 429, refused.body);
    const status = JSON.parse(refused.body);
    assert.equal(status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(status.details.causes, [{ reason: "DisruptionBudget", message: "The disruption budget guard is still being processed by the server." }]);
    kubectlOk(server, ["delete", "pdb", "guard"]);
    const allowed = await evict();
    assert.equal(allowed.status, 201, allowed.body);
    const deleting = kubectlOk(server, ["get", "pod", "evict-me", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds}"]);
    assert.equal(deleting, "30", "a bound pod is deleted with its grace period: the kubelet finishes it");
  });

  test("an events.k8s.io/v1 Event and a core/v1 Event are one object in two shapes", async () => {
    const created = await rawRequest(server, "/apis/events.k8s.io/v1/namespaces/default/events", {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: "ev1" },
        eventTime: "2026-01-01T00:00:00.000000Z",
        reportingController: "example.com/ctl",
        reportingInstance: "ctl-1",
        action: "Testing",
        reason: "Tested",
        note: "a note",
        type: "Normal",
        regarding: { kind: "Pod", namespace: "default", name: "bind-me" },
      }),
    });
    assert.equal(created.status, 201, created.body);
    const core = JSON.parse((await rawRequest(server, "/api/v1/namespaces/default/events/ev1")).body);
    assert.equal(core.apiVersion, "v1");
    assert.equal(core.message, "a note");
    assert.equal(core.involvedObject.name, "bind-me");
    assert.equal(core.reportingComponent, "example.com/ctl");
    const v1 = JSON.parse((await rawRequest(server, "/apis/events.k8s.io/v1/namespaces/default/events/ev1")).body);
    assert.equal(v1.apiVersion, "events.k8s.io/v1");
    assert.equal(v1.note, "a note");
    assert.equal(v1.regarding.name, "bind-me");
    assert.equal(v1.message, undefined);
  });
});
