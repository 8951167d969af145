/**
 * A `FileSystem` over another one (a member's MemoryFileSystem) that makes writes and fsyncs fail with
 * EIO, with a seeded probability while a fault window is open: a disk going bad. What the member does
 * with the error is its business; etcd treats a failed WAL write or fsync as fatal, and the simulator
 * then crashes the member's disk (losing unsynced bytes) and restarts it later.
 */
import type { AppendFile, FileSystem } from "../../src/env/env.js";
import { MemoryFsError } from "../../src/env/memory_fs.js";
import type { SimRandom } from "./rand.js";

export class FaultyFileSystem implements FileSystem {
  readonly #inner: FileSystem;
  readonly #random: SimRandom;
  /** Probability that a write or an fsync fails; 0 = a healthy disk. */
  errorRate = 0;
  /** EIO errors returned so far. */
  errors = 0;

  constructor(inner: FileSystem, random: SimRandom) {
    this.#inner = inner;
    this.#random = random;
  }

  /** @internal Throws EIO if the dice say so. */
  maybeFail(op: string, path: string): void {
    if (this.errorRate > 0 && this.#random.chance(this.errorRate)) {
      this.errors++;
      throw new MemoryFsError("EIO", `i/o error, ${op} '${path}'`);
    }
  }

  mkdirp(dir: string): Promise<void> {
    return this.#inner.mkdirp(dir);
  }
  list(dir: string): Promise<string[]> {
    return this.#inner.list(dir);
  }
  exists(path: string): Promise<boolean> {
    return this.#inner.exists(path);
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.#inner.readFile(path);
  }
  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    this.maybeFail("write", path);
    return this.#inner.writeFileAtomic(path, data);
  }
  async openAppend(path: string): Promise<AppendFile> {
    return new FaultyAppendFile(await this.#inner.openAppend(path), this);
  }
  truncate(path: string, bytes: number): Promise<void> {
    return this.#inner.truncate(path, bytes);
  }
  rename(from: string, to: string): Promise<void> {
    return this.#inner.rename(from, to);
  }
  remove(path: string): Promise<void> {
    return this.#inner.remove(path);
  }
  async syncDir(dir: string): Promise<void> {
    this.maybeFail("fsync", dir);
    return this.#inner.syncDir(dir);
  }
}

class FaultyAppendFile implements AppendFile {
  constructor(private readonly inner: AppendFile, private readonly fs: FaultyFileSystem) {}
  get path(): string {
    return this.inner.path;
  }
  size(): number {
    return this.inner.size();
  }
  async append(data: Uint8Array): Promise<void> {
    this.fs.maybeFail("write", this.inner.path);
    return this.inner.append(data);
  }
  async sync(): Promise<void> {
    this.fs.maybeFail("fsync", this.inner.path);
    return this.inner.sync();
  }
  truncate(bytes: number): Promise<void> {
    return this.inner.truncate(bytes);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
