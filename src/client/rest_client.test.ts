import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Pod, Node } from "kubernetes-types/core/v1.js";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { ApiError } from "../api/status.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "./kubeconfig.js";
import { RestClient } from "./rest_client.js";

let srv: InProcessApiServer;
let client: RestClient;

before(async () => {
  srv = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(srv.kubeconfig, { component: "client-test" }));
});
after(async () => {
  client.close();
  await srv.stop();
});

function cm(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap {
  return { metadata: { name, ...(labels ? { labels } : {}) }, data };
}

async function expectApiError(p: Promise<unknown>, reason: string, code: number, message?: RegExp): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

test("RestClient: create, get, update and delete a ConfigMap over HTTPS with the kubeconfig's client certificate", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
  const created = await cms.create(cm("crud", { a: "1" }));
  assert.equal(created.metadata?.namespace, "default");
  assert.ok(created.metadata?.resourceVersion);
  const got = await cms.get("crud");
  assert.deepEqual(got.data, { a: "1" });
  const updated = await cms.update({ ...got, data: { a: "2" } });
  assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);
  await cms.delete("crud");
  await expectApiError(cms.get("crud"), "NotFound", 404, /^configmaps "crud" not found$/);
});

test("RestClient: errors are ApiErrors rebuilt from the server's Status (reason, code, message, details)", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
  await cms.create(cm("dup"));
  const err = await expectApiError(cms.create(cm("dup")), "AlreadyExists", 409, /^configmaps "dup" already exists$/);
  assert.equal(err.details?.name, "dup");
  assert.equal(err.details?.kind, "configmaps");
  const stale = await cms.get("dup");
  await cms.update({ ...stale, data: { x: "1" } });
  await expectApiError(cms.update({ ...stale, data: { x: "2" } }), "Conflict", 409, /the object has been modified/);
  await expectApiError(cms.create({ metadata: { name: "Not_Valid" } }), "Invalid", 422);
});

test("RestClient: list pages with limit and continue, and filters by label selector", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("paging");
  await client.resource("", "v1", "namespaces").create({ metadata: { name: "paging" } });
  for (let i = 0; i < 5; i++) await cms.create(cm(`p${i}`, {}, { batch: i % 2 === 0 ? "even" : "odd" }));
  const first = await cms.list({ limit: 2 });
  assert.equal(first.items.length, 2);
  assert.equal(first.kind, "ConfigMapList");
  assert.equal(first.items[0]!.kind, "ConfigMap", "list items get their kind back");
  assert.ok(first.metadata.continue !== undefined);
  const names = first.items.map((i) => i.metadata!.name);
  let token: string | undefined = first.metadata.continue;
  while (token) {
    const page = await cms.list({ limit: 2, continue: token });
    names.push(...page.items.map((i) => i.metadata!.name));
    token = page.metadata.continue;
  }
  assert.deepEqual(names.filter((n) => n!.startsWith("p")), ["p0", "p1", "p2", "p3", "p4"]);
  const even = await cms.list({ labelSelector: "batch=even" });
  assert.deepEqual(even.items.map((i) => i.metadata!.name), ["p0", "p2", "p4"]);
  const byName = await cms.list({ fieldSelector: "metadata.name=p3" });
  assert.deepEqual(byName.items.map((i) => i.metadata!.name), ["p3"]);
  const fromCache = await cms.list({ resourceVersion: "0" });
  assert.ok(fromCache.items.length >= 5);
  await cms.deleteCollection({ labelSelector: "batch=odd" });
  const left = await cms.list();
  assert.deepEqual(left.items.map((i) => i.metadata!.name).filter((n) => n!.startsWith("p")), ["p0", "p2", "p4"]);
});

test("RestClient: merge, strategic, JSON and server-side apply patches", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
  await cms.create(cm("patched", { a: "1" }));
  assert.deepEqual((await cms.patch("patched", "merge", { data: { b: "2" } })).data, { a: "1", b: "2" });
  assert.deepEqual((await cms.patch("patched", "strategic", { data: { c: "3" } })).data, { a: "1", b: "2", c: "3" });
  assert.deepEqual((await cms.patch("patched", "json", [{ op: "remove", path: "/data/a" }])).data, { b: "2", c: "3" });
  const applied = await cms.patch("applied", "apply", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied" }, data: { k: "v" } }, { fieldManager: "tester", force: true });
  assert.deepEqual(applied.data, { k: "v" });
  assert.throws(() => cms.patch("applied", "apply", {}), /fieldManager is required/);
});

