import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Pod } from "kubernetes-types/core/v1.js";
import { ManualClock } from "../env/manual_clock.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock } from "../platform/node/node_env.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "./kubeconfig.js";
import { RestClient } from "./rest_client.js";
import { SharedIndexInformer, waitForCacheSync, type ResourceEventHandler } from "./shared_informer.js";
import { InformerFactory, NODE_NAME_INDEX } from "./informer_factory.js";
import { Lister } from "./lister.js";
import { DeletedFinalStateUnknown, metaNamespaceKey, splitMetaNamespaceKey } from "./store.js";
import { newRateLimitingQueue } from "./rate_limiting_queue.js";
import { waitUntil } from "./testing_wait.js";

let srv: InProcessApiServer;
let client: RestClient;
before(async () => {
  srv = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(srv.kubeconfig, { component: "informer-test" }));
});
after(async () => {
  client.close();
  await srv.stop();
});

/** Records what a handler was told, as short strings. */
function recorder<T extends { metadata?: { name?: string; resourceVersion?: string } }>(): { log: string[]; handler: ResourceEventHandler<T> } {
  const log: string[] = [];
  return {
    log,
    handler: {
      onAdd: (o, initial) => log.push(`add ${o.metadata?.name}${initial ? " (initial)" : ""}`),
      onUpdate: (a, b) => log.push(`update ${b.metadata?.name}${a === b ? " (resync)" : ""}`),
      onDelete: (o) => log.push(o instanceof DeletedFinalStateUnknown ? `tombstone ${o.key}` : `delete ${o.metadata?.name}`),
    },
  };
}

async function namespace(name: string): Promise<void> {
  await client.resource("", "v1", "namespaces").create({ metadata: { name } });
}

test("SharedIndexInformer: lists, syncs, then delivers watch events to handlers after updating its cache", async () => {
  await namespace("inf1");
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("inf1");
  await cms.create({ metadata: { name: "before" }, data: { v: "0" } });
  const env = { clock: nodeClock, log: new MemoryLogger() };
  const informer = new SharedIndexInformer<ConfigMap>(env, cms, { name: "configmaps" });
  const rec = recorder<ConfigMap>();
  // The handler reads the cache: it must already hold what the handler is told about.
  const seenInCache: boolean[] = [];
  informer.addEventHandler(rec.handler);
  informer.addEventHandler({ onAdd: (o) => seenInCache.push(informer.indexer.get(o) === o) });
  assert.equal(informer.hasSynced(), false);
  informer.run();
  assert.equal(await waitForCacheSync([informer], { clock: nodeClock, timeoutMs: 5000 }), true);
  assert.deepEqual(rec.log, ["add before (initial)"]);
  const c = await cms.create({ metadata: { name: "during" }, data: { v: "1" } });
  await cms.update({ ...c, data: { v: "2" } });
  await cms.delete("before");
  await waitUntil("three events", () => rec.log.length === 4);
  assert.deepEqual(rec.log, ["add before (initial)", "add during", "update during", "delete before"]);
  assert.deepEqual(seenInCache, [true, true]);
  assert.deepEqual(informer.indexer.listKeys(), ["inf1/during"]);
  assert.equal(informer.indexer.getByKey("inf1/during")?.data?.v, "2");
  assert.equal(informer.reflector.stats.lists, 1);
  await informer.stop();
});

test("SharedIndexInformer: a handler added after sync is replayed the cache as initial adds", async () => {
  await namespace("inf2");
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("inf2");
  await cms.create({ metadata: { name: "a" } });
  await cms.create({ metadata: { name: "b" } });
  const informer = new SharedIndexInformer<ConfigMap>({ clock: nodeClock, log: new MemoryLogger() }, cms);
  informer.run();
  await informer.whenSynced();
  const rec = recorder<ConfigMap>();
  const reg = informer.addEventHandler(rec.handler);
  assert.equal(reg.hasSynced(), true);
  assert.deepEqual(rec.log.sort(), ["add a (initial)", "add b (initial)"]);
  reg.remove();
  await cms.create({ metadata: { name: "c" } });
  await waitUntil("c in cache", () => informer.indexer.getByKey("inf2/c") !== undefined);
  assert.equal(rec.log.length, 2, "a removed handler hears nothing more");
  await informer.stop();
});

