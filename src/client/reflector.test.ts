import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import type { Clock, Timer } from "../env/env.js";
import { ManualClock } from "../env/manual_clock.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock } from "../platform/node/node_env.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "./kubeconfig.js";
import { tooOldResourceVersion } from "../api/status.js";
import { RestClient, type ListOptions, type WatchOptions } from "./rest_client.js";
import { Reflector, type ListerWatcher, type ReflectorStore } from "./reflector.js";
import { waitUntil } from "./testing_wait.js";

let srv: InProcessApiServer;
let client: RestClient;
before(async () => {
  srv = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(srv.kubeconfig, { component: "reflector-test" }));
});
after(async () => {
  client.close();
  await srv.stop();
});

/** A store that records the calls the reflector makes. */
class RecordingStore implements ReflectorStore<ConfigMap> {
  readonly calls: string[] = [];
  readonly items = new Map<string, ConfigMap>();
  replace(items: ConfigMap[], rv: string): void {
    this.items.clear();
    for (const i of items) this.items.set(i.metadata!.name!, i);
    this.calls.push(`replace ${items.length} @${rv === "" ? "?" : "rv"}`);
  }
  add(o: ConfigMap): void {
    this.items.set(o.metadata!.name!, o);
    this.calls.push(`add ${o.metadata?.name}`);
  }
  update(o: ConfigMap): void {
    this.items.set(o.metadata!.name!, o);
    this.calls.push(`update ${o.metadata?.name}`);
  }
  delete(o: ConfigMap): void {
    this.items.delete(o.metadata!.name!);
    this.calls.push(`delete ${o.metadata?.name}`);
  }
}

/** The real resource client, with every request it is asked to make written down. */
function recordingLw(lw: ListerWatcher<ConfigMap>, requests: string[]): ListerWatcher<ConfigMap> {
  return {
    list: (o: ListOptions) => {
      requests.push(`list rv=${o.resourceVersion ?? "-"} limit=${o.limit ?? "-"} continue=${o.continue === undefined ? "no" : "yes"}`);
      return lw.list(o);
    },
    watch: (o: WatchOptions) => {
      requests.push(`watch rv=${o.resourceVersion === undefined ? "-" : "set"} bookmarks=${o.allowWatchBookmarks}`);
      return lw.watch(o);
    },
  };
}

test("Reflector: lists in pages from resourceVersion 0, then watches from the list's resourceVersion with bookmarks", async () => {
  await client.resource("", "v1", "namespaces").create({ metadata: { name: "refl" } });
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("refl");
  for (let i = 0; i < 5; i++) await cms.create({ metadata: { name: `c${i}` } });
  const store = new RecordingStore();
  const requests: string[] = [];
  const r = new Reflector<ConfigMap>({ clock: nodeClock, log: new MemoryLogger() }, recordingLw(cms, requests), store, { pageSize: 2 });
  const running = r.run();
  await waitUntil("the watch", () => requests.some((q) => q.startsWith("watch")));
  assert.equal(store.calls[0], "replace 5 @rv");
  // The first list goes to the server's cache (rv=0); the cache ignores the limit, so it is one page.
  assert.deepEqual(requests, ["list rv=0 limit=2 continue=no", "watch rv=set bookmarks=true"]);
  const listedRv = Number(r.lastSyncResourceVersion());
  await cms.delete("c0");
  await waitUntil("the delete", () => store.calls.includes("delete c0"));
  assert.ok(Number(r.lastSyncResourceVersion()) > listedRv, "each event advances the last resourceVersion seen");
  await r.stop();
  await running;
});

test("Reflector: a list refused as too old is retried as a consistent list, read in pages with continue tokens", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("refl");
  const requests: string[] = [];
  const lw = recordingLw(cms, requests);
  // Fault injection: the server's answer for a resourceVersion it no longer has (410 Expired).
  const faulty: ListerWatcher<ConfigMap> = {
    list: (o) => (o.resourceVersion === "0" ? Promise.reject(tooOldResourceVersion(0, 5)) : lw.list(o)),
    watch: (o) => lw.watch(o),
  };
  const store = new RecordingStore();
  const r = new Reflector<ConfigMap>({ clock: nodeClock, log: new MemoryLogger() }, faulty, store, { pageSize: 2 });
  const running = r.run();
  await waitUntil("the watch", () => requests.some((q) => q.startsWith("watch")));
  assert.deepEqual(requests, [
    "list rv= limit=2 continue=no",
    "list rv=- limit=2 continue=yes",
    "watch rv=set bookmarks=true",
  ]);
  assert.deepEqual([...store.items.keys()], ["c1", "c2", "c3", "c4"]);
  assert.equal(r.stats.consistentRelists, 1);
  await r.stop();
  await running;
});

