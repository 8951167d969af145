/**
 * How the process runtime gives a container its volumes without a mount namespace ("bind by path").
 * A container process sees the host's file system, so a mount `{containerPath: /etc/config, hostPath:
 * /var/lib/tk8s/pods/<uid>/volumes/…/config}` cannot appear at /etc/config. Instead:
 *
 * 1. the runtime rewrites the container path to the host path wherever the container is told a path:
 *    the working dir, the command and args, and env values — `cat /etc/config/key` runs as
 *    `cat /var/lib/tk8s/pods/<uid>/volumes/…/config/key`;
 * 2. the container's own directory gets a `root/` tree of symlinks, `root/etc/config → hostPath`, so the
 *    layout a container expects can be browsed (and a relative path from `root/` works).
 *
 * A path the program builds at run time (read from a config file, say) is not rewritten: that is the
 * limit of running without an image filesystem, and the docs say so.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Mount } from "./cri.js";

/** Characters that may continue a path component: a mount path followed by one of these is another path. */
const PATH_CHAR = /[A-Za-z0-9._~+-]/;

/** Mounts with the longest container path first, so `/data/cache` wins over `/data`. */
function byDepth(mounts: readonly Mount[]): Mount[] {
  return [...mounts].sort((a, b) => b.containerPath.length - a.containerPath.length);
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/** The host path for a container path under a mount, or the path unchanged. */
export function hostPathFor(containerPath: string, mounts: readonly Mount[]): string {
  for (const m of byDepth(mounts)) {
    const cp = trimSlash(m.containerPath);
    if (containerPath === cp) return m.hostPath;
    if (containerPath.startsWith(`${cp}/`)) return path.join(m.hostPath, containerPath.slice(cp.length + 1));
  }
  return containerPath;
}

/**
 * Rewrites each occurrence of a mount's container path in `text` to its host path. An occurrence counts
 * only where a path can start (start of text, after whitespace, a quote, `=`, `:`, `(`, `,`, `>`, `<`)
 * and where the path ends or goes on with `/` — so `/data` is rewritten in `ls /data/x` and
 * `DIR=/data`, but not in `/database` or `/srv/data`.
 */
export function rewriteMountPaths(text: string, mounts: readonly Mount[]): string {
  if (mounts.length === 0) return text;
  const sorted = byDepth(mounts).filter((m) => trimSlash(m.containerPath) !== "/");
  let out = "";
  let i = 0;
  // Bounded by the text's length: each round moves `i` forward by at least one character.
  while (i < text.length) {
    const before = i === 0 ? "" : text[i - 1]!;
    const canStart = i === 0 || /[\s"'=:(,<>]/.test(before);
    let replaced = false;
    if (canStart && text[i] === "/") {
      for (const m of sorted) {
        const cp = trimSlash(m.containerPath);
        if (!text.startsWith(cp, i)) continue;
        const after = text[i + cp.length];
        if (after !== undefined && after !== "/" && PATH_CHAR.test(after)) continue;
        out += m.hostPath;
        i += cp.length;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out += text[i];
      i++;
    }
  }
  return out;
}

/**
 * Builds `rootDir/<containerPath>` → `hostPath` symlinks for each mount. A mount at `/` cannot be a
 * link inside `rootDir` and is skipped (the process sees the host root anyway).
 */
export function linkMounts(rootDir: string, mounts: readonly Mount[]): void {
  fs.mkdirSync(rootDir, { recursive: true });
  const linked: string[] = [];
  for (const m of [...mounts].sort((a, b) => a.containerPath.length - b.containerPath.length)) {
    const rel = trimSlash(m.containerPath).replace(/^\/+/, "");
    if (rel === "" || rel.split("/").includes("..")) continue;
    // A mount inside another mount would need a directory inside the outer volume (through its link):
    // never write into a volume; the nested path is still rewritten.
    if (linked.some((l) => rel.startsWith(`${l}/`))) continue;
    const link = path.join(rootDir, rel);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    try {
      fs.unlinkSync(link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    fs.symlinkSync(m.hostPath, link);
    linked.push(rel);
  }
}
