/**
 * The envelope of every `application/vnd.kubernetes.protobuf` body (apimachinery's protobuf
 * serializer): the 4-byte magic `k8s\0`, then a `runtime.Unknown` message
 *
 *   Unknown  { typeMeta 1: TypeMeta, raw 2: bytes, contentEncoding 3: string, contentType 4: string }
 *   TypeMeta { apiVersion 1: string, kind 2: string }   (runtime's; meta/v1's has them the other way round)
 *
 * where `raw` is the object's own message (Deployment: { metadata 1, spec 2, status 3 }), without
 * apiVersion and kind: those are only in the envelope.
 */
import { badRequest } from "../status.js";
import { ProtoReader, WIRE_BYTES } from "./wire.js";

export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

/** `k8s\0`: what the serializer checks before anything else. */
export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export interface ProtobufEnvelope {
  readonly apiVersion: string;
  readonly kind: string;
  /** The object's message, a view into the body. */
  readonly raw: Uint8Array;
  readonly contentEncoding: string;
  readonly contentType: string;
}

const utf8 = new TextDecoder();

/** True when `body` starts with the Kubernetes protobuf magic. */
export function hasProtobufMagic(body: Uint8Array): boolean {
  return PROTOBUF_MAGIC.every((b, i) => body[i] === b);
}

/** Splits a protobuf body into its type and the object's bytes; a 400 when it is not one. */
export function decodeEnvelope(body: Uint8Array): ProtobufEnvelope {
  if (!hasProtobufMagic(body)) {
    throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_MAGIC].join(" ")}]`);
  }
  const r = new ProtoReader(body.subarray(PROTOBUF_MAGIC.length));
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = "";
  let contentType = "";
  while (!r.done) {
    const tag = r.readTag("Unknown");
    if (tag.field >= 1 && tag.field <= 4 && tag.wireType !== WIRE_BYTES) {
      throw badRequest(`proto: wrong wireType = ${tag.wireType} for field ${["TypeMeta", "Raw", "ContentEncoding", "ContentType"][tag.field - 1]}`);
    }
    switch (tag.field) {
      case 1: {
        const t = new ProtoReader(r.readBytes());
        while (!t.done) {
          const inner = t.readTag("TypeMeta");
          if ((inner.field === 1 || inner.field === 2) && inner.wireType !== WIRE_BYTES) {
            throw badRequest(`proto: wrong wireType = ${inner.wireType} for field ${inner.field === 1 ? "APIVersion" : "Kind"}`);
          }
          if (inner.field === 1) apiVersion = utf8.decode(t.readBytes());
          else if (inner.field === 2) kind = utf8.decode(t.readBytes());
          else t.skip(inner, "TypeMeta");
        }
        break;
      }
      case 2:
        raw = r.readBytes();
        break;
      case 3:
        contentEncoding = utf8.decode(r.readBytes());
        break;
      case 4:
        contentType = utf8.decode(r.readBytes());
        break;
      default:
        r.skip(tag, "Unknown");
    }
  }
  return { apiVersion, kind, raw, contentEncoding, contentType };
}
