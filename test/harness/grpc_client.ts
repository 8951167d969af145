/**
 * A bare etcd v3 gRPC client on our proto files: no retries, no balancer, so a test sees exactly what the
 * server answered (the crash test must know which writes were acknowledged).
 */
import * as grpc from "@grpc/grpc-js";
import { loadEtcdProtos } from "../../src/etcd/proto.js";

export interface RawEtcdClient {
  put(key: string, value: string): Promise<{ revision: number }>;
  get(key: string): Promise<{ value: string; modRevision: number } | null>;
  rangeCount(prefix: string): Promise<{ count: number; revision: number }>;
  /** Calls `service.method` with a request body that is already encoded (or garbage), bypassing the encoder. */
  rawUnary(service: "KV", method: string, body: Buffer): Promise<unknown>;
  close(): void;
}

function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1]!++;
  return b;
}

export function rawEtcdClient(clientUrl: string, callTimeoutMs = 5000): RawEtcdClient {
  const target = new URL(clientUrl).host;
  const protos = loadEtcdProtos();
  const KV = grpc.makeGenericClientConstructor(protos.kv, "KV");
  const kv = new KV(target, grpc.credentials.createInsecure()) as unknown as Record<string, (req: unknown, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => void>;
  const call = <T>(method: string, req: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      kv[method]!.call(kv, req, { deadline: Date.now() + callTimeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  return {
    async put(key, value) {
      const res = await call<{ header: { revision: string } }>("Put", { key: Buffer.from(key), value: Buffer.from(value) });
      return { revision: Number(res.header.revision) };
    },
    async get(key) {
      const res = await call<{ kvs: { value: Buffer; mod_revision: string }[] }>("Range", { key: Buffer.from(key) });
      const kv0 = res.kvs[0];
      return kv0 === undefined ? null : { value: kv0.value.toString(), modRevision: Number(kv0.mod_revision) };
    },
    async rangeCount(prefix) {
      const res = await call<{ count: string; header: { revision: string } }>("Range", { key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true });
      return { count: Number(res.count), revision: Number(res.header.revision) };
    },
    rawUnary(service, method, body) {
      const client = new grpc.Client(target, grpc.credentials.createInsecure());
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/etcdserverpb.${service}/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          { deadline: Date.now() + callTimeoutMs },
          (err, res) => {
            client.close();
            if (err) reject(err);
            else resolve(res);
          },
        );
      });
    },
    close: () => (kv as unknown as grpc.Client).close(),
  };
}
