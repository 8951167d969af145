import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem, MemoryFsError } from "./memory_fs.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function write(fs: MemoryFileSystem, path: string, text: string, options: { sync: boolean }): Promise<void> {
  const f = await fs.openAppend(path);
  await f.append(enc.encode(text));
  if (options.sync) await f.sync();
  await f.close();
}

function text(fs: MemoryFileSystem, path: string): string {
  return dec.decode(fs.bytes(path));
}

test("MemoryFileSystem: appended bytes are readable before they are synced", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "hello", { sync: false });
  assert.equal(dec.decode(await fs.readFile("/d/a")), "hello");
  assert.deepEqual(await fs.list("/d"), ["a"]);
});

test("MemoryFileSystem: a crash drops unsynced appends and keeps synced ones", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/a");
  await f.append(enc.encode("synced."));
  await f.sync();
  await f.append(enc.encode("lost"));
  await fs.syncDir("/d");
  fs.crash();
  assert.equal(text(fs, "/d/a"), "synced.");
});

test("MemoryFileSystem: a crash with tornTailBytes keeps that many unsynced bytes", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/a");
  await f.append(enc.encode("ab"));
  await f.sync();
  await f.append(enc.encode("cdef"));
  await fs.syncDir("/d");
  fs.crash({ tornTailBytes: 3 });
  assert.equal(text(fs, "/d/a"), "abcde");
});

test("MemoryFileSystem: a file created without syncing its directory vanishes in a crash", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "data", { sync: true });
  fs.crash();
  assert.equal(await fs.exists("/d/a"), false);
  assert.deepEqual(await fs.list("/d"), []);
});

test("MemoryFileSystem: an unsynced rename is undone by a crash and a synced one is kept", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "data", { sync: true });
  await fs.syncDir("/d");
  await fs.rename("/d/a", "/d/b");
  assert.deepEqual(await fs.list("/d"), ["b"]);
  fs.crash();
  assert.deepEqual(await fs.list("/d"), ["a"]);

  await fs.rename("/d/a", "/d/b");
  await fs.syncDir("/d");
  fs.crash();
  assert.deepEqual(await fs.list("/d"), ["b"]);
  assert.equal(text(fs, "/d/b"), "data");
});

test("MemoryFileSystem: an unsynced remove is undone by a crash", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "data", { sync: true });
  await fs.syncDir("/d");
  await fs.remove("/d/a");
  assert.equal(await fs.exists("/d/a"), false);
  fs.crash();
  assert.equal(text(fs, "/d/a"), "data");
});

test("MemoryFileSystem: writeFileAtomic survives a crash with the whole new content", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await fs.writeFileAtomic("/d/f", enc.encode("v1"));
  await fs.writeFileAtomic("/d/f", enc.encode("v2"));
  fs.crash();
  assert.equal(text(fs, "/d/f"), "v2");
  assert.deepEqual(await fs.list("/d"), ["f"]);
});

test("MemoryFileSystem: an unsynced truncate is undone by a crash", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "abcdef", { sync: true });
  await fs.syncDir("/d");
  const f = await fs.openAppend("/d/a");
  await f.truncate(2);
  await f.append(enc.encode("XY"));
  assert.equal(text(fs, "/d/a"), "abXY");
  fs.crash({ tornTailBytes: 100 });
  assert.equal(text(fs, "/d/a"), "abcdef");
});

test("MemoryFileSystem: a synced truncate survives a crash", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "abcdef", { sync: true });
  await fs.syncDir("/d");
  const f = await fs.openAppend("/d/a");
  await f.truncate(2);
  await f.sync();
  fs.crash();
  assert.equal(text(fs, "/d/a"), "ab");
});

test("MemoryFileSystem: handles opened before a crash fail with EBADF", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/a");
  fs.crash();
  await assert.rejects(f.append(enc.encode("x")), (err: unknown) => err instanceof MemoryFsError && err.code === "EBADF");
});

test("MemoryFileSystem: failSyncs makes syncs fail with EIO and leaves the bytes unsynced", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  const f = await fs.openAppend("/d/a");
  await fs.syncDir("/d");
  await f.append(enc.encode("x"));
  fs.failSyncs(1);
  await assert.rejects(f.sync(), (err: unknown) => err instanceof MemoryFsError && err.code === "EIO");
  fs.crash();
  assert.equal(fs.bytes("/d/a").length, 0);
});

test("MemoryFileSystem: corrupt changes the byte on the medium, so it survives a crash", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d");
  await write(fs, "/d/a", "abc", { sync: true });
  await fs.syncDir("/d");
  fs.corrupt("/d/a", 1, "Z".charCodeAt(0));
  fs.crash();
  assert.equal(text(fs, "/d/a"), "aZc");
});

test("MemoryFileSystem: list returns sorted names of files and subdirectories, and [] for a missing dir", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d/sub/deeper");
  await write(fs, "/d/b", "", { sync: false });
  await write(fs, "/d/a", "", { sync: false });
  assert.deepEqual(await fs.list("/d"), ["a", "b", "sub"]);
  assert.deepEqual(await fs.list("/d/"), ["a", "b", "sub"]);
  assert.deepEqual(await fs.list("/nope"), []);
});

test("MemoryFileSystem: opening a file in a missing directory fails with ENOENT", async () => {
  const fs = new MemoryFileSystem();
  await assert.rejects(fs.openAppend("/nope/a"), (err: unknown) => err instanceof MemoryFsError && err.code === "ENOENT");
  await assert.rejects(fs.readFile("/nope"), (err: unknown) => err instanceof MemoryFsError && err.code === "ENOENT");
});

test("MemoryFileSystem: removing a directory removes everything under it, and removing nothing is fine", async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdirp("/d/sub");
  await write(fs, "/d/sub/a", "x", { sync: true });
  await fs.syncDir("/d/sub");
  await fs.remove("/d");
  await fs.remove("/d");
  fs.crash();
  assert.equal(await fs.exists("/d/sub/a"), false);
  assert.equal(await fs.exists("/d"), false);
});
