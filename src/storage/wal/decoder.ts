/**
 * Reads one segment's bytes back into records, verifying every length word and CRC, and stops at the
 * first record it cannot trust. It only describes the damage; wal.ts decides whether it is a torn tail
 * to cut off or corruption to refuse, because that depends on where the segment sits in the log.
 */
import {
  LENGTH_WORD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TYPE,
  hex,
  readLengthWord,
  readPayload,
  recordCrc,
  type WalRecord,
} from "./record.js";

/** A record and the offset of its length word in the segment. */
export interface DecodedRecord {
  readonly offset: number;
  readonly record: WalRecord;
}

/** The first record that could not be read. */
export interface BadRecord {
  /** Offset of its length word: everything before it is valid. */
  readonly offset: number;
  /** Why, as the end of a sentence: "failed its CRC check". */
  readonly reason: string;
  /**
   * It looks like a write cut short by a crash: the record is incomplete, fails its CRC or has a zero
   * length word, and only zeros (or nothing) follow it to the end of the file.
   */
  readonly torn: boolean;
  /** It is damage a torn write could cause (incomplete, CRC, zero length word), whatever follows it. */
  readonly tornKind: boolean;
}

/** What a segment holds, up to the first bad record. */
export interface DecodedSegment {
  readonly records: readonly DecodedRecord[];
  /** Bytes up to the end of the last valid record (where a torn tail would be cut). */
  readonly validBytes: number;
  /** The running CRC after the last valid record (null if there is none). */
  readonly crc: number | null;
  readonly bad: BadRecord | null;
}

/**
 * Decodes a segment. `prevSegmentCrc` is the CRC the previous segment ended at, or null if unknown
 * (the first segment left after older ones were released): the segment's leading `crc` record must match it.
 */
export function decodeSegment(bytes: Uint8Array, prevSegmentCrc: number | null): DecodedSegment {
  const records: DecodedRecord[] = [];
  let crc: number | null = null;
  let at = 0;
  const stop = (reason: string, tornKind: boolean, damageEnd: number): DecodedSegment => {
    const torn = tornKind && allZero(bytes, damageEnd);
    return { records, validBytes: at, crc, bad: { offset: at, reason, torn, tornKind } };
  };
  // Bounded by the segment's length: each pass consumes at least one 8-byte frame or stops.
  while (at < bytes.length) {
    if (bytes.length - at < LENGTH_WORD_BYTES) return stop("has an incomplete length word at the end of the file", true, bytes.length);
    const word = readLengthWord(bytes, at);
    if (word.kind === "zero") return stop("has a zero length word", true, at + LENGTH_WORD_BYTES);
    if (word.kind === "malformed") return stop(word.reason, false, bytes.length);
    const typeAt = at + LENGTH_WORD_BYTES;
    const end = typeAt + word.recordBytes + word.padBytes;
    if (end > bytes.length) {
      return stop(`is incomplete: it needs ${end - at} bytes but the file ends ${bytes.length - at} bytes after it starts`, true, bytes.length);
    }
    const type = bytes[typeAt]!;
    const payload = bytes.subarray(typeAt + RECORD_HEADER_BYTES, typeAt + word.recordBytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset + typeAt, word.recordBytes);
    const isCrcRecord = type === RECORD_TYPE.crc && payload.length === 4;
    if (at === 0 && !isCrcRecord) return stop("is not the CRC record a segment must start with", false, bytes.length);
    // A crc record continues from the value it carries; every other record from the one before it.
    const seed = isCrcRecord ? view.getUint32(RECORD_HEADER_BYTES, true) : crc!;
    if (recordCrc(seed, bytes, typeAt, word.recordBytes) !== view.getUint32(1, true)) {
      return stop("failed its CRC check", true, end);
    }
    if (!allZero(bytes.subarray(0, end), typeAt + word.recordBytes)) return stop("has non-zero padding", false, bytes.length);
    const parsed = readPayload(type, payload);
    if ("reason" in parsed) return stop(parsed.reason, false, bytes.length);
    if (parsed.record.type === "crc") {
      if (at !== 0) return stop("is a CRC record in the middle of a segment", false, bytes.length);
      if (prevSegmentCrc !== null && parsed.record.prevCrc !== prevSegmentCrc) {
        return stop(`continues CRC ${hex(parsed.record.prevCrc)} but the previous segment ended at ${hex(prevSegmentCrc)}`, false, bytes.length);
      }
    }
    records.push({ offset: at, record: parsed.record });
    crc = view.getUint32(1, true);
    at = end;
  }
  return { records, validBytes: at, crc, bad: null };
}

/** True if every byte of `bytes` from `from` to the end is zero (or there are none). */
function allZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
