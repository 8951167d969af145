/**
 * The key-value record of the store, and its bytes in the backend: the protobuf encoding of
 * `mvccpb.KeyValue` exactly as etcd writes it to its "key" bucket (fields in number order, zero values
 * omitted), so a bucket scan hashes the same way etcd's HashKV does.
 */
import { assert } from "../../util/assert.js";

export interface KeyValue {
  readonly key: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Buffer;
  /** Lease ID (int64); 0n when none. */
  readonly lease: bigint;
}

export const enum EventType {
  Put = 0,
  Delete = 1,
}

export interface MvccEvent {
  readonly type: EventType;
  /** For a delete: the key and the tombstone's mod revision; other fields zero. */
  readonly kv: KeyValue;
}

const EMPTY: Buffer = Buffer.alloc(0);

function varintBytes(n: bigint): number {
  let len = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    len++;
  }
  return len;
}

function numberVarintBytes(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeNumberVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

function writeBigVarint(buf: Buffer, at: number, n: bigint): number {
  // int64 on the wire: negative values are sign-extended to 64 bits (10 bytes).
  let u = BigInt.asUintN(64, n);
  while (u >= 0x80n) {
    buf[at++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[at++] = Number(u);
  return at;
}

export function encodeKeyValue(kv: KeyValue): Buffer {
  assert(kv.createRevision >= 0 && kv.modRevision >= 0 && kv.version >= 0, "negative revision in KeyValue");
  let size = 0;
  if (kv.key.length > 0) size += 1 + numberVarintBytes(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0) size += 1 + numberVarintBytes(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + numberVarintBytes(kv.modRevision);
  if (kv.version !== 0) size += 1 + numberVarintBytes(kv.version);
  if (kv.value.length > 0) size += 1 + numberVarintBytes(kv.value.length) + kv.value.length;
  if (kv.lease !== 0n) size += 1 + varintBytes(BigInt.asUintN(64, kv.lease));
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (kv.key.length > 0) {
    buf[at++] = 0x0a;
    at = writeNumberVarint(buf, at, kv.key.length);
    at += kv.key.copy(buf, at);
  }
  if (kv.createRevision !== 0) {
    buf[at++] = 0x10;
    at = writeNumberVarint(buf, at, kv.createRevision);
  }
  if (kv.modRevision !== 0) {
    buf[at++] = 0x18;
    at = writeNumberVarint(buf, at, kv.modRevision);
  }
  if (kv.version !== 0) {
    buf[at++] = 0x20;
    at = writeNumberVarint(buf, at, kv.version);
  }
  if (kv.value.length > 0) {
    buf[at++] = 0x2a;
    at = writeNumberVarint(buf, at, kv.value.length);
    at += kv.value.copy(buf, at);
  }
  if (kv.lease !== 0n) {
    buf[at++] = 0x30;
    at = writeBigVarint(buf, at, kv.lease);
  }
  assert(at === size, `KeyValue encoded to ${at} bytes, expected ${size}`);
  return buf;
}

export function decodeKeyValue(buf: Uint8Array): KeyValue {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  let key: Buffer = EMPTY;
  let value: Buffer = EMPTY;
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let lease = 0n;
  let at = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      assert(at < b.length, "truncated varint in stored KeyValue");
      const byte = b[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const readSmallVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      assert(at < b.length, "truncated varint in stored KeyValue");
      const byte = b[at++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
  };
  while (at < b.length) {
    const tag = b[at++]!;
    switch (tag) {
      case 0x0a: {
        const len = readSmallVarint();
        key = b.subarray(at, at + len);
        at += len;
        break;
      }
      case 0x10:
        createRevision = readSmallVarint();
        break;
      case 0x18:
        modRevision = readSmallVarint();
        break;
      case 0x20:
        version = readSmallVarint();
        break;
      case 0x2a: {
        const len = readSmallVarint();
        value = b.subarray(at, at + len);
        at += len;
        break;
      }
      case 0x30:
        lease = BigInt.asIntN(64, readVarint());
        break;
      default:
        assert(false, `unexpected tag ${tag} in stored KeyValue`);
    }
  }
  return { key, createRevision, modRevision, version, value, lease };
}

/** Keys travel as Buffers on the wire and as latin1 strings in the index: one char per byte, so string order is byte order. */
export function keyToIndex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString("latin1");
}

export function indexToKey(s: string): Buffer {
  return Buffer.from(s, "latin1");
}