test("SharedIndexInformer: a relist that lacks cached objects delivers DeletedFinalStateUnknown tombstones", () => {
  const informer = new SharedIndexInformer<ConfigMap>({ clock: new ManualClock(), log: new MemoryLogger() }, client.resource<ConfigMap>("", "v1", "configmaps"));
  const rec = recorder<ConfigMap>();
  informer.addEventHandler(rec.handler);
  const cm = (name: string, rv: string): ConfigMap => ({ metadata: { namespace: "ns", name, resourceVersion: rv } });
  informer.replace([cm("keep", "1"), cm("gone", "1")], "1");
  assert.equal(informer.hasSynced(), true);
  informer.add(cm("new", "2"));
  informer.replace([cm("keep", "3"), cm("new", "2"), cm("fresh", "4")], "4");
  assert.deepEqual(rec.log, ["add keep (initial)", "add gone (initial)", "add new", "update keep", "update new", "add fresh", "tombstone ns/gone"]);
  const last: unknown[] = [];
  informer.addEventHandler({ onDelete: (o) => last.push(o) });
  informer.delete(cm("fresh", "5"));
  assert.equal((last[0] as ConfigMap).metadata?.name, "fresh");
  assert.deepEqual(informer.indexer.listKeys().sort(), ["ns/keep", "ns/new"]);
});

test("SharedIndexInformer: a handler that throws is logged and the others still hear the event", () => {
  const log = new MemoryLogger();
  const informer = new SharedIndexInformer<ConfigMap>({ clock: new ManualClock(), log }, client.resource<ConfigMap>("", "v1", "configmaps"));
  const rec = recorder<ConfigMap>();
  informer.addEventHandler({ onAdd: () => { throw new Error("boom"); } });
  informer.addEventHandler(rec.handler);
  informer.replace([{ metadata: { namespace: "ns", name: "x" } }], "1");
  assert.deepEqual(rec.log, ["add x (initial)"]);
  assert.ok(log.records.some((r) => r.msg === "event handler failed" && r.fields.error === "boom"));
});

test("SharedIndexInformer: resync re-delivers the cache as updates every period of the injected clock", async () => {
  const clock = new ManualClock();
  const informer = new SharedIndexInformer<ConfigMap>({ clock, log: new MemoryLogger() }, client.resource<ConfigMap>("", "v1", "configmaps").namespace("never-listed"), { resyncPeriodMs: 30_000 });
  const rec = recorder<ConfigMap>();
  const fast = recorder<ConfigMap>();
  informer.addEventHandler(rec.handler);
  informer.addEventHandler(fast.handler, { resyncPeriodMs: 10_000 });
  informer.replace([{ metadata: { namespace: "ns", name: "x" } }], "1");
  // run() arms the resync timers; the reflector's list against the empty namespace changes nothing here.
  informer.run();
  clock.advance(29_999);
  assert.deepEqual(rec.log, ["add x (initial)"]);
  assert.deepEqual(fast.log, ["add x (initial)", "update x (resync)", "update x (resync)"]);
  clock.advance(1);
  assert.deepEqual(rec.log, ["add x (initial)", "update x (resync)"]);
  await informer.stop();
});

test("waitForCacheSync: false when the timeout on the injected clock passes first, or the signal aborts", async () => {
  const clock = new ManualClock();
  const never = { hasSynced: () => false, whenSynced: () => new Promise<void>(() => {}) };
  const p = waitForCacheSync([never], { clock, timeoutMs: 1000 });
  clock.advance(1000);
  assert.equal(await p, false);
  const ac = new AbortController();
  const q = waitForCacheSync([never], { signal: ac.signal });
  ac.abort();
  assert.equal(await q, false);
});

