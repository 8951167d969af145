/**
 * The datastore's write-ahead log, modelled on etcd's server/storage/wal. Raft's hard state, entries and
 * snapshot markers are appended to segment files; `save` makes a whole Ready durable with one fsync.
 * Record framing is in record.ts, replay and the recovery rules in replay.ts, the layout in README.md.
 *
 * A directory holds segments named `%016x-%016x.wal` (sequence, first index):
 *
 *   0000000000000000-0000000000000001.wal   crc(0) meta | entry 1 .. entry 90 | hardState | entry 91 ..
 *   0000000000000001-00000000000000a1.wal   crc(c0) snapshot? hardState meta | entry 161 ..
 *
 * Every segment starts with a header: a crc record carrying the previous segment's running CRC, the
 * newest snapshot marker and hard state as of the cut, and a metadata record naming the segment. So
 * once older segments are released, the first one left still says everything replay needs.
 */
import type { AppendFile, Env, FileSystem, Logger } from "../../env/env.js";
import type { Entry, HardState } from "../../raft/types.js";
import { assert, rethrowIfAssertion } from "../../util/assert.js";
import { Encoder } from "./encoder.js";
import { WalFailedError } from "./errors.js";
import { WAL_FORMAT_VERSION, type WalRecord } from "./record.js";
import { EMPTY_HARD_STATE, Replayer, type SegmentBytes } from "./replay.js";
import { parseSegmentName, segmentName, type SegmentName } from "./segment_name.js";

export { WalCorruptError } from "./errors.js";

/** As etcd: a segment is cut once it reaches this size, which bounds the replay and release of one file. */
export const WAL_SEGMENT_BYTES = 64 * 1024 * 1024;

/** A raft log entry and Raft's persistent state (term, vote, commit): the WAL stores Raft's own types. */
export type { Entry, HardState } from "../../raft/types.js";

/** Says a snapshot at (index, term) exists, so entries up to index may be gone from the log. */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

export interface WalOptions {
  /** Cut a new segment once the current one reaches this many bytes. Default WAL_SEGMENT_BYTES. */
  segmentBytes?: number;
}

export interface WalOpenResult {
  wal: Wal;
  hardState: HardState;
  snapshot: SnapshotMarker | null;
  entries: Entry[];
  /** Bytes of torn tail cut off while opening (0 if the log ended cleanly). */
  repairedBytes: number;
}

const TMP_SUFFIX = ".tmp";

interface SegmentHeader {
  readonly seq: number;
  readonly firstIndex: number;
  readonly prevCrc: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotMarker | null;
}

interface OpenSegment {
  readonly file: AppendFile;
  readonly encoder: Encoder;
}

/**
 * A write-ahead log in one directory. One driver calls save, and its calls must not overlap (asserted).
 * saveSnapshot and releaseBefore may come from a background snapshot task: saveSnapshot waits for an
 * in-flight save (both append to the same file), releaseBefore touches only older files.
 */
export class Wal {
  readonly #fs: FileSystem;
  readonly #log: Logger;
  readonly #dir: string;
  readonly #segmentBytes: number;
  /** Segments on disk, oldest first; the last one is being appended to. */
  readonly #segments: SegmentName[];
  #file: AppendFile;
  #encoder: Encoder;
  #hardState: HardState;
  #snapshot: SnapshotMarker | null;
  /** The last index the log covers: its last entry, or the snapshot marker if that is further. */
  #lastIndex: number;
  #fsyncCount: number;
  /** Bytes appended without an fsync yet (a commit-only hard state). */
  #unsynced = false;
  #saving = false;
  /** Appends run one at a time in this chain; each link settles without throwing. */
  #appends: Promise<void> = Promise.resolve();
  /** The release in flight, if any (close waits for it). */
  #release: Promise<void> | null = null;
  #closed = false;
  /** Set once an append or fsync failed: what is on disk is unknown until the WAL is reopened. */
  #failure: { readonly error: unknown } | null = null;

  private constructor(init: {
    env: Pick<Env, "fs" | "log">;
    dir: string;
    segmentBytes: number;
    segments: SegmentName[];
    open: OpenSegment;
    hardState: HardState;
    snapshot: SnapshotMarker | null;
    lastIndex: number;
    fsyncCount: number;
  }) {
    this.#fs = init.env.fs;
    this.#log = init.env.log;
    this.#dir = init.dir;
    this.#segmentBytes = init.segmentBytes;
    this.#segments = init.segments;
    this.#file = init.open.file;
    this.#encoder = init.open.encoder;
    this.#hardState = init.hardState;
    this.#snapshot = init.snapshot;
    this.#lastIndex = init.lastIndex;
    this.#fsyncCount = init.fsyncCount;
  }

