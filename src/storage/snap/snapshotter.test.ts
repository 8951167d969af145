import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../env/memory_fs.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { Snapshotter, decodeSnapshot, encodeSnapshot, snapName } from "./snapshotter.js";

const DIR = "/data/snap";
const enc = new TextEncoder();

function newEnv(): { fs: MemoryFileSystem; log: MemoryLogger } {
  return { fs: new MemoryFileSystem(), log: new MemoryLogger() };
}

test("snapName: names sort by term, then index", () => {
  assert.equal(snapName(1, 255), "0000000000000001-00000000000000ff.snap");
  const names = [snapName(2, 1), snapName(1, 300), snapName(1, 20)];
  assert.deepEqual([...names].sort(), [snapName(1, 20), snapName(1, 300), snapName(2, 1)]);
});

test("Snapshotter: a saved snapshot loads back, and survives a crash once save resolves", async () => {
  const env = newEnv();
  const snap = new Snapshotter(env, DIR);
  await snap.save({ index: 10, term: 2, data: enc.encode("state at 10") });
  env.fs.crash();
  assert.deepEqual(await new Snapshotter(env, DIR).loadNewest(), { index: 10, term: 2, data: enc.encode("state at 10") });
  assert.deepEqual(await env.fs.list(DIR), ["0000000000000002-000000000000000a.snap"]);
});

test("Snapshotter.loadNewest: null when there is no snapshot (or no directory)", async () => {
  const env = newEnv();
  assert.equal(await new Snapshotter(env, DIR).loadNewest(), null);
});

test("Snapshotter.loadNewest: returns the newest of several", async () => {
  const env = newEnv();
  const snap = new Snapshotter(env, DIR);
  for (const index of [5, 50, 20]) await snap.save({ index, term: 1, data: enc.encode(`s${index}`) });
  assert.deepEqual(await snap.loadNewest(), { index: 50, term: 1, data: enc.encode("s50") });
});

test("Snapshotter.loadNewest: a corrupt newest file is renamed to .broken, logged, and the next newest is used", async () => {
  const env = newEnv();
  const snap = new Snapshotter(env, DIR);
  await snap.save({ index: 5, term: 1, data: enc.encode("older") });
  await snap.save({ index: 9, term: 1, data: enc.encode("newer") });
  const newest = `${DIR}/${snapName(1, 9)}`;
  env.fs.corrupt(newest, 26, 0x00);
  assert.deepEqual(await snap.loadNewest(), { index: 5, term: 1, data: enc.encode("older") });
  assert.deepEqual(await env.fs.list(DIR), [snapName(1, 5), snapName(1, 9) + ".broken"]);
  const warn = env.log.records.find((r) => r.level === "warn");
  assert.equal(warn?.msg, "snapshot file is corrupt; renamed it and trying an older one");
  assert.equal(warn?.fields["path"], newest);
  assert.match(String(warn?.fields["reason"]), /^crc32c is 0x[0-9a-f]{8}, header says 0x[0-9a-f]{8}$/);
});

test("Snapshotter.loadNewest: a file too short for its header is corrupt too", async () => {
  const env = newEnv();
  await env.fs.mkdirp(DIR);
  await env.fs.writeFileAtomic(`${DIR}/${snapName(1, 1)}`, new Uint8Array(3));
  assert.equal(await new Snapshotter(env, DIR).loadNewest(), null);
  assert.deepEqual(await env.fs.list(DIR), [snapName(1, 1) + ".broken"]);
});

const decodeCases = [
  { name: "a file that verifies decodes", name2: snapName(3, 7), mutate: (_b: Uint8Array) => {}, want: { index: 7, term: 3 } },
  { name: "a file under another snapshot's name is refused", name2: snapName(3, 8), mutate: (_b: Uint8Array) => {}, want: "holds term 3 index 7, which the name 0000000000000003-0000000000000008.snap does not say" },
  { name: "a flipped data byte is refused", name2: snapName(3, 7), mutate: (b: Uint8Array) => { b[b.length - 1]! ^= 1; }, want: /^crc32c is/ },
  { name: "a flipped header byte is refused", name2: snapName(3, 7), mutate: (b: Uint8Array) => { b[9]! ^= 1; }, want: /^crc32c is/ },
];
for (const c of decodeCases) {
  test(`decodeSnapshot: ${c.name}`, () => {
    const bytes = encodeSnapshot({ index: 7, term: 3, data: enc.encode("data") });
    c.mutate(bytes);
    const got = decodeSnapshot(c.name2, bytes);
    if (typeof c.want === "string") assert.deepEqual(got, { reason: c.want });
    else if (c.want instanceof RegExp) assert.match("reason" in got ? got.reason : "", c.want);
    else assert.deepEqual(got, { ...c.want, data: enc.encode("data") });
  });
}

test("Snapshotter.purge: keeps the newest N and removes the rest", async () => {
  const env = newEnv();
  const snap = new Snapshotter(env, DIR);
  for (let i = 1; i <= 6; i++) await snap.save({ index: i * 10, term: 1, data: enc.encode(`s${i}`) });
  await snap.purge(2);
  assert.deepEqual(await env.fs.list(DIR), [snapName(1, 50), snapName(1, 60)]);
  env.fs.crash();
  assert.deepEqual(await env.fs.list(DIR), [snapName(1, 50), snapName(1, 60)], "the removal is durable");
  await snap.purge(5);
  assert.deepEqual(await env.fs.list(DIR), [snapName(1, 50), snapName(1, 60)]);
});

test("Snapshotter.purge: keep below 1 is a RangeError", async () => {
  await assert.rejects(new Snapshotter(newEnv(), DIR).purge(0), {
    name: "RangeError",
    message: "Cannot purge snapshots: keep must be an integer >= 1: current value is 0",
  });
});
