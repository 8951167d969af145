import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/env/memory_fs.js";
import { SeededRng } from "../../src/env/seeded_rng.js";
import { ManualClock } from "../../src/env/manual_clock.js";
import { DISK_LATENCY_DEFAULT, FaultyFileSystem } from "./faulty_fs.js";
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


/** Advances the clock 1 ms at a time, letting continuations run, as the simulator does. */
async function runFor(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
  }
}

function slowDisk(seed: number, latency = { appendMsMax: 5, syncMsMax: 20 }) {
  const clock = new ManualClock(0);
  const mem = new MemoryFileSystem();
  const fs = new FaultyFileSystem(mem, new SimRandom(new SeededRng(seed)), { clock, latencyRandom: new SimRandom(new SeededRng(seed + 1)), latency });
  return { clock, mem, fs };
}

test("on a slow disk an fsync completes only after virtual time passes, and operations finish in the order issued", async () => {
  const { clock, fs } = slowDisk(7, { appendMsMax: 5, syncMsMax: 20 });
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/wal");
  const done: string[] = [];
  // Issued together (as a WAL append and a snapshot file written concurrently): one queue serves them.
  const ops = [
    f.append(bytes("a")).then(() => done.push(`append@${clock.nowMs()}`)),
    f.sync().then(() => done.push(`sync@${clock.nowMs()}`)),
    fs.writeFileAtomic("/d/snap", bytes("s")).then(() => done.push(`atomic@${clock.nowMs()}`)),
  ];
  await new Promise((r) => setImmediate(r));
  assert.ok(fs.delayed >= 1, "nothing waited on the disk");
  await runFor(clock, 100);
  await Promise.all(ops);
  assert.deepEqual(done.map((d) => d.split("@")[0]), ["append", "sync", "atomic"]);
  const times = done.map((d) => Number(d.split("@")[1]));
  assert.deepEqual([...times].sort((a, b) => a - b), times);
  assert.ok(times[2]! > 0 && times[2]! <= 5 + 20 + 20, `finished at ${times.join(",")}`);
});

test("a crash while an fsync is queued loses the unsynced bytes, and the queued operation never lands", async () => {
  // Retried over seeds until one draws a non-zero sync latency (deterministic: the first such seed).
  for (let seed = 1; seed < 50; seed++) {
    const { clock, mem, fs } = slowDisk(seed, { appendMsMax: 0, syncMsMax: 20 });
    // The file itself is durable (created on an instant disk), its new bytes are not yet.
    const latency = fs.latency;
    fs.latency = null;
    await fs.mkdirp("/d");
    const f = await fs.openAppend("/d/wal");
    await fs.syncDir("/d");
    fs.latency = latency;
    await f.append(bytes("ab"));
    let settled = false;
    void f.sync().then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setImmediate(r));
    if (settled) continue;
    fs.crash();
    mem.crash();
    await runFor(clock, 50);
    assert.equal(settled, false, "a sync queued before the crash completed after it");
    assert.equal((await fs.readFile("/d/wal")).length, 0);
    return;
  }
  assert.fail("no seed drew a non-zero fsync latency");
});

test("disk latencies are a function of the seed", async () => {
  const finishTimes = async (seed: number): Promise<number[]> => {
    const { clock, fs } = slowDisk(seed, DISK_LATENCY_DEFAULT);
    await fs.mkdirp("/d");
    const f = await fs.openAppend("/d/wal");
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      const p = f.sync().then(() => out.push(clock.nowMs()));
      while (out.length <= i) await runFor(clock, 1);
      await p;
    }
    return out;
  };
  const a = await finishTimes(11);
  assert.deepEqual(await finishTimes(11), a);
  assert.notDeepEqual(await finishTimes(12), a);
  assert.ok(a[a.length - 1]! > 10, `ten fsyncs took only ${a[a.length - 1]} ms`);
});

test("a crashed incarnation's calls never reach the disk its next incarnation runs on, and never settle", async () => {
  const mem = new MemoryFileSystem();
  const fs = new FaultyFileSystem(mem, new SimRandom(new SeededRng(1)));
  const first = fs.session();
  await first.mkdirp("/d");
  await first.writeFileAtomic("/d/segment", bytes("entries"));
  fs.crash();
  mem.crash();
  const second = fs.session();
  let settled = false;
  // The first incarnation's snapshot code, still running, releases a WAL segment and writes a file.
  void first.remove("/d/segment").finally(() => (settled = true));
  void first.writeFileAtomic("/d/snap", bytes("old")).finally(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  assert.deepEqual(await second.readFile("/d/segment"), bytes("entries"));
  assert.equal(await second.exists("/d/snap"), false);
});
