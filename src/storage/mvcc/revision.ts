/**
 * A point in history: `main` advances once per write txn, `sub` once per change inside it.
 * Stored as etcd does in its "key" bucket: 8 bytes main (big endian), '_', 8 bytes sub, plus a trailing
 * 't' for a tombstone, so that byte order of the bucket keys is revision order.
 */
import { assert } from "../../util/assert.js";

export interface Revision {
  readonly main: number;
  readonly sub: number;
}

export const REVISION_BYTES = 17;
export const MARKED_REVISION_BYTES = REVISION_BYTES + 1;
const TOMBSTONE_MARK = 0x74; // 't'

export const ZERO_REVISION: Revision = { main: 0, sub: 0 };

export function revisionAfter(a: Revision, b: Revision): boolean {
  return a.main === b.main ? a.sub > b.sub : a.main > b.main;
}

export function revisionEqual(a: Revision, b: Revision): boolean {
  return a.main === b.main && a.sub === b.sub;
}

export function formatRevision(r: Revision): string {
  return `${r.main}.${r.sub}`;
}

/** Bucket key for `rev`; `tombstone` marks a deletion. */
export function encodeRevision(rev: Revision, tombstone = false): Buffer {
  assert(Number.isSafeInteger(rev.main) && rev.main >= 0, `revision main ${rev.main} out of range`);
  assert(Number.isSafeInteger(rev.sub) && rev.sub >= 0, `revision sub ${rev.sub} out of range`);
  const b = Buffer.alloc(tombstone ? MARKED_REVISION_BYTES : REVISION_BYTES);
  b.writeBigUInt64BE(BigInt(rev.main), 0);
  b[8] = 0x5f; // '_'
  b.writeBigUInt64BE(BigInt(rev.sub), 9);
  if (tombstone) b[REVISION_BYTES] = TOMBSTONE_MARK;
  return b;
}

export interface DecodedRevisionKey {
  readonly rev: Revision;
  readonly tombstone: boolean;
}

export function decodeRevision(b: Uint8Array): DecodedRevisionKey {
  assert(b.length === REVISION_BYTES || b.length === MARKED_REVISION_BYTES, `bad revision key length ${b.length}`);
  const view = Buffer.from(b.buffer, b.byteOffset, b.length);
  const main = Number(view.readBigUInt64BE(0));
  const sub = Number(view.readBigUInt64BE(9));
  return { rev: { main, sub }, tombstone: b.length === MARKED_REVISION_BYTES && b[REVISION_BYTES] === TOMBSTONE_MARK };
}

/** A compact string key for maps of revisions (the bucket key's identity, tombstone mark excluded). */
export function revisionId(rev: Revision): string {
  return `${rev.main}_${rev.sub}`;
}
