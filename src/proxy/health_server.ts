/**
 * kube-proxy's HTTP endpoints: `/healthz` and `/livez` (upstream --healthz-bind-address, port 10256) and
 * `/metrics` (--metrics-bind-address, port 10249). Both may be served by one listener.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProxyMetrics } from "./metrics.js";
import type { ProxierHealth } from "./proxier_health.js";

export const DEFAULT_HEALTHZ_PORT = 10256;
export const DEFAULT_METRICS_PORT = 10249;

export interface ProxyHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the parts asked for on host:port (port 0: any free port). */
export async function startProxyHttpServer(
  bind: { host: string; port: number },
  parts: { health?: ProxierHealth; metrics?: ProxyMetrics },
): Promise<ProxyHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if ((path === "/healthz" || path === "/livez") && parts.health !== undefined) {
      const ok = parts.health.status().healthy;
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "x-content-type-options": "nosniff" }).end(parts.health.body());
      return;
    }
    if (path === "/metrics" && parts.metrics !== undefined) {
      const registry = parts.metrics.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(bind.port, bind.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
