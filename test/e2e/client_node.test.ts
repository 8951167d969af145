/**
 * The official JavaScript client, @kubernetes/client-node, against a started `tk8s server`: it loads
 * the admin kubeconfig, does CRUD on ConfigMaps with CoreV1Api, and runs an informer (list, then watch)
 * that sees adds, updates and deletes. Then the informer is made to fall behind history: while it is
 * stopped, more changes happen than the server's watch cache keeps and the datastore is compacted
 * (with etcdctl, through `--embedded-etcd-client-urls`). Its watch from the old resourceVersion gets
 * 410 Expired, and the informer must relist and converge on what is really there.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type * as K8s from "@kubernetes/client-node";
import { Etcd3 } from "etcd3";
import { startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { etcdctl, etcdctlBinary } from "../harness/etcdctl.js";
import { freePort } from "../harness/ports.js";
import { eventually } from "./background_kubectl.js";
import { rawRequest } from "./raw_https.js";

const NAMESPACE = "default";
const INFORMER_LABEL = "informer=yes";
const SETTLE_TIMEOUT_MS = 10_000;
// More events than the server's watch cache keeps (WATCH_CACHE_EVENTS_MAX, 10 000), so a watch from
// before them is 410 Expired, as it is upstream once the cacher's window has moved past it.
const FLOOD_KEYS = 10_100;
const FLOOD_CONCURRENCY = 200;

type ConfigMap = K8s.V1ConfigMap;

// Loaded in `before`, so that a client that cannot load on this Node.js fails with a reason, not a stack
// from deep inside its HTTP library (client-node 2.x needs undici 8, which needs Node.js >= 22.19).
let k8s: typeof K8s;

function configMap(name: string, data: Record<string, string>, labels: Record<string, string> = { informer: "yes" }): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NAMESPACE, labels }, data };
}

/** A Status body from an ApiException (client-node keeps the response body as a string). */
function statusOf(err: unknown): { code: number; reason: string; message: string } {
  assert.ok(err instanceof k8s.ApiException, `expected an ApiException, got ${String(err)}`);
  const body = typeof err.body === "string" ? (JSON.parse(err.body) as Record<string, unknown>) : (err.body as Record<string, unknown>);
  return { code: err.code, reason: String(body.reason), message: String(body.message) };
}

