/**
 * One HTTPS request to a started `tk8s server`, below kubectl: the bodies, headers and credentials a
 * test needs to send that kubectl would never send (malformed JSON, a wrong Content-Type, no client
 * certificate at all).
 */
import { request } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { ApiServerProcess } from "../harness/apiserver_process.js";

/** A response body larger than this is a test bug (a list of everything), not something to buffer. */
export const RAW_RESPONSE_BYTES_MAX = 16 * 1024 * 1024;
export const RAW_REQUEST_TIMEOUT_MS = 10_000;

export interface RawRequestOptions {
  readonly method?: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** The client certificate and key (PEM); `null` sends none (an anonymous request). Default: the admin's. */
  readonly identity?: { readonly cert: string; readonly key: string } | null;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function rawRequest(server: Pick<ApiServerProcess, "port" | "ca" | "clientCert" | "clientKey">, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const identity = options.identity === undefined ? { cert: server.clientCert, key: server.clientKey } : options.identity;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path,
        method: options.method ?? "GET",
        ca: server.ca,
        ...(identity === null ? {} : { cert: identity.cert, key: identity.key }),
        headers: options.headers ?? {},
        timeout: RAW_REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          bytes += c.length;
          if (bytes > RAW_RESPONSE_BYTES_MAX) {
            req.destroy(new Error(`Cannot read the response: it is larger than ${RAW_RESPONSE_BYTES_MAX} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`Cannot finish ${options.method ?? "GET"} ${path}: no response in ${RAW_REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    // A server may answer (413) and close before it has read all of a large body; that is not our error.
    req.on("socket", (s) => s.on("error", () => {}));
    req.end(options.body);
  });
}

/** The response body as a Kubernetes Status (or any JSON object); fails loudly when it is not JSON. */
export function jsonBody(res: RawResponse): Record<string, unknown> {
  try {
    return JSON.parse(res.body) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`Cannot parse the response (${res.status}) as JSON: ${res.body.slice(0, 500)}`, { cause: err });
  }
}
