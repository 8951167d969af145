import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, truncate as truncateFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { MemoryFileSystem } from "../../env/memory_fs.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeFileSystem } from "../../platform/node/node_env.js";
import { AssertionError } from "../../util/assert.js";
import { decodeSegment } from "./decoder.js";
import { WalFailedError } from "./errors.js";
import { Wal, WalCorruptError, WAL_SEGMENT_BYTES, type Entry, type HardState } from "./wal.js";

const DIR = "/data/wal";
const FIRST = `${DIR}/0000000000000000-0000000000000001.wal`;

function newEnv(): { fs: MemoryFileSystem; log: MemoryLogger } {
  return { fs: new MemoryFileSystem(), log: new MemoryLogger() };
}

/** Entries first..last in `term`, each with a few bytes of data that end non-zero. */
function entries(first: number, last: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) out.push({ term, index: i, type: "EntryNormal", data: new TextEncoder().encode(`value-${i}-${"x".repeat(i % 7)}`) });
  return out;
}

async function segmentNames(fs: MemoryFileSystem): Promise<string[]> {
  return (await fs.list(DIR)).filter((n) => n.endsWith(".wal"));
}

function indexes(es: readonly Entry[]): number[] {
  return es.map((e) => e.index);
}

function corruptError(path: string, offset: number): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof WalCorruptError, `want WalCorruptError, got ${String(err)}`);
    assert.equal(err.name, "WalCorruptError");
    assert.equal(err.path, path);
    assert.equal(err.offset, offset);
    assert.ok(err.message.startsWith(`Cannot open WAL: record at ${path} offset ${offset} `), err.message);
    return true;
  };
}

test("Wal.open: an empty directory becomes an empty WAL with one durable segment", async () => {
  const env = newEnv();
  const opened = await Wal.open(env, DIR);
  assert.deepEqual(opened.hardState, { term: 0, vote: 0n, commit: 0 });
  assert.equal(opened.snapshot, null);
  assert.deepEqual(opened.entries, []);
  assert.equal(opened.repairedBytes, 0);
  assert.deepEqual(await segmentNames(env.fs), ["0000000000000000-0000000000000001.wal"]);
  await opened.wal.close();
  env.fs.crash();
  assert.deepEqual(await segmentNames(env.fs), ["0000000000000000-0000000000000001.wal"]);
});

test("Wal: saved hard state and entries come back on reopen", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  const hs: HardState = { term: 2, vote: 1n, commit: 3 };
  await wal.save(hs, entries(1, 3, 2));
  await wal.save(null, [{ term: 2, index: 4, type: "EntryNormal", data: new Uint8Array([0, 255, 0, 1]) }]);
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.hardState, hs);
  assert.deepEqual(reopened.entries, [...entries(1, 3, 2), { term: 2, index: 4, type: "EntryNormal", data: new Uint8Array([0, 255, 0, 1]) }]);
  assert.equal(reopened.repairedBytes, 0);
});

test("Wal: indexes and terms up to 2^53-1 survive a round trip", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  const top = Number.MAX_SAFE_INTEGER;
  await wal.saveSnapshot({ index: top - 2, term: 2 ** 40 });
  await wal.save({ term: 2 ** 52, vote: 0xfedcba9876543210n, commit: top }, [
    { term: 2 ** 52, index: top - 1, type: "EntryNormal", data: new Uint8Array([1]) },
    { term: 2 ** 52, index: top, type: "EntryNormal", data: new Uint8Array([2]) },
  ]);
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.snapshot, { index: top - 2, term: 2 ** 40 });
  assert.deepEqual(indexes(reopened.entries), [top - 1, top]);
  assert.deepEqual(reopened.hardState, { term: 2 ** 52, vote: 0xfedcba9876543210n, commit: top });
});

