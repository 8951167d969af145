import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { readTar } from "../../src/images/tar_reader.js";
import { containerdSkipReason, criListPodSandboxIds, criVersion, startContainerd, type ContainerdProcess } from "./containerd.js";
import { applets, buildTestImageArchives, ensureTestImages, TEST_BUSYBOX_IMAGE, TEST_PAUSE_IMAGE, writeBusyboxRootfs } from "./test_images.js";
import { buildImageFromDirectory } from "../../src/images/image_build.js";

const skip = containerdSkipReason();

/** RunPodSandbox with host networking (no CNI config needed), hand-encoded as runtime.v1 messages. */
async function runHostNetworkSandbox(address: string, name: string, logDirectory: string): Promise<string> {
  const w = new protobuf.Writer();
  // PodSandboxConfig { metadata = 1 { name = 1, uid = 2, namespace = 3 }, log_directory = 3,
  //   linux = 8 { security_context = 2 { namespace_options = 1 { network = 1 (NODE = 2) } } } }
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(name).uint32((2 << 3) | 2).string(`uid-${name}`).uint32((3 << 3) | 2).string("default").ldelim();
  w.uint32((3 << 3) | 2).string(logDirectory);
  w.uint32((8 << 3) | 2).fork().uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).uint32(2).ldelim().ldelim().ldelim();
  const config = w.finish();
  const request = new protobuf.Writer().uint32((1 << 3) | 2).bytes(config).finish(); // RunPodSandboxRequest { config = 1 }
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const response = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest("/runtime.v1.RuntimeService/RunPodSandbox", (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, request,
        { deadline: Date.now() + 30_000 }, (err, res) => (err || res === undefined ? reject(err) : resolve(res)));
    });
    const reader = protobuf.Reader.create(response);
    reader.uint32(); // RunPodSandboxResponse { pod_sandbox_id = 1 }
    return reader.string();
  } finally {
    client.close();
  }
}

/** Processes whose command line names `socket` (the shims of that containerd). */
function processesNaming(socket: string): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      return readFileSync(`/proc/${n}/cmdline`, "utf8").split("\0").includes(socket);
    } catch {
      return false;
    }
  }).map(Number);
}

