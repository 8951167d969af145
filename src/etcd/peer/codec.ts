/**
 * Binary encoding of Raft messages in etcd's wire shape: protobuf (proto2) with raftpb's field numbers
 * (go.etcd.io/raft/v3/raftpb/raft.proto), encoded by hand so member ids stay `bigint` (uint64) and no
 * schema loading happens at start-up.
 *
 * Field order follows the field numbers and scalar fields are always written (as gogoproto's
 * non-nullable marshaller does), so a raftpb decoder reads our bytes and we read theirs. A `null`
 * snapshot or context is simply absent; an absent one decodes back to `null`.
 */
import type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  Snapshot,
  SnapshotMetadata,
} from "../../raft/types.js";

/** Bytes that are not a valid encoding (truncated, a bad tag, an unknown enum value, a number too big). */
export class CodecError extends Error {
  override readonly name = "CodecError";
}

/** raftpb.MessageType numbers. MsgStorage* (19-22) and MsgForgetLeader (23) are not ours: decoding them fails. */
const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
};
const MESSAGE_TYPES_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  Object.entries(MESSAGE_TYPE_CODES).map(([name, code]) => [code, name as MessageType]),
);

/** raftpb.EntryType numbers; EntryConfChangeV2 (2) is not supported by our core. */
const ENTRY_TYPE_CODES: Readonly<Record<EntryType, number>> = { EntryNormal: 0, EntryConfChange: 1 };
const ENTRY_TYPES_BY_CODE: ReadonlyMap<number, EntryType> = new Map([
  [0, "EntryNormal"],
  [1, "EntryConfChange"],
]);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

const UINT64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------
// Writing

/** A growable byte buffer with protobuf primitives. */
class Writer {
  #buf = new Uint8Array(64);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** A varint of a non-negative safe integer (terms, indexes, lengths). */
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new CodecError(`Cannot encode a uint64: must be a non-negative safe integer: current value is ${v}`);
    }
    this.#reserve(10);
    // Above 2^31 the bitwise operators stop working, so divide instead.
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
  }

  /** A varint of a uint64 member id. */
  varintBig(v: bigint): void {
    if (v < 0n || v > UINT64_MAX) throw new CodecError(`Cannot encode a member id: must fit a uint64: current value is ${v}`);
    this.#reserve(10);
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  id(field: number, v: bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varintBig(v);
  }

  bool(field: number, v: boolean): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v ? 1 : 0);
  }

  bytes(field: number, v: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(v.length);
    this.#reserve(v.length);
    this.#buf.set(v, this.#len);
    this.#len += v.length;
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

function writeEntry(e: Entry): Uint8Array {
  const w = new Writer();
  w.uint(1, ENTRY_TYPE_CODES[e.type]);
  w.uint(2, e.term);
  w.uint(3, e.index);
  w.bytes(4, e.data);
  return w.finish();
}

function writeConfState(cs: ConfState): Uint8Array {
  const w = new Writer();
  // proto2 repeated scalars are unpacked by default, as raftpb declares them.
  for (const v of cs.voters) w.id(1, v);
  for (const v of cs.learners) w.id(2, v);
  return w.finish();
}

function writeSnapshot(s: Snapshot): Uint8Array {
  const meta = new Writer();
  meta.bytes(1, writeConfState(s.metadata.confState));
  meta.uint(2, s.metadata.index);
  meta.uint(3, s.metadata.term);
  const w = new Writer();
  w.bytes(1, s.data);
  w.bytes(2, meta.finish());
  return w.finish();
}

/** One raftpb.Message. */
export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  w.uint(1, MESSAGE_TYPE_CODES[m.type]);
  w.id(2, m.to);
  w.id(3, m.from);
  w.uint(4, m.term);
  w.uint(5, m.logTerm);
  w.uint(6, m.index);
  for (const e of m.entries) w.bytes(7, writeEntry(e));
  w.uint(8, m.commit);
  if (m.snapshot !== null) w.bytes(9, writeSnapshot(m.snapshot));
  w.bool(10, m.reject);
  w.uint(11, m.rejectHint);
  if (m.context !== null) w.bytes(12, m.context);
  return w.finish();
}