/** The manual clock, with every timer the reflector arms written down: its delays are the backoff. */
class RecordingClock implements Clock {
  readonly delays: number[] = [];
  constructor(readonly inner: ManualClock) {}
  nowMs(): number {
    return this.inner.nowMs();
  }
  wallMs(): number {
    return this.inner.wallMs();
  }
  setTimer(delayMs: number, fn: () => void): Timer {
    this.delays.push(delayMs);
    return this.inner.setTimer(delayMs, fn);
  }
}

test("Reflector: when the server is unreachable it retries after 800 ms, 1.6 s, 3.2 s … on the injected clock", async () => {
  const clock = new RecordingClock(new ManualClock());
  const down = new RestClient({ server: "https://127.0.0.1:1", ca: srv.ca, userAgent: "tk8s-test/0.1.0" });
  const log = new MemoryLogger();
  const r = new Reflector<ConfigMap>({ clock, log }, down.resource<ConfigMap>("", "v1", "configmaps"), new RecordingStore(), { name: "configmaps" });
  const running = r.run();
  for (const [i, delay] of [800, 1600, 3200, 6400].entries()) {
    await waitUntil(`backoff ${i + 1}`, () => clock.delays.length === i + 1);
    assert.equal(clock.delays[i], delay);
    assert.equal(r.stats.errors, i + 1);
    clock.inner.advance(delay - 1);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(r.stats.errors, i + 1, `no retry before ${delay} ms`);
    clock.inner.advance(1);
  }
  await waitUntil("failure 5", () => r.stats.errors === 5);
  assert.ok(log.records.some((rec) => rec.msg === "failed to list and watch; retrying after backoff" && rec.fields.reflector === "configmaps"));
  await r.stop();
  await running;
  down.close();
});

test("Reflector: the backoff doubles up to 30 s and starts again from 800 ms after two quiet minutes", async () => {
  const clock = new RecordingClock(new ManualClock());
  const down = new RestClient({ server: "https://127.0.0.1:1", ca: srv.ca, userAgent: "tk8s-test/0.1.0" });
  const r = new Reflector<ConfigMap>({ clock, log: new MemoryLogger() }, down.resource<ConfigMap>("", "v1", "configmaps"), new RecordingStore());
  const running = r.run();
  for (let i = 0; i < 7; i++) {
    await waitUntil(`backoff ${i + 1}`, () => clock.delays.length === i + 1);
    clock.inner.advance(clock.delays[i]!);
  }
  await waitUntil("backoff 8", () => clock.delays.length === 8);
  assert.deepEqual(clock.delays, [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  // The next retry comes 130 s later (the clock jumps): over two minutes since the last backoff, so it resets.
  clock.inner.advance(130_000);
  await waitUntil("backoff 9", () => clock.delays.length === 9);
  assert.equal(clock.delays[8], 800);
  await r.stop();
  await running;
  down.close();
});

test("Reflector: a watch the server closes is resumed from the last resourceVersion without a relist", async () => {
  const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("refl");
  const store = new RecordingStore();
  const requests: string[] = [];
  const r = new Reflector<ConfigMap>({ clock: nodeClock, log: new MemoryLogger() }, recordingLw(cms, requests), store, { watchTimeoutSeconds: 2 });
  const running = r.run();
  await waitUntil("a second watch", () => requests.filter((q) => q.startsWith("watch")).length >= 2, 5000);
  await cms.create({ metadata: { name: "after-rewatch" } });
  await waitUntil("the event on the new watch", () => store.calls.includes("add after-rewatch"));
  assert.equal(r.stats.lists, 1, "a closed watch is not a reason to relist");
  assert.equal(requests.filter((q) => q.startsWith("list")).length, 1);
  await r.stop();
  await running;
});
