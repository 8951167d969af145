/**
 * The images runtime tests use, built offline from Debian's busybox-static with tk8s's own image builder
 * (src/images) and imported into containerd's `k8s.io` namespace:
 *
 * - TEST_BUSYBOX_IMAGE: /bin/busybox, one symlink per applet at its `busybox --list-full` path,
 *   /etc/passwd and /etc/group (root, nobody), /tmp; Cmd ["sh"] and a PATH, as Docker Hub's busybox.
 * - TEST_PAUSE_IMAGE: the pod sandbox image (containerd's `sandbox_image`): busybox, sh and sleep, running a
 *   shell that sleeps forever and exits 0 on SIGTERM/SIGINT, as the real pause does.
 *
 * The archives are cached under the OS temp dir, keyed by the busybox binary's digest and the builder's
 * version; built twice they are byte-identical. Concurrent test processes may build at once: each writes a
 * private temp file and renames it into place.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { goArch } from "../../src/images/docker_archive.js";
import { ctrImport } from "../../src/images/ctr.js";
import { waitForCriImages } from "../../src/images/cri_images.js";
import { buildImageFromDirectory } from "../../src/images/image_build.js";

/** `tk8s/busybox:1.35` in a pod spec. */
export const TEST_BUSYBOX_IMAGE = "docker.io/tk8s/busybox:1.35";
/** The sandbox image every private containerd is configured with. */
export const TEST_PAUSE_IMAGE = "docker.io/tk8s/pause:1.35";
/** Debian's busybox-static puts the binary here. */
export const BUSYBOX_BINARY = "/bin/busybox";
/** Bump when the rootfs layout or image config below changes, so old cached archives are not reused. */
const TEST_IMAGES_BUILDER_VERSION = "1";
export const BUSYBOX_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The pause process: sleeps forever, exits 0 when the runtime stops the sandbox. */
export const PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

export interface TestImages {
  /** Normalized names, as the CRI lists them. */
  readonly busybox: string;
  readonly pause: string;
}

/** The two docker-archive files. */
export interface TestImageArchives {
  readonly busybox: string;
  readonly pause: string;
  /** The image ids (config digests). */
  readonly busyboxId: string;
  readonly pauseId: string;
}

/** Builds (or reuses) the test image archives and imports both into `k8s.io` on `address` (unix://…). */
export async function ensureTestImages(address: string): Promise<TestImages> {
  const archives = buildTestImageArchives();
  await ctrImport(archives.pause, address);
  await ctrImport(archives.busybox, address);
  // The CRI learns of imports from events; a sandbox created before it has would not find the pause image.
  await waitForCriImages(address, [TEST_PAUSE_IMAGE, TEST_BUSYBOX_IMAGE]);
  return { busybox: TEST_BUSYBOX_IMAGE, pause: TEST_PAUSE_IMAGE };
}

/** The cache dir for this busybox binary and builder version. */
export function testImagesCacheDir(): string {
  if (!existsSync(BUSYBOX_BINARY)) {
    const ci = process.env.CI === "true" ? " (CI=true: runtime tests must run, never skip)" : "";
    throw new Error(`Cannot build the test images: ${BUSYBOX_BINARY} is missing (Debian package busybox-static)${ci}`);
  }
  const key = createHash("sha256").update(readFileSync(BUSYBOX_BINARY)).update(`\0${TEST_IMAGES_BUILDER_VERSION}\0${goArch()}`).digest("hex");
  return join(tmpdir(), `tk8s-test-images-${key.slice(0, 16)}`);
}

/** Builds the archives unless the cache has them; returns their paths and image ids. */
export function buildTestImageArchives(): TestImageArchives {
  const cacheDir = testImagesCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const busybox = join(cacheDir, "busybox.tar");
  const pause = join(cacheDir, "pause.tar");
  const ids = join(cacheDir, "ids.json");
  if (!existsSync(busybox) || !existsSync(pause) || !existsSync(ids)) {
    const work = mkdtempSync(join(cacheDir, "build-"));
    try {
      const busyboxRoot = join(work, "busybox");
      writeBusyboxRootfs(busyboxRoot, applets());
      const busyboxImage = buildImageFromDirectory(busyboxRoot, { tags: [TEST_BUSYBOX_IMAGE], cmd: ["sh"], env: [BUSYBOX_PATH_ENV] });
      const pauseRoot = join(work, "pause");
      writeBusyboxRootfs(pauseRoot, ["bin/sh", "bin/sleep"]);
      const pauseImage = buildImageFromDirectory(pauseRoot, { tags: [TEST_PAUSE_IMAGE], entrypoint: ["/bin/sh", "-c", PAUSE_SCRIPT], env: [BUSYBOX_PATH_ENV] });
      writeAtomic(busybox, busyboxImage.archive, work);
      writeAtomic(pause, pauseImage.archive, work);
      writeAtomic(ids, Buffer.from(JSON.stringify({ busybox: busyboxImage.configDigest, pause: pauseImage.configDigest })), work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const parsed = JSON.parse(readFileSync(ids, "utf8")) as { busybox: string; pause: string };
  return { busybox, pause, busyboxId: parsed.busybox, pauseId: parsed.pause };
}

/** Every applet path busybox knows (`busybox --list-full`: "bin/sh", "usr/bin/wget", …). */
export function applets(): string[] {
  const r = spawnSync(BUSYBOX_BINARY, ["--list-full"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`Cannot list busybox applets: ${BUSYBOX_BINARY} --list-full exited ${r.status}: ${r.stderr}`);
  return r.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "" && l !== "bin/busybox");
}

/**
 * A root file system at `root`: bin/busybox, a symlink to it at each applet path, etc/passwd, etc/group,
 * tmp (1777), root (700). Modes are set explicitly, so the umask of whoever builds does not leak in.
 */
export function writeBusyboxRootfs(root: string, appletPaths: readonly string[]): void {
  const dirs = new Set<string>(["bin", "etc", "tmp", "root"]);
  for (const p of appletPaths) for (let d = dirname(p); d !== "." && d !== ""; d = dirname(d)) dirs.add(d);
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  for (const d of [...dirs].sort()) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755);
  }
  copyFileSync(BUSYBOX_BINARY, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const p of appletPaths) symlinkSync("/bin/busybox", join(root, p));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  chmodSync(join(root, "etc/passwd"), 0o644);
  chmodSync(join(root, "etc/group"), 0o644);
}

function writeAtomic(path: string, data: Uint8Array, tmpDir: string): void {
  const tmp = join(tmpDir, `${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
