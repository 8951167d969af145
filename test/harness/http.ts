import { request } from "node:http";

/** The largest body httpGet reads: /metrics of a fresh etcd is ~100 KiB. */
export const HTTP_BODY_BYTES_MAX = 8 * 1024 * 1024;
/** Default bound on one request, connect to last byte. */
export const HTTP_TIMEOUT_MS = 5_000;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/**
 * A plain HTTP GET with `Connection: close` and no agent, so no idle socket outlives the call and keeps
 * a test process alive (global fetch pools keep-alive sockets).
 */
export function httpGet(url: string, options: { timeoutMs?: number } = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? HTTP_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, headers: { connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > HTTP_BODY_BYTES_MAX) {
          req.destroy(new Error(`Cannot read ${url}: body exceeds ${HTTP_BODY_BYTES_MAX} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`Cannot GET ${url}: no response within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
