/** What every etcd gRPC handler shares: response headers, request sizes, and the one place errors become statuses. */
import * as grpc from "@grpc/grpc-js";
import { AssertionError } from "../../util/assert.js";
import { mapMvccError } from "../apply.js";
import { EtcdError } from "../errors.js";
import type { ResponseHeader } from "../pb.js";
import type { EtcdServer } from "../server.js";

const idTexts = new WeakMap<EtcdServer, { cluster: string; member: string }>();

/** The response header; IDs are uint64 (decimal strings), revision and term plain numbers (< 2^53). */
export function header(server: EtcdServer, revision?: number): ResponseHeader {
  let ids = idTexts.get(server);
  if (ids === undefined) idTexts.set(server, (ids = { cluster: server.clusterId.toString(), member: server.member.id.toString() }));
  return { cluster_id: ids.cluster, member_id: ids.member, revision: revision ?? server.kv.currentRevision, raft_term: server.term };
}

const requestWire = new WeakMap<object, Buffer>();

/**
 * The bytes a request arrived as: its size is what --max-request-bytes limits, and the log stores these
 * very bytes instead of encoding the decoded object again.
 */
export function requestBytes(req: object): Buffer | null {
  return requestWire.get(req) ?? null;
}

/** A copy of a service definition whose request decoder remembers each request's bytes on the wire. */
export function withRequestSizes(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const [name, m] of Object.entries(def as Record<string, grpc.MethodDefinition<object, object>>)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer) => {
        const req = m.requestDeserialize(buf);
        requestWire.set(req, buf);
        return req;
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

export function toServiceError(err: unknown, log: (msg: string, f: Record<string, unknown>) => void): grpc.ServiceError {
  if (err instanceof AssertionError) throw err;
  const mapped = mapMvccError(err);
  if (mapped instanceof EtcdError) {
    return Object.assign(new Error(mapped.message), { code: mapped.code, details: mapped.message, metadata: new grpc.Metadata() });
  }
  const message = mapped instanceof Error ? mapped.message : String(mapped);
  log("request failed with an internal error", { error: message });
  return Object.assign(new Error(message), { code: grpc.status.INTERNAL, details: `etcdserver: ${message}`, metadata: new grpc.Metadata() });
}

/** Wraps an async handler as a unary gRPC call with etcd's error mapping and the handled-total metric. */
export function unary<Req extends object, Res>(
  server: EtcdServer,
  service: string,
  method: string,
  fn: (req: Req) => Res | Promise<Res>,
  log: (msg: string, f: Record<string, unknown>) => void,
): grpc.handleUnaryCall<Req, Res> {
  const handledOk = server.metrics.grpcHandled.labels({ grpc_type: "unary", grpc_service: `etcdserverpb.${service}`, grpc_method: method, grpc_code: "OK" });
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => {
          handledOk.inc();
          callback(null, res);
        },
        (err: unknown) => {
          const e = toServiceError(err, log);
          server.metrics.grpcHandled.inc({ grpc_type: "unary", grpc_service: `etcdserverpb.${service}`, grpc_method: method, grpc_code: grpc.status[e.code] ?? String(e.code) });
          callback(e, null);
        },
      );
  };
}
