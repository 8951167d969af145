import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../env/manual_clock.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem } from "../../platform/node/node_env.js";
import { Backend } from "../backend/backend.js";
import { CompactedError, FutureRevisionError } from "./errors.js";
import { EventType, keyToIndex, type MvccEvent } from "./kv.js";
import { KVStore } from "./kvstore.js";
import { WatchableStore } from "./watchable_store.js";

const env = { clock: new ManualClock(), log: new MemoryLogger() };
const k = (s: string) => Buffer.from(s);
const one = (s: string) => ({ key: keyToIndex(k(s)), end: null });
const prefix = (s: string) => ({ key: keyToIndex(k(s)), end: keyToIndex(k(s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) + 1))) });

async function withStore(fn: (s: KVStore, dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-mvcc-"));
  try {
    const backend = await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, dir);
    const s = KVStore.restore(env, backend);
    await fn(s, dir);
    await s.compactionsDone();
    await backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function put(s: KVStore, key: string, value: string, lease = 0n): MvccEvent[] {
  const txn = s.beginWrite();
  txn.put(k(key), k(value), lease);
  return txn.end();
}

function del(s: KVStore, r: { key: string; end: string | null }): MvccEvent[] {
  const txn = s.beginWrite();
  txn.deleteRange(r);
  return txn.end();
}

test("each write txn takes the next revision, starting after 1 as etcd does", async () => {
  await withStore((s) => {
    assert.equal(s.currentRevision, 1);
    put(s, "a", "1");
    put(s, "a", "2");
    assert.equal(s.currentRevision, 3);
    const [kv] = s.range(one("a")).kvs;
    assert.deepEqual([kv!.createRevision, kv!.modRevision, kv!.version, kv!.value.toString()], [2, 3, 2, "2"]);
  });
});

test("a txn with several changes uses one main revision and increasing sub revisions", async () => {
  await withStore((s) => {
    const txn = s.beginWrite();
    txn.put(k("a"), k("1"), 0n);
    txn.put(k("b"), k("1"), 0n);
    // Reads inside the txn see its own writes.
    assert.equal(txn.range({ key: keyToIndex(k("a")), end: "\0" }).kvs.length, 2);
    const events = txn.end();
    assert.deepEqual(events.map((e) => e.kv.modRevision), [2, 2]);
    assert.equal(s.currentRevision, 2);
  });
});

test("historical reads see the value at that revision, and a deleted key's next generation restarts its version", async () => {
  await withStore((s) => {
    put(s, "a", "v1"); // 2
    put(s, "a", "v2"); // 3
    del(s, one("a")); // 4
    put(s, "a", "v3"); // 5
    assert.equal(s.range(one("a"), { rev: 2 }).kvs[0]!.value.toString(), "v1");
    assert.equal(s.range(one("a"), { rev: 3 }).kvs[0]!.value.toString(), "v2");
    assert.equal(s.range(one("a"), { rev: 4 }).kvs.length, 0);
    const now = s.range(one("a")).kvs[0]!;
    assert.deepEqual([now.createRevision, now.version], [5, 1]);
  });
});

test("ranges honour prefixes, from-key ranges, limits and counts", async () => {
  await withStore((s) => {
    for (const key of ["a/1", "a/2", "a/3", "b/1"]) put(s, key, "x");
    assert.deepEqual(s.range(prefix("a/")).kvs.map((kv) => kv.key.toString()), ["a/1", "a/2", "a/3"]);
    assert.equal(s.range({ key: keyToIndex(k("a/2")), end: "\0" }).count, 3);
    const limited = s.range(prefix("a/"), { limit: 2 });
    assert.deepEqual([limited.kvs.length, limited.count], [2, 3]);
    assert.deepEqual([s.range(prefix("a/"), { countOnly: true }).count, s.range(prefix("a/"), { countOnly: true }).kvs.length], [3, 0]);
  });
});

test("reads below the compaction revision fail with etcd's message; reads of the future fail too", async () => {
  await withStore((s) => {
    put(s, "a", "1"); // 2
    put(s, "a", "2"); // 3
    put(s, "a", "3"); // 4
    s.compact(3);
    assert.throws(() => s.range(one("a"), { rev: 2 }), (e: unknown) => e instanceof CompactedError && e.message === "mvcc: required revision has been compacted");
    assert.equal(s.range(one("a"), { rev: 3 }).kvs[0]!.value.toString(), "2");
    assert.throws(() => s.range(one("a"), { rev: 5 }), (e: unknown) => e instanceof FutureRevisionError && e.message === "mvcc: required revision is a future revision");
    assert.throws(() => s.compact(3), CompactedError);
    assert.throws(() => s.compact(9), FutureRevisionError);
  });
});

test("compaction removes superseded revisions from the backend but keeps what reads need", async () => {
  await withStore(async (s) => {
    put(s, "a", "1"); // 2
    put(s, "a", "2"); // 3
    put(s, "b", "1"); // 4
    del(s, one("b")); // 5
    s.compact(5);
    await s.compactionsDone();
    let revisions = 0;
    s.backend.forEachRevision(Buffer.alloc(0), null, () => void revisions++);
    assert.equal(revisions, 1, "only a@3 is left: a@2 is superseded, b's generation ended at 5");
    assert.equal(s.range(one("a")).kvs[0]!.value.toString(), "2");
  });
});

test("a restored store has the same keys, revisions and hash as before the restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-mvcc-"));
  try {
    const s = KVStore.restore(env, await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, dir));
    put(s, "a", "1");
    put(s, "b", "1");
    del(s, one("a"));
    put(s, "c", "1");
    s.compact(3);
    const hashBefore = s.hashKV(0);
    await s.compactionsDone();
    await s.backend.close();
    const reopened = KVStore.restore(env, await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, dir));
    assert.equal(reopened.currentRevision, s.currentRevision);
    assert.equal(reopened.compactRevision, 3);
    assert.deepEqual(reopened.range({ key: "\0", end: "\0" }).kvs.map((kv) => kv.key.toString()), ["b", "c"]);
    assert.deepEqual(reopened.hashKV(0), hashBefore);
    await reopened.backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hashKV changes with the data and not with the reader", async () => {
  await withStore((s) => {
    put(s, "a", "1");
    const h1 = s.hashKV(0).hash;
    assert.equal(s.hashKV(0).hash, h1);
    put(s, "a", "2");
    assert.notEqual(s.hashKV(0).hash, h1);
    assert.equal(s.hashKV(2).hash, h1, "hash at an older revision covers only that much history");
  });
});

