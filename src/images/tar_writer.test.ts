import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readTar } from "./tar_reader.js";
import { encodePaxRecords, splitUstarName, TarWriteError, writeTar, type TarEntry } from "./tar_writer.js";

const enc = new TextEncoder();
const longDir = `${"d".repeat(60)}/${"e".repeat(60)}`; // 121 bytes: needs ustar's prefix field
const longName = `${"n".repeat(120)}/${"m".repeat(150)}`; // name part over 100 bytes: needs a pax path
const longTarget = `/${"t".repeat(150)}`;

const ENTRIES: TarEntry[] = [
  { path: "bin", type: "directory", mode: 0o755 },
  { path: "bin/tool", type: "file", mode: 0o755, data: enc.encode("#!/bin/sh\necho hi\n") },
  { path: "bin/sh", type: "symlink", mode: 0o777, linkname: "/bin/tool" },
  { path: "bin/tool-hardlink", type: "hardlink", mode: 0o755, linkname: "bin/tool" },
  { path: "empty", type: "file", mode: 0o600, data: new Uint8Array(0) },
  { path: "exactly-512", type: "file", mode: 0o644, data: new Uint8Array(512).fill(0x61) },
  { path: "tmp", type: "directory", mode: 0o1777 },
  { path: "fifo", type: "fifo", mode: 0o644 },
  { path: longDir, type: "directory", mode: 0o755 },
  { path: `${longDir}/file.txt`, type: "file", mode: 0o644, data: enc.encode("in a long dir\n") },
  { path: longName, type: "file", mode: 0o644, data: enc.encode("a very long name\n") },
  { path: "long-link", type: "symlink", mode: 0o777, linkname: longTarget },
  { path: "ünïcødé.txt", type: "file", mode: 0o644, data: enc.encode("utf-8 name\n") },
];

function tarTool(args: string[], input?: Uint8Array): string {
  const r = spawnSync("tar", args, { input, encoding: "utf8" });
  assert.equal(r.status, 0, `tar ${args.join(" ")} failed: ${r.stderr}`);
  assert.equal(r.stderr, "", `tar ${args.join(" ")} warned: ${r.stderr}`);
  return r.stdout;
}

test("GNU tar lists every entry we write, with its type, mode, owner, size and link target", () => {
  const archive = writeTar(ENTRIES, { mtimeSec: 0, uid: 0, gid: 0 });
  const listing = tarTool(["--numeric-owner", "-tvf", "-"], archive).trim().split("\n");
  assert.equal(listing.length, ENTRIES.length);
  const byName = (name: string) => listing.find((l) => l.includes(` ${name}`)) ?? assert.fail(`${name} not listed:\n${listing.join("\n")}`);
  assert.match(byName("bin/tool"), /^-rwxr-xr-x 0\/0 +18 1970-01-01 00:00 bin\/tool$/);
  assert.match(byName("bin/sh"), /^lrwxrwxrwx 0\/0 +0 .* bin\/sh -> \/bin\/tool$/);
  assert.match(byName("bin/tool-hardlink"), /^hrwxr-xr-x .* bin\/tool-hardlink link to bin\/tool$/);
  assert.match(byName("tmp/"), /^drwxrwxrwt /);
  assert.match(byName("fifo"), /^prw-r--r-- /);
  assert.ok(listing.some((l) => l.endsWith(` ${longName}`)), "the pax path is used");
  assert.ok(listing.some((l) => l.endsWith(` ${longDir}/file.txt`)), "the ustar prefix is joined");
  assert.ok(listing.some((l) => l.endsWith(`long-link -> ${longTarget}`)), "the pax linkpath is used");
  assert.ok(listing.some((l) => l.endsWith(" ünïcødé.txt")));
});

