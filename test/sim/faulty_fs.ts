/**
 * A `FileSystem` over another one (a member's MemoryFileSystem) that makes a disk behave like a disk:
 *
 * - Errors: writes and fsyncs fail with EIO, with a seeded probability while a fault window is open (a
 *   disk going bad). What the member does with the error is its business; etcd treats a failed WAL write
 *   or fsync as fatal, and the simulator then crashes the member's disk and restarts it later.
 * - Latency: appends, fsyncs, atomic writes and directory syncs take a seeded time on the virtual clock
 *   (`latency`), served one after another as one disk queue does, so a crash can land between a
 *   member's send and its fsync. An operation lands on the inner file system only when it completes; one
 *   still queued when the member crashes never lands (its process is gone) and never settles.
 * - Crashes end a process for good: each start of a member gets its own `session()`, and once the disk
 *   crashed, nothing through an older session reaches the disk again (a crashed member's code that is
 *   still running, a snapshot being saved or WAL segments being released, must not write into, or
 *   remove from, the directory its next incarnation runs on). Those calls never settle.
 */
import type { AppendFile, Clock, FileSystem } from "../../src/env/env.js";
import { MemoryFsError } from "../../src/env/memory_fs.js";
import type { SimRandom } from "./rand.js";

/** How long one operation takes, drawn uniformly from 0 to the maximum (ms of virtual time). */
export interface DiskLatency {
  /** A write into the page cache: short. */
  readonly appendMsMax: number;
  /** An fsync (also an atomic write's and a directory's): the slow one. */
  readonly syncMsMax: number;
}

/** A healthy disk with an fsync of up to 20 ms, as a cloud volume's tail. */
export const DISK_LATENCY_DEFAULT: DiskLatency = { appendMsMax: 1, syncMsMax: 20 };

export interface FaultyFileSystemOptions {
  /** The virtual clock latency is measured on; without it every operation completes at once. */
  readonly clock?: Clock;
  /** Draws the latencies (its own stream, so turning latency on does not move the EIO draws). */
  readonly latencyRandom?: SimRandom;
  readonly latency?: DiskLatency | null;
}

export class FaultyFileSystem implements FileSystem {
  readonly #inner: FileSystem;
  readonly #random: SimRandom;
  readonly #clock: Clock | null;
  readonly #latencyRandom: SimRandom;
  /** Probability that a write or an fsync fails; 0 = a healthy disk. */
  errorRate = 0;
  /** EIO errors returned so far. */
  errors = 0;
  /** How slow the disk is now (null: instant). */
  latency: DiskLatency | null;
  /** Operations that waited on the disk queue so far. */
  delayed = 0;
  /** Bumped by `crash()`: operations queued before it never land. */
  #epoch = 0;
  /** When the disk queue is free again (virtual ms). */
  #busyUntil = 0;

  constructor(inner: FileSystem, random: SimRandom, options: FaultyFileSystemOptions = {}) {
    this.#inner = inner;
    this.#random = random;
    this.#clock = options.clock ?? null;
    this.#latencyRandom = options.latencyRandom ?? random;
    this.latency = options.latency ?? null;
  }

  /** The machine lost power: whatever is still queued on the disk is dropped with the process. */
  crash(): void {
    this.#epoch++;
    this.#busyUntil = 0;
  }

  /** The file system as one incarnation of the member sees it: dead once the disk crashes. */
  session(): FileSystem {
    return new SessionFileSystem(this, this.#epoch);
  }

  /** @internal The current incarnation's number. */
  get epoch(): number {
    return this.#epoch;
  }

  /** @internal Throws EIO if the dice say so. */
  maybeFail(op: string, path: string): void {
    if (this.errorRate > 0 && this.#random.chance(this.errorRate)) {
      this.errors++;
      throw new MemoryFsError("EIO", `i/o error, ${op} '${path}'`);
    }
  }

  /**
   * @internal Waits for the operation's turn on the disk and its own duration. Resolves at once on an
   * instant disk; never resolves if the member crashed meanwhile (so the operation never lands).
   */
  async wait(kind: "append" | "sync"): Promise<void> {
    const clock = this.#clock;
    const l = this.latency;
    if (clock === null || l === null) return;
    const max = kind === "append" ? l.appendMsMax : l.syncMsMax;
    const now = clock.nowMs();
    const at = Math.max(now, this.#busyUntil) + (max > 0 ? this.#latencyRandom.between(0, max) : 0);
    this.#busyUntil = at;
    if (at <= now) return;
    this.delayed++;
    const epoch = this.#epoch;
    await new Promise<void>((resolve) => void clock.setTimer(at - now, resolve));
    if (epoch !== this.#epoch) await NEVER;
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
    await this.wait("sync");
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
    await this.wait("sync");
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
    await this.fs.wait("append");
    return this.inner.append(data);
  }
  async sync(): Promise<void> {
    this.fs.maybeFail("fsync", this.inner.path);
    await this.fs.wait("sync");
    return this.inner.sync();
  }
  truncate(bytes: number): Promise<void> {
    return this.inner.truncate(bytes);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What a call from a crashed process waits on. */
const NEVER = new Promise<never>(() => {});

/** One incarnation's view: every call from it, once its disk crashed, never settles and changes nothing. */
class SessionFileSystem implements FileSystem {
  constructor(private readonly fs: FaultyFileSystem, private readonly epoch: number) {}

  async #live<T>(op: () => Promise<T>): Promise<T> {
    if (this.fs.epoch !== this.epoch) return NEVER;
    const out = await op();
    // The call may have waited on the disk across a crash: its result belongs to a process that is gone.
    if (this.fs.epoch !== this.epoch) return NEVER;
    return out;
  }

  mkdirp(dir: string): Promise<void> {
    return this.#live(() => this.fs.mkdirp(dir));
  }
  list(dir: string): Promise<string[]> {
    return this.#live(() => this.fs.list(dir));
  }
  exists(path: string): Promise<boolean> {
    return this.#live(() => this.fs.exists(path));
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.#live(() => this.fs.readFile(path));
  }
  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return this.#live(() => this.fs.writeFileAtomic(path, data));
  }
  async openAppend(path: string): Promise<AppendFile> {
    const f = await this.#live(() => this.fs.openAppend(path));
    return new SessionAppendFile(f, this.fs, this.epoch);
  }
  truncate(path: string, bytes: number): Promise<void> {
    return this.#live(() => this.fs.truncate(path, bytes));
  }
  rename(from: string, to: string): Promise<void> {
    return this.#live(() => this.fs.rename(from, to));
  }
  remove(path: string): Promise<void> {
    return this.#live(() => this.fs.remove(path));
  }
  syncDir(dir: string): Promise<void> {
    return this.#live(() => this.fs.syncDir(dir));
  }
}

class SessionAppendFile implements AppendFile {
  constructor(private readonly inner: AppendFile, private readonly fs: FaultyFileSystem, private readonly epoch: number) {}
  get path(): string {
    return this.inner.path;
  }
  size(): number {
    return this.inner.size();
  }
  async #live<T>(op: () => Promise<T>): Promise<T> {
    if (this.fs.epoch !== this.epoch) return NEVER;
    const out = await op();
    if (this.fs.epoch !== this.epoch) return NEVER;
    return out;
  }
  append(data: Uint8Array): Promise<void> {
    return this.#live(() => this.inner.append(data));
  }
  sync(): Promise<void> {
    return this.#live(() => this.inner.sync());
  }
  truncate(bytes: number): Promise<void> {
    return this.#live(() => this.inner.truncate(bytes));
  }
  close(): Promise<void> {
    return this.#live(() => this.inner.close());
  }
}
