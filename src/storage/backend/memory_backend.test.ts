import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeClock, nodeFileSystem } from "../../platform/node/node_env.js";
import { Backend, type BackendStore } from "./backend.js";
import { MemoryBackendMedium } from "./memory_backend.js";
import { encodeRevision } from "../mvcc/revision.js";
import { ManualClock } from "../../env/manual_clock.js";

const rev = (main: number) => encodeRevision({ main, sub: 0 });

function revisions(b: BackendStore): number[] {
  const out: number[] = [];
  b.forEachRevision(Buffer.alloc(0), null, (k) => void out.push(Number(k.readBigUInt64BE(0))));
  return out;
}

test("writes are visible at once, before commit", () => {
  const b = new MemoryBackendMedium().open("/m/backend");
  b.putRevision(rev(2), Buffer.from("v2"));
  b.putMeta("consistent_index", "7");
  b.putLease({ id: 5n, ttlSeconds: 30 });
  assert.equal(b.getRevision(rev(2))?.toString(), "v2");
  assert.equal(b.getMeta("consistent_index"), "7");
  assert.deepEqual(b.leases(), [{ id: 5n, ttlSeconds: 30 }]);
  b.removeRevision(rev(2));
  b.removeLease(5n);
  assert.equal(b.getRevision(rev(2)), undefined);
  assert.deepEqual(b.leases(), []);
});

test("a crash keeps what was committed and loses every later write, removals included", async () => {
  const medium = new MemoryBackendMedium();
  const b = medium.open("/m/backend");
  b.putRevision(rev(2), Buffer.from("a"));
  b.putRevision(rev(3), Buffer.from("b"));
  b.putMeta("consistent_index", "3");
  await b.commit();
  b.putRevision(rev(4), Buffer.from("c"));
  b.removeRevision(rev(2));
  b.putMeta("consistent_index", "4");
  medium.crash();
  assert.throws(() => b.getRevision(rev(2)), /opened before a crash/);
  const again = medium.open("/m/backend");
  assert.deepEqual(revisions(again), [2, 3]);
  assert.equal(again.getMeta("consistent_index"), "3");
});

test("a range scan merges pending writes and removals with committed data in order", async () => {
  const b = new MemoryBackendMedium().open("/m/backend");
  for (const main of [2, 4, 6]) b.putRevision(rev(main), Buffer.from(String(main)));
  await b.commit();
  b.putRevision(rev(3), Buffer.from("3"));
  b.removeRevision(rev(4));
  b.putRevision(rev(7), Buffer.from("7"));
  assert.deepEqual(revisions(b), [2, 3, 6, 7]);
  const upTo6: number[] = [];
  b.forEachRevision(rev(3), rev(7), (k) => void upTo6.push(Number(k.readBigUInt64BE(0))));
  assert.deepEqual(upTo6, [3, 6], "from is inclusive, to exclusive");
  const first: number[] = [];
  b.forEachRevision(rev(0), null, (k) => (first.push(Number(k.readBigUInt64BE(0))), true));
  assert.deepEqual(first, [2], "returning true stops the scan");
});

test("hashAll reads committed data only and two backends with the same history hash equal", async () => {
  const medium = new MemoryBackendMedium();
  const a = medium.open("/a");
  const b = medium.open("/b");
  for (const x of [a, b]) {
    x.putRevision(rev(2), Buffer.from("v"));
    x.putMeta("consistent_index", "2");
  }
  await a.commit();
  assert.notEqual(a.hashAll(), b.hashAll(), "b's writes are not committed yet");
  await b.commit();
  assert.equal(a.hashAll(), b.hashAll());
  b.putLease({ id: 1n, ttlSeconds: 10 });
  await b.commit();
  assert.notEqual(a.hashAll(), b.hashAll());
});

test("hashAll equals the LMDB Backend's over the same writes, so a simulated member compares with a real one", async () => {
  const root = mkdtempSync(join(tmpdir(), "tk8s-membackend-"));
  try {
    const real = await Backend.open({ fs: nodeFileSystem, clock: nodeClock }, join(root, "backend"));
    const mem = new MemoryBackendMedium().open("/backend");
    for (const x of [real, mem] as BackendStore[]) {
      for (let main = 1; main <= 40; main++) x.putRevision(rev(main), Buffer.from(`value-${main}`));
      x.removeRevision(rev(7));
      x.putMeta("consistent_index", "40");
      x.putMeta("finishedCompactRev", "3");
      x.putLease({ id: 300n, ttlSeconds: 60 });
      x.putLease({ id: 2n, ttlSeconds: 5 });
      await x.commit();
    }
    assert.equal(mem.hashAll(), real.hashAll());
    assert.deepEqual(mem.leases(), real.leases());
    assert.deepEqual(revisions(mem), revisions(real));
    await real.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("defragment and close keep the data; a closed handle refuses use", async () => {
  const medium = new MemoryBackendMedium();
  const b = medium.open("/m");
  b.putRevision(rev(2), Buffer.from("x"));
  const { beforeBytes, afterBytes } = await b.defragment();
  assert.ok(beforeBytes > 0 && afterBytes === beforeBytes);
  await b.close();
  assert.throws(() => b.getRevision(rev(2)), /closed backend/);
  assert.equal(medium.open("/m").getRevision(rev(2))?.toString(), "x");
});

test("with autoCommit, writes become durable delayMs after the first uncommitted one, as LMDB's commit delay", () => {
  const clock = new ManualClock();
  const medium = new MemoryBackendMedium({ autoCommit: { clock, delayMs: 100 } });
  const b = medium.open("/m");
  b.putRevision(rev(2), Buffer.from("a"));
  clock.advance(60);
  b.putRevision(rev(3), Buffer.from("b"));
  clock.advance(40);
  b.putRevision(rev(4), Buffer.from("c"));
  clock.advance(50);
  medium.crash();
  assert.deepEqual(revisions(medium.open("/m")), [2, 3], "the write 50 ms before the crash was not committed yet");
});