  /**
   * Opens dir (creating an empty WAL if none) and replays every record: returns the last hard state, the
   * newest snapshot marker and the entries after it. A later entry at an index at or below an earlier
   * one replaces that entry and everything after it, as raft log conflicts do. A torn tail of the last
   * segment is cut off (and logged); any other damage throws WalCorruptError and changes nothing.
   */
  static async open(env: Pick<Env, "fs" | "log">, dir: string, options: WalOptions = {}): Promise<WalOpenResult> {
    const segmentBytes = options.segmentBytes ?? WAL_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
      throw new RangeError(`Cannot open WAL: segmentBytes must be a positive integer: current value is ${segmentBytes}`);
    }
    const { fs, log } = env;
    const root = dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
    await fs.mkdirp(root);
    const names = await fs.list(root);
    const segments: SegmentName[] = [];
    for (const name of names) {
      if (name.endsWith(".wal" + TMP_SUFFIX)) {
        // A cut that crashed before its rename: the segment never existed as far as the log is concerned.
        await fs.remove(join(root, name));
        log.info("removed unfinished WAL segment", { path: join(root, name) });
        continue;
      }
      const parsed = parseSegmentName(name);
      if (parsed !== null) segments.push(parsed);
    }
    segments.sort((a, b) => a.seq - b.seq);

    if (segments.length === 0) {
      const header: SegmentHeader = { seq: 0, firstIndex: 1, prevCrc: 0, hardState: EMPTY_HARD_STATE, snapshot: null };
      const open = await createSegment(fs, root, header);
      segments.push({ seq: 0, firstIndex: 1, name: segmentName(0, 1) });
      log.info("created WAL", { dir: root });
      const wal = new Wal({
        env, dir: root, segmentBytes, segments, open,
        hardState: EMPTY_HARD_STATE, snapshot: null, lastIndex: 0, fsyncCount: SEGMENT_CREATE_FSYNCS,
      });
      return { wal, hardState: EMPTY_HARD_STATE, snapshot: null, entries: [], repairedBytes: 0 };
    }

