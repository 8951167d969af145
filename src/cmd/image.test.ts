import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { containerdSkipReason, startContainerd, type ContainerdProcess } from "../../test/harness/containerd.js";
import { applets, buildTestImageArchives, TEST_BUSYBOX_IMAGE, writeBusyboxRootfs } from "../../test/harness/test_images.js";
import { readTar } from "../images/tar_reader.js";
import { formatImageTable, humanSize, parseCommandLine } from "./image.js";

/** The real CLI entry point, as a user runs it. */
const TK8S_BIN = fileURLToPath(new URL("../../../bin/tk8s.js", import.meta.url));

interface Run { status: number | null; stdout: string; stderr: string }

function tk8s(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TK8S_BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function assertOneErrorLine(r: Run, want: RegExp): void {
  assert.notEqual(r.status, 0);
  // A usage error is followed by the CLI's "(run with --help for usage)" hint, as every tk8s subcommand's.
  const lines = r.stderr.split("\n").filter((l) => l !== "" && l !== "(run with --help for usage)");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, want);
}

test("parseCommandLine takes a JSON array (exec form) or plain words", () => {
  assert.deepEqual(parseCommandLine('["sh", "-c", "echo a b"]', "--cmd"), ["sh", "-c", "echo a b"]);
  assert.deepEqual(parseCommandLine("  httpd -f  -p 8080 ", "--cmd"), ["httpd", "-f", "-p", "8080"]);
  assert.throws(() => parseCommandLine("[1, 2]", "--cmd"), /--cmd must be a JSON array of strings or plain words: current value is "\[1, 2\]"/);
  assert.throws(() => parseCommandLine('["unterminated', "--entrypoint"), /--entrypoint must be a JSON array/);
  assert.throws(() => parseCommandLine("   ", "--cmd"), /--cmd must not be empty/);
});

test("humanSize prints sizes as crictl does", () => {
  assert.equal(humanSize(512), "512B");
  assert.equal(humanSize(2_048_000), "2.05MB");
  assert.equal(humanSize(1_000_000_000), "1GB");
});

test("the image table has one row per tag with short digests and ids", () => {
  const id = `sha256:${"a".repeat(64)}`;
  const table = formatImageTable([
    { id, repoTags: ["docker.io/tk8s/busybox:1.35", "docker.io/tk8s/busybox:latest"], repoDigests: [`docker.io/tk8s/busybox@sha256:${"b".repeat(64)}`], size: 2_048_000 },
    { id: `sha256:${"c".repeat(64)}`, repoTags: [], repoDigests: [], size: 10 },
  ]).split("\n");
  assert.match(table[0]!, /^IMAGE +TAG +DIGEST +IMAGE ID +SIZE$/);
  assert.match(table[1]!, /^docker\.io\/tk8s\/busybox +1\.35 +bbbbbbbbbbbbb +aaaaaaaaaaaaa +2\.05MB$/);
  assert.match(table[2]!, /^docker\.io\/tk8s\/busybox +latest /);
  assert.match(table[3]!, /^<none> +<none> +<none> +ccccccccccccc +10B$/);
});

