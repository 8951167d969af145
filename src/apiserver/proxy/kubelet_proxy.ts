/**
 * The pod subresources a kubelet serves — `log`, `exec`, `attach`, `portforward` — reached through the
 * API server as upstream does: the server authenticates and authorizes the client, finds the pod's node
 * and its kubelet endpoint, and proxies to the kubelet's HTTPS port with its own client certificate.
 * Logs are a streamed GET; exec, attach and port-forward are upgraded connections (WebSocket or SPDY —
 * whichever the client and kubelet agree on) tunnelled byte for byte.
 */
import * as https from "node:https";
import * as tls from "node:tls";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ApiError, badRequest } from "../../api/status.js";
import type { KubeObject } from "../registry/codec.js";

/** The kubelet's default port (its `--port`), when the Node does not report one. */
export const KUBELET_PORT_DEFAULT = 10250;
/** Bounds the time to reach a kubelet (upstream's dial timeout is 30 s; a local node answers at once). */
const KUBELET_CONNECT_TIMEOUT_MS = 10_000;
/** Request headers a tunnelled upgrade carries to the kubelet (not the client's credentials). */
const FORWARDED_HEADERS = /^(upgrade|connection|sec-websocket-.*|x-stream-protocol-version|content-length|content-type|user-agent|accept)$/i;
/** The log options the kubelet's containerLogs endpoint reads (same names as the API's PodLogOptions). */
const LOG_PARAMS = ["follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes", "insecureSkipTLSVerifyBackend"];

export interface KubeletEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface KubeletClientCredentials {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Where a node's kubelet listens: its InternalIP (else Hostname, else ExternalIP) and daemon endpoint port. */
export function kubeletEndpoint(node: KubeObject): KubeletEndpoint {
  const addresses: { type: string; address: string }[] = node.status?.addresses ?? [];
  const pick = (type: string) => addresses.find((a) => a.type === type)?.address;
  const host = pick("InternalIP") ?? pick("Hostname") ?? pick("ExternalIP");
  if (host === undefined) throw new ApiError("InternalError", 500, `Internal error occurred: node "${node.metadata?.name}" has no address to reach its kubelet`);
  return { host, port: Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? KUBELET_PORT_DEFAULT) || KUBELET_PORT_DEFAULT };
}

/**
 * The container a request means: the `container` parameter, else the pod's only container, else the
 * `kubectl.kubernetes.io/default-container` annotation; otherwise upstream's 400.
 */
export function containerFor(pod: KubeObject, requested: string | null): string {
  const names: string[] = (pod.spec?.containers ?? []).map((c: KubeObject) => c.name);
  const all = [...names, ...(pod.spec?.initContainers ?? []).map((c: KubeObject) => c.name), ...(pod.spec?.ephemeralContainers ?? []).map((c: KubeObject) => c.name)];
  const name = pod.metadata?.name;
  if (requested !== null && requested !== "") {
    if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (names.length === 1) return names[0]!;
  const annotated = pod.metadata?.annotations?.["kubectl.kubernetes.io/default-container"];
  if (typeof annotated === "string" && names.includes(annotated)) return annotated;
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`);
}

/** The kubelet path of a pod subresource request. */
export function kubeletPath(subresource: string, pod: KubeObject, query: URLSearchParams): string {
  const ns = encodeURIComponent(String(pod.metadata.namespace));
  const name = encodeURIComponent(String(pod.metadata.name));
  if (subresource === "portforward") {
    const q = new URLSearchParams();
    for (const p of query.getAll("ports")) q.append("ports", p);
    return `/portForward/${ns}/${name}${q.size > 0 ? `?${q}` : ""}`;
  }
  const container = encodeURIComponent(containerFor(pod, query.get("container")));
  if (subresource === "log") {
    const q = new URLSearchParams();
    for (const p of LOG_PARAMS) {
      const v = query.get(p);
      if (v !== null) q.set(p, v);
    }
    return `/containerLogs/${ns}/${name}/${container}${q.size > 0 ? `?${q}` : ""}`;
  }
  // exec and attach: every option (command, stdin, stdout, stderr, tty) passes through; container was resolved above.
  const q = new URLSearchParams(query);
  q.delete("container");
  return `/${subresource}/${ns}/${name}/${container}${q.size > 0 ? `?${q}` : ""}`;
}

function unreachable(endpoint: KubeletEndpoint, path: string, err: Error): ApiError {
  return new ApiError("InternalError", 500, `Get "https://${endpoint.host}:${endpoint.port}${path}": ${err.message}`);
}

/** Streams the kubelet's answer to a log request back to the client, status and body as they come. */
export function proxyLogs(res: ServerResponse, endpoint: KubeletEndpoint, path: string, credentials: KubeletClientCredentials): Promise<void> {
  return new Promise((resolve, reject) => {
    const upstream = https.request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: "GET",
        cert: credentials.certPem,
        key: credentials.keyPem,
        // As kube-apiserver without --kubelet-certificate-authority: the kubelet's serving certificate is not verified.
        rejectUnauthorized: false,
        timeout: KUBELET_CONNECT_TIMEOUT_MS,
      },
      (kres) => {
        // Once the stream is flowing, a long `logs -f` has no timeout but the client's.
        kres.socket.setTimeout(0);
        res.writeHead(kres.statusCode ?? 502, {
          "Content-Type": kres.headers["content-type"] ?? "text/plain",
          ...(kres.headers["content-length"] !== undefined ? { "Content-Length": kres.headers["content-length"] } : {}),
        });
        kres.pipe(res);
        kres.on("end", () => resolve());
        kres.on("error", () => resolve());
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("i/o timeout")));
    upstream.on("error", (err) => (res.headersSent ? resolve() : reject(unreachable(endpoint, path, err))));
    res.on("close", () => upstream.destroy());
    upstream.end();
  });
}

/**
 * Tunnels an upgrade request (exec, attach, port-forward) to the kubelet: the request head goes over
 * a new TLS connection with the server's kubelet credentials, then bytes flow both ways untouched.
 */
export function tunnelUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  endpoint: KubeletEndpoint,
  path: string,
  credentials: KubeletClientCredentials,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const upstream = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      cert: credentials.certPem,
      key: credentials.keyPem,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
      ...(/^\d+\.\d+\.\d+\.\d+$/.test(endpoint.host) ? {} : { servername: endpoint.host }),
    });
    const timer = setTimeout(() => upstream.destroy(new Error("i/o timeout")), KUBELET_CONNECT_TIMEOUT_MS);
    let connected = false;
    upstream.once("secureConnect", () => {
      connected = true;
      clearTimeout(timer);
      const lines = [`${req.method} ${path} HTTP/1.1`, `Host: ${endpoint.host}:${endpoint.port}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (FORWARDED_HEADERS.test(name)) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      resolve();
    });
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", (err) => {
      clearTimeout(timer);
      if (!connected) reject(unreachable(endpoint, path, err));
      else close();
    });
    upstream.on("close", () => client.end());
    client.on("error", close);
    client.on("close", () => upstream.destroy());
  });
}
