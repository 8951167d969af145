import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findResource, type ResourceInfo } from "../../api/resources.js";
import { ApiError } from "../../api/status.js";
import { defaultConfig } from "../../etcd/config.js";
import { EtcdServer } from "../../etcd/server.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import { EmbeddedStorage } from "../storage/embedded_storage.js";
import { WatchCache } from "../watchcache/watch_cache.js";
import type { KubeObject } from "./codec.js";
import { ResourceStore, type WatchEventType, type WritePipeline, type WriteContext } from "./store.js";
import { strategyFor } from "./strategy.js";

let dir: string;
let etcd: EtcdServer;
let storage: EmbeddedStorage;
const log = new MemoryLogger();
let uid = 0;

/** The store's own contract, without defaulting or validation (those are the pipeline's, tested with the server). */
const passThrough: WritePipeline = {
  async mutate() {},
  async validate() {},
  trackManagedFields: (_i, obj) => obj,
};

function storeFor(group: string, resource: string): ResourceStore {
  const info = findResource(group, "v1", resource) as ResourceInfo;
  const cache = new WatchCache({ log }, storage, `${info.storagePrefix}/`);
  return new ResourceStore(info, {
    storage,
    cache,
    strategy: strategyFor(info),
    pipeline: passThrough,
    newUid: () => `uid-${++uid}`,
    randomSuffix: () => "abcde",
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
}

const ctx = (over: Partial<WriteContext> = {}): WriteContext => ({ dryRun: false, now: new Date("2026-01-02T03:04:05.678Z"), manager: "test", warnings: [], ...over });

async function rejectsWith(p: Promise<unknown>, code: number, message?: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === "string") assert.equal(e.message, message);
    else if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tk8s-store-"));
  etcd = await EtcdServer.open({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log } as never, defaultConfig({ name: "s", dataDir: dir }));
  storage = new EmbeddedStorage(etcd);
});

after(async () => {
  storage.close();
  await etcd.close();
  rmSync(dir, { recursive: true, force: true });
});

test("create fills uid, creationTimestamp and resourceVersion, and a second create is AlreadyExists", async () => {
  const cms = storeFor("", "configmaps");
  const created = await cms.create("default", { metadata: { name: "a" }, data: { k: "v" } }, ctx());
  assert.equal(created.kind, "ConfigMap");
  assert.equal(created.apiVersion, "v1");
  assert.equal(created.metadata.namespace, "default");
  assert.match(created.metadata.uid, /^uid-/);
  assert.equal(created.metadata.creationTimestamp, "2026-01-02T03:04:05Z");
  assert.equal(created.metadata.resourceVersion, String(await storage.currentRevision()));
  assert.deepEqual(await cms.get("default", "a"), created);
  await rejectsWith(cms.create("default", { metadata: { name: "a" } }, ctx()), 409, 'configmaps "a" already exists');
  await rejectsWith(cms.get("default", "zz"), 404, 'configmaps "zz" not found');
});

test("generateName appends a suffix; a dry run stores nothing", async () => {
  const cms = storeFor("", "configmaps");
  const made = await cms.create("default", { metadata: { generateName: "gen-" } }, ctx());
  assert.equal(made.metadata.name, "gen-abcde");
  const dry = await cms.create("default", { metadata: { name: "dry" } }, ctx({ dryRun: true }));
  assert.equal(dry.metadata.name, "dry");
  await rejectsWith(cms.get("default", "dry"), 404);
});

test("an update at a stale resourceVersion is a Conflict with upstream's message; an unconditional one succeeds", async () => {
  const cms = storeFor("", "configmaps");
  const v1 = await cms.create("default", { metadata: { name: "u" }, data: { a: "1" } }, ctx());
  const v2 = await cms.update("default", "u", { ...v1, data: { a: "2" } }, ctx());
  assert.ok(Number(v2.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));
  await rejectsWith(
    cms.update("default", "u", { ...v1, data: { a: "3" } }, ctx()),
    409,
    'Operation cannot be fulfilled on configmaps "u": the object has been modified; please apply your changes to the latest version and try again',
  );
  const { resourceVersion: _rv, ...meta } = v1.metadata;
  const v3 = await cms.update("default", "u", { ...v1, metadata: meta, data: { a: "4" } }, ctx());
  assert.equal(v3.data.a, "4");
  assert.equal(v3.metadata.uid, v1.metadata.uid, "the uid is the server's, not the client's");
});

