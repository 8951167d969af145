import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DirectoryLayerError, directoryTarEntries } from "./directory_layer.js";
import { LAYER_TAR_OPTIONS } from "./image_build.js";
import { writeTar } from "./tar_writer.js";
import { createHash } from "node:crypto";

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "tk8s-layer-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function tree(dir: string, order: "forward" | "reverse"): void {
  const files = ["b.txt", "a.txt", "sub/z", "sub/y", "Ä"];
  if (order === "reverse") files.reverse();
  mkdirSync(join(dir, "sub"));
  for (const f of files) writeFileSync(join(dir, f), `content of ${f}\n`);
  chmodSync(join(dir, "sub"), 0o750);
  symlinkSync("a.txt", join(dir, "link"));
}

test("entries come parents first, in byte order of names, whatever order the files were made in", withDir((dir) => {
  tree(dir, "forward");
  assert.deepEqual(directoryTarEntries(dir).map((e) => `${e.type}:${e.path}`), [
    "file:a.txt", "file:b.txt", "symlink:link", "directory:sub", "file:sub/y", "file:sub/z", "file:Ä",
  ]);
  assert.equal(directoryTarEntries(dir).find((e) => e.path === "sub")?.mode, 0o750);
}));

test("the same tree gives the same layer digest even when made in another order at another time", async () => {
  const digests: string[] = [];
  for (const order of ["forward", "reverse"] as const) {
    await withDir((dir) => {
      tree(dir, order);
      utimesSync(join(dir, "a.txt"), order === "forward" ? 1 : 2_000_000_000, order === "forward" ? 1 : 2_000_000_000);
      digests.push(createHash("sha256").update(writeTar(directoryTarEntries(dir), LAYER_TAR_OPTIONS)).digest("hex"));
    })();
  }
  assert.equal(digests[0], digests[1]);
});

test("a second name for the same file becomes a hard link to the first", withDir((dir) => {
  writeFileSync(join(dir, "one"), "shared");
  linkSync(join(dir, "one"), join(dir, "two"));
  const entries = directoryTarEntries(dir);
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.linkname]), [["one", "file", undefined], ["two", "hardlink", "one"]]);
}));

test("a socket in the tree is refused with its path", withDir(async (dir) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, "sock"), resolve));
  try {
    assert.throws(() => directoryTarEntries(dir), (err: unknown) => err instanceof DirectoryLayerError && /sock is a socket/.test(err.message));
  } finally {
    server.close();
  }
}));

test("a missing directory or a plain file is refused", withDir((dir) => {
  writeFileSync(join(dir, "file"), "x");
  assert.throws(() => directoryTarEntries(join(dir, "nope")), /Cannot build a layer from .*nope: ENOENT/);
  assert.throws(() => directoryTarEntries(join(dir, "file")), /it is not a directory/);
}));
