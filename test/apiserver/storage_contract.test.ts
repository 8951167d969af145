/**
 * The storage contract the API server stands on, one suite for every implementation: the embedded
 * (in-process) datastore, and the etcd v3 adapter against real etcd and against tk8s's datastore process
 * (CONTRACT_TARGETS, default both).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdV3Storage } from "../../src/apiserver/storage/etcd_v3_storage.js";
import { EmbeddedStorage } from "../../src/apiserver/storage/embedded_storage.js";
import { StorageCompactedError, StorageConflictError, StorageKeyExistsError, StorageNotFoundError, type Storage, type StorageEvent } from "../../src/apiserver/storage/contract.js";
import { defaultConfig } from "../../src/etcd/config.js";
import { EtcdServer } from "../../src/etcd/server.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../src/platform/node/node_env.js";
import { startDatastore } from "../harness/datastore_process.js";
import { HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS, requirePrerequisites, suiteOptions, targets } from "../harness/contract.js";

const opts = { timeout: TEST_TIMEOUT_MS };
const enc = (s: string) => Buffer.from(s);
const dec = (b: Uint8Array) => Buffer.from(b).toString();

/** A storage implementation for one suite, and how to tear it down. */
interface Subject {
  readonly storage: Storage;
  stop(): Promise<void>;
}