test("Wal: many entries across segment cuts come back in order, and appends continue after reopen", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 1024 });
  for (let i = 1; i <= 400; i += 5) await wal.save({ term: 1, vote: 1n, commit: i + 4 }, entries(i, i + 4));
  await wal.close();
  const names = await segmentNames(env.fs);
  assert.ok(names.length > 10, `want many segments, got ${names.length}`);
  names.forEach((n, i) => assert.ok(n.startsWith(i.toString(16).padStart(16, "0") + "-"), `segment ${i} is ${n}`));
  // Each segment is named for the entry that follows the last one before the cut.
  const firstIndexes = names.map((n) => Number.parseInt(n.slice(17, 33), 16));
  assert.deepEqual(firstIndexes, [...firstIndexes].sort((a, b) => a - b));

  const reopened = await Wal.open(env, DIR, { segmentBytes: 1024 });
  assert.deepEqual(reopened.entries, entries(1, 400));
  assert.deepEqual(reopened.hardState, { term: 1, vote: 1n, commit: 400 });
  await reopened.wal.save(null, entries(401, 450));
  await reopened.wal.close();
  const again = await Wal.open(env, DIR, { segmentBytes: 1024 });
  assert.deepEqual(again.entries, entries(1, 450));
});

test("Wal.save: exactly one fsync per call, none for an empty call", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  const before = wal.fsyncCount;
  for (let i = 1; i <= 10; i++) await wal.save({ term: 1, vote: 1n, commit: i }, entries(i, i));
  assert.equal(wal.fsyncCount, before + 10);
  await wal.save(null, []);
  assert.equal(wal.fsyncCount, before + 10);
  await wal.save(null, entries(11, 200));
  assert.equal(wal.fsyncCount, before + 11);
});

test("Wal.save: a save that cuts a segment also fsyncs the new segment and its directory", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 64 });
  const before = wal.fsyncCount;
  await wal.save(null, entries(1, 3));
  assert.equal(wal.fsyncCount, before + 3);
  assert.deepEqual(await segmentNames(env.fs), ["0000000000000000-0000000000000001.wal", "0000000000000001-0000000000000004.wal"]);
  env.fs.crash();
  assert.equal((await segmentNames(env.fs)).length, 2, "the cut is durable once save resolves");
});

test("Wal: a crash loses unsynced bytes, and reopening returns exactly the synced prefix", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save({ term: 1, vote: 1n, commit: 5 }, entries(1, 5));
  await wal.save({ term: 1, vote: 1n, commit: 10 }, entries(6, 10));
  const syncedBytes = env.fs.bytes(FIRST).length;
  env.fs.failSyncs(1);
  await assert.rejects(wal.save({ term: 1, vote: 1n, commit: 20 }, entries(11, 20)), { code: "EIO" });
  assert.ok(env.fs.bytes(FIRST).length > syncedBytes, "the failed save appended bytes");
  env.fs.crash();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.entries, entries(1, 10));
  assert.deepEqual(reopened.hardState, { term: 1, vote: 1n, commit: 10 });
  assert.equal(reopened.repairedBytes, 0);
  assert.equal(env.fs.bytes(FIRST).length, syncedBytes);
});

test("Wal.save: after a failed fsync every later save throws WalFailedError", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  env.fs.failSyncs(1);
  await assert.rejects(wal.save(null, entries(1, 1)), { code: "EIO" });
  await assert.rejects(wal.save(null, entries(1, 1)), WalFailedError);
  await assert.rejects(wal.saveSnapshot({ index: 0, term: 0 }), WalFailedError);
});

test("Wal.open: a torn tail at every byte offset of the last record is cut off and logged", async () => {
  // A reference run to learn how many bytes the last record takes.
  const ref = newEnv();
  const refWal = (await Wal.open(ref, DIR)).wal;
  await refWal.save({ term: 1, vote: 1n, commit: 3 }, entries(1, 3));
  const syncedBytes = ref.fs.bytes(FIRST).length;
  await refWal.save(null, entries(4, 4));
  const frameBytes = ref.fs.bytes(FIRST).length - syncedBytes;
  assert.ok(frameBytes > 16);

  for (let kept = 0; kept <= frameBytes; kept++) {
    const env = newEnv();
    const { wal } = await Wal.open(env, DIR);
    await wal.save({ term: 1, vote: 1n, commit: 3 }, entries(1, 3));
    env.fs.failSyncs(1);
    await assert.rejects(wal.save(null, entries(4, 4)));
    env.fs.crash({ tornTailBytes: kept });
    const reopened = await Wal.open(env, DIR);
    const warns = env.log.records.filter((r) => r.level === "warn");
    if (kept === frameBytes) {
      // The whole record made it: it is valid and comes back (it was written, just never acknowledged).
      assert.deepEqual(indexes(reopened.entries), [1, 2, 3, 4]);
      assert.equal(reopened.repairedBytes, 0);
      continue;
    }
    assert.deepEqual(indexes(reopened.entries), [1, 2, 3], `kept ${kept}`);
    assert.equal(reopened.repairedBytes, kept, `kept ${kept}`);
    assert.equal(env.fs.bytes(FIRST).length, syncedBytes, `kept ${kept}`);
    if (kept === 0) assert.deepEqual(warns, []);
    else assert.deepEqual(warns, [{ level: "warn", msg: "truncated torn WAL tail", fields: { path: FIRST, offset: syncedBytes, droppedBytes: kept } }]);
    // The repair is durable and the log continues from the last valid record.
    await reopened.wal.save(null, entries(4, 5));
    env.fs.crash();
    const again = await Wal.open(env, DIR);
    assert.deepEqual(indexes(again.entries), [1, 2, 3, 4, 5], `kept ${kept}`);
    assert.equal(again.repairedBytes, 0);
  }
});

