import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../api/status.js";
import { defaultConfig } from "../../etcd/config.js";
import { EtcdServer } from "../../etcd/server.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import { EmbeddedStorage } from "../storage/embedded_storage.js";
import type { StorageEvent } from "../storage/contract.js";
import { WatchCache } from "./watch_cache.js";

const enc = (s: string) => Buffer.from(s);
const log = new MemoryLogger();

describe("WatchCache over the embedded datastore", () => {
  let dir: string;
  let server: EtcdServer;
  let storage: EmbeddedStorage;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tk8s-watchcache-"));
    server = await EtcdServer.open({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log }, defaultConfig({ name: "wc", dataDir: dir }));
    storage = new EmbeddedStorage(server);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a started cache lists what the datastore holds, at the datastore's revision", async () => {
    await storage.create("/registry/a/x", enc("1"));
    await storage.create("/registry/a/y", enc("2"));
    await storage.create("/registry/b/z", enc("other prefix"));
    const cache = new WatchCache({ log }, storage, "/registry/a/");
    await cache.start();
    const { items, revision } = cache.list();
    assert.deepEqual(items.map((i) => i.key), ["/registry/a/x", "/registry/a/y"]);
    assert.equal(revision, await storage.currentRevision());
    cache.stop();
  });

  test("many watchers share one datastore watch and each gets every event once, in order", async () => {
    const cache = new WatchCache({ log }, storage, "/registry/w/");
    await cache.start();
    const before = server.watchable.watcherCount;
    const got: StorageEvent[][] = [[], [], []];
    const watchers = got.map((list) => cache.watch(0, (e) => list.push(e), () => {}));
    assert.equal(server.watchable.watcherCount, before, "client watchers add no datastore watch");
    const r1 = await storage.create("/registry/w/k", enc("1"));
    await storage.update("/registry/w/k", enc("2"), r1);
    await storage.delete("/registry/w/k");
    for (const list of got) assert.deepEqual(list.map((e) => e.type), ["ADDED", "MODIFIED", "DELETED"]);
    assert.deepEqual(cache.list().items, []);
    for (const w of watchers) w.stop();
    cache.stop();
  });

  test("a datastore watch that breaks is opened again from the cache's revision: clients miss nothing and stay open", async () => {
    // The storage as it is, except that the test can break the datastore watch, as a stopped member would.
    let breakUpstream: ((err: Error) => void) | null = null;
    let upstreamWatches = 0;
    const watch: EmbeddedStorage["watch"] = (prefix, from, onEvent, onError) => {
      upstreamWatches++;
      const h = storage.watch(prefix, from, onEvent, onError);
      breakUpstream = (err) => {
        h.stop();
        onError(err);
      };
      return h;
    };
    const breakable = new Proxy(storage, {
      get: (target, name) => {
        if (name === "watch") return watch;
        const v = Reflect.get(target, name) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const cache = new WatchCache({ log }, breakable, "/registry/resume/");
    await cache.start();
    const got: string[] = [];
    let closed: string | null = null;
    const w = cache.watch(0, (e) => got.push(`${e.type} ${e.key}`), (reason) => (closed = reason));
    await storage.create("/registry/resume/a", enc("1"));
    breakUpstream!(new Error("14 UNAVAILABLE: Connection dropped"));
    // Written while no datastore watch is open: the resumed watch starts at the cache's revision and brings it.
    await storage.create("/registry/resume/b", enc("2"));
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await storage.create("/registry/resume/c", enc("3"));
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ["ADDED /registry/resume/a", "ADDED /registry/resume/b", "ADDED /registry/resume/c"]);
    assert.equal(closed, null, "the client's watch stayed open");
    assert.equal(upstreamWatches, 2);
    w.stop();
    cache.stop();
  });

  test("a watch from a recent revision replays the cached events after it, then follows live", async () => {
    const cache = new WatchCache({ log }, storage, "/registry/r/");
    await cache.start();
    const r1 = await storage.create("/registry/r/k", enc("1"));
    const r2 = await storage.update("/registry/r/k", enc("2"), r1);
    const seen: number[] = [];
    const w = cache.watch(r1, (e) => seen.push(e.revision), () => {});
    const r3 = await storage.update("/registry/r/k", enc("3"), r2);
    assert.deepEqual(seen, [r2, r3]);
    w.stop();
    cache.stop();
  });

  test("a watch from before the cache's window is refused with 410 too old resource version", async () => {
    const cache = new WatchCache({ log }, storage, "/registry/old/", { eventsMax: 20 });
    await cache.start();
    const first = await storage.create("/registry/old/k", enc("0"));
    let rev = first;
    for (let i = 1; i <= 40; i++) rev = await storage.update("/registry/old/k", enc(String(i)), rev);
    assert.throws(
      () => cache.watch(first, () => {}, () => {}),
      (e: unknown) => e instanceof ApiError && e.code === 410 && e.reason === "Expired" && /^too old resource version: \d+ \(\d+\)$/.test(e.message),
    );
    const seen: number[] = [];
    cache.watch(rev - 5, (e) => seen.push(e.revision), () => {}).stop();
    assert.deepEqual(seen, [rev - 4, rev - 3, rev - 2, rev - 1, rev], "a watch inside the window still replays");
    cache.stop();
  });

  test("stopping the cache closes its watchers and its datastore watch", async () => {
    const cache = new WatchCache({ log }, storage, "/registry/s/");
    await cache.start();
    const before = server.watchable.watcherCount;
    const reasons: string[] = [];
    cache.watch(0, () => {}, (r) => reasons.push(r));
    cache.stop();
    assert.deepEqual(reasons, ["watch cache stopped"]);
    assert.equal(server.watchable.watcherCount, before - 1);
  });
});
