/**
 * Replays segments' bytes into the state the WAL recorded, and decides what damage may be repaired.
 * Pure: it reads bytes and returns (or throws); wal.ts does the IO, including cutting a torn tail.
 *
 * Recovery rules:
 * - A torn tail may be cut off: only in the LAST segment, and only when the first bad record is
 *   incomplete, fails its CRC or has a zero length word, and nothing but zeros follows it to EOF.
 *   A crash mid-append leaves exactly that, and those bytes were never acknowledged (no fsync returned).
 * - Anything else is corruption and throws WalCorruptError: a bad record followed by non-zero data,
 *   a bad record in an earlier segment (it was fsynced before the next segment existed), damage inside
 *   a segment header (synced before the segment got its name), a missing segment, a broken CRC chain.
 *   Cutting there would drop records that were durable, so we refuse and say where.
 */
import { assert } from "../../util/assert.js";
import { decodeSegment } from "./decoder.js";
import { WalCorruptError } from "./errors.js";
import { WAL_FORMAT_VERSION, type SegmentMetadata } from "./record.js";
import type { SegmentName } from "./segment_name.js";
import type { Entry, HardState, SnapshotMarker } from "./wal.js";

/** A segment file's name and contents, in sequence order. */
export interface SegmentBytes extends SegmentName {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** Where a torn tail starts and how much of it there is. */
export interface TornTail {
  readonly path: string;
  readonly offset: number;
  readonly droppedBytes: number;
}

/** The state the log holds once replayed. */
export interface ReplayResult {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMarker | null;
  /** Entries after the snapshot marker, consecutive. */
  readonly entries: Entry[];
  /** The last index the log covers: its last entry, or the snapshot marker if that is further. */
  readonly lastIndex: number;
  /** The running CRC after the last valid record: where the next record continues. */
  readonly crc: number;
  /** A torn tail of the last segment to cut off, or null. */
  readonly tornTail: TornTail | null;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0n, commit: 0 };

interface Located {
  readonly entry: Entry;
  readonly path: string;
  readonly offset: number;
}

/**
 * Replays segments one at a time, oldest first, so only one segment's bytes are held at once.
 * Call `add` for each segment (saying which is the last), then `finish`.
 */
export class Replayer {
  #hardState = EMPTY_HARD_STATE;
  #snapshot: SnapshotMarker | null = null;
  #located: Located[] = [];
  #prev: SegmentName | null = null;
  #prevCrc: number | null = null;
  #tornTail: TornTail | null = null;
  #sawLast = false;

  /** Replays one segment. Throws WalCorruptError for damage that must not be repaired. */
  add(seg: SegmentBytes, isLast: boolean): void {
    assert(!this.#sawLast, `segment ${seg.path} added after the last one`);
    this.#sawLast = isLast;
    const prev = this.#prev;
    if (prev !== null && seg.seq !== prev.seq + 1) {
      throw new WalCorruptError(seg.path, 0, `is segment ${seg.seq} but the one before it is ${prev.seq} (a segment file is missing)`);
    }
    const decoded = decodeSegment(seg.bytes, this.#prevCrc);
    let metadataSeen = false;
    for (const { offset, record } of decoded.records) {
      switch (record.type) {
        case "crc":
          break; // the decoder checked it opens the segment and continues the chain
        case "metadata":
          if (metadataSeen) throw new WalCorruptError(seg.path, offset, "is a second metadata record in one segment");
          checkMetadata(seg, offset, record.metadata);
          metadataSeen = true;
          break;
        case "hardState":
          this.#hardState = record.hardState;
          break;
        case "snapshot":
          this.#snapshot = record.snapshot;
          // Entries the snapshot covers are in it; the log keeps only what comes after.
          this.#located = this.#located.filter((l) => l.entry.index > record.snapshot.index);
          break;
        case "entry": {
          if (!metadataSeen) throw new WalCorruptError(seg.path, offset, "is an entry before the segment's metadata record");
          // A later entry at an index we hold replaces it and everything after it: a raft log conflict.
          const located = this.#located;
          while (located.length > 0 && located[located.length - 1]!.entry.index >= record.entry.index) located.pop();
          located.push({ entry: record.entry, path: seg.path, offset });
          break;
        }
      }
    }
    const bad = decoded.bad;
    if (bad !== null) {
      const context = !isLast
        ? "corrupt record in a segment that is not the last"
        : !metadataSeen
          ? "corrupt segment header, which is synced before the segment is named"
          : bad.torn
            ? null
            : bad.tornKind
              ? "corrupt record in the middle of the log"
              : "corrupt record that a torn write cannot explain";
      if (context !== null) throw new WalCorruptError(seg.path, bad.offset, `${bad.reason} (${context})`);
      this.#tornTail = { path: seg.path, offset: bad.offset, droppedBytes: seg.bytes.length - bad.offset };
    }
    if (!metadataSeen) {
      throw new WalCorruptError(seg.path, decoded.validBytes, "is missing: the segment ends before its metadata record (incomplete segment header)");
    }
    assert(decoded.crc !== null, "a segment with a metadata record has a running crc");
    this.#prev = seg;
    this.#prevCrc = decoded.crc;
  }

  /** The replayed state, once the last segment was added. */
  finish(): ReplayResult {
    assert(this.#sawLast, "finish before the last segment was added");
    assert(this.#prevCrc !== null, "replayed at least one segment");
    const snapshotIndex = this.#snapshot?.index ?? 0;
    checkConsecutive(this.#located, snapshotIndex);
    const entries = this.#located.map((l) => l.entry);
    const lastIndex = Math.max(snapshotIndex, entries.at(-1)?.index ?? 0);
    return { hardState: this.#hardState, snapshot: this.#snapshot, entries, lastIndex, crc: this.#prevCrc, tornTail: this.#tornTail };
  }
}

/** Replays `segments` (at least one, sorted by sequence) held in memory at once. */
export function replay(segments: readonly SegmentBytes[]): ReplayResult {
  assert(segments.length > 0, "replay needs at least one segment");
  const replayer = new Replayer();
  segments.forEach((seg, i) => replayer.add(seg, i === segments.length - 1));
  return replayer.finish();
}

function checkMetadata(seg: SegmentBytes, offset: number, metadata: SegmentMetadata): void {
  if (metadata.version !== WAL_FORMAT_VERSION) {
    throw new WalCorruptError(seg.path, offset, `has format version ${metadata.version}; this build reads version ${WAL_FORMAT_VERSION}`);
  }
  if (metadata.seq !== seg.seq || metadata.firstIndex !== seg.firstIndex) {
    throw new WalCorruptError(
      seg.path,
      offset,
      `says segment ${metadata.seq} first index ${metadata.firstIndex}, but the file is named for segment ${seg.seq} first index ${seg.firstIndex}`,
    );
  }
}

/**
 * The same property save() asserts before writing, checked after reading: the log after the snapshot
 * has no holes. A hole that passed every CRC means a bug wrote it, so we refuse rather than guess.
 */
function checkConsecutive(located: readonly Located[], snapshotIndex: number): void {
  let want = snapshotIndex + 1;
  for (const l of located) {
    if (l.entry.index !== want) {
      throw new WalCorruptError(l.path, l.offset, `is entry ${l.entry.index} where the log needs entry ${want} (entries are missing)`);
    }
    want++;
  }
}
