/**
 * Snapshot files, modelled on etcd's server/storage/snap. One file per snapshot, named
 * `%016x-%016x.snap` (term, index) so names sort oldest to newest, written atomically:
 *
 *   bytes 0..3    crc32c of bytes 4.. (u32 LE)
 *   bytes 4..7    format version (u32 LE)
 *   bytes 8..15   term  (u64 LE as two u32 halves, below 2^53)
 *   bytes 16..23  index (likewise)
 *   bytes 24..    data
 *
 * A file that fails to verify is renamed to `*.snap.broken` (as etcd does) so an operator can look at
 * it, and loading falls back to the next newest.
 */
import type { Env, FileSystem, Logger } from "../../env/env.js";
import { assert } from "../../util/assert.js";
import { crc32c } from "../../util/crc32c.js";

/**
 * The largest snapshot we write or read: etcd's default backend quota (2 GiB). A snapshot holds at most
 * the whole key space, so anything larger is a bug (when writing) or corruption (when reading).
 */
export const SNAPSHOT_BYTES_MAX = 2 * 1024 * 1024 * 1024;

/** Bumped when the layout changes; a reader treats an unknown version as a file it cannot use. */
export const SNAPSHOT_FORMAT_VERSION = 1;

const HEADER_BYTES = 24;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const BROKEN_SUFFIX = ".broken";
const TMP_SUFFIX = ".tmp";

/** A snapshot of the state machine at a raft (index, term). */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/** Saves, loads and purges snapshot files in one directory. */
export class Snapshotter {
  readonly #fs: FileSystem;
  readonly #log: Logger;
  readonly #dir: string;

  constructor(env: Pick<Env, "fs" | "log">, dir: string) {
    this.#fs = env.fs;
    this.#log = env.log;
    this.#dir = dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
  }

  /** Writes the snapshot to `%016x-%016x.snap` (term-index): readers see all of it or none of it. */
  async save(snapshot: Snapshot): Promise<void> {
    assertU53(snapshot.index, "snapshot index");
    assertU53(snapshot.term, "snapshot term");
    if (snapshot.data.length > SNAPSHOT_BYTES_MAX) {
      throw new RangeError(`Cannot save snapshot: data is ${snapshot.data.length} bytes, above SNAPSHOT_BYTES_MAX (${SNAPSHOT_BYTES_MAX})`);
    }
    const name = snapName(snapshot.term, snapshot.index);
    const bytes = encodeSnapshot(snapshot);
    // The same check loading will make, made before the write: what we store must read back.
    const check = decodeSnapshot(name, bytes);
    assert(!("reason" in check), `encoded snapshot does not verify: ${"reason" in check ? check.reason : ""}`);
    await this.#fs.mkdirp(this.#dir);
    const path = `${this.#dir}/${name}`;
    await this.#fs.writeFileAtomic(path, bytes);
    this.#log.info("saved snapshot file", { path, index: snapshot.index, term: snapshot.term, bytes: bytes.length });
  }

  /**
   * The newest snapshot file that verifies (at or below `atMostIndex`), or null if there is none. A file that does not verify is
   * renamed to `*.snap.broken`, logged, and skipped for the next newest.
   */
  async loadNewest(options: { atMostIndex?: number } = {}): Promise<Snapshot | null> {
    const names = (await this.#fs.list(this.#dir)).filter((n) => SNAP_NAME.test(n)).sort().reverse();
    for (const name of names) {
      // A file newer than the WAL's snapshot marker was saved by a member that crashed before the marker:
      // the WAL still holds those entries, and the file is not in effect.
      if (options.atMostIndex !== undefined && parseInt(SNAP_NAME.exec(name)![2]!, 16) > options.atMostIndex) continue;
      const path = `${this.#dir}/${name}`;
      const decoded = decodeSnapshot(name, await this.#fs.readFile(path));
      if (!("reason" in decoded)) return decoded;
      const to = path + BROKEN_SUFFIX;
      this.#log.warn("snapshot file is corrupt; renamed it and trying an older one", { path, to, reason: decoded.reason });
      await this.#fs.rename(path, to);
      await this.#fs.syncDir(this.#dir);
    }
    return null;
  }

  /** Keeps the newest `keep` snapshot files and removes older ones (and temp files of saves that crashed). */
  async purge(keep: number): Promise<void> {
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw new RangeError(`Cannot purge snapshots: keep must be an integer >= 1: current value is ${keep}`);
    }
    const names = await this.#fs.list(this.#dir);
    const snaps = names.filter((n) => SNAP_NAME.test(n)).sort();
    const removed = [...snaps.slice(0, Math.max(0, snaps.length - keep)), ...names.filter((n) => n.endsWith(".snap" + TMP_SUFFIX))];
    if (removed.length === 0) return;
    for (const name of removed) await this.#fs.remove(`${this.#dir}/${name}`);
    await this.#fs.syncDir(this.#dir);
    this.#log.info("purged snapshot files", { dir: this.#dir, removed });
  }
}

/** The file name of the snapshot at (term, index). */
export function snapName(term: number, index: number): string {
  assertU53(term, "snapshot term");
  assertU53(index, "snapshot index");
  return `${term.toString(16).padStart(16, "0")}-${index.toString(16).padStart(16, "0")}.snap`;
}

/** Encodes a snapshot file's bytes (see the module comment for the layout). */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + snapshot.data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, SNAPSHOT_FORMAT_VERSION, true);
  writeU53(view, 8, snapshot.term);
  writeU53(view, 16, snapshot.index);
  bytes.set(snapshot.data, HEADER_BYTES);
  view.setUint32(0, crc32c(bytes.subarray(4)), true);
  return bytes;
}

/** Decodes and verifies a snapshot file against its name: the snapshot, or why it cannot be trusted. */
export function decodeSnapshot(name: string, bytes: Uint8Array): Snapshot | { readonly reason: string } {
  const m = SNAP_NAME.exec(name);
  if (m === null) return { reason: `${name} is not a snapshot file name` };
  if (bytes.length < HEADER_BYTES) return { reason: `file is ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header` };
  if (bytes.length - HEADER_BYTES > SNAPSHOT_BYTES_MAX) return { reason: `data is above SNAPSHOT_BYTES_MAX (${SNAPSHOT_BYTES_MAX})` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const stored = view.getUint32(0, true);
  const computed = crc32c(bytes.subarray(4));
  if (stored !== computed) return { reason: `crc32c is ${hex(computed)}, header says ${hex(stored)}` };
  const version = view.getUint32(4, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) return { reason: `format version ${version}; this build reads version ${SNAPSHOT_FORMAT_VERSION}` };
  const term = readU53(view, 8);
  const index = readU53(view, 16);
  if (term === null || index === null) return { reason: "term or index is at or above 2^53" };
  if (name !== snapName(term, index)) return { reason: `holds term ${term} index ${index}, which the name ${name} does not say` };
  return { index, term, data: bytes.slice(HEADER_BYTES) };
}

function writeU53(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
}

function readU53(view: DataView, at: number): number | null {
  const n = view.getUint32(at + 4, true) * 0x1_0000_0000 + view.getUint32(at, true);
  return Number.isSafeInteger(n) ? n : null;
}

function assertU53(n: number, what: string): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${what} ${n} is not an integer in [0, 2^53)`);
}

function hex(crc: number): string {
  return "0x" + crc.toString(16).padStart(8, "0");
}
