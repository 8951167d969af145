/**
 * WAL record framing: what one record looks like on disk. The encoder and decoder share these helpers
 * so the layout is written down once.
 *
 *   frame   = length word (8 bytes) | record (recordBytes) | padding (padBytes zeros, to 8-byte alignment)
 *   length word, little-endian:
 *     bytes 0..3  recordBytes (u32)
 *     bytes 4..6  low 24 bits of crc32c(bytes 0..3): a length that rotted is caught here instead of
 *                 pointing past EOF, where it would look like a torn tail and cost us valid records
 *     byte  7     padBytes (0..7)
 *   record  = type (u8) | crc (u32 LE) | payload
 *     crc   = crc32c continued from the previous record's crc over type and payload, so it chains over
 *             every earlier record in the log. A segment's first record is a `crc` record whose payload
 *             is the previous segment's final crc: its own crc continues from that value.
 *
 * Frames are 8-byte aligned, so a length word never straddles a sector: a torn write leaves a length
 * word whole, zero or missing, never half old and half new.
 *
 * Payloads (integers are u64 little-endian, stored as two u32 halves, and must be below 2^53, except
 * the vote, a member id, which is a whole u64):
 *   entry      term, index, data (the rest)     — a normal entry (raftpb EntryNormal)
 *   confEntry  term, index, data (the rest)     — a membership change (raftpb EntryConfChange)
 *   hardState  term, vote, commit
 *   snapshot   index, term
 *   crc        previous crc (u32)
 *   metadata   format version (u32), segment sequence, segment first index
 */
import { assert } from "../../util/assert.js";
import { crc32c, crc32cUpdate } from "../../util/crc32c.js";
import type { Entry, HardState, SnapshotMarker } from "./wal.js";

/**
 * The largest record a reader accepts. A sanity bound on length words (a larger one is corruption, not
 * an allocation to attempt); 64 MiB is far above etcd's 1.5 MiB request limit, so no real entry nears it.
 */
export const WAL_RECORD_BYTES_MAX = 64 * 1024 * 1024;

/** Bumped when the layout changes; a reader refuses segments of a version it does not know. */
export const WAL_FORMAT_VERSION = 1;

export const LENGTH_WORD_BYTES = 8;
/** type (1) + crc (4) */
export const RECORD_HEADER_BYTES = 5;
const FRAME_ALIGN_BYTES = 8;
const U64_BYTES = 8;
/** 2^53 split as hi:lo u32 halves: the largest safe hi half. */
const U53_HI_MAX = 0x1fffff;

/** The type byte of each record kind. */
/**
 * The type byte of each record kind. A conf-change entry has its own kind rather than a type byte in the
 * entry payload, so the format of normal entries (and logs written before membership changes) is unchanged.
 */
export const RECORD_TYPE = { entry: 1, hardState: 2, snapshot: 3, crc: 4, metadata: 5, confEntry: 6 } as const;
export type RecordKind = keyof typeof RECORD_TYPE;

/** What a segment says about itself, checked against its file name. */
export interface SegmentMetadata {
  readonly version: number;
  readonly seq: number;
  readonly firstIndex: number;
}

/** One record's meaning, as written and as read back. */
export type WalRecord =
  | { readonly type: "entry"; readonly entry: Entry }
  | { readonly type: "hardState"; readonly hardState: HardState }
  | { readonly type: "snapshot"; readonly snapshot: SnapshotMarker }
  | { readonly type: "crc"; readonly prevCrc: number }
  | { readonly type: "metadata"; readonly metadata: SegmentMetadata };

/** The type byte a record is written with. */
export function recordTypeByte(record: WalRecord): number {
  if (record.type === "entry") return record.entry.type === "EntryConfChange" ? RECORD_TYPE.confEntry : RECORD_TYPE.entry;
  return RECORD_TYPE[record.type];
}

/** Zeros needed after a record of `recordBytes` so the next length word is 8-byte aligned. */
export function paddingBytes(recordBytes: number): number {
  return (FRAME_ALIGN_BYTES - (recordBytes % FRAME_ALIGN_BYTES)) % FRAME_ALIGN_BYTES;
}