function storageSuite(name: string, options: { skip?: string | undefined }, open: () => Promise<Subject>): void {
  describe(`storage contract: ${name}`, options, () => {
    let subject: Subject;
    let storage: Storage;
    before(async () => {
      subject = await open();
      storage = subject.storage;
    }, { timeout: HOOK_TIMEOUT_MS });
    after(async () => {
      await subject?.stop();
    }, { timeout: HOOK_TIMEOUT_MS });

    it("create stores a value at a new revision and refuses an existing key", opts, async () => {
      const rev = await storage.create("/registry/pods/default/a", enc("v1"));
      const got = await storage.get("/registry/pods/default/a");
      assert.deepEqual(got && { value: dec(got.value), revision: got.revision }, { value: "v1", revision: rev });
      await assert.rejects(storage.create("/registry/pods/default/a", enc("v2")), StorageKeyExistsError);
      assert.equal(dec((await storage.get("/registry/pods/default/a"))!.value), "v1");
      assert.equal(await storage.get("/registry/pods/default/missing"), null);
    });

    it("single-key operations touch only their key, never the keys after it", opts, async () => {
      await storage.create("/registry/single/b", enc("b"));
      await storage.create("/registry/single/c", enc("c"));
      assert.equal(await storage.get("/registry/single/a"), null, "a missing key reads as missing even with keys after it");
      await storage.create("/registry/single/a", enc("a"));
      const a = await storage.get("/registry/single/a");
      assert.equal(a && dec(a.value), "a");
      await storage.update("/registry/single/a", enc("a2"), a!.revision);
      await storage.delete("/registry/single/a");
      const rest = await storage.list("/registry/single/");
      assert.deepEqual(rest.items.map((i) => [i.key, dec(i.value)]), [["/registry/single/b", "b"], ["/registry/single/c", "c"]]);
    });

    it("update needs the current revision: a stale one is a conflict naming the actual revision", opts, async () => {
      const r1 = await storage.create("/registry/cm/u", enc("1"));
      const r2 = await storage.update("/registry/cm/u", enc("2"), r1);
      assert.ok(r2 > r1);
      await assert.rejects(storage.update("/registry/cm/u", enc("3"), r1), (e: unknown) => e instanceof StorageConflictError && e.actualRevision === r2);
      await assert.rejects(storage.update("/registry/cm/nope", enc("3"), 5), StorageNotFoundError);
      assert.equal(dec((await storage.get("/registry/cm/u"))!.value), "2");
    });

    it("delete returns what it deleted, honours an expected revision, and reports a missing key", opts, async () => {
      const r1 = await storage.create("/registry/cm/d", enc("x"));
      await assert.rejects(storage.delete("/registry/cm/d", r1 + 1000), StorageConflictError);
      const gone = await storage.delete("/registry/cm/d", r1);
      assert.deepEqual({ key: gone.key, value: dec(gone.value), revision: gone.revision }, { key: "/registry/cm/d", value: "x", revision: r1 });
      await assert.rejects(storage.delete("/registry/cm/d"), StorageNotFoundError);
    });

    it("list pages through a prefix in key order, and reads a consistent snapshot at a revision", opts, async () => {
      const names = ["a", "b", "c", "d", "e"];
      for (const n of names) await storage.create(`/registry/svc/ns1/${n}`, enc(n));
      await storage.create("/registry/svc/ns10/z", enc("other"));
      const seen: string[] = [];
      let after: string | undefined;
      let revision = 0;
      for (let page = 0; page < 10; page++) {
        const res = await storage.list("/registry/svc/ns1/", { limit: 2, ...(after === undefined ? {} : { after }), ...(revision === 0 ? {} : { revision }) });
        if (revision === 0) revision = res.revision;
        assert.equal(res.revision, revision, "every page reports the revision it was read at");
        seen.push(...res.items.map((i) => dec(i.value)));
        if (page === 0) await storage.update("/registry/svc/ns1/e", enc("changed"), (await storage.get("/registry/svc/ns1/e"))!.revision);
        if (!res.more) break;
        after = res.items[res.items.length - 1]!.key;
      }
      assert.deepEqual(seen, names, "every page read at the first page's revision, so the later change is not seen");
    });

    it("watch from a revision delivers every later change once, in order, typed as added, modified, deleted", opts, async () => {
      const from = await storage.currentRevision();
      const r1 = await storage.create("/registry/w/k", enc("1"));
      const r2 = await storage.update("/registry/w/k", enc("2"), r1);
      await storage.create("/registry/other/k", enc("not watched"));
      await storage.delete("/registry/w/k", r2);
      const events: StorageEvent[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${JSON.stringify(events.map((e) => e.type))}`)), 5000);
        const w = storage.watch("/registry/w/", from, (e) => {
          events.push(e);
          if (events.length === 3) {
            clearTimeout(timer);
            w.stop();
            resolve();
          }
        }, reject);
      });
      assert.deepEqual(events.map((e) => [e.type, e.key, dec(e.value)]), [
        ["ADDED", "/registry/w/k", "1"],
        ["MODIFIED", "/registry/w/k", "2"],
        ["DELETED", "/registry/w/k", "2"],
      ]);
      assert.deepEqual(events.map((e) => e.revision), [r1, r2, r2 + 2]);
    });

    it("reads and watches below a compaction fail as compacted (the API server's 410)", opts, async () => {
      const old = await storage.create("/registry/c/k", enc("1"));
      await storage.update("/registry/c/k", enc("2"), old);
      const now = await storage.currentRevision();
      await storage.compact(now);
      await assert.rejects(storage.list("/registry/c/", { revision: old }), StorageCompactedError);
      const err = await new Promise<Error>((resolve) => {
        const w = storage.watch("/registry/c/", old - 1, () => {}, (e) => {
          w.stop();
          resolve(e);
        });
      });
      assert.ok(err instanceof StorageCompactedError, String(err));
      assert.ok(err.compactRevision >= now);
    });
  });
}

storageSuite("embedded datastore, in process", {}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-embedded-"));
  const server = await EtcdServer.open({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() }, defaultConfig({ name: "embedded", dataDir: dir }));
  return {
    storage: new EmbeddedStorage(server),
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

for (const kind of targets()) {
  storageSuite(`etcd v3 endpoint: ${kind}`, suiteOptions(kind), async () => {
    requirePrerequisites(kind);
    const ds = await startDatastore(kind);
    const storage = new EtcdV3Storage(ds.clientUrl);
    return {
      storage,
      stop: async () => {
        storage.close();
        await ds.stop();
      },
    };
  });
}
