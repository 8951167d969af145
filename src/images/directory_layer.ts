/**
 * A directory as one image layer: every file, directory, symlink, fifo and device below it becomes a tar
 * entry, walked in byte order of names (never readdir order, which differs between file systems), with
 * hard links to an earlier entry written as hard links. Owners and mtimes are not read: the writer fixes
 * them, so the same tree always makes the same layer digest.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { TarEntry } from "./tar_writer.js";

/**
 * The whole layer is built in memory. 1 GiB is far beyond the small tools images tk8s builds offline and
 * keeps one Buffer well under Node's limit; a bigger tree is refused with this number in the message.
 */
export const LAYER_BYTES_MAX = 1 << 30;
/** Directory depth beyond this is a loop through a bind mount or a mistake. */
const DIRECTORY_DEPTH_MAX = 256;

export class DirectoryLayerError extends Error {
  override readonly name = "DirectoryLayerError";
}

/** The tar entries of `dir`'s contents (not `dir` itself), parents before children. */
export function directoryTarEntries(dir: string): TarEntry[] {
  let top: Stats;
  try {
    top = lstatSync(dir);
  } catch (err) {
    throw new DirectoryLayerError(`Cannot build a layer from ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (!top.isDirectory()) throw new DirectoryLayerError(`Cannot build a layer from ${dir}: it is not a directory`);
  const entries: TarEntry[] = [];
  const seenInodes = new Map<string, string>();
  let bytes = 0;

  const walk = (abs: string, rel: string, depth: number): void => {
    if (depth > DIRECTORY_DEPTH_MAX) throw new DirectoryLayerError(`Cannot build a layer from ${dir}: deeper than ${DIRECTORY_DEPTH_MAX} directories at ${rel}`);
    const names = readdirSync(abs).sort(compareBytes);
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(childAbs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ path: childRel, type: "directory", mode });
        walk(childAbs, childRel, depth + 1);
      } else if (st.isSymbolicLink()) {
        entries.push({ path: childRel, type: "symlink", mode, linkname: readlinkSync(childAbs) });
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(inode) : undefined;
        if (first !== undefined) {
          entries.push({ path: childRel, type: "hardlink", mode, linkname: first });
          continue;
        }
        if (st.nlink > 1) seenInodes.set(inode, childRel);
        bytes += st.size;
        if (bytes > LAYER_BYTES_MAX) throw new DirectoryLayerError(`Cannot build a layer from ${dir}: its files exceed ${LAYER_BYTES_MAX} bytes (the layer is built in memory)`);
        entries.push({ path: childRel, type: "file", mode, data: readFileSync(childAbs) });
      } else if (st.isFIFO()) {
        entries.push({ path: childRel, type: "fifo", mode });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        entries.push({ path: childRel, type: st.isCharacterDevice() ? "char" : "block", mode, devmajor: major(st.rdev), devminor: minor(st.rdev) });
      } else {
        throw new DirectoryLayerError(`Cannot build a layer from ${dir}: ${childRel} is a socket, which a tar layer cannot hold`);
      }
    }
  };
  walk(dir, "", 0);
  return entries;
}

/** Byte order of UTF-8 names, so the walk does not depend on the locale or on readdir. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// glibc's encoding of dev_t.
function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}