describe("@kubernetes/client-node against tk8s server", () => {
  let server: ApiServerProcess;
  let etcdEndpoint: string;
  let kc: K8s.KubeConfig;
  let core: K8s.CoreV1Api;

  before(async () => {
    try {
      k8s = await import("@kubernetes/client-node");
    } catch (err) {
      throw new Error(`Cannot load @kubernetes/client-node on Node.js ${process.version}: ${String(err)}`, { cause: err });
    }
    const etcdPort = await freePort();
    etcdEndpoint = `http://127.0.0.1:${etcdPort}`;
    server = await startApiServer({ extraArgs: ["--embedded-etcd-client-urls", etcdEndpoint] });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await server?.stop();
  });

  // ---- CRUD ----

  test("the kubeconfig the server wrote loads and points at the server", () => {
    assert.equal(kc.getCurrentCluster()?.server, server.url);
    assert.equal(kc.getCurrentUser()?.name, "kubernetes-admin");
  });

  test("CoreV1Api creates, reads, replaces, patches, lists and deletes a ConfigMap", async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("crud", { a: "1" }, { crud: "yes" }) });
    assert.equal(created.metadata?.name, "crud");
    assert.match(created.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
    assert.match(created.metadata?.resourceVersion ?? "", /^\d+$/);

    const read = await core.readNamespacedConfigMap({ name: "crud", namespace: NAMESPACE });
    assert.deepEqual(read.data, { a: "1" });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    read.data = { a: "2" };
    const replaced = await core.replaceNamespacedConfigMap({ name: "crud", namespace: NAMESPACE, body: read });
    assert.deepEqual(replaced.data, { a: "2" });
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));

    const patched = await core.patchNamespacedConfigMap(
      { name: "crud", namespace: NAMESPACE, body: { data: { b: "3" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.data, { a: "2", b: "3" });

    const list = await core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: "crud=yes" });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ["crud"]);
    assert.match(list.metadata?.resourceVersion ?? "", /^\d+$/);

    await core.deleteNamespacedConfigMap({ name: "crud", namespace: NAMESPACE });
    await assert.rejects(core.readNamespacedConfigMap({ name: "crud", namespace: NAMESPACE }), (err: unknown) => {
      assert.deepEqual(statusOf(err), { code: 404, reason: "NotFound", message: 'configmaps "crud" not found' });
      return true;
    });
  });

  test("CoreV1Api surfaces AlreadyExists and Conflict as ApiExceptions carrying the Status", async () => {
    const first = await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("twice", {}, {}) });
    await assert.rejects(core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("twice", {}, {}) }), (err: unknown) => {
      assert.deepEqual(statusOf(err), { code: 409, reason: "AlreadyExists", message: 'configmaps "twice" already exists' });
      return true;
    });
    await core.replaceNamespacedConfigMap({ name: "twice", namespace: NAMESPACE, body: { ...first, data: { v: "1" } } });
    await assert.rejects(core.replaceNamespacedConfigMap({ name: "twice", namespace: NAMESPACE, body: { ...first, data: { v: "2" } } }), (err: unknown) => {
      assert.deepEqual(statusOf(err), {
        code: 409,
        reason: "Conflict",
        message: 'Operation cannot be fulfilled on configmaps "twice": the object has been modified; please apply your changes to the latest version and try again',
      });
      return true;
    });
  });

  // ---- informer ----

  describe("an informer", () => {
    const events: string[] = [];
    let listCalls = 0;
    let errors: unknown[] = [];
    let informer: K8s.Informer<ConfigMap> & K8s.ObjectCache<ConfigMap>;
    const names = () => informer.list(NAMESPACE).map((o) => o.metadata!.name!).sort();

    before(async () => {
      informer = k8s.makeInformer<ConfigMap>(
        kc,
        `/api/v1/namespaces/${NAMESPACE}/configmaps`,
        () => {
          listCalls++;
          return core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: INFORMER_LABEL });
        },
        INFORMER_LABEL,
      );
      informer.on("add", (o) => events.push(`add ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
      informer.on("update", (o) => events.push(`update ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
      informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
      informer.on("error", (err) => errors.push(err));
      await informer.start();
    });
    after(async () => {
      await informer?.stop();
    });

    test("sees an add, an update and a delete, in order, and its cache follows them", async () => {
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("i1", { v: "1" }) });
      await eventually(() => names().includes("i1"), SETTLE_TIMEOUT_MS, "the informer to add i1");
      await core.patchNamespacedConfigMap({ name: "i1", namespace: NAMESPACE, body: { data: { v: "2" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
      await eventually(() => informer.get("i1", NAMESPACE)?.data?.v === "2", SETTLE_TIMEOUT_MS, "the informer to see i1 updated");
      await core.deleteNamespacedConfigMap({ name: "i1", namespace: NAMESPACE });
      await eventually(() => !names().includes("i1"), SETTLE_TIMEOUT_MS, "the informer to delete i1");
      assert.deepEqual(events, ['add i1 {"v":"1"}', 'update i1 {"v":"2"}', "delete i1"]);
      assert.deepEqual(errors, []);
      assert.equal(listCalls, 1, "one list, then one watch");
    });

    test("ignores objects outside its label selector", async () => {
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("unlabeled", { v: "1" }, {}) });
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("marker", { v: "1" }) });
      await eventually(() => names().includes("marker"), SETTLE_TIMEOUT_MS, "the informer to add marker");
      assert.ok(!names().includes("unlabeled"));
      assert.ok(!events.some((e) => e.includes("unlabeled")));
    });

    test("after its resourceVersion is compacted away it gets 410 Expired, relists and converges", async (t) => {
      if (etcdctlBinary() === null) {
        if (process.env.CI === "true") throw new Error("etcdctl is required under CI=true");
        t.skip("etcdctl is not installed");
        return;
      }
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("stays", { v: "1" }) });
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("goes", { v: "1" }) });
      await eventually(() => names().includes("stays") && names().includes("goes"), SETTLE_TIMEOUT_MS, "the informer to add stays and goes");
      await informer.stop();
      const staleResourceVersion = (informer as unknown as K8s.ListWatch<ConfigMap>).latestResourceVersion();
      const listsBefore = listCalls;
      events.length = 0;
      errors = [];

      // While the informer is away: real changes to what it watches...
      await core.deleteNamespacedConfigMap({ name: "goes", namespace: NAMESPACE });
      await core.patchNamespacedConfigMap({ name: "stays", namespace: NAMESPACE, body: { data: { v: "2" } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("arrived", { v: "1" }) });
      // ...then more history than the watch cache keeps (written straight to the datastore, in another
      // namespace, as valid ConfigMaps), then a compaction that drops the datastore's history too.
      const etcd = new Etcd3({ hosts: etcdEndpoint });
      try {
        for (let i = 0; i < FLOOD_KEYS; i += FLOOD_CONCURRENCY) {
          const batch = [];
          for (let j = i; j < Math.min(i + FLOOD_CONCURRENCY, FLOOD_KEYS); j++) {
            const name = `flood-${j}`;
            const value = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "flood", uid: `00000000-0000-4000-8000-${String(j).padStart(12, "0")}`, creationTimestamp: "2024-01-01T00:00:00Z" } });
            batch.push(etcd.put(`/registry/configmaps/flood/${name}`).value(value));
          }
          await Promise.all(batch);
        }
        await etcd.delete().prefix("/registry/configmaps/flood/");
      } finally {
        etcd.close();
      }
      const status = await etcdctl(etcdEndpoint, ["endpoint", "status", "-w", "json"]);
      assert.equal(status.code, 0, status.stderr);
      const revision = String(/"revision":(\d+)/.exec(status.stdout)?.[1]);
      const compacted = await etcdctl(etcdEndpoint, ["compact", revision]);
      assert.equal(compacted.code, 0, compacted.stderr);
      assert.equal(compacted.stdout.trim(), `compacted revision ${revision}`);

      // The server refuses a watch from the informer's resourceVersion with an in-stream 410 Expired.
      const stale = await rawRequest(server, `/api/v1/namespaces/${NAMESPACE}/configmaps?watch=true&resourceVersion=${staleResourceVersion}&labelSelector=${encodeURIComponent(INFORMER_LABEL)}`);
      assert.equal(stale.status, 200);
      const first = JSON.parse(stale.body.split("\n")[0]!) as { type: string; object: { kind: string; code: number; reason: string; message: string } };
      assert.equal(first.type, "ERROR");
      assert.equal(first.object.kind, "Status");
      assert.equal(first.object.code, 410);
      assert.equal(first.object.reason, "Expired");
      assert.match(first.object.message, new RegExp(`^too old resource version: ${staleResourceVersion} \\(\\d+\\)$`));

      // The informer resumes from the same resourceVersion, is told 410, relists and catches up.
      await informer.start();
      await eventually(() => JSON.stringify(names()) === JSON.stringify(["arrived", "marker", "stays"]) && informer.get("stays", NAMESPACE)?.data?.v === "2", SETTLE_TIMEOUT_MS, "the informer to converge after the 410");
      assert.equal(listCalls, listsBefore + 1, "exactly one relist");
      assert.ok(events.includes("delete goes"), events.join("\n"));
      assert.ok(events.includes('add arrived {"v":"1"}'), events.join("\n"));
      assert.ok(events.includes('update stays {"v":"2"}'), events.join("\n"));
      assert.deepEqual(errors, []);
      assert.ok(Number((informer as unknown as K8s.ListWatch<ConfigMap>).latestResourceVersion()) >= Number(revision));

      // And it keeps watching from the new list.
      await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap("after-relist", { v: "1" }) });
      await eventually(() => names().includes("after-relist"), SETTLE_TIMEOUT_MS, "the informer to see a change after the relist");
    });
  });
});
