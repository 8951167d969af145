import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeFileSystem } from "../../platform/node/node_env.js";
import { Backend } from "./backend.js";
import { encodeRevision } from "../mvcc/revision.js";

const env = { fs: nodeFileSystem };

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
