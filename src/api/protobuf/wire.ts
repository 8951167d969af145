/**
 * The protobuf wire format, read only: tags, varints, fixed-width numbers and length-delimited
 * fields, with gogo's error messages (the ones kube-apiserver returns in a 400 when a body is bad).
 *
 *   0a 03 77 65 62   field 1, wire type 2 (length-delimited), 3 bytes: "web"
 *   10 02            field 2, wire type 0 (varint): 2
 */
import { badRequest } from "../status.js";

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** A varint is at most 10 bytes: 64 bits in 7-bit groups. gogo's decoders give up at shift 64. */
const VARINT_BYTES_MAX = 10;
/** Nested groups inside one skipped unknown field; groups are a proto2 relic nobody sends to Kubernetes. */
const GROUP_DEPTH_MAX = 32;

// gogo's generated errors (ErrIntOverflowGenerated, ErrInvalidLengthGenerated, io.ErrUnexpectedEOF).
export const ERR_INT_OVERFLOW = "proto: integer overflow";
export const ERR_INVALID_LENGTH = "proto: negative length found during unmarshaling";
export const ERR_UNEXPECTED_EOF = "unexpected EOF";

export interface Tag {
  readonly field: number;
  readonly wireType: number;
}

/** Reads one message's bytes front to back; every read checks the bounds and throws a 400 past them. */
export class ProtoReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#pos = 0;
    this.#end = buf.length;
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The next field's tag. `message` names the message in errors, as gogo does. */
  readTag(message: string): Tag {
    const key = this.readVarint();
    const wireType = Number(key & 7n);
    const field = key >> 3n;
    if (wireType === WIRE_END_GROUP) throw badRequest(`proto: ${message}: wiretype end group for non-group`);
    // Field numbers are int32 in Go: a key past that is a negative or zero number there.
    if (field <= 0n || field > 0x7fffffffn) throw badRequest(`proto: ${message}: illegal tag ${BigInt.asIntN(32, field)} (wire type ${wireType})`);
    return { field: Number(field), wireType };
  }

  /** An unsigned 64-bit varint; callers narrow it (int32 fields keep the low 32 bits, as Go's int32() does). */
  readVarint(): bigint {
    let value = 0n;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      if (this.#pos >= this.#end) throw badRequest(ERR_UNEXPECTED_EOF);
      const b = this.#buf[this.#pos++]!;
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, value);
    }
    throw badRequest(ERR_INT_OVERFLOW);
  }

  /** A length-delimited field's bytes, as a view into the input. */
  readBytes(): Uint8Array {
    const length = BigInt.asIntN(64, this.readVarint());
    if (length < 0n) throw badRequest(ERR_INVALID_LENGTH);
    if (length > BigInt(this.#end - this.#pos)) throw badRequest(ERR_UNEXPECTED_EOF);
    const start = this.#pos;
    this.#pos += Number(length);
    return this.#buf.subarray(start, this.#pos);
  }

  readFixed64(): DataView {
    return this.#fixed(8);
  }

  readFixed32(): DataView {
    return this.#fixed(4);
  }

  #fixed(bytes: number): DataView {
    if (this.#end - this.#pos < bytes) throw badRequest(ERR_UNEXPECTED_EOF);
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#pos, bytes);
    this.#pos += bytes;
    return view;
  }

  /** Steps over a field's value: what gogo's skipGenerated does for numbers it does not know. */
  skip(tag: Tag, message: string): void {
    switch (tag.wireType) {
      case WIRE_VARINT:
        this.readVarint();
        return;
      case WIRE_FIXED64:
        this.readFixed64();
        return;
      case WIRE_BYTES:
        this.readBytes();
        return;
      case WIRE_FIXED32:
        this.readFixed32();
        return;
      case WIRE_START_GROUP: {
        // Bounded by the input: each iteration consumes at least one tag byte.
        for (let depth = 1; depth > 0; ) {
          const key = this.readVarint();
          const wireType = Number(key & 7n);
          if (wireType === WIRE_START_GROUP) depth++;
          else if (wireType === WIRE_END_GROUP) depth--;
          else this.skip({ field: Number(key >> 3n), wireType }, message);
          if (depth > GROUP_DEPTH_MAX) throw badRequest(`proto: ${message}: groups nest deeper than ${GROUP_DEPTH_MAX}`);
        }
        return;
      }
      default:
        throw badRequest(`proto: illegal wireType ${tag.wireType}`);
    }
  }
}
