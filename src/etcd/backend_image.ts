/**
 * A whole backend as one byte image: what the Snapshot RPC streams (`etcdctl snapshot save`) and what a
 * leader sends a follower too far behind for the log (MsgSnap), as etcd sends its bbolt file.
 *
 *   "TK8S-SNAPSHOT-1\n" | frames | zero padding to 512-byte blocks | sha256 of everything before it
 *   frame = tag u8 | key length u32 BE | value length u32 BE | key | value
 *   tags: 1 revision (key bucket), 2 lease (id, TTL seconds as text), 3 consistent index (text),
 *         4 meta entry (name, value)
 *
 * etcdctl 3.4 accepts a stream only if it is whole 512-byte blocks plus the 32-byte sha256 trailer (a
 * bbolt file always is); the zero padding is the image's end marker.
 */
import { createHash } from "node:crypto";
import type { BackendStore } from "../storage/backend/backend.js";

export const IMAGE_MAGIC = "TK8S-SNAPSHOT-1\n";
export const IMAGE_BLOCK_BYTES = 512;
const SHA256_BYTES = 32;
const TAG = { revision: 1, lease: 2, consistentIndex: 3, meta: 4 } as const;

/** The meta entries an image carries: the store's own bookkeeping, membership and alarms. */
export const IMAGE_META_KEYS = [
  "consistent_index",
  "consistent_term",
  "current_revision",
  "scheduledCompactRev",
  "finishedCompactRev",
  "members",
  "removed_members",
  "alarms",
] as const;

function frame(tag: number, k: Buffer, v: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + k.length + v.length);
  b[0] = tag;
  b.writeUInt32BE(k.length, 1);
  b.writeUInt32BE(v.length, 5);
  k.copy(b, 9);
  v.copy(b, 9 + k.length);
  return b;
}

/** The image of everything written to `backend` so far (pending writes included). */
export function encodeBackendImage(backend: BackendStore, consistentIndex: number): Buffer[] {
  const chunks: Buffer[] = [Buffer.from(IMAGE_MAGIC)];
  backend.forEachRevision(Buffer.alloc(0), null, (k, v) => void chunks.push(frame(TAG.revision, k, v)));
  for (const l of backend.leases()) chunks.push(frame(TAG.lease, Buffer.from(l.id.toString()), Buffer.from(String(l.ttlSeconds))));
  chunks.push(frame(TAG.consistentIndex, Buffer.from("consistent_index"), Buffer.from(String(consistentIndex))));
  for (const name of IMAGE_META_KEYS) {
    const v = backend.getMeta(name);
    if (v !== undefined) chunks.push(frame(TAG.meta, Buffer.from(name), Buffer.from(v)));
  }
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  chunks.push(Buffer.alloc((IMAGE_BLOCK_BYTES - (bytes % IMAGE_BLOCK_BYTES)) % IMAGE_BLOCK_BYTES));
  const hash = createHash("sha256");
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  return chunks;
}

export class BackendImageError extends Error {
  override readonly name = "BackendImageError";
}

/**
 * Replaces the backend's contents with the image's (revisions, leases, meta), as a follower installs
 * the leader's snapshot. The writes are pending until the caller commits the backend.
 */
export function restoreBackendImage(backend: BackendStore, image: Uint8Array): { consistentIndex: number } {
  const b = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (b.length < IMAGE_MAGIC.length + SHA256_BYTES || b.subarray(0, IMAGE_MAGIC.length).toString("latin1") !== IMAGE_MAGIC) {
    throw new BackendImageError("Cannot restore the backend: the snapshot is not a tk8s backend image");
  }
  const body = b.subarray(0, b.length - SHA256_BYTES);
  if (!createHash("sha256").update(body).digest().equals(b.subarray(b.length - SHA256_BYTES))) {
    throw new BackendImageError("Cannot restore the backend: the snapshot's sha256 does not match its contents");
  }
  const stale: Buffer[] = [];
  backend.forEachRevision(Buffer.alloc(0), null, (k) => void stale.push(k));
  for (const k of stale) backend.removeRevision(k);
  for (const l of backend.leases()) backend.removeLease(l.id);
  let consistentIndex = 0;
  let at = IMAGE_MAGIC.length;
  while (at + 9 <= body.length && body[at] !== 0) {
    const tag = body[at]!;
    const kl = body.readUInt32BE(at + 1);
    const vl = body.readUInt32BE(at + 5);
    if (at + 9 + kl + vl > body.length) throw new BackendImageError(`Cannot restore the backend: a frame at byte ${at} runs past the image's end`);
    const k = Buffer.from(body.subarray(at + 9, at + 9 + kl));
    const v = Buffer.from(body.subarray(at + 9 + kl, at + 9 + kl + vl));
    at += 9 + kl + vl;
    if (tag === TAG.revision) backend.putRevision(k, v);
    else if (tag === TAG.lease) backend.putLease({ id: BigInt(k.toString()), ttlSeconds: Number(v.toString()) });
    else if (tag === TAG.consistentIndex) consistentIndex = Number(v.toString());
    else if (tag === TAG.meta) backend.putMeta(k.toString(), v.toString());
    else throw new BackendImageError(`Cannot restore the backend: unknown frame tag ${tag} at byte ${at}`);
  }
  backend.putMeta("consistent_index", String(consistentIndex));
  return { consistentIndex };
}
