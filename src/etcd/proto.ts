// Loads the etcd v3 wire contract (proto/etcdserverpb/rpc.proto and its
// mvccpb/authpb imports) and exposes the gRPC service definitions.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export interface EtcdServiceDefinitions {
  kv: grpc.ServiceDefinition;
  watch: grpc.ServiceDefinition;
  lease: grpc.ServiceDefinition;
  cluster: grpc.ServiceDefinition;
  maintenance: grpc.ServiceDefinition;
  auth: grpc.ServiceDefinition;
}

// Field names stay snake_case as on the wire; int64/uint64 come through as
// decimal strings (revisions and lease IDs exceed 2^53); enums as numbers;
// bytes as Buffer (the loader default); oneofs get a virtual discriminator.
export const ETCD_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
};

/** Directory holding etcdserverpb/, mvccpb/ and authpb/. */
export function etcdProtoRoot(): string {
  // Compiled layout: <repo>/dist/src/etcd/proto.js -> <repo>/proto/
  const compiled = fileURLToPath(new URL("../../../proto/", import.meta.url));
  if (existsSync(compiled)) return compiled;
  // Running the .ts source directly: <repo>/src/etcd/proto.ts -> <repo>/proto/
  return fileURLToPath(new URL("../../proto/", import.meta.url));
}

let cached: EtcdServiceDefinitions | undefined;

export function loadEtcdProtos(): EtcdServiceDefinitions {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync("etcdserverpb/rpc.proto", {
    ...ETCD_PROTO_LOADER_OPTIONS,
    includeDirs: [etcdProtoRoot()],
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition);
  const pkg = loaded["etcdserverpb"] as grpc.GrpcObject;
  const service = (name: string): grpc.ServiceDefinition => {
    const ctor = pkg[name] as grpc.ServiceClientConstructor | undefined;
    if (!ctor || typeof ctor !== "function" || !ctor.service) {
      throw new Error(`etcd proto: service etcdserverpb.${name} not found`);
    }
    return ctor.service;
  };
  cached = {
    kv: service("KV"),
    watch: service("Watch"),
    lease: service("Lease"),
    cluster: service("Cluster"),
    maintenance: service("Maintenance"),
    auth: service("Auth"),
  };
  return cached;
}