test("Wal.open: a last record whose tail sectors read back as zeros is cut off", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 3));
  const syncedBytes = env.fs.bytes(FIRST).length;
  await wal.save(null, entries(4, 4));
  await wal.close();
  const full = env.fs.bytes(FIRST);
  // Zeros start on a sector boundary, and sectors are multiples of 8: try every 8-byte boundary.
  for (let from = syncedBytes; from < full.length; from += 8) {
    for (let i = 0; i < full.length; i++) env.fs.corrupt(FIRST, i, i < from ? full[i]! : 0);
    const reopened = await Wal.open({ fs: env.fs, log: new MemoryLogger() }, DIR);
    assert.deepEqual(indexes(reopened.entries), [1, 2, 3], `zeros from ${from}`);
    assert.equal(reopened.repairedBytes, full.length - syncedBytes);
    await reopened.wal.close();
    // Put the full record back for the next round.
    const f = await env.fs.openAppend(FIRST);
    await f.append(full.subarray(syncedBytes));
    await f.sync();
    await f.close();
  }
});

test("Wal.open: zeros after the last record are cut off and the log is intact", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save({ term: 1, vote: 1n, commit: 3 }, entries(1, 3));
  await wal.close();
  const size = env.fs.bytes(FIRST).length;
  const f = await env.fs.openAppend(FIRST);
  await f.append(new Uint8Array(4096));
  await f.sync();
  await f.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.entries, entries(1, 3));
  assert.equal(reopened.repairedBytes, 4096);
  assert.equal(env.fs.bytes(FIRST).length, size);
  assert.deepEqual(env.log.records.at(-1), { level: "warn", msg: "truncated torn WAL tail", fields: { path: FIRST, offset: size, droppedBytes: 4096 } });
});

test("Wal.open: a flipped byte anywhere in a middle record is WalCorruptError and nothing is truncated", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  for (let i = 1; i <= 6; i++) await wal.save({ term: 1, vote: 1n, commit: i }, entries(i, i));
  await wal.close();
  const original = env.fs.bytes(FIRST);
  const records = decodeSegment(original, null).records;
  const third = records.findIndex((r) => r.record.type === "entry" && r.record.entry.index === 3);
  const start = records[third]!.offset;
  const end = records[third + 1]!.offset;
  for (let at = start; at < end; at++) {
    env.fs.corrupt(FIRST, at, original[at]! ^ 0x5a);
    await assert.rejects(Wal.open(env, DIR), corruptError(FIRST, start), `flip at ${at}`);
    assert.deepEqual(env.fs.bytes(FIRST), (() => { const b = original.slice(); b[at]! ^= 0x5a; return b; })());
    env.fs.corrupt(FIRST, at, original[at]!);
  }
  // A payload flip reads as the brief's example message.
  env.fs.corrupt(FIRST, end - 9, original[end - 9]! ^ 1);
  await assert.rejects(Wal.open(env, DIR), {
    message: `Cannot open WAL: record at ${FIRST} offset ${start} failed its CRC check (corrupt record in the middle of the log)`,
  });
});