describe("private containerd", { skip, timeout: 120_000 }, () => {
  let containerd: ContainerdProcess;
  before(async () => {
    containerd = await startContainerd();
  });
  after(async () => {
    await containerd?.stop();
  });

  test("its CRI answers Version as containerd speaking runtime.v1 on a socket inside its own dir", async () => {
    const version = await criVersion(containerd.address);
    assert.equal(version.runtimeName, "containerd");
    assert.equal(version.runtimeApiVersion, "v1");
    assert.match(containerd.socket, /^\/run\/tk8s-test-containerd-[^/]+\/containerd\.sock$/);
    assert.equal(containerd.address, `unix://${containerd.socket}`);
    assert.ok(containerd.root.startsWith(containerd.socket.slice(0, containerd.socket.lastIndexOf("/"))));
    const config = readFileSync(containerd.configPath, "utf8");
    assert.match(config, /restrict_oom_score_adj = true/);
    assert.match(config, /SystemdCgroup = false/);
    assert.match(config, new RegExp(`sandbox_image = "${TEST_PAUSE_IMAGE}"`));
    assert.doesNotMatch(config, /\{\{/);
  });

  test("ensureTestImages imports busybox and pause into k8s.io, where ctr lists them", async () => {
    const images = await ensureTestImages(containerd.address);
    assert.deepEqual(images, { busybox: TEST_BUSYBOX_IMAGE, pause: TEST_PAUSE_IMAGE });
    const listed = execFileSync("ctr", ["--address", containerd.socket, "-n", "k8s.io", "images", "ls", "-q"], { encoding: "utf8" }).split("\n");
    assert.ok(listed.includes(TEST_BUSYBOX_IMAGE), listed.join(","));
    assert.ok(listed.includes(TEST_PAUSE_IMAGE), listed.join(","));
    // A second import of the same archives is harmless (tests call this once per suite).
    await ensureTestImages(containerd.address);
  });

  test("a host-network pod sandbox runs the pause image, and stop() removes it with its shim and dirs", async () => {
    await ensureTestImages(containerd.address);
    const logDir = mkdtempSync(join(tmpdir(), "tk8s-sandbox-logs-"));
    try {
      const id = await runHostNetworkSandbox(containerd.address, "harness-probe", logDir);
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.deepEqual(await criListPodSandboxIds(containerd.address), [id]);
      assert.ok(processesNaming(containerd.socket).length > 0, "a shim serves the sandbox");
      const dir = containerd.socket.slice(0, containerd.socket.lastIndexOf("/"));
      await containerd.stop();
      assert.deepEqual(processesNaming(containerd.socket), [], "no shim outlives stop()");
      assert.equal(existsSync(dir), false, "the instance's dir is removed");
      assert.equal(readFileSync("/proc/self/mountinfo", "utf8").includes(dir), false, "nothing stays mounted under it");
      await containerd.stop(); // idempotent
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe("private containerd that crashed", { skip, timeout: 120_000 }, () => {
  test("stop() after containerd was killed still ends the sandbox's shim and pause process, unmounts and removes its dirs", async () => {
    const containerd = await startContainerd();
    const logDir = mkdtempSync(join(tmpdir(), "tk8s-sandbox-logs-"));
    try {
      await ensureTestImages(containerd.address);
      const id = await runHostNetworkSandbox(containerd.address, "crash-probe", logDir);
      const dir = containerd.socket.slice(0, containerd.socket.lastIndexOf("/"));
      assert.deepEqual(readdirSync(join(containerd.state, "runc", "k8s.io")), [id], "runc keeps its state under the instance's state dir");
      const shims = processesNaming(containerd.socket);
      assert.ok(shims.length > 0);
      process.kill(containerd.pid, "SIGKILL");
      // Bounded: containerd dies at once on SIGKILL.
      for (let i = 0; i < 100 && existsSync(`/proc/${containerd.pid}/cmdline`) && readFileSync(`/proc/${containerd.pid}/stat`, "utf8").split(" ")[2] !== "Z"; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(processesNaming(containerd.socket).length > 0, "the shim outlives containerd, as shims do");
      await containerd.stop();
      assert.deepEqual(processesNaming(containerd.socket), []);
      assert.equal(readFileSync("/proc/self/mountinfo", "utf8").includes(dir), false, "nothing stays mounted under it");
      assert.equal(existsSync(dir), false);
      assert.equal(existsSync(`/sys/fs/cgroup/memory/k8s.io/${id}`), false, "the sandbox's cgroup is removed");
    } finally {
      await containerd.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe("test images", { skip: existsSync("/bin/busybox") || process.env.CI === "true" ? undefined : "busybox-static not installed" }, () => {
  test("the busybox archive holds one layer with busybox, an applet symlink per --list-full entry and /etc/passwd", () => {
    const archives = buildTestImageArchives();
    const outer = readTar(readFileSync(archives.busybox));
    const manifest = JSON.parse(Buffer.from(outer.find((m) => m.path === "manifest.json")!.data).toString()) as Array<{ RepoTags: string[]; Layers: string[] }>;
    assert.deepEqual(manifest[0]!.RepoTags, [TEST_BUSYBOX_IMAGE]);
    const layer = readTar(outer.find((m) => m.path === manifest[0]!.Layers[0])!.data);
    const byPath = new Map(layer.map((m) => [m.path, m]));
    assert.equal(byPath.get("bin/busybox")?.type, "file");
    assert.equal(byPath.get("bin/busybox")?.mode, 0o755);
    for (const applet of applets()) assert.equal(byPath.get(applet)?.linkname, "/bin/busybox", applet);
    assert.match(Buffer.from(byPath.get("etc/passwd")!.data).toString(), /^root:x:0:0:/);
    assert.equal(byPath.get("tmp/")?.mode, 0o1777);
    assert.ok(layer.every((m) => m.uid === 0 && m.gid === 0 && m.mtimeSec === 0), "owners and mtimes are fixed");
  });

  test("building the busybox rootfs twice from scratch gives the same image id", () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), "tk8s-rootfs-"));
      try {
        writeBusyboxRootfs(join(dir, "root"), applets());
        ids.push(buildImageFromDirectory(join(dir, "root"), { tags: [TEST_BUSYBOX_IMAGE], cmd: ["sh"], env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] }).configDigest);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.equal(ids[0], ids[1]);
    assert.equal(ids[0], buildTestImageArchives().busyboxId, "the cached archive is the same image");
  });
});