    // One segment in memory at a time: a long log replays in bounded memory.
    const replayer = new Replayer();
    let last: SegmentBytes | null = null;
    for (let i = 0; i < segments.length; i++) {
      const path = join(root, segments[i]!.name);
      last = { ...segments[i]!, path, bytes: await fs.readFile(path) };
      replayer.add(last, i === segments.length - 1);
    }
    assert(last !== null, "at least one segment");
    const result = replayer.finish();
    const file = await fs.openAppend(last.path);
    let fsyncCount = 0;
    let repairedBytes = 0;
    if (result.tornTail !== null) {
      const { path, offset, droppedBytes } = result.tornTail;
      assert(path === last.path, `torn tail ${path} is not in the last segment ${last.path}`);
      // Those bytes were never acknowledged: no fsync covering them returned. Cut them so the next
      // append continues from a valid record, and make the cut durable before anything is appended.
      await file.truncate(offset);
      await file.sync();
      fsyncCount++;
      repairedBytes = droppedBytes;
      log.warn("truncated torn WAL tail", { path, offset, droppedBytes });
    }
    assert(file.size() === last.bytes.length - repairedBytes, `${last.path} is ${file.size()} bytes, replay expected ${last.bytes.length - repairedBytes}`);
    const wal = new Wal({
      env, dir: root, segmentBytes, segments,
      open: { file, encoder: new Encoder(result.crc) },
      hardState: result.hardState, snapshot: result.snapshot, lastIndex: result.lastIndex, fsyncCount,
    });
    return { wal, hardState: result.hardState, snapshot: result.snapshot, entries: result.entries, repairedBytes };
  }

  /** Count of fsyncs done (files and directories), for metrics and tests. */
  get fsyncCount(): number {
    return this.#fsyncCount;
  }

  /**
   * Appends the hard state (if non-null) and entries, then makes them durable with exactly one fsync;
   * resolves when they are (`sync: false`: appended only, durable with the next sync). An empty call writes nothing. Cuts a new segment once the current one
   * reaches segmentBytes (that costs the new file's fsync and its directory's).
   */
  async save(hardState: HardState | null, entries: readonly Entry[], options: { sync?: boolean } = {}): Promise<void> {
    assert(!this.#closed, "save on a closed WAL");
    assert(!this.#saving, "save while another save is in flight: calls must not overlap");
    if (hardState === null && entries.length === 0) return;
    this.#saving = true;
    try {
      await this.#exclusive(async () => {
        this.#checkEntries(entries);
        if (hardState !== null) checkHardState(hardState);
        const records: WalRecord[] = entries.map((entry) => ({ type: "entry", entry }));
        // After the entries, as etcd: a commit index in this hard state may point into them.
        if (hardState !== null) records.push({ type: "hardState", hardState: { ...hardState } });
        await this.#appendDurably(records, options.sync ?? true);
        if (entries.length > 0) this.#lastIndex = entries[entries.length - 1]!.index;
        if (hardState !== null) this.#hardState = { ...hardState };
        await this.#cutIfFull();
      });
    } finally {
      this.#saving = false;
    }
  }

  /** Records a snapshot marker; durable before it resolves. Markers only move forward. Waits for an in-flight save. */
  async saveSnapshot(marker: SnapshotMarker): Promise<void> {
    assert(!this.#closed, "saveSnapshot on a closed WAL");
    await this.#exclusive(async () => {
      assertIndex(marker.index, "snapshot index");
      assertIndex(marker.term, "snapshot term");
      const previous = this.#snapshot?.index ?? 0;
      assert(marker.index >= previous, `snapshot marker at ${marker.index} is behind the one at ${previous}`);
      const snapshot = { index: marker.index, term: marker.term };
      await this.#appendDurably([{ type: "snapshot", snapshot }]);
      this.#snapshot = snapshot;
      this.#lastIndex = Math.max(this.#lastIndex, snapshot.index);
      await this.#cutIfFull();
    });
  }

  /**
   * Removes whole segment files whose entries are all below `index`, oldest first, never the segment
   * in use. Call it after a snapshot at `index` is durable and its marker saved: the entries removed
   * must be in a snapshot, or they are lost. May run while a save is in flight.
   */
  async releaseBefore(index: number): Promise<void> {
    assert(!this.#closed, "releaseBefore on a closed WAL");
    assert(this.#release === null, "releaseBefore while another releaseBefore is in flight");
    assertIndex(index, "release index");
    const covered = this.#snapshot?.index ?? 0;
    assert(index <= covered, `releaseBefore(${index}) is beyond the newest snapshot marker at ${covered}: entries it removes would be lost`);
    const release = this.#removeSegmentsBefore(index);
    this.#release = release;
    try {
      await release;
    } finally {
      this.#release = null;
    }
  }

  async #removeSegmentsBefore(index: number): Promise<void> {
    // Entries still in effect in segment k are all below segment k+1's first index (see segment_name.ts).
    let count = 0;
    while (count < this.#segments.length - 1 && this.#segments[count + 1]!.firstIndex <= index) count++;
    if (count === 0) return;
    // Taken off the list before any await, so a cut that lands meanwhile only ever appends.
    const removed = this.#segments.splice(0, count);
    for (const s of removed) {
      await this.#fs.remove(join(this.#dir, s.name));
      // One directory fsync per file: on disk the log is always an unbroken run of segments, even
      // if we crash half way (unsynced removes may persist in any order).
      await this.#fs.syncDir(this.#dir);
      this.#fsyncCount++;
    }
    this.#log.info("released WAL segments", { index, removed: removed.map((s) => s.name) });
  }

  /** Refuses new calls, waits for the appends and release in flight, then closes the segment in use. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#appends;
    await this.#release?.catch(() => undefined);
    await this.#file.close();
  }

  /** Runs `fn` after every append queued before it, so records from different callers never interleave. */
  #exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.#appends.then(() => {
      if (this.#failure !== null) throw new WalFailedError({ cause: this.#failure.error });
      return fn();
    });
    this.#appends = run.catch(() => undefined);
    return run;
  }

  /**
   * Appends records and, unless `sync` is false, fsyncs. Raft needs no fsync for a hard state whose only
   * change is the commit index (a lost commit index is learnt again from the leader): it rides on the next sync.
   */
  async #appendDurably(records: readonly WalRecord[], sync = true): Promise<void> {
    // Throws WalRecordTooLargeError before anything is written or the running CRC moves.
    const bytes = this.#encoder.encode(records);
    try {
      await this.#file.append(bytes);
      this.#unsynced = true;
      if (!sync) return;
      await this.#file.sync();
      this.#unsynced = false;
    } catch (err) {
      rethrowIfAssertion(err);
      this.#failure = { error: err };
      throw err;
    }
    this.#fsyncCount++;
  }

  async #cutIfFull(): Promise<void> {
    if (this.#file.size() < this.#segmentBytes) return;
    // Only the last segment may end torn: make this one whole before another follows it.
    if (this.#unsynced) await this.#appendDurably([], true);
    const last = this.#segments[this.#segments.length - 1]!;
    const header: SegmentHeader = {
      seq: last.seq + 1,
      firstIndex: this.#lastIndex + 1,
      prevCrc: this.#encoder.crc,
      hardState: this.#hardState,
      snapshot: this.#snapshot,
    };
    let open: OpenSegment;
    try {
      open = await createSegment(this.#fs, this.#dir, header);
    } catch (err) {
      rethrowIfAssertion(err);
      this.#failure = { error: err };
      throw err;
    }
    this.#fsyncCount += SEGMENT_CREATE_FSYNCS;
    const previous = this.#file;
    this.#file = open.file;
    this.#encoder = open.encoder;
    this.#segments.push({ seq: header.seq, firstIndex: header.firstIndex, name: segmentName(header.seq, header.firstIndex) });
    await previous.close();
    this.#log.info("cut WAL segment", { path: open.file.path, seq: header.seq, firstIndex: header.firstIndex });
  }

  #checkEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      assertIndex(e.index, `entries[${i}].index`);
      assertIndex(e.term, `entries[${i}].term`);
      if (i > 0) assert(e.index === entries[i - 1]!.index + 1, `entries[${i}] has index ${e.index}, want ${entries[i - 1]!.index + 1}: a batch must be consecutive`);
    }
    const first = entries[0]!.index;
    const snapshotIndex = this.#snapshot?.index ?? 0;
    assert(first <= this.#lastIndex + 1, `first entry ${first} leaves a hole after the last index ${this.#lastIndex}`);
    assert(first > snapshotIndex, `first entry ${first} is at or below the snapshot marker at ${snapshotIndex}`);
  }
}