/** Bytes the record takes after the length word (type, crc, payload), before padding. */
export function recordBytes(record: WalRecord): number {
  return RECORD_HEADER_BYTES + payloadBytes(record);
}

/** Bytes a record takes on disk: length word, record, padding. */
export function frameBytes(recordBytesCount: number): number {
  return LENGTH_WORD_BYTES + recordBytesCount + paddingBytes(recordBytesCount);
}

function payloadBytes(record: WalRecord): number {
  switch (record.type) {
    case "entry":
      return 2 * U64_BYTES + record.entry.data.length;
    case "hardState":
      return 3 * U64_BYTES;
    case "snapshot":
      return 2 * U64_BYTES;
    case "crc":
      return 4;
    case "metadata":
      return 4 + 2 * U64_BYTES;
  }
}

function lengthCheck(word: Uint8Array): number {
  return crc32c(word.subarray(0, 4)) & 0xffffff;
}

/** Writes the length word for a record of `recordBytesCount` at `at`. */
export function writeLengthWord(bytes: Uint8Array, at: number, recordBytesCount: number): void {
  assert(recordBytesCount >= RECORD_HEADER_BYTES, `record of ${recordBytesCount} bytes is smaller than its header`);
  assert(recordBytesCount <= WAL_RECORD_BYTES_MAX, `record of ${recordBytesCount} bytes is above WAL_RECORD_BYTES_MAX`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, LENGTH_WORD_BYTES);
  view.setUint32(0, recordBytesCount, true);
  const check = lengthCheck(bytes.subarray(at, at + 4));
  view.setUint8(4, check & 0xff);
  view.setUint8(5, (check >>> 8) & 0xff);
  view.setUint8(6, check >>> 16);
  view.setUint8(7, paddingBytes(recordBytesCount));
}

/** A length word as read: a valid one, all zeros (nothing was written there), or malformed. */
export type LengthWord =
  | { readonly kind: "valid"; readonly recordBytes: number; readonly padBytes: number }
  | { readonly kind: "zero" }
  | { readonly kind: "malformed"; readonly reason: string };

/** Reads and checks the length word at `at`; the caller ensures 8 bytes are there. */
export function readLengthWord(bytes: Uint8Array, at: number): LengthWord {
  assert(at + LENGTH_WORD_BYTES <= bytes.length, `length word at ${at} runs past ${bytes.length} bytes`);
  const word = bytes.subarray(at, at + LENGTH_WORD_BYTES);
  if (word.every((b) => b === 0)) return { kind: "zero" };
  const view = new DataView(word.buffer, word.byteOffset, LENGTH_WORD_BYTES);
  const count = view.getUint32(0, true);
  const check = word[4]! | (word[5]! << 8) | (word[6]! << 16);
  if (check !== lengthCheck(word)) return { kind: "malformed", reason: "has a length word that fails its check" };
  if (count < RECORD_HEADER_BYTES || count > WAL_RECORD_BYTES_MAX) {
    return { kind: "malformed", reason: `has length ${count}, outside [${RECORD_HEADER_BYTES}, ${WAL_RECORD_BYTES_MAX}]` };
  }
  const padBytes = word[7]!;
  if (padBytes !== paddingBytes(count)) {
    return { kind: "malformed", reason: `has ${padBytes} padding bytes where length ${count} needs ${paddingBytes(count)}` };
  }
  return { kind: "valid", recordBytes: count, padBytes };
}

/** The CRC of the record whose type byte is at `typeAt`, continued from `seed`. */
export function recordCrc(seed: number, bytes: Uint8Array, typeAt: number, recordBytesCount: number): number {
  const withType = crc32cUpdate(seed, bytes.subarray(typeAt, typeAt + 1));
  return crc32cUpdate(withType, bytes.subarray(typeAt + RECORD_HEADER_BYTES, typeAt + recordBytesCount));
}