test("a synced watcher gets each txn's events in order; filters by range", async () => {
  await withStore((s) => {
    const w = new WatchableStore(env, s);
    const got: string[] = [];
    w.watch(prefix("a/"), 0, { deliver: (evs) => (got.push(...evs.map((e) => `${e.type === EventType.Put ? "PUT" : "DEL"} ${e.kv.key} @${e.kv.modRevision}`)), true), compacted: () => assert.fail("not compacted") });
    for (const [key, v] of [["a/1", "x"], ["b/1", "x"], ["a/2", "y"]] as const) w.notify(put(s, key, v), s.currentRevision);
    w.notify(del(s, one("a/1")), s.currentRevision);
    assert.deepEqual(got, ["PUT a/1 @2", "PUT a/2 @4", "DEL a/1 @5"]);
    w.close();
  });
});

test("a watcher from a past revision replays history, then follows live events exactly once", async () => {
  await withStore((s) => {
    const w = new WatchableStore(env, s);
    for (let i = 0; i < 5; i++) put(s, "k", String(i)); // revisions 2..6
    const got: number[] = [];
    w.watch(one("k"), 3, { deliver: (evs) => (got.push(...evs.map((e) => e.kv.modRevision)), true), compacted: () => assert.fail("not compacted") });
    w.syncWatchers();
    w.notify(put(s, "k", "live"), s.currentRevision);
    assert.deepEqual(got, [3, 4, 5, 6, 7]);
    w.close();
  });
});

test("a watcher whose start revision is compacted is told the compact revision", async () => {
  await withStore((s) => {
    const w = new WatchableStore(env, s);
    for (let i = 0; i < 4; i++) put(s, "k", String(i));
    s.compact(4);
    let compactedAt = 0;
    w.watch(one("k"), 2, { deliver: () => assert.fail("no events expected"), compacted: (rev) => void (compactedAt = rev) });
    w.syncWatchers();
    assert.equal(compactedAt, 4);
    w.close();
  });
});

test("a watcher that refuses events is caught up from the backend without loss or duplication", async () => {
  await withStore((s) => {
    const w = new WatchableStore(env, s);
    const got: number[] = [];
    let open = true;
    w.watch(one("k"), 0, { deliver: (evs) => (open ? (got.push(...evs.map((e) => e.kv.modRevision)), true) : false), compacted: () => assert.fail("not compacted") });
    w.notify(put(s, "k", "1"), s.currentRevision); // 2 delivered
    open = false;
    w.notify(put(s, "k", "2"), s.currentRevision); // 3 refused → unsynced
    w.notify(put(s, "k", "3"), s.currentRevision); // 4 not offered while unsynced
    assert.equal(w.unsyncedCount, 1);
    open = true;
    w.syncWatchers();
    w.notify(put(s, "k", "4"), s.currentRevision); // 5 live again
    assert.deepEqual(got, [2, 3, 4, 5]);
    assert.equal(w.unsyncedCount, 0);
    w.close();
  });
});

test("restore attaches each live key to the lease of its latest revision, and no deleted key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-mvcc-"));
  try {
    const s = KVStore.restore(env, await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, dir));
    put(s, "a", "1", 7n);
    put(s, "b", "1", 7n);
    put(s, "b", "2"); // b's latest revision has no lease
    put(s, "c", "1", 8n);
    del(s, one("c"));
    put(s, "d", "1", 8n);
    await s.backend.close();
    const attached: string[] = [];
    const reopened = KVStore.restore(env, await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, dir), { attach: (lease, key) => void attached.push(`${key}@${lease}`), detach: () => {}, leaseOf: () => 0n });
    assert.deepEqual(attached.sort(), ["a@7", "d@8"]);
    await reopened.backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
