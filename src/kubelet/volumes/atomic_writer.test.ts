import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { validatePayloadPath, writeAtomically } from "./atomic_writer.js";

const f = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });

test("writeAtomically: files are links through ..data, and a rewrite swaps the whole set", () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-aw-"));
  try {
    assert.equal(writeAtomically(path.join(dir, "v"), new Map([["a", f("1")], ["sub/b", f("2", 0o600)]]), 0), true);
    const v = path.join(dir, "v");
    assert.equal(fs.readlinkSync(path.join(v, "a")), "..data/a");
    assert.equal(fs.readFileSync(path.join(v, "sub/b"), "utf8"), "2");
    assert.equal(fs.statSync(path.join(v, "sub/b")).mode & 0o777, 0o600);
    const first = fs.readlinkSync(path.join(v, "..data"));
    assert.equal(writeAtomically(v, new Map([["a", f("1")], ["sub/b", f("2", 0o600)]]), 1000), false, "the same payload writes nothing");
    assert.equal(writeAtomically(v, new Map([["a", f("new")]]), 2000), true);
    assert.equal(fs.readFileSync(path.join(v, "a"), "utf8"), "new");
    assert.equal(fs.existsSync(path.join(v, "sub")), false, "a key that is gone disappears");
    assert.equal(fs.existsSync(path.join(v, first)), false, "the old timestamped directory is removed");
    assert.deepEqual(fs.readdirSync(v).filter((e) => !e.startsWith("..")), ["a"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("validatePayloadPath: refuses absolute paths, '..' elements and names starting with '..'", () => {
  for (const bad of ["/etc/x", "a/../b", "..data", ""]) assert.throws(() => validatePayloadPath(bad), /invalid path/, bad);
  validatePayloadPath("a/b.txt");
});
