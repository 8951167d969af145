/**
 * An in-memory `FileSystem` for deterministic tests and the simulator. It remembers what a power loss
 * would keep, so `crash()` can throw away exactly what was never made durable.
 *
 * The model (simple on purpose; each rule is what a careful program must assume of a real disk):
 * - File contents: `sync()` on an open file makes its bytes durable. Bytes appended since the last sync
 *   are lost in a crash, except that `crash({ tornTailBytes })` keeps the first N of them (a torn write).
 *   A file that was truncated since its last sync goes back to its last synced contents in a crash
 *   (torn tails are only modelled for pure appends). `FileSystem.truncate(path)` has no handle to sync,
 *   so it is durable only once some handle on the file syncs.
 * - Directory entries: creates, renames and removes of files change the live view at once and become
 *   durable when their directory is `syncDir`-ed. A crash puts every directory back to its last synced
 *   entries: unsynced creates vanish, unsynced renames and removes are undone.
 * - Directories themselves (`mkdirp`, removing a directory tree) are durable at once. Real code should
 *   fsync parents after mkdir; we have not needed to model losing a directory.
 * - Media corruption (`corrupt`) changes the bytes on the medium: live and durable views alike.
 * Handles opened before a crash are dead afterwards: the process that held them is gone.
 */
import type { AppendFile, FileSystem } from "./env.js";
import { assert } from "../util/assert.js";

/** An operating error with the errno code Node would use (`ENOENT`, `EISDIR`, `EIO`, …). */
export class MemoryFsError extends Error {
  override readonly name = "MemoryFsError";
  constructor(readonly code: string, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
  }
}

/** Options for `MemoryFileSystem.crash`. */
export interface CrashOptions {
  /** Keep this many of each file's unsynced appended bytes (a write torn part-way). Default 0. */
  tornTailBytes?: number;
}

/** One file's contents, shared by every name and handle that refers to it (as an inode is). */
class Inode {
  #buf = new Uint8Array(64);
  #length = 0;
  /** Bytes [0, durableLength) of #buf are durable, unless #durableCopy holds them instead. */
  #durableLength = 0;
  /** Set when the durable prefix was about to be overwritten (truncate): a copy of it. */
  #durableCopy: Uint8Array | null = null;

  get length(): number {
    return this.#length;
  }
  contents(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }
  append(data: Uint8Array): void {
    this.#reserve(this.#length + data.length);
    this.#buf.set(data, this.#length);
    this.#length += data.length;
  }
  truncate(bytes: number): void {
    if (this.#durableCopy === null && bytes < this.#durableLength) {
      // Later appends would overwrite the durable prefix in #buf; keep it for a crash.
      this.#durableCopy = this.#buf.slice(0, this.#durableLength);
    }
    if (bytes > this.#length) {
      this.#reserve(bytes);
      this.#buf.fill(0, this.#length, bytes);
    }
    this.#length = bytes;
  }
  sync(): void {
    this.#durableLength = this.#length;
    this.#durableCopy = null;
  }
  corrupt(offset: number, byte: number): void {
    this.#buf[offset] = byte;
    if (this.#durableCopy !== null && offset < this.#durableCopy.length) this.#durableCopy[offset] = byte;
  }
  /** Drops what a power loss would drop. */
  crash(tornTailBytes: number): void {
    if (this.#durableCopy !== null) {
      const durable = this.#durableCopy;
      this.#durableCopy = null;
      this.#length = 0;
      this.append(durable);
    } else {
      const unsynced = this.#length - this.#durableLength;
      this.#length = this.#durableLength + Math.min(unsynced, tornTailBytes);
    }
    this.#durableLength = this.#length;
  }
  #reserve(bytes: number): void {
    if (bytes <= this.#buf.length) return;
    let capacity = this.#buf.length;
    while (capacity < bytes) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
  }
}

/** Splits an absolute path into a canonical form: "/a//b/" becomes "/a/b". */
function normalize(path: string): string {
  if (!path.startsWith("/")) throw new MemoryFsError("EINVAL", `path must be absolute, '${path}'`);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new MemoryFsError("EINVAL", `path must not contain '..', '${path}'`);
  return "/" + parts.join("/");
}

function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** An in-memory file system that can lose what was not synced. See the module comment for the model. */
export class MemoryFileSystem implements FileSystem {
  /** Directories that exist (durable at once; see the module comment). */
  readonly #dirs = new Set<string>(["/"]);
  /** What a reader sees now: path to file. */
  readonly #live = new Map<string, Inode>();
  /** What survives a crash: path to file, as of each directory's last syncDir. */
  readonly #durable = new Map<string, Inode>();
  /** Bumped by crash() so handles from before it fail. */
  #generation = 0;
  #syncFailures = 0;