test("extracting with GNU tar gives back the same contents, modes and links", () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-tar-x-"));
  try {
    tarTool(["-x", "-f", "-", "-C", dir], writeTar(ENTRIES));
    assert.equal(readFileSync(join(dir, "bin/tool"), "utf8"), "#!/bin/sh\necho hi\n");
    assert.equal(lstatSync(join(dir, "bin/tool")).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(join(dir, "bin/sh")), "/bin/tool");
    assert.equal(lstatSync(join(dir, "bin/tool-hardlink")).ino, lstatSync(join(dir, "bin/tool")).ino);
    assert.equal(readFileSync(join(dir, "exactly-512")).length, 512);
    assert.equal(readFileSync(join(dir, longName), "utf8"), "a very long name\n");
    assert.equal(readFileSync(join(dir, longDir, "file.txt"), "utf8"), "in a long dir\n");
    assert.equal(readlinkSync(join(dir, "long-link")), longTarget);
    assert.ok(lstatSync(join(dir, "fifo")).isFIFO());
    assert.equal(lstatSync(join(dir, "tmp")).mode & 0o7777, 0o1777);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a tar GNU tar writes is read by our reader, and ours reads back what we wrote", () => {
  const ours = readTar(writeTar(ENTRIES, { mtimeSec: 1234, uid: 7, gid: 8, uname: "u", gname: "g" }));
  assert.deepEqual(ours.map((m) => m.path), ENTRIES.map((e) => (e.type === "directory" ? `${e.path}/` : e.path)));
  for (const [i, m] of ours.entries()) {
    assert.equal(m.mode, ENTRIES[i]!.mode);
    assert.equal(m.mtimeSec, 1234);
    assert.equal(m.uid, 7);
    assert.equal(m.uname, "u");
    assert.deepEqual(Buffer.from(m.data), Buffer.from(ENTRIES[i]!.data ?? new Uint8Array(0)));
  }
  const dir = mkdtempSync(join(tmpdir(), "tk8s-tar-gnu-"));
  try {
    writeFileSync(join(dir, "x".repeat(200)), "gnu long name");
    const r = spawnSync("tar", ["--format=gnu", "-c", "-f", "-", "-C", dir, "x".repeat(200)]);
    assert.equal(r.status, 0);
    const members = readTar(r.stdout);
    assert.equal(members[0]!.path, "x".repeat(200));
    assert.equal(Buffer.from(members[0]!.data).toString(), "gnu long name");
    const pax = spawnSync("tar", ["--format=pax", "-c", "-f", "-", "-C", dir, "x".repeat(200)]);
    assert.equal(readTar(pax.stdout)[0]!.path, "x".repeat(200));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the same entries always make the same bytes, and the options alone set owners and mtimes", () => {
  const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  assert.equal(digest(writeTar(ENTRIES)), digest(writeTar(ENTRIES)));
  assert.notEqual(digest(writeTar(ENTRIES)), digest(writeTar(ENTRIES, { mtimeSec: 1 })));
  const archive = writeTar(ENTRIES);
  assert.equal(archive.length % 512, 0);
  assert.ok(archive.subarray(archive.length - 1024).every((b) => b === 0), "ends with two zero blocks");
});

const badEntries: Array<{ name: string; entry: TarEntry; want: RegExp }> = [
  { name: "an absolute path", entry: { path: "/etc/passwd", type: "file", mode: 0o644 }, want: /is absolute/ },
  { name: "a path climbing out with ..", entry: { path: "a/../../x", type: "file", mode: 0o644 }, want: /"\.\." component/ },
  { name: "an empty path", entry: { path: "", type: "file", mode: 0o644 }, want: /path is empty/ },
  { name: "a symlink without a target", entry: { path: "l", type: "symlink", mode: 0o777 }, want: /needs a linkname/ },
  { name: "a directory with data", entry: { path: "d", type: "directory", mode: 0o755, data: new Uint8Array(1) }, want: /has no data/ },
  { name: "a mode beyond 07777", entry: { path: "f", type: "file", mode: 0o10000 }, want: /mode must be an integer in 0\.\.07777/ },
];
for (const c of badEntries) {
  test(`writeTar refuses ${c.name}`, () => {
    assert.throws(() => writeTar([c.entry]), (err: unknown) => err instanceof TarWriteError && c.want.test(err.message));
  });
}

test("pax records count their own length digits at every width boundary", () => {
  for (let n = 1; n < 1100; n += 1) {
    const bytes = encodePaxRecords([["path", "p".repeat(n)]]);
    const text = new TextDecoder().decode(bytes);
    assert.equal(Number(text.slice(0, text.indexOf(" "))), bytes.length, `value of ${n} bytes`);
  }
});

test("splitUstarName uses the prefix field only where a '/' makes both halves fit", () => {
  assert.deepEqual(splitUstarName("short"), { prefix: "", name: "short" });
  assert.deepEqual(splitUstarName(`${"a".repeat(90)}/${"b".repeat(90)}`), { prefix: "a".repeat(90), name: "b".repeat(90) });
  assert.equal(splitUstarName("c".repeat(101)), null);
  assert.equal(splitUstarName(`${"a".repeat(160)}/b`), null);
});
