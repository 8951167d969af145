/**
 * Segment file names, as etcd's: `%016x-%016x.wal` (sequence, first index). The sequence orders the
 * segments and must have no gaps; the first index is the log's last index + 1 when the segment was cut,
 * so every entry still in effect in a segment is below the next segment's first index.
 */
import { assert } from "../../util/assert.js";

/** A segment as named on disk. */
export interface SegmentName {
  readonly seq: number;
  readonly firstIndex: number;
  readonly name: string;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const HEX_DIGITS = 16;

/** Formats the name of segment `seq` whose first entry will be `firstIndex`. */
export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

/** Parses a segment name; null if `name` is not one (or names numbers at or above 2^53). */
export function parseSegmentName(name: string): SegmentName | null {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return null;
  const seq = Number.parseInt(m[1]!, 16);
  const firstIndex = Number.parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return null;
  return { seq, firstIndex, name };
}

function hex16(n: number): string {
  assert(Number.isSafeInteger(n) && n >= 0, `${n} is not an integer in [0, 2^53)`);
  return n.toString(16).padStart(HEX_DIGITS, "0");
}