test("generation grows on spec changes only, and the main resource cannot change status", async () => {
  const deps = storeFor("apps", "deployments");
  const d = await deps.create("default", { metadata: { name: "d" }, spec: { replicas: 1 }, status: { replicas: 9 } }, ctx());
  assert.equal(d.metadata.generation, 1);
  assert.equal(d.status, undefined, "status is reset on create");
  const labelled = await deps.update("default", "d", { ...d, metadata: { ...d.metadata, labels: { a: "b" } } }, ctx());
  assert.equal(labelled.metadata.generation, 1);
  const scaled = await deps.update("default", "d", { ...labelled, spec: { replicas: 3 }, status: { replicas: 5 } }, ctx());
  assert.equal(scaled.metadata.generation, 2);
  assert.equal(scaled.status, undefined);
  const status = await deps.update("default", "d", { ...scaled, spec: { replicas: 100 }, status: { replicas: 3 } }, ctx(), "status");
  assert.deepEqual(status.status, { replicas: 3 });
  assert.equal(status.spec.replicas, 3, "a status update keeps the stored spec");
  assert.equal(status.metadata.generation, 2);
});

test("a paged list reads one snapshot: objects created after the first page do not appear", async () => {
  const cms = storeFor("", "configmaps");
  for (let i = 0; i < 7; i++) await cms.create("paged", { metadata: { name: `c${i}`, labels: { even: String(i % 2 === 0) } } }, ctx());
  const first = await cms.list("paged", { limit: 3 });
  assert.deepEqual(first.items.map((o: KubeObject) => o.metadata.name), ["c0", "c1", "c2"]);
  assert.ok(first.continue);
  await cms.create("paged", { metadata: { name: "c3a" } }, ctx());
  const second = await cms.list("paged", { limit: 3, continue: first.continue! });
  assert.deepEqual(second.items.map((o: KubeObject) => o.metadata.name), ["c3", "c4", "c5"]);
  const third = await cms.list("paged", { limit: 3, continue: second.continue! });
  assert.deepEqual(third.items.map((o: KubeObject) => o.metadata.name), ["c6"]);
  assert.equal(third.continue, undefined);
  assert.equal(third.resourceVersion, first.resourceVersion);
  const even = await cms.list("paged", { labelSelector: "even=true", limit: 2 });
  assert.deepEqual(even.items.map((o: KubeObject) => o.metadata.name), ["c0", "c2"]);
  const rest = await cms.list("paged", { labelSelector: "even=true", limit: 2, continue: even.continue! });
  assert.deepEqual(rest.items.map((o: KubeObject) => o.metadata.name), ["c4", "c6"]);
});

test("a continue token older than the compaction point is 410 Expired", async () => {
  const cms = storeFor("", "configmaps");
  for (let i = 0; i < 3; i++) await cms.create("expire", { metadata: { name: `e${i}` } }, ctx());
  const first = await cms.list("expire", { limit: 1 });
  await cms.create("expire", { metadata: { name: "later" } }, ctx());
  await storage.compact(await storage.currentRevision());
  await rejectsWith(cms.list("expire", { limit: 1, continue: first.continue! }), 410, /The provided continue parameter is too old/);
  await rejectsWith(cms.list("expire", { continue: "not-base64-json" }), 400, /continue key is not valid/);
});

test("selectors: a bad label selector and an unsupported field are 400s", async () => {
  const pods = storeFor("", "pods");
  await rejectsWith(pods.list("default", { fieldSelector: "spec.foo=bar" }), 400, "field label not supported: spec.foo");
  await rejectsWith(pods.list("default", { labelSelector: "a in b" }), 400, /unable to parse requirement/);
});

test("a finalizer keeps a deleted object with a deletionTimestamp until an update removes it", async () => {
  const cms = storeFor("", "configmaps");
  await cms.create("default", { metadata: { name: "fin", finalizers: ["example.com/hold"] } }, ctx());
  const pending = await cms.delete("default", "fin", {}, ctx());
  assert.equal(pending.deleted, false);
  assert.equal(pending.object.metadata.deletionTimestamp, "2026-01-02T03:04:05Z");
  assert.equal(pending.object.metadata.deletionGracePeriodSeconds, 0);
  const cur = await cms.get("default", "fin");
  await cms.update("default", "fin", { ...cur, metadata: { ...cur.metadata, finalizers: [] } }, ctx());
  await rejectsWith(cms.get("default", "fin"), 404);
});