/** Creating a segment fsyncs the new file and then its directory. */
const SEGMENT_CREATE_FSYNCS = 2;

/**
 * Writes a segment's header under a temp name, fsyncs it, renames it into place and fsyncs the
 * directory, so a segment file exists only with a complete, durable header; then opens it for appends.
 */
async function createSegment(fs: FileSystem, dir: string, header: SegmentHeader): Promise<OpenSegment> {
  const path = join(dir, segmentName(header.seq, header.firstIndex));
  const tmp = path + TMP_SUFFIX;
  const encoder = new Encoder(header.prevCrc);
  const records: WalRecord[] = [{ type: "crc", prevCrc: header.prevCrc }];
  if (header.snapshot !== null) records.push({ type: "snapshot", snapshot: header.snapshot });
  if (!isEmptyHardState(header.hardState)) records.push({ type: "hardState", hardState: header.hardState });
  records.push({ type: "metadata", metadata: { version: WAL_FORMAT_VERSION, seq: header.seq, firstIndex: header.firstIndex } });
  const bytes = encoder.encode(records);
  await fs.remove(tmp);
  const staging = await fs.openAppend(tmp);
  try {
    await staging.append(bytes);
    await staging.sync();
  } finally {
    await staging.close();
  }
  await fs.rename(tmp, path);
  await fs.syncDir(dir);
  const file = await fs.openAppend(path);
  assert(file.size() === bytes.length, `new segment ${path} is ${file.size()} bytes, wrote ${bytes.length}`);
  return { file, encoder };
}

function checkHardState(hs: HardState): void {
  assertIndex(hs.term, "hardState.term");
  assert(hs.vote >= 0n && hs.vote < 1n << 64n, `hardState.vote ${hs.vote} is not a u64 member id`);
  assertIndex(hs.commit, "hardState.commit");
}

function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}

function assertIndex(n: number, what: string): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${what} ${n} is not an integer in [0, 2^53)`);
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
