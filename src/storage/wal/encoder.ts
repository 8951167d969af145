/** Turns records into framed bytes, continuing the log's running CRC (see record.ts for the layout). */
import { assert } from "../../util/assert.js";
import { WalRecordTooLargeError } from "./errors.js";
import {
  LENGTH_WORD_BYTES,
  RECORD_HEADER_BYTES,
  recordTypeByte,
  WAL_RECORD_BYTES_MAX,
  frameBytes,
  hex,
  readLengthWord,
  recordBytes,
  recordCrc,
  writeLengthWord,
  writePayload,
  type WalRecord,
} from "./record.js";

/** Frames records for one segment. Holds the running CRC: the CRC of the last record framed. */
export class Encoder {
  #crc: number;

  /** `crc` is the running CRC the next record continues from (a segment's `crc` record must carry it). */
  constructor(crc: number) {
    this.#crc = crc;
  }

  /** The CRC of the last record framed: what the next record, or the next segment, continues from. */
  get crc(): number {
    return this.#crc;
  }

  /**
   * Frames `records` into one buffer, for one append. Throws WalRecordTooLargeError before changing
   * anything if a record is above WAL_RECORD_BYTES_MAX. The running CRC advances only on success.
   */
  encode(records: readonly WalRecord[]): Uint8Array {
    let total = 0;
    for (const record of records) {
      const size = recordBytes(record);
      if (size > WAL_RECORD_BYTES_MAX) throw new WalRecordTooLargeError(size, WAL_RECORD_BYTES_MAX);
      total += frameBytes(size);
    }
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let at = 0;
    let crc = this.#crc;
    for (const record of records) {
      const size = recordBytes(record);
      writeLengthWord(out, at, size);
      const typeAt = at + LENGTH_WORD_BYTES;
      out[typeAt] = recordTypeByte(record);
      writePayload(out, typeAt + RECORD_HEADER_BYTES, record);
      if (record.type === "crc") assert(record.prevCrc === crc, `crc record carries ${hex(record.prevCrc)} but the log is at ${hex(crc)}`);
      // Computed from the bytes as they sit in the buffer, so the CRC covers exactly what we append.
      crc = recordCrc(crc, out, typeAt, size);
      view.setUint32(typeAt + 1, crc, true);
      at += frameBytes(size);
    }
    assert(at === total, `framed ${at} bytes, sized ${total}`);
    verifyFrames(out, this.#crc, crc);
    this.#crc = crc;
    return out;
  }
}

/**
 * Checks the framed batch the way a reader will see it: the length words tile the buffer and each
 * stored CRC is the one we computed. Catches a framing bug before it reaches the disk, not at replay.
 */
function verifyFrames(out: Uint8Array, crcBefore: number, crcAfter: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  let at = 0;
  let last = crcBefore;
  while (at < out.length) {
    const word = readLengthWord(out, at);
    assert(word.kind === "valid", `framed a length word at ${at} that does not read back (${word.kind})`);
    last = view.getUint32(at + LENGTH_WORD_BYTES + 1, true);
    at += LENGTH_WORD_BYTES + word.recordBytes + word.padBytes;
  }
  assert(at === out.length, `frames end at ${at}, buffer at ${out.length}`);
  assert(last === crcAfter, `last stored crc ${hex(last)} is not the computed ${hex(crcAfter)}`);
}