test("a scheduled pod is deleted gracefully; an unscheduled one at once", async () => {
  const pods = storeFor("", "pods");
  await pods.create("default", { metadata: { name: "bound" }, spec: { nodeName: "n1", terminationGracePeriodSeconds: 20, containers: [] } }, ctx());
  const r = await pods.delete("default", "bound", {}, ctx());
  assert.equal(r.deleted, false);
  assert.equal(r.object.metadata.deletionGracePeriodSeconds, 20);
  assert.equal(r.object.metadata.deletionTimestamp, "2026-01-02T03:04:25Z");
  const forced = await pods.delete("default", "bound", { gracePeriodSeconds: 0 }, ctx());
  assert.equal(forced.deleted, true);
  await pods.create("default", { metadata: { name: "free" }, spec: { containers: [] } }, ctx());
  assert.equal((await pods.delete("default", "free", {}, ctx())).deleted, true);
  await rejectsWith(pods.delete("default", "free", {}, ctx()), 404, 'pods "free" not found');
});

test("a uid precondition that does not match refuses the delete", async () => {
  const cms = storeFor("", "configmaps");
  await cms.create("default", { metadata: { name: "pre" } }, ctx());
  await rejectsWith(cms.delete("default", "pre", { preconditions: { uid: "other" } }, ctx()), 409, /^Precondition failed: UID in precondition: other, UID in object meta: uid-/);
});

interface Seen {
  type: WatchEventType;
  name: string;
  rv: string;
}

test("watch: initial ADDED events, then changes; a label selector turns leaving the selection into DELETED", async () => {
  const cms = storeFor("", "configmaps");
  await cms.create("w", { metadata: { name: "one", labels: { app: "x" } } }, ctx());
  const seen: Seen[] = [];
  const w = await cms.watch("w", { labelSelector: "app=x" }, {
    send: (type, o) => seen.push({ type, name: o.metadata.name, rv: o.metadata.resourceVersion }),
    close() {},
  });
  const two = await cms.create("w", { metadata: { name: "two", labels: { app: "x" } } }, ctx());
  await cms.create("w", { metadata: { name: "other", labels: { app: "y" } } }, ctx());
  await cms.update("w", "two", { ...two, metadata: { ...two.metadata, labels: { app: "z" } } }, ctx());
  await cms.delete("w", "one", {}, ctx());
  const deadline = Date.now() + 3000;
  while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  w.stop();
  assert.deepEqual(seen.map((s) => `${s.type} ${s.name}`), ["ADDED one", "ADDED two", "DELETED two", "DELETED one"]);
});

test("watch from a resourceVersion older than the cache keeps is an ERROR event with 410 Expired", async () => {
  const cms = storeFor("", "configmaps");
  const events: { type: string; object: KubeObject }[] = [];
  let closed = false;
  await cms.watch("w", { resourceVersion: "1" }, { send: (type, object) => events.push({ type, object }), close: () => (closed = true) });
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, "ERROR");
  assert.equal(events[0]!.object.code, 410);
  assert.equal(events[0]!.object.reason, "Expired");
  assert.equal(closed, true);
});

test("watch bookmarks carry the cache's revision, and go only to watches that allow them", async () => {
  const cms = storeFor("", "configmaps");
  const withBookmarks: { type: string; object: KubeObject }[] = [];
  const without: { type: string; object: KubeObject }[] = [];
  const a = await cms.watch("bm", { allowWatchBookmarks: true }, { send: (type, object) => withBookmarks.push({ type, object }), close() {} });
  const b = await cms.watch("bm", {}, { send: (type, object) => without.push({ type, object }), close() {} });
  const made = await cms.create("bm", { metadata: { name: "x" } }, ctx());
  const deadline = Date.now() + 3000;
  while (withBookmarks.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  a.bookmark();
  b.bookmark();
  a.stop();
  b.stop();
  assert.deepEqual(withBookmarks.map((e) => e.type), ["ADDED", "BOOKMARK"]);
  const bookmark = withBookmarks[1]!.object;
  assert.equal(bookmark.kind, "ConfigMap");
  assert.ok(Number(bookmark.metadata.resourceVersion) >= Number(made.metadata.resourceVersion));
  assert.deepEqual(Object.keys(bookmark.metadata), ["resourceVersion"]);
  assert.deepEqual(without.map((e) => e.type), ["ADDED"]);
});

test("a no-op update writes nothing: the resourceVersion stays", async () => {
  const cms = storeFor("", "configmaps");
  const made = await cms.create("noop", { metadata: { name: "same" }, data: { a: "1" } }, ctx());
  const again = await cms.update("noop", "same", { ...made }, ctx());
  assert.equal(again.metadata.resourceVersion, made.metadata.resourceVersion);
});
