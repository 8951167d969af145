import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/env/memory_fs.js";
import { SeededRng } from "../../src/env/seeded_rng.js";
import { FaultyFileSystem } from "./faulty_fs.js";
import { SimRandom } from "./rand.js";

const bytes = (s: string) => new TextEncoder().encode(s);

test("a healthy faulty disk passes everything through, and a crash keeps only synced bytes", async () => {
  const mem = new MemoryFileSystem();
  const fs = new FaultyFileSystem(mem, new SimRandom(new SeededRng(1)));
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/wal");
  await f.append(bytes("ab"));
  await f.sync();
  await f.append(bytes("cd"));
  await fs.syncDir("/d");
  mem.crash();
  assert.deepEqual(await fs.readFile("/d/wal"), bytes("ab"));
  assert.equal(fs.errors, 0);
});

test("with error rate 1 every write and fsync fails with EIO and leaves nothing durable", async () => {
  const mem = new MemoryFileSystem();
  const fs = new FaultyFileSystem(mem, new SimRandom(new SeededRng(1)));
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/wal");
  fs.errorRate = 1;
  await assert.rejects(f.append(bytes("x")), { code: "EIO" });
  await assert.rejects(f.sync(), { code: "EIO" });
  await assert.rejects(fs.writeFileAtomic("/d/snap", bytes("s")), { code: "EIO" });
  await assert.rejects(fs.syncDir("/d"), { code: "EIO" });
  assert.equal(fs.errors, 4);
  assert.equal(f.size(), 0);
  assert.equal(await fs.exists("/d/snap"), false);
});

test("a partly failing disk fails the same operations for the same seed", async () => {
  const failures = async (seed: number): Promise<number[]> => {
    const fs = new FaultyFileSystem(new MemoryFileSystem(), new SimRandom(new SeededRng(seed)));
    await fs.mkdirp("/d");
    const f = await fs.openAppend("/d/wal");
    fs.errorRate = 0.3;
    const out: number[] = [];
    for (let i = 0; i < 50; i++) await f.sync().catch(() => out.push(i));
    return out;
  };
  const a = await failures(3);
  assert.ok(a.length > 5 && a.length < 30, `${a.length} of 50 failed`);
  assert.deepEqual(await failures(3), a);
});