test("Wal.open: a bad record in a segment that is not the last is corruption, even with only zeros after it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 256 });
  for (let i = 1; i <= 40; i++) await wal.save(null, entries(i, i));
  await wal.close();
  const names = await segmentNames(env.fs);
  assert.ok(names.length >= 3);
  const path = `${DIR}/${names[1]}`;
  const bytes = env.fs.bytes(path);
  const records = decodeSegment(bytes, null).records;
  const lastAt = records.at(-1)!.offset;
  for (let i = lastAt + 8; i < bytes.length; i++) env.fs.corrupt(path, i, 0);
  await assert.rejects(Wal.open(env, DIR), (err: unknown) => {
    corruptError(path, lastAt)(err);
    assert.match((err as Error).message, /failed its CRC check \(corrupt record in a segment that is not the last\)$/);
    return true;
  });
});

test("Wal.open: a missing middle segment is corruption", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 256 });
  for (let i = 1; i <= 40; i++) await wal.save(null, entries(i, i));
  await wal.close();
  const names = await segmentNames(env.fs);
  await env.fs.remove(`${DIR}/${names[1]}`);
  await assert.rejects(Wal.open(env, DIR), (err: unknown) => {
    corruptError(`${DIR}/${names[2]}`, 0)(err);
    assert.match((err as Error).message, /a segment file is missing/);
    return true;
  });
});

test("Wal.open: a segment renamed out of order breaks the CRC chain and is corruption", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 256 });
  for (let i = 1; i <= 40; i++) await wal.save(null, entries(i, i));
  await wal.close();
  const names = await segmentNames(env.fs);
  // Swap the contents of segments 1 and 2 (names stay in sequence).
  const a = env.fs.bytes(`${DIR}/${names[1]}`);
  await env.fs.rename(`${DIR}/${names[2]}`, `${DIR}/${names[1]}`);
  const f = await env.fs.openAppend(`${DIR}/${names[2]}`);
  await f.append(a);
  await f.close();
  await assert.rejects(Wal.open(env, DIR), WalCorruptError);
});

test("Wal: a snapshot marker drops the entries it covers and keeps the ones after it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save({ term: 1, vote: 1n, commit: 10 }, entries(1, 10));
  await wal.saveSnapshot({ index: 6, term: 1 });
  await wal.save({ term: 1, vote: 1n, commit: 12 }, entries(11, 12));
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.snapshot, { index: 6, term: 1 });
  assert.deepEqual(reopened.entries, entries(7, 12));
  assert.deepEqual(reopened.hardState, { term: 1, vote: 1n, commit: 12 });
});

test("Wal: a snapshot marker ahead of the log (an installed snapshot) lets entries continue after it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 5));
  await wal.saveSnapshot({ index: 100, term: 3 });
  await wal.save({ term: 3, vote: 2n, commit: 102 }, entries(101, 102, 3));
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.snapshot, { index: 100, term: 3 });
  assert.deepEqual(reopened.entries, entries(101, 102, 3));
});

test("Wal.saveSnapshot: makes the marker durable before it resolves", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 5));
  const before = wal.fsyncCount;
  await wal.saveSnapshot({ index: 5, term: 1 });
  assert.equal(wal.fsyncCount, before + 1);
  env.fs.crash();
  assert.deepEqual((await Wal.open(env, DIR)).snapshot, { index: 5, term: 1 });
});

test("Wal.releaseBefore: removes old segments, and reopening still gives the snapshot, hard state and later entries", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 512 });
  // The only hard state is written early, so after the release it must come from a segment header.
  await wal.save({ term: 4, vote: 2n, commit: 1 }, entries(1, 1, 4));
  for (let i = 2; i <= 200; i += 3) await wal.save(null, entries(i, i + 2, 4));
  await wal.saveSnapshot({ index: 150, term: 4 });
  const before = await segmentNames(env.fs);
  await wal.releaseBefore(150);
  const after = await segmentNames(env.fs);
  assert.ok(after.length < before.length, "some segments were removed");
  assert.deepEqual(after, before.slice(before.length - after.length), "the oldest ones, and only those");
  const firstIndexOf = (n: string): number => Number.parseInt(n.slice(17, 33), 16);
  // Kept: the first segment left may hold entries up to 150; the one after it starts above 150.
  assert.ok(firstIndexOf(after[0]!) <= 150);
  assert.ok(after.length === 1 || firstIndexOf(after[1]!) > 150);
  assert.equal(env.log.records.filter((r) => r.msg === "released WAL segments").length, 1);
  env.fs.crash();
  const reopened = await Wal.open(env, DIR, { segmentBytes: 512 });
  assert.deepEqual(reopened.snapshot, { index: 150, term: 4 });
  assert.deepEqual(reopened.hardState, { term: 4, vote: 2n, commit: 1 });
  assert.deepEqual(reopened.entries, entries(151, 202, 4));
});