describe("tk8s image against a private containerd", { skip: containerdSkipReason(), timeout: 180_000 }, () => {
  let containerd: ContainerdProcess;
  let work: string;
  before(async () => {
    containerd = await startContainerd();
    work = mkdtempSync(join(tmpdir(), "tk8s-image-cli-"));
  });
  after(async () => {
    await containerd?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });
  const endpoint = () => ["--container-runtime-endpoint", containerd.address];

  test("image build loads a directory as an image that image ls then lists with its id and size", async () => {
    const root = join(work, "rootfs");
    writeBusyboxRootfs(root, applets());
    writeFileSync(join(root, "hello.txt"), "hello from tk8s\n");
    const r = await tk8s(["image", "build", root, "--tag", "tk8s/cli:1", "--cmd", "cat /hello.txt", "--env", "GREETING=hi", "-w", "/", ...endpoint()]);
    assert.equal(r.status, 0, r.stderr);
    const loaded = /^Loaded image: docker\.io\/tk8s\/cli:1 \(sha256:([0-9a-f]{64})\)$/m.exec(r.stdout);
    assert.ok(loaded, r.stdout);
    const ls = await tk8s(["image", "ls", ...endpoint()]);
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^docker\\.io/tk8s/cli +1 +(<none>|[0-9a-f]{13}) +${loaded[1]!.slice(0, 13)} +\\d(\\.\\d+)?MB$`, "m"));
    const quiet = await tk8s(["image", "ls", "-q", ...endpoint()]);
    assert.ok(quiet.stdout.split("\n").includes(`sha256:${loaded[1]}`));
  });

  test("image build --output writes the same archive twice, and image import loads it", async () => {
    const root = join(work, "rootfs-out");
    writeBusyboxRootfs(root, ["bin/sh"]);
    const files = [join(work, "a.tar"), join(work, "b.tar")];
    for (const f of files) {
      const r = await tk8s(["image", "build", root, "-t", "tk8s/out:2", "--entrypoint", '["/bin/sh","-c"]', "--cmd", '["exit 0"]', "-o", f]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Wrote docker\.io\/tk8s\/out:2 \(sha256:[0-9a-f]{64}\) to /);
    }
    assert.deepEqual(readFileSync(files[0]!), readFileSync(files[1]!));
    assert.ok(readTar(readFileSync(files[0]!)).some((m) => m.path === "manifest.json"));
    const r = await tk8s(["image", "import", files[0]!, ...endpoint()]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Loaded image: docker\.io\/tk8s\/out:2 \(sha256:[0-9a-f]{64}, 1 layer, linux\/\w+\) from /m);
    assert.match((await tk8s(["image", "ls", ...endpoint()])).stdout, /^docker\.io\/tk8s\/out +2 /m);
  });

  test("image build --format oci-layout -o writes an OCI layout that image import loads under its name", async () => {
    const root = join(work, "rootfs-oci");
    writeBusyboxRootfs(root, ["bin/sh"]);
    const file = join(work, "oci.tar");
    const r = await tk8s(["image", "build", root, "-t", "tk8s/oci:3", "--format", "oci-layout", "--cmd", "sh", "-o", file]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readTar(readFileSync(file)).some((m) => m.path === "oci-layout"));
    const imported = await tk8s(["image", "import", file, ...endpoint()]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /^Loaded image: docker\.io\/tk8s\/oci:3 \(sha256:[0-9a-f]{64}, 1 layer/m);
    assert.match((await tk8s(["image", "ls", ...endpoint()])).stdout, /^docker\.io\/tk8s\/oci +3 /m);
    assertOneErrorLine(await tk8s(["image", "build", root, "-t", "x", "--format", "tgz", "-o", file]), /^error: option '--format <format>' argument 'tgz' is invalid\. Allowed choices are docker-archive, oci-layout\.$/);
  });

  test("an OCI archive exported by ctr imports back after the image is removed", async () => {
    const archives = buildTestImageArchives();
    assert.equal((await tk8s(["image", "import", archives.busybox, ...endpoint()])).status, 0);
    const oci = join(work, "busybox-oci.tar");
    const ctr = (...args: string[]) => spawnSync("ctr", ["--address", containerd.socket, "-n", "k8s.io", ...args], { encoding: "utf8" });
    assert.equal(ctr("images", "export", oci, TEST_BUSYBOX_IMAGE).status, 0);
    assert.ok(readTar(readFileSync(oci)).some((m) => m.path === "index.json"), "ctr export writes an OCI layout");
    assert.equal(ctr("images", "rm", "--sync", TEST_BUSYBOX_IMAGE).status, 0);
    assert.doesNotMatch((await tk8s(["image", "ls", ...endpoint()])).stdout, /^docker\.io\/tk8s\/busybox +1\.35 /m);
    const r = await tk8s(["image", "import", oci, ...endpoint()]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Loaded image: ${TEST_BUSYBOX_IMAGE.replace(/\./g, "\\.")} \\(sha256:${archives.busyboxId.slice(7)}, 1 layer`, "m"));
    assert.match((await tk8s(["image", "ls", ...endpoint()])).stdout, /^docker\.io\/tk8s\/busybox +1\.35 /m);
  });

  test("a bad archive, a missing file, a missing socket and a missing ctr each give one error line", async () => {
    const garbage = join(work, "garbage.tar");
    writeFileSync(garbage, "this is not a tar file at all".repeat(40));
    assertOneErrorLine(await tk8s(["image", "import", garbage, ...endpoint()]), /^tk8s: Cannot import .*garbage\.tar: not a tar archive: header at offset 0 is not a tar header/);
    assertOneErrorLine(await tk8s(["image", "import", join(work, "nope.tar"), ...endpoint()]), /^tk8s: Cannot import .*nope\.tar: no such file$/);
    assertOneErrorLine(await tk8s(["image", "import", garbage, "--container-runtime-endpoint", "unix:///nonexistent/c.sock"]), /^tk8s: Cannot reach the container runtime: no socket at \/nonexistent\/c\.sock \(is containerd running\?/);
    assertOneErrorLine(await tk8s(["image", "ls", "--container-runtime-endpoint", "unix:///nonexistent/c.sock"]), /^tk8s: Cannot reach the container runtime: no socket at/);
    assertOneErrorLine(await tk8s(["image", "import", garbage, ...endpoint()], { PATH: "/nonexistent" }), /^tk8s: Cannot import images: ctr not found on PATH \(it ships with containerd/);
    assertOneErrorLine(await tk8s(["image", "build", work, "-t", "Bad/Name", "-o", join(work, "x.tar")]), /^tk8s: invalid reference format: repository name must be lowercase$/);
    assertOneErrorLine(await tk8s(["image", "build", work, "-t", "x", "--cmd", "[1]", "-o", join(work, "x.tar")]), /^tk8s: --cmd must be a JSON array of strings or plain words/);
    assertOneErrorLine(await tk8s(["image", "build", work]), /^error: required option '-t, --tag <name>' not specified$/);
  });
});
