import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeClock, nodeFileSystem } from "../../platform/node/node_env.js";
import { ManualClock } from "../../env/manual_clock.js";
import { Backend } from "./backend.js";
import { encodeRevision } from "../mvcc/revision.js";

const env = { fs: nodeFileSystem, clock: nodeClock };

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "tk8s-backend-"));
  return fn(join(root, "backend")).finally(() => rmSync(root, { recursive: true, force: true }));
}

function revisions(b: Backend): number[] {
  const out: number[] = [];
  b.forEachRevision(Buffer.alloc(0), null, (k) => void out.push(Number(k.readBigUInt64BE(0))));
  return out;
}

test("writes are readable before LMDB commits them, and after", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    b.putRevision(encodeRevision({ main: 2, sub: 0 }), Buffer.from("v2"));
    assert.equal(b.getRevision(encodeRevision({ main: 2, sub: 0 }))?.toString(), "v2", "pending write visible");
    await b.commit();
    assert.equal(b.getRevision(encodeRevision({ main: 2, sub: 0 }))?.toString(), "v2");
    b.removeRevision(encodeRevision({ main: 2, sub: 0 }));
    assert.equal(b.getRevision(encodeRevision({ main: 2, sub: 0 })), undefined, "pending removal visible");
    await b.close();
  });
});

test("a range scan merges pending writes and removals with committed data in order", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    for (const main of [2, 4, 6]) b.putRevision(encodeRevision({ main, sub: 0 }), Buffer.from(String(main)));
    await b.commit();
    b.putRevision(encodeRevision({ main: 3, sub: 0 }), Buffer.from("3"));
    b.removeRevision(encodeRevision({ main: 4, sub: 0 }));
    b.putRevision(encodeRevision({ main: 7, sub: 0 }), Buffer.from("7"));
    assert.deepEqual(revisions(b), [2, 3, 6, 7]);
    await b.close();
  });
});

test("defragment shrinks a backend whose data was mostly deleted and keeps every live entry", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    const value = Buffer.alloc(2048, 7);
    for (let main = 1; main <= 3000; main++) b.putRevision(encodeRevision({ main, sub: 0 }), value);
    b.putMeta("consistent_index", "3000");
    b.putLease({ id: 42n, ttlSeconds: 60 });
    await b.commit();
    for (let main = 1; main <= 2990; main++) b.removeRevision(encodeRevision({ main, sub: 0 }));
    await b.commit();
    const { beforeBytes, afterBytes } = await b.defragment();
    assert.ok(afterBytes < beforeBytes / 4, `defragment went from ${beforeBytes} to ${afterBytes} bytes`);
    assert.deepEqual(revisions(b), Array.from({ length: 10 }, (_, i) => 2991 + i));
    assert.equal(b.getMeta("consistent_index"), "3000");
    assert.deepEqual(b.leases(), [{ id: 42n, ttlSeconds: 60 }]);
    b.putRevision(encodeRevision({ main: 3001, sub: 0 }), value);
    await b.close();
    const reopened = await Backend.open(env, dir);
    assert.equal(revisions(reopened).length, 11, "writes after defragment land in the new file");
    await reopened.close();
  });
});

test("a defragment cut between its two renames is rolled back to the complete old copy on open", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    b.putRevision(encodeRevision({ main: 5, sub: 0 }), Buffer.from("five"));
    await b.close();
    // The state after "rename dir → dir.predefrag" and before "rename dir.defrag → dir".
    renameSync(dir, `${dir}.predefrag`);
    const reopened = await Backend.open(env, dir);
    assert.equal(reopened.getRevision(encodeRevision({ main: 5, sub: 0 }))?.toString(), "five");
    assert.equal(existsSync(`${dir}.predefrag`), false);
    await reopened.close();
  });
});

test("hashAll covers every store and changes with any of them", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    b.putRevision(encodeRevision({ main: 2, sub: 0 }), Buffer.from("v"));
    await b.commit();
    const h1 = b.hashAll();
    assert.equal(b.hashAll(), h1, "stable without writes");
    b.putLease({ id: 9n, ttlSeconds: 30 });
    await b.commit();
    const h2 = b.hashAll();
    assert.notEqual(h2, h1, "a lease changes it");
    b.putMeta("consistent_index", "5");
    await b.commit();
    assert.notEqual(b.hashAll(), h2, "meta changes it");
    await b.close();
  });
});

/** Waits (bounded) until LMDB's committed state, as hashAll reads it, differs from `before`. */
async function committedChange(b: Backend, before: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (b.hashAll() !== before) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

test("writes gather for the batch interval and then commit together, as etcd's backend batch", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock();
    const b = await Backend.open({ fs: nodeFileSystem, clock }, dir, { batchIntervalMs: 100 });
    const empty = b.hashAll();
    b.putRevision(encodeRevision({ main: 2, sub: 0 }), Buffer.from("v2"));
    b.putMeta("consistent_index", "2");
    b.putLease({ id: 7n, ttlSeconds: 60 });
    assert.equal(b.getRevision(encodeRevision({ main: 2, sub: 0 }))?.toString(), "v2", "pending revision visible");
    assert.equal(b.getMeta("consistent_index"), "2", "pending meta visible");
    assert.deepEqual(b.leases(), [{ id: 7n, ttlSeconds: 60 }], "pending lease visible");
    clock.advance(99);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(b.hashAll(), empty, "nothing committed before the interval");
    clock.advance(1);
    assert.equal(await committedChange(b, empty), true, "committed once the interval ran out");
    b.removeLease(7n);
    assert.deepEqual(b.leases(), [], "a pending removal hides the committed lease");
    await b.close();
  });
});

test("a full batch commits at the end of its turn, without waiting for the interval", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock();
    const b = await Backend.open({ fs: nodeFileSystem, clock }, dir, { batchIntervalMs: 100, batchLimit: 3 });
    const empty = b.hashAll();
    for (let i = 1; i <= 3; i++) b.putRevision(encodeRevision({ main: i, sub: 0 }), Buffer.from(`v${i}`));
    assert.equal(await committedChange(b, empty), true, "the limit was reached: committed with the clock standing still");
    assert.deepEqual(revisions(b), [1, 2, 3]);
    await b.close();
  });
});

test("range scans merge pending writes in order with committed ones", async () => {
  await withDir(async (dir) => {
    const b = await Backend.open(env, dir);
    for (const main of [1, 3, 5]) b.putRevision(encodeRevision({ main, sub: 0 }), Buffer.from(`v${main}`));
    await b.commit();
    b.putRevision(encodeRevision({ main: 4, sub: 0 }), Buffer.from("v4"));
    b.putRevision(encodeRevision({ main: 6, sub: 0 }), Buffer.from("v6"));
    b.removeRevision(encodeRevision({ main: 3, sub: 0 }));
    assert.deepEqual(revisions(b), [1, 4, 5, 6]);
    const some: number[] = [];
    b.forEachRevision(encodeRevision({ main: 2, sub: 0 }), encodeRevision({ main: 6, sub: 0 }), (k) => void some.push(Number(k.readBigUInt64BE(0))));
    assert.deepEqual(some, [4, 5]);
    await b.close();
  });
});
