/**
 * Where the kubelet keeps what upstream keeps on tmpfs: the contents of secret, projected, configMap and
 * downwardAPI volumes (upstream mounts a tmpfs for secrets and projected tokens, so they never reach the
 * node's disk), and the process runtime's state (as containerd keeps its state under /run).
 *
 * tk8s cannot mount a tmpfs without privileges, so it uses a directory on the tmpfs every Linux host has,
 * /dev/shm. Beyond keeping secrets off the disk this matters for speed: on a disk file system every
 * mkdir, symlink and rename of a volume write waits behind the datastore's WAL fsyncs in the journal
 * (measured here: 0.16 ms per mkdir + symlink + write alone, 0.9 ms while another process fsyncs, 0.03 ms
 * on tmpfs), and with the whole server in one process those waits were a third of its CPU per pod during
 * a burst of pod start-ups.
 *
 * One directory per kubelet root (a hash of it), mode 0700, so two kubelets on one host never share one
 * and a restarted kubelet finds its own again.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const SHM_DIR = "/dev/shm";

/** The memory directory for a kubelet whose root is `rootDir` (not created). */
export function kubeletMemoryDirFor(rootDir: string, shmDir = SHM_DIR): string {
  const hash = createHash("sha256").update(path.resolve(rootDir)).digest("hex").slice(0, 16);
  return path.join(shmDir, `tk8s-kubelet-${hash}`);
}

/**
 * Creates (0700) and returns the kubelet's memory directory, or null when `shmDir` is not a writable
 * tmpfs-like directory (then the caller keeps everything under the kubelet's root, as before).
 */
export function ensureKubeletMemoryDir(rootDir: string, shmDir = SHM_DIR): string | null {
  try {
    fs.accessSync(shmDir, fs.constants.W_OK);
    if (!fs.statSync(shmDir).isDirectory()) return null;
  } catch {
    return null;
  }
  const dir = kubeletMemoryDirFor(rootDir, shmDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Removes a kubelet's memory directory (a node taken down for good; tests cleaning up). */
export function removeKubeletMemoryDir(rootDir: string, shmDir = SHM_DIR): void {
  fs.rmSync(kubeletMemoryDirFor(rootDir, shmDir), { recursive: true, force: true });
}
