/** Serves a datastore member on its client URLs: the etcd v3 gRPC API and HTTP /health, /version, /metrics. */
import * as grpc from "@grpc/grpc-js";
import * as http from "node:http";
import type { Env } from "../env/env.js";
import { listenSniffing, type SniffingServer } from "../platform/node/sniffing_listener.js";
import { GRPC_OVERHEAD_BYTES } from "./config.js";
import { rangeRequest } from "./pb.js";
import { loadEtcdProtos } from "./proto.js";
import { ETCD_CLUSTER_VERSION, ETCD_VERSION, type EtcdServer } from "./server.js";
import { withRequestSizes } from "./grpc/common.js";
import { kvService } from "./grpc/kv_service.js";
import { watchService } from "./grpc/watch_service.js";
import { leaseService } from "./grpc/lease_service.js";
import { authService, clusterService, maintenanceService } from "./grpc/maintenance_service.js";

/** Concurrent gRPC streams per client connection (etcd's default --max-concurrent-streams is unlimited; we bound it). */
export const GRPC_STREAMS_PER_CONNECTION_MAX = 1000;

export class ClientServer {
  readonly #listeners: SniffingServer[];
  readonly #grpc: grpc.Server;
  readonly #http: http.Server;

  private constructor(listeners: SniffingServer[], g: grpc.Server, h: http.Server) {
    this.#listeners = listeners;
    this.#grpc = g;
    this.#http = h;
  }

  /** Listens on every URL (http://host:port) and serves both protocols on each. */
  static async listen(server: EtcdServer, env: Env, urls: string[]): Promise<ClientServer> {
    const protos = loadEtcdProtos();
    const g = new grpc.Server({
      "grpc.max_receive_message_length": server.config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      "grpc.max_send_message_length": 2 ** 31 - 1,
      "grpc.max_concurrent_streams": GRPC_STREAMS_PER_CONNECTION_MAX,
      "grpc.keepalive_permit_without_calls": 1,
      // Channelz keeps per-call statistics nobody reads here; it costs CPU on every request.
      "grpc.enable_channelz": 0,
    });
    g.addService(withRequestSizes(protos.kv), kvService(server, env.log));
    g.addService(withRequestSizes(protos.watch), watchService(server, env));
    g.addService(withRequestSizes(protos.lease), leaseService(server, env));
    g.addService(withRequestSizes(protos.maintenance), maintenanceService(server, env));
    g.addService(withRequestSizes(protos.cluster), clusterService(server, env));
    g.addService(withRequestSizes(protos.auth), authService(server, env, Object.keys(protos.auth)));
    const injector = g.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const h = http.createServer((req, res) => void handleHttp(server, req, res));
    h.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    const listeners: SniffingServer[] = [];
    for (const raw of urls) {
      const u = new URL(raw);
      if (u.protocol !== "http:") throw new Error(`Cannot listen on ${raw}: only http:// client URLs are supported (TLS is not implemented yet)`);
      const host = u.hostname.replace(/^\[|\]$/g, "");
      listeners.push(
        await listenSniffing(host, Number(u.port || 2379), {
          http2: (socket) => injector.injectConnection(socket),
          http1: (socket) => h.emit("connection", socket),
        }),
      );
      env.log.info("serving client requests", { url: raw });
    }
    return new ClientServer(listeners, g, h);
  }

  async close(): Promise<void> {
    for (const l of this.#listeners) {
      l.close();
      // A client holding its connection open must not keep a stopping server's process alive.
      l.destroyConnections();
    }
    this.#grpc.forceShutdown();
    this.#http.closeAllConnections();
    this.#http.close();
  }
}

/** Bounds the read /health makes, as etcd's one-second QGET. */
export const HEALTH_READ_TIMEOUT_MS = 1000;

/** Why the member is not healthy, in etcd's words ("" when it is). */
async function unhealthyReason(server: EtcdServer): Promise<string> {
  if (server.stopped) return "server stopped";
  const errors = server.errors();
  if (errors.length > 0) return `ALARM ${errors.join(",")}`;
  if (server.leaderId === 0n) return "RAFT NO LEADER";
  if (server.isLearner) return "";
  let timer: NodeJS.Timeout | undefined;
  try {
    const read = server.range(rangeRequest({ key: Buffer.from("health"), count_only: true }));
    // The read goes on after a timeout; its result is then ignored.
    read.catch(() => {});
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("context deadline exceeded")), HEALTH_READ_TIMEOUT_MS)));
    await Promise.race([read, timeout]);
    return "";
  } catch (err) {
    return `QGET ERROR: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

async function handleHttp(server: EtcdServer, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  switch (path) {
    case "/health":
    case "/livez":
    case "/readyz": {
      // Liveness is the process; health and readiness, as etcd's /health: no alarm, a leader, and a
      // linearizable read that completes within a second (a member cut off from the quorum fails it).
      const reason = path === "/livez" ? (server.stopped ? "server stopped" : "") : await unhealthyReason(server);
      const healthy = reason === "";
      if (path !== "/health") {
        res.writeHead(healthy ? 200 : 503, { "Content-Type": "text/plain" });
        res.end(healthy ? "ok" : "not ok");
        return;
      }
      json(healthy ? 200 : 503, { health: healthy ? "true" : "false", reason });
      return;
    }
    case "/version":
      json(200, { etcdserver: ETCD_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
      return;
    case "/metrics": {
      server.refreshGauges();
      const body = await server.metrics.registry.metrics();
      res.writeHead(200, { "Content-Type": server.metrics.registry.contentType });
      res.end(body);
      return;
    }
    default:
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("404 page not found\n");
  }
}
