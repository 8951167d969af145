/**
 * Loads the CRI wire contract (proto/cri/runtime/v1/api.proto, vendored from k8s.io/cri-api) and hands out the
 * `runtime.v1` RuntimeService and ImageService client constructors.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

// camelCase field names (as cri.ts names them); int64/uint64 as decimal strings, turned into bigint or number by
// convert.ts (a nanosecond timestamp does not fit a double); enums by name, which is what cri.ts's union types
// hold; absent fields filled with defaults so a response always has every field (messages as null).
export const CRI_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** Directory holding runtime/v1/api.proto. */
export function criProtoRoot(): string {
  // Compiled layout: <repo>/dist/src/kubelet/cri/remote/cri_proto.js -> <repo>/proto/cri/
  const compiled = fileURLToPath(new URL("../../../../../proto/cri/", import.meta.url));
  if (existsSync(compiled)) return compiled;
  // Running the .ts source directly: <repo>/src/kubelet/cri/remote/cri_proto.ts -> <repo>/proto/cri/
  return fileURLToPath(new URL("../../../../proto/cri/", import.meta.url));
}

export interface CriServiceConstructors {
  readonly runtimeService: grpc.ServiceClientConstructor;
  readonly imageService: grpc.ServiceClientConstructor;
}

let cached: CriServiceConstructors | undefined;

/** The generic gRPC client constructors of runtime.v1.RuntimeService and runtime.v1.ImageService (loaded once). */
export function loadCriProtos(): CriServiceConstructors {
  if (cached !== undefined) return cached;
  const packageDefinition = protoLoader.loadSync("runtime/v1/api.proto", {
    ...CRI_PROTO_LOADER_OPTIONS,
    includeDirs: [criProtoRoot()],
  });
  const loaded = grpc.loadPackageDefinition(packageDefinition);
  const pkg = (loaded["runtime"] as grpc.GrpcObject | undefined)?.["v1"] as grpc.GrpcObject | undefined;
  const service = (name: string): grpc.ServiceClientConstructor => {
    const ctor = pkg?.[name] as grpc.ServiceClientConstructor | undefined;
    if (ctor === undefined || typeof ctor !== "function" || ctor.service === undefined) {
      throw new Error(`CRI proto: service runtime.v1.${name} not found`);
    }
    return ctor;
  };
  cached = { runtimeService: service("RuntimeService"), imageService: service("ImageService") };
  return cached;
}