/** One raftpb.HardState (for a WAL that wants etcd's record shape). */
export function encodeHardState(hs: HardState): Uint8Array {
  const w = new Writer();
  w.uint(1, hs.term);
  w.id(2, hs.vote);
  w.uint(3, hs.commit);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Reading

class Reader {
  #pos: number;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.#pos = 0;
  }

  done(): boolean {
    return this.#pos >= this.buf.length;
  }

  #fail(reason: string): never {
    throw new CodecError(`Cannot decode a ${this.what}: ${reason}: current value is offset ${this.#pos} of ${this.buf.length}`);
  }

  varintBig(): bigint {
    let v = 0n;
    // A uint64 varint is at most 10 bytes: a bound on a hostile input.
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.#pos >= this.buf.length) this.#fail("truncated varint");
      const b = this.buf[this.#pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (v > UINT64_MAX) this.#fail("varint overflows uint64");
        return v;
      }
    }
    this.#fail("varint longer than 10 bytes");
  }

  /** A varint that must fit a safe integer (terms, indexes, lengths). */
  varint(): number {
    // Fast path: up to 4 bytes fit in 28 bits, the common case for terms, indexes, field tags.
    let v = 0;
    for (let i = 0; i < 4; i++) {
      if (this.#pos >= this.buf.length) this.#fail("truncated varint");
      const b = this.buf[this.#pos]!;
      v += (b & 0x7f) * 2 ** (7 * i);
      this.#pos++;
      if ((b & 0x80) === 0) return v;
    }
    this.#pos -= 4;
    const big = this.varintBig();
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) this.#fail(`number above 2^53 (${big})`);
    return Number(big);
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > this.buf.length - this.#pos) this.#fail(`length ${n} runs past the end`);
    // A copy, and a plain Uint8Array even when reading a Buffer: the caller may keep it after the frame
    // buffer is reused, and values compare equal whichever way they arrived.
    const out = new Uint8Array(this.buf.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return out;
  }

  /** Skips a field this decoder does not know (forward compatibility, as protobuf requires). */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varintBig();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_BYTES:
        this.#advance(this.varint());
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        this.#fail(`unsupported wire type ${wire}`);
    }
  }

  #advance(n: number): void {
    if (n > this.buf.length - this.#pos) this.#fail(`field of ${n} bytes runs past the end`);
    this.#pos += n;
  }

  expectWire(got: number, want: number, field: number): void {
    if (got !== want) this.#fail(`field ${field} has wire type ${got}, want ${want}`);
  }
}

/** Reads a repeated uint64 given either unpacked (one per tag) or packed (one length-delimited run). */
function readIds(r: Reader, wire: number, into: bigint[]): void {
  if (wire === WIRE_BYTES) {
    const packed = new Reader(r.bytes(), "packed uint64 list");
    while (!packed.done()) into.push(packed.varintBig());
    return;
  }
  r.expectWire(wire, WIRE_VARINT, 0);
  into.push(r.varintBig());
}

function readEntry(buf: Uint8Array): Entry {
  const r = new Reader(buf, "raftpb.Entry");
  let type: EntryType = "EntryNormal";
  let term = 0;
  let index = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1) {
      r.expectWire(wire, WIRE_VARINT, field);
      const code = r.varint();
      const t = ENTRY_TYPES_BY_CODE.get(code);
      if (t === undefined) throw new CodecError(`Cannot decode a raftpb.Entry: unsupported entry type: current value is ${code}`);
      type = t;
    } else if (field === 2) {
      r.expectWire(wire, WIRE_VARINT, field);
      term = r.varint();
    } else if (field === 3) {
      r.expectWire(wire, WIRE_VARINT, field);
      index = r.varint();
    } else if (field === 4) {
      r.expectWire(wire, WIRE_BYTES, field);
      data = r.bytes();
    } else r.skip(wire);
  }
  return { term, index, type, data };
}

function readConfState(buf: Uint8Array): ConfState {
  const r = new Reader(buf, "raftpb.ConfState");
  const voters: bigint[] = [];
  const learners: bigint[] = [];
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1) readIds(r, wire, voters);
    else if (field === 2) readIds(r, wire, learners);
    else r.skip(wire); // joint-consensus fields: our core does not use them
  }
  return { voters, learners };
}

