/**
 * Requests as they travel through the log (etcd's InternalRaftRequest): an op byte, a request ID that
 * the proposer waits on, and the client's request in its protobuf encoding — the wire format is already
 * a stable, versioned encoding, so the log reuses it.
 */
import { loadEtcdProtos } from "./proto.js";
import type { AlarmRequest, CompactionRequest, DeleteRangeRequest, LeaseGrantRequest, LeaseRevokeRequest, PutRequest, TxnRequest } from "./pb.js";
import { assert } from "../util/assert.js";

export type InternalRequest =
  | { readonly op: "put"; readonly req: PutRequest }
  | { readonly op: "deleteRange"; readonly req: DeleteRangeRequest }
  | { readonly op: "txn"; readonly req: TxnRequest }
  | { readonly op: "compact"; readonly req: CompactionRequest }
  | { readonly op: "leaseGrant"; readonly req: LeaseGrantRequest }
  | { readonly op: "leaseRevoke"; readonly req: LeaseRevokeRequest }
  | { readonly op: "alarm"; readonly req: AlarmRequest }
  | { readonly op: "memberAttr"; readonly req: MemberAttrRequest };

/** A member publishes its name and client URLs, or `member update` sets its peer URLs (ids as decimal). */
export interface MemberAttrRequest {
  readonly id: string;
  readonly name?: string;
  readonly clientUrls?: string[];
  readonly peerUrls?: string[];
}

const OPS = ["put", "deleteRange", "txn", "compact", "leaseGrant", "leaseRevoke", "alarm", "memberAttr"] as const;
type Op = (typeof OPS)[number];

interface Codec {
  serialize(v: unknown): Buffer;
  deserialize(b: Buffer): unknown;
}

let codecs: Record<Op, Codec> | null = null;

function codecFor(op: Op): Codec {
  if (codecs === null) {
    const p = loadEtcdProtos();
    const m = (svc: Record<string, { requestSerialize: (v: unknown) => Buffer; requestDeserialize: (b: Buffer) => unknown }>, name: string): Codec => {
      const def = svc[name];
      assert(def !== undefined, `no method ${name}`);
      return { serialize: (v) => def.requestSerialize(v), deserialize: (b) => def.requestDeserialize(b) };
    };
    const kv = p.kv as unknown as Parameters<typeof m>[0];
    const lease = p.lease as unknown as Parameters<typeof m>[0];
    const maint = p.maintenance as unknown as Parameters<typeof m>[0];
    codecs = {
      put: m(kv, "Put"),
      deleteRange: m(kv, "DeleteRange"),
      txn: m(kv, "Txn"),
      compact: m(kv, "Compact"),
      leaseGrant: m(lease, "LeaseGrant"),
      leaseRevoke: m(lease, "LeaseRevoke"),
      alarm: m(maint, "Alarm"),
      // Not an etcd RPC: JSON is enough for a few URLs.
      memberAttr: { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString("utf8")) as unknown },
    };
  }
  return codecs[op];
}

const HEADER_BYTES = 9;

/** Encodes a log entry; `wire`, when given, is the request's own protobuf bytes as the client sent them. */
export function encodeRequest(id: bigint, r: InternalRequest, wire: Buffer | null = null): Buffer {
  const body = wire ?? codecFor(r.op).serialize(r.req);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = OPS.indexOf(r.op);
  out.writeBigUInt64BE(id, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

export function decodeRequest(data: Uint8Array): { id: bigint; request: InternalRequest } {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  assert(b.length >= HEADER_BYTES, `log entry of ${b.length} bytes is too short for a request`);
  const op = OPS[b[0]!];
  assert(op !== undefined, `unknown op ${b[0]} in log entry`);
  const id = b.readBigUInt64BE(1);
  const req = codecFor(op).deserialize(b.subarray(HEADER_BYTES));
  return { id, request: { op, req } as InternalRequest };
}

/** The request ID of a log entry, without decoding the request. */
export function requestIdOf(data: Uint8Array): bigint {
  assert(data.length >= HEADER_BYTES, `log entry of ${data.length} bytes is too short for a request`);
  return Buffer.from(data.buffer, data.byteOffset, data.length).readBigUInt64BE(1);
}