test("RestClient: resources by kind, status updates, scale subresource and delete with preconditions", async () => {
  const deploys = client.resourceForKind<Deployment>("apps/v1", "Deployment").namespace("default");
  assert.equal(deploys.info.resource, "deployments");
  const d = await deploys.create({
    metadata: { name: "web" },
    spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  });
  const scale = await deploys.getScale("web");
  assert.equal(scale.spec?.replicas, 1);
  const scaled = await deploys.updateScale("web", { ...scale, spec: { replicas: 3 } });
  assert.equal(scaled.spec?.replicas, 3);
  const current = await deploys.get("web");
  const withStatus = await deploys.updateStatus({ ...current, status: { observedGeneration: current.metadata?.generation ?? 0, replicas: 0 } });
  assert.equal(withStatus.status?.observedGeneration, current.metadata?.generation);
  await expectApiError(deploys.delete("web", { preconditions: { uid: "not-the-uid" } }), "Conflict", 409, /Precondition failed: UID in precondition/);
  await deploys.delete("web", { preconditions: { uid: d.metadata!.uid! }, propagationPolicy: "Background" });
  await expectApiError(deploys.get("web"), "NotFound", 404);
  assert.throws(() => client.resource("", "v1", "nodes").namespace("x"), /cluster-scoped/);
  assert.throws(() => client.resource("", "v1", "widgets"), /not a served resource/);
});

test("RestClient: pods/binding assigns a pod to a node and pods/eviction deletes it", async () => {
  await client.resource<Node>("", "v1", "nodes").create({ metadata: { name: "node-a" } });
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  const p = await pods.create({ metadata: { name: "bindme" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
  await pods.bind("bindme", "node-a", { uid: p.metadata!.uid! });
  assert.equal((await pods.get("bindme")).spec?.nodeName, "node-a");
  await expectApiError(pods.bind("bindme", "node-a"), "Conflict", 409, /is already assigned to node "node-a"/);
  await pods.evict("bindme", { gracePeriodSeconds: 0 });
  const after = await pods.get("bindme").catch((e: unknown) => e);
  assert.ok(after instanceof ApiError ? after.reason === "NotFound" : (after as Pod).metadata?.deletionTimestamp !== undefined);
});

test("RestClient: a watch streams ADDED, MODIFIED and DELETED from a resourceVersion, then stops", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
  const start = await cms.list({ limit: 1 });
  const w = await cms.watch({ resourceVersion: start.metadata.resourceVersion!, allowWatchBookmarks: true, timeoutSeconds: 30 });
  const c = await cms.create(cm("watched", { v: "1" }));
  await cms.update({ ...c, data: { v: "2" } });
  await cms.delete("watched");
  const seen: string[] = [];
  for await (const e of w) {
    if (e.type === "BOOKMARK" || e.type === "ERROR") continue;
    if (e.object.metadata?.name !== "watched") continue;
    seen.push(`${e.type} ${e.object.data?.v ?? ""}`);
    if (seen.length === 3) w.stop();
  }
  assert.deepEqual(seen, ["ADDED 1", "MODIFIED 2", "DELETED 2"]);
});

test("RestClient: a watch the server ends at timeoutSeconds finishes the iteration", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("nothing-here");
  const w = await cms.watch({ timeoutSeconds: 1 });
  let n = 0;
  for await (const _e of w) n++;
  assert.equal(n, 0);
});

test("RestClient: a request to a server that is not there fails, and a bad client certificate is 401", async () => {
  const nowhere = new RestClient({ server: "https://127.0.0.1:1", ca: srv.ca, userAgent: "tk8s-test/0.1.0" }, { timeoutMs: 2000 });
  await assert.rejects(nowhere.resource("", "v1", "namespaces").list(), (err: NodeJS.ErrnoException) => err.code === "ECONNREFUSED");
  nowhere.close();
  const anonymous = new RestClient({ server: srv.url, ca: srv.ca, token: "not-a-token", userAgent: "tk8s-test/0.1.0" });
  await expectApiError(anonymous.resource("", "v1", "namespaces").list(), "Unauthorized", 401);
  anonymous.close();
});