function readSnapshotMetadata(buf: Uint8Array): SnapshotMetadata {
  const r = new Reader(buf, "raftpb.SnapshotMetadata");
  let confState: ConfState = { voters: [], learners: [] };
  let index = 0;
  let term = 0;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1) {
      r.expectWire(wire, WIRE_BYTES, field);
      confState = readConfState(r.bytes());
    } else if (field === 2) {
      r.expectWire(wire, WIRE_VARINT, field);
      index = r.varint();
    } else if (field === 3) {
      r.expectWire(wire, WIRE_VARINT, field);
      term = r.varint();
    } else r.skip(wire);
  }
  return { index, term, confState };
}

function readSnapshot(buf: Uint8Array): Snapshot {
  const r = new Reader(buf, "raftpb.Snapshot");
  let data: Uint8Array = new Uint8Array(0);
  let metadata: SnapshotMetadata = { index: 0, term: 0, confState: { voters: [], learners: [] } };
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1) {
      r.expectWire(wire, WIRE_BYTES, field);
      data = r.bytes();
    } else if (field === 2) {
      r.expectWire(wire, WIRE_BYTES, field);
      metadata = readSnapshotMetadata(r.bytes());
    } else r.skip(wire);
  }
  return { metadata, data };
}

/** One raftpb.Message; throws CodecError on bytes that are not one. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf, "raftpb.Message");
  let type: MessageType | null = null;
  let to = 0n;
  let from = 0n;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: Snapshot | null = null;
  let reject = false;
  let rejectHint = 0;
  let context: Uint8Array | null = null;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    switch (field) {
      case 1: {
        r.expectWire(wire, WIRE_VARINT, field);
        const code = r.varint();
        type = MESSAGE_TYPES_BY_CODE.get(code) ?? null;
        if (type === null) throw new CodecError(`Cannot decode a raftpb.Message: unsupported message type: current value is ${code}`);
        break;
      }
      case 2:
        r.expectWire(wire, WIRE_VARINT, field);
        to = r.varintBig();
        break;
      case 3:
        r.expectWire(wire, WIRE_VARINT, field);
        from = r.varintBig();
        break;
      case 4:
        r.expectWire(wire, WIRE_VARINT, field);
        term = r.varint();
        break;
      case 5:
        r.expectWire(wire, WIRE_VARINT, field);
        logTerm = r.varint();
        break;
      case 6:
        r.expectWire(wire, WIRE_VARINT, field);
        index = r.varint();
        break;
      case 7:
        r.expectWire(wire, WIRE_BYTES, field);
        entries.push(readEntry(r.bytes()));
        break;
      case 8:
        r.expectWire(wire, WIRE_VARINT, field);
        commit = r.varint();
        break;
      case 9:
        r.expectWire(wire, WIRE_BYTES, field);
        snapshot = readSnapshot(r.bytes());
        break;
      case 10:
        r.expectWire(wire, WIRE_VARINT, field);
        reject = r.varintBig() !== 0n;
        break;
      case 11:
        r.expectWire(wire, WIRE_VARINT, field);
        rejectHint = r.varint();
        break;
      case 12:
        r.expectWire(wire, WIRE_BYTES, field);
        context = r.bytes();
        break;
      default:
        r.skip(wire); // vote (13), responses (14): local-only in etcd raft
    }
  }
  // proto2 defaults an absent enum to its first value (MsgHup); a peer never sends that, and a message
  // without a type is far more likely garbage, so refuse it.
  if (type === null) throw new CodecError("Cannot decode a raftpb.Message: no type field: current value is absent");
  return { type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context };
}

export function decodeHardState(buf: Uint8Array): HardState {
  const r = new Reader(buf, "raftpb.HardState");
  let term = 0;
  let vote = 0n;
  let commit = 0;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1) {
      r.expectWire(wire, WIRE_VARINT, field);
      term = r.varint();
    } else if (field === 2) {
      r.expectWire(wire, WIRE_VARINT, field);
      vote = r.varintBig();
    } else if (field === 3) {
      r.expectWire(wire, WIRE_VARINT, field);
      commit = r.varint();
    } else r.skip(wire);
  }
  return { term, vote, commit };
}