test("Wal.releaseBefore: keeps a segment that still holds the index itself", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 128 });
  await wal.save(null, entries(1, 20)); // cuts: the next segment starts at 21
  await wal.saveSnapshot({ index: 20, term: 1 });
  await wal.releaseBefore(20);
  assert.equal((await segmentNames(env.fs)).length, 2, "entry 20 is not below 20");
  await wal.releaseBefore(20);
  assert.equal((await segmentNames(env.fs)).length, 2);
});

test("Wal.releaseBefore: never removes the segment in use, even when the snapshot covers all of it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 128 });
  await wal.save(null, entries(1, 20));
  await wal.save(null, entries(21, 40));
  await wal.saveSnapshot({ index: 100, term: 2 });
  await wal.releaseBefore(100);
  const names = await segmentNames(env.fs);
  assert.equal(names.length, 1);
  assert.equal(names[0], "0000000000000002-0000000000000029.wal");
  await wal.save(null, entries(101, 102, 2));
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.snapshot, { index: 100, term: 2 });
  assert.deepEqual(reopened.entries, entries(101, 102, 2));
});

test("Wal.releaseBefore: an index beyond the newest snapshot marker is an assertion", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 5));
  await assert.rejects(wal.releaseBefore(3), AssertionError);
});

test("Wal: a later entry at an index already in the log replaces it and everything after it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 5, 1));
  await wal.save({ term: 2, vote: 3n, commit: 3 }, entries(4, 6, 2));
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.entries, [...entries(1, 3, 1), ...entries(4, 6, 2)]);
});

test("Wal: a conflict that reaches back across a segment cut replaces the suffix in the older segment", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 200 });
  for (let i = 1; i <= 12; i += 3) await wal.save(null, entries(i, i + 2, 1));
  assert.ok((await segmentNames(env.fs)).length >= 3);
  await wal.save(null, entries(2, 3, 2));
  await wal.close();
  const reopened = await Wal.open(env, DIR, { segmentBytes: 200 });
  assert.deepEqual(reopened.entries, [...entries(1, 1, 1), ...entries(2, 3, 2)]);
});

test("Wal.save: a batch that leaves a hole after the last index is an assertion", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 2));
  await assert.rejects(wal.save(null, entries(4, 5)), AssertionError);
});

test("Wal.save: overlapping calls are an assertion", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  const first = wal.save(null, entries(1, 1));
  await assert.rejects(wal.save(null, entries(2, 2)), AssertionError);
  await first;
});

test("Wal.saveSnapshot: waits for an in-flight save instead of interleaving with it", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 3));
  const saving = wal.save(null, entries(4, 6));
  const marking = wal.saveSnapshot({ index: 3, term: 1 });
  await Promise.all([saving, marking]);
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.snapshot, { index: 3, term: 1 });
  assert.deepEqual(indexes(reopened.entries), [4, 5, 6]);
});

test("Wal.open: a temp segment left by a crashed cut is removed", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  await wal.save(null, entries(1, 2));
  await wal.close();
  const f = await env.fs.openAppend(`${DIR}/0000000000000001-0000000000000003.wal.tmp`);
  await f.append(new Uint8Array([1, 2, 3]));
  await f.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(indexes(reopened.entries), [1, 2]);
  assert.deepEqual(await env.fs.list(DIR), ["0000000000000000-0000000000000001.wal"]);
});

test("Wal.save: a cut that fails after the batch is durable loses none of the batch", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 64 });
  await wal.save(null, entries(1, 1));
  // Fail the new segment's fsync: the batch's own fsync has already succeeded by then.
  const fs = env.fs;
  const openAppend = fs.openAppend.bind(fs);
  fs.openAppend = async (path: string) => {
    if (path.endsWith(".wal.tmp")) fs.failSyncs(1);
    return openAppend(path);
  };
  const before = wal.fsyncCount;
  await assert.rejects(wal.save(null, entries(2, 2)), { code: "EIO" });
  fs.openAppend = openAppend;
  assert.equal(wal.fsyncCount, before + 1, "the batch itself was made durable");
  await assert.rejects(wal.save(null, entries(3, 3)), WalFailedError);
  fs.crash();
  const reopened = await Wal.open(env, DIR, { segmentBytes: 64 });
  assert.deepEqual(indexes(reopened.entries), [1, 2]);
  assert.equal(reopened.repairedBytes, 0);
  assert.ok((await fs.list(DIR)).every((n) => !n.endsWith(".tmp")));
});