test("InformerFactory: one informer per resource shared by every asker, pods indexed by node, listers over the cache", async () => {
  await namespace("inf3");
  const pods = client.resource<Pod>("", "v1", "pods").namespace("inf3");
  const spec = { containers: [{ name: "c", image: "busybox" }] };
  await pods.create({ metadata: { name: "on-n1", labels: { app: "a" } }, spec: { ...spec, nodeName: "n1" } });
  await pods.create({ metadata: { name: "pending", labels: { app: "b" } }, spec });
  const factory = new InformerFactory({ clock: nodeClock, log: new MemoryLogger() }, client);
  const a = factory.pods();
  const b = factory.informerFor<Pod>("", "v1", "pods");
  assert.equal(a, b, "two components asking for pods share one informer");
  const nodes = factory.nodes();
  factory.start();
  assert.equal(await factory.waitForCacheSync({ timeoutMs: 5000 }), true);
  assert.equal(nodes.hasSynced(), true);
  const lister = new Lister<Pod>(a.indexer);
  assert.deepEqual(lister.byIndex(NODE_NAME_INDEX, "n1").map((p) => p.metadata?.name), ["on-n1"]);
  assert.deepEqual(lister.namespace("inf3").list("app=b").map((p) => p.metadata?.name), ["pending"]);
  assert.equal(lister.get("inf3", "pending")?.kind, "Pod");
  await pods.bind("pending", "n1");
  await waitUntil("bound pod indexed by node", () => lister.byIndex(NODE_NAME_INDEX, "n1").length === 2);
  assert.equal(factory.listerFor<Pod>("", "v1", "pods").get("inf3", "pending")?.spec?.nodeName, "n1");
  await factory.shutdown();
});

test("controller pattern: informer handlers enqueue keys, a worker reconciles from the lister, failures come back rate limited", async () => {
  await namespace("ctl");
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("ctl");
  const factory = new InformerFactory({ clock: nodeClock, log: new MemoryLogger() }, client, { namespace: "ctl" });
  const informer = factory.configMaps();
  const lister = new Lister<ConfigMap>(informer.indexer);
  const queue = newRateLimitingQueue<string>(nodeClock, { name: "configmap-test" });
  const enqueue = (o: ConfigMap | DeletedFinalStateUnknown<ConfigMap>) => queue.add(metaNamespaceKey(o));
  informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  factory.start();
  assert.equal(await factory.waitForCacheSync({ timeoutMs: 5000 }), true);
  const reconciled: string[] = [];
  let failOnce = true;
  const worker = async () => {
    // Ends when the queue shuts down.
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const [ns, name] = splitMetaNamespaceKey(key);
      const obj = lister.namespace(ns).get(name);
      if (name === "flaky" && failOnce) {
        failOnce = false;
        queue.addRateLimited(key);
      } else {
        reconciled.push(`${key} ${obj === undefined ? "gone" : obj.data?.v}`);
        queue.forget(key);
      }
      queue.done(key);
    }
  };
  const workers = [worker(), worker()];
  const web = await cms.create({ metadata: { name: "web" }, data: { v: "1" } });
  await cms.create({ metadata: { name: "flaky" }, data: { v: "1" } });
  await waitUntil("both reconciled", () => reconciled.includes("ctl/flaky 1") && reconciled.includes("ctl/web 1"));
  await cms.update({ ...web, data: { v: "2" } });
  await cms.delete("web");
  await waitUntil("the delete reconciled", () => reconciled.includes("ctl/web gone"));
  assert.equal(queue.metrics().retries, 1);
  queue.shutDown();
  await Promise.all(workers);
  await factory.shutdown();
});