  async mkdirp(dir: string): Promise<void> {
    const path = normalize(dir);
    const parts = path.split("/").filter((p) => p !== "");
    let at = "";
    for (const part of parts) {
      at += "/" + part;
      if (this.#live.has(at)) throw new MemoryFsError("ENOTDIR", `not a directory, mkdir '${at}'`);
      this.#dirs.add(at);
    }
  }

  async list(dir: string): Promise<string[]> {
    const path = normalize(dir);
    if (!this.#dirs.has(path)) return [];
    const names: string[] = [];
    for (const p of this.#live.keys()) if (parentOf(p) === path) names.push(baseName(p));
    for (const d of this.#dirs) if (d !== "/" && parentOf(d) === path) names.push(baseName(d));
    return names.sort();
  }

  async exists(path: string): Promise<boolean> {
    const p = normalize(path);
    return this.#live.has(p) || this.#dirs.has(p);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return this.#file(normalize(path), "open").contents();
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    // The same steps as the real one, so a crash between them behaves as it would on a disk.
    const p = normalize(path);
    const tmp = `${p}.tmp`;
    await this.remove(tmp);
    const file = await this.openAppend(tmp);
    try {
      await file.append(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await this.rename(tmp, p);
    await this.syncDir(parentOf(p));
  }

  async openAppend(path: string): Promise<AppendFile> {
    const p = normalize(path);
    if (this.#dirs.has(p)) throw new MemoryFsError("EISDIR", `illegal operation on a directory, open '${p}'`);
    if (!this.#dirs.has(parentOf(p))) throw new MemoryFsError("ENOENT", `no such file or directory, open '${p}'`);
    let inode = this.#live.get(p);
    if (inode === undefined) {
      inode = new Inode();
      this.#live.set(p, inode);
    }
    return new MemoryAppendFile(p, inode, this, this.#generation);
  }

  async truncate(path: string, bytes: number): Promise<void> {
    assert(Number.isSafeInteger(bytes) && bytes >= 0, `truncate to ${bytes} bytes`);
    this.#file(normalize(path), "truncate").truncate(bytes);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = normalize(from);
    const dst = normalize(to);
    const inode = this.#file(src, "rename");
    if (this.#dirs.has(dst)) throw new MemoryFsError("EISDIR", `illegal operation on a directory, rename '${src}' -> '${dst}'`);
    if (!this.#dirs.has(parentOf(dst))) throw new MemoryFsError("ENOENT", `no such file or directory, rename '${src}' -> '${dst}'`);
    this.#live.delete(src);
    this.#live.set(dst, inode);
  }

  async remove(path: string): Promise<void> {
    const p = normalize(path);
    if (this.#live.delete(p)) return;
    if (!this.#dirs.has(p)) return; // like rm -f: absent is fine
    assert(p !== "/", "cannot remove the root directory");
    // Removing a directory tree is durable at once (see the module comment).
    const under = (q: string): boolean => q === p || q.startsWith(p + "/");
    for (const d of [...this.#dirs]) if (under(d)) this.#dirs.delete(d);
    for (const q of [...this.#live.keys()]) if (under(q)) this.#live.delete(q);
    for (const q of [...this.#durable.keys()]) if (under(q)) this.#durable.delete(q);
  }

  async syncDir(dir: string): Promise<void> {
    const path = normalize(dir);
    if (!this.#dirs.has(path)) throw new MemoryFsError("ENOENT", `no such file or directory, open '${path}'`);
    for (const p of [...this.#durable.keys()]) if (parentOf(p) === path && !this.#live.has(p)) this.#durable.delete(p);
    for (const [p, inode] of this.#live) if (parentOf(p) === path) this.#durable.set(p, inode);
  }

  /**
   * Simulates power loss: each directory goes back to its synced entries and each file to its synced
   * bytes (plus up to `tornTailBytes` of its unsynced appends). Open handles become unusable.
   */
  crash(options: CrashOptions = {}): void {
    const tornTailBytes = options.tornTailBytes ?? 0;
    assert(Number.isSafeInteger(tornTailBytes) && tornTailBytes >= 0, `tornTailBytes ${tornTailBytes} must be an integer >= 0`);
    this.#live.clear();
    const seen = new Set<Inode>();
    for (const [p, inode] of this.#durable) {
      if (!seen.has(inode)) inode.crash(tornTailBytes);
      seen.add(inode);
      this.#live.set(p, inode);
    }
    this.#generation++;
    this.#syncFailures = 0;
  }

  /** Makes the next `count` file syncs fail with EIO, leaving their bytes unsynced (a dying disk). */
  failSyncs(count: number): void {
    assert(Number.isSafeInteger(count) && count >= 0, `failSyncs count ${count} must be an integer >= 0`);
    this.#syncFailures = count;
  }

  /** Sets the byte at `offset` of a file, on the medium (live and durable contents alike). */
  corrupt(path: string, offset: number, byte: number): void {
    const inode = this.#file(normalize(path), "corrupt");
    assert(Number.isSafeInteger(offset) && offset >= 0 && offset < inode.length, `offset ${offset} is outside ${path} (${inode.length} bytes)`);
    assert(Number.isInteger(byte) && byte >= 0 && byte <= 0xff, `byte ${byte} is not a byte`);
    inode.corrupt(offset, byte);
  }

  /** A copy of a file's current contents (synced or not). */
  bytes(path: string): Uint8Array {
    return this.#file(normalize(path), "read").contents();
  }

  /** @internal Called by handles: fails if the handle outlived a crash or a sync fault is armed. */
  checkHandle(path: string, generation: number, op: string): void {
    if (generation !== this.#generation) {
      throw new MemoryFsError("EBADF", `bad file descriptor (opened before a crash), ${op} '${path}'`);
    }
  }

  /** @internal */
  takeSyncFailure(): boolean {
    if (this.#syncFailures === 0) return false;
    this.#syncFailures--;
    return true;
  }

  #file(path: string, op: string): Inode {
    const inode = this.#live.get(path);
    if (inode !== undefined) return inode;
    if (this.#dirs.has(path)) throw new MemoryFsError("EISDIR", `illegal operation on a directory, ${op} '${path}'`);
    throw new MemoryFsError("ENOENT", `no such file or directory, ${op} '${path}'`);
  }
}

class MemoryAppendFile implements AppendFile {
  #closed = false;
  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly fs: MemoryFileSystem,
    private readonly generation: number,
  ) {}
  size(): number {
    return this.inode.length;
  }
  async append(data: Uint8Array): Promise<void> {
    this.#check("write");
    this.inode.append(data);
  }
  async sync(): Promise<void> {
    this.#check("fsync");
    if (this.fs.takeSyncFailure()) throw new MemoryFsError("EIO", `i/o error, fsync '${this.path}'`);
    this.inode.sync();
  }
  async truncate(bytes: number): Promise<void> {
    this.#check("ftruncate");
    assert(Number.isSafeInteger(bytes) && bytes >= 0, `truncate to ${bytes} bytes`);
    this.inode.truncate(bytes);
  }
  async close(): Promise<void> {
    assert(!this.#closed, `${this.path} closed twice`);
    this.#closed = true;
  }
  #check(op: string): void {
    assert(!this.#closed, `${op} on closed file ${this.path}`);
    this.fs.checkHandle(this.path, this.generation, op);
  }
}