test("Wal.open: segmentBytes that is not a positive integer is a RangeError", async () => {
  await assert.rejects(Wal.open(newEnv(), DIR, { segmentBytes: 0 }), {
    name: "RangeError",
    message: "Cannot open WAL: segmentBytes must be a positive integer: current value is 0",
  });
  assert.equal(WAL_SEGMENT_BYTES, 64 * 1024 * 1024);
});

test("Wal on the real file system: round trip, cuts, and a torn tail repaired", async () => {
  const dir = await mkdtemp(`${tmpdir()}/tk8s-wal-`);
  try {
    const log = new MemoryLogger();
    const env = { fs: nodeFileSystem, log };
    const { wal } = await Wal.open(env, dir, { segmentBytes: 4096 });
    for (let i = 1; i <= 100; i += 10) await wal.save({ term: 1, vote: 1n, commit: i + 9 }, entries(i, i + 9));
    await wal.close();
    const names = (await nodeFileSystem.list(dir)).filter((n) => n.endsWith(".wal"));
    assert.ok(names.length > 1);
    const last = `${dir}/${names.at(-1)}`;
    const size = (await stat(last)).size;
    // Leave a partial record as a crash would: save one more entry (large segments, so no cut), then cut the file short.
    const reopened = await Wal.open(env, dir, { segmentBytes: 1 << 20 });
    await reopened.wal.save(null, entries(101, 101));
    await reopened.wal.close();
    await truncateFile(last, size + 5);
    const again = await Wal.open(env, dir, { segmentBytes: 1 << 20 });
    assert.deepEqual(again.entries, entries(1, 100));
    assert.equal(again.repairedBytes, 5);
    assert.equal((await stat(last)).size, size);
    await again.wal.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("Wal: a conf-change entry keeps its type across a reopen", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR);
  const cc: Entry = { term: 1, index: 1, type: "EntryConfChange", data: new Uint8Array([0, 1, 2, 3]) };
  await wal.save({ term: 1, vote: 0n, commit: 1 }, [cc, { term: 1, index: 2, type: "EntryNormal", data: new Uint8Array([9]) }]);
  await wal.close();
  const reopened = await Wal.open(env, DIR);
  assert.deepEqual(reopened.entries.map((e) => e.type), ["EntryConfChange", "EntryNormal"]);
});

test("Wal: a save without sync is lost in a crash, one with sync is not, and a cut syncs first", async () => {
  const env = newEnv();
  const { wal } = await Wal.open(env, DIR, { segmentBytes: 1024 });
  await wal.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 2));
  // A commit-only hard state (Raft's mustSync false): appended, not fsynced.
  await wal.save({ term: 1, vote: 1n, commit: 2 }, [], { sync: false });
  env.fs.crash();
  const afterCrash = await Wal.open(env, DIR, { segmentBytes: 1024 });
  assert.deepEqual(afterCrash.hardState, { term: 1, vote: 1n, commit: 0 }, "the unsynced commit index is gone");
  assert.deepEqual(indexes(afterCrash.entries), [1, 2]);
  // Unsynced records followed by a cut: the finished segment must be whole, or the next open calls it corrupt.
  const w = afterCrash.wal;
  await w.save(null, entries(3, 40));
  // Commit-only hard states until one of them fills the segment and cuts it.
  for (let c = 3; (await segmentNames(env.fs)).length < 3; c++) await w.save({ term: 1, vote: 1n, commit: Math.min(c, 40) }, [], { sync: false });
  await w.save(null, entries(41, 41));
  await w.save({ term: 1, vote: 1n, commit: 41 }, [], { sync: false });
  // A torn write: part of each file's unsynced tail survives. Only the last segment may end like that.
  env.fs.crash({ tornTailBytes: 12 });
  const again = await Wal.open(env, DIR, { segmentBytes: 1024 });
  assert.ok((await segmentNames(env.fs)).length > 1, "the test must have cut segments");
  assert.deepEqual(indexes(again.entries), Array.from({ length: 41 }, (_, i) => i + 1));
});