function writeU53(view: DataView, at: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${n} is not an integer in [0, 2^53)`);
  view.setUint32(at, n % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
}

function readU53(view: DataView, at: number): number | null {
  const hi = view.getUint32(at + 4, true);
  if (hi > U53_HI_MAX) return null;
  return hi * 0x1_0000_0000 + view.getUint32(at, true);
}

/** Writes the record's payload at `at` (the byte after its crc). */
export function writePayload(bytes: Uint8Array, at: number, record: WalRecord): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, payloadBytes(record));
  switch (record.type) {
    case "entry":
      assert(record.entry.type !== undefined, "WAL entry without a type");
      writeU53(view, 0, record.entry.term);
      writeU53(view, 8, record.entry.index);
      bytes.set(record.entry.data, at + 16);
      return;
    case "hardState":
      writeU53(view, 0, record.hardState.term);
      assert(record.hardState.vote >= 0n && record.hardState.vote < 1n << 64n, `vote ${record.hardState.vote} is not a u64`);
      view.setBigUint64(8, record.hardState.vote, true);
      writeU53(view, 16, record.hardState.commit);
      return;
    case "snapshot":
      writeU53(view, 0, record.snapshot.index);
      writeU53(view, 8, record.snapshot.term);
      return;
    case "crc":
      assert(Number.isInteger(record.prevCrc) && record.prevCrc >= 0 && record.prevCrc <= 0xffffffff, `crc ${record.prevCrc} is not a u32`);
      view.setUint32(0, record.prevCrc, true);
      return;
    case "metadata":
      view.setUint32(0, record.metadata.version, true);
      writeU53(view, 4, record.metadata.seq);
      writeU53(view, 12, record.metadata.firstIndex);
      return;
  }
}

/** A payload read back: the record, or why it cannot be one. */
export type ParsedPayload = { readonly record: WalRecord } | { readonly reason: string };

/** Parses a payload whose CRC has already been verified; a failure here is a format mismatch, not a torn write. */
export function readPayload(type: number, payload: Uint8Array): ParsedPayload {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const sized = (want: number, name: string): string | null =>
    payload.length === want ? null : `is a ${name} record of ${payload.length} payload bytes, want ${want}`;
  const u53 = (at: number): number => readU53(view, at) ?? Number.NaN;
  const unsafe = "holds an integer at or above 2^53";
  switch (type) {
    case RECORD_TYPE.entry:
    case RECORD_TYPE.confEntry: {
      if (payload.length < 16) return { reason: `is an entry record of ${payload.length} payload bytes, want >= 16` };
      const term = u53(0);
      const index = u53(8);
      if (Number.isNaN(term) || Number.isNaN(index)) return { reason: unsafe };
      const entryType = type === RECORD_TYPE.confEntry ? "EntryConfChange" : "EntryNormal";
      return { record: { type: "entry", entry: { term, index, type: entryType, data: payload.slice(16) } } };
    }
    case RECORD_TYPE.hardState: {
      const bad = sized(24, "hardState");
      if (bad !== null) return { reason: bad };
      const hardState = { term: u53(0), vote: view.getBigUint64(8, true), commit: u53(16) };
      if (Number.isNaN(hardState.term) || Number.isNaN(hardState.commit)) return { reason: unsafe };
      return { record: { type: "hardState", hardState } };
    }
    case RECORD_TYPE.snapshot: {
      const bad = sized(16, "snapshot");
      if (bad !== null) return { reason: bad };
      const snapshot = { index: u53(0), term: u53(8) };
      if (Number.isNaN(snapshot.index) || Number.isNaN(snapshot.term)) return { reason: unsafe };
      return { record: { type: "snapshot", snapshot } };
    }
    case RECORD_TYPE.crc: {
      const bad = sized(4, "crc");
      if (bad !== null) return { reason: bad };
      return { record: { type: "crc", prevCrc: view.getUint32(0, true) } };
    }
    case RECORD_TYPE.metadata: {
      const bad = sized(20, "metadata");
      if (bad !== null) return { reason: bad };
      const metadata = { version: view.getUint32(0, true), seq: u53(4), firstIndex: u53(12) };
      if (Number.isNaN(metadata.seq) || Number.isNaN(metadata.firstIndex)) return { reason: unsafe };
      return { record: { type: "metadata", metadata } };
    }
    default:
      return { reason: `has unknown type ${type}` };
  }
}

/** A CRC as 0x-prefixed hex, for messages. */
export function hex(crc: number): string {
  return "0x" + crc.toString(16).padStart(8, "0");
}
