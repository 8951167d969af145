/**
 * The kubelet's proxy to a runtime's own streaming server (upstream's kubelet proxyStream with
 * proxy.NewUpgradeAwareHandler). containerd answers Exec, Attach and PortForward with a one-time URL on
 * its CRI streaming server (`http://127.0.0.1:<port>/exec/<token>`); the kubelet sends the client's upgrade
 * request there and then moves bytes both ways untouched, so the client and containerd agree on the
 * protocol (WebSocket `v4.channel.k8s.io`, or SPDY) between themselves.
 *
 * kubectl 1.31+ tunnels port-forward's SPDY inside WebSocket binary messages, which containerd 1.6 does not
 * speak. Upstream's API server unwraps that tunnel and sends a plain SPDY upgrade to the kubelet; here the
 * kubelet serves the tunnel (see kubelet_server.ts), so it does the same unwrapping: a SPDY upgrade to the
 * runtime, then the WebSocket messages' bytes to it and its bytes back as binary messages.
 */
import * as net from "node:net";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** Bounds reaching the runtime's streaming server and its answer to the upgrade (it is on loopback: ms). */
export const STREAM_DIAL_TIMEOUT_MS = 10_000;
/** The runtime's response head is read up to this many bytes; a longer one is refused. */
export const RESPONSE_HEAD_BYTES_MAX = 64 * 1024;
/** Bytes handed to the client's WebSocket and not yet sent before the runtime's socket is paused. */
export const TUNNEL_PENDING_BYTES_MAX = 1024 * 1024;
/** Request headers an upgrade carries to the runtime (what the protocols need, no credentials). */
const FORWARDED_HEADERS = /^(upgrade|connection|sec-websocket-(key|version|protocol|extensions)|x-stream-protocol-version|content-length|user-agent)$/i;

/** The runtime refused or failed the upgrade: its status and body, for the client. */
export class StreamProxyError extends Error {
  override readonly name = "StreamProxyError";
  constructor(readonly status: number, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface DialedUpgrade {
  readonly socket: net.Socket;
  readonly status: number;
  /** The response head as received, through its blank line. */
  readonly head: Buffer;
  /** Bytes that came after the head in the same reads (the start of the upgraded stream). */
  readonly rest: Buffer;
}

/**
 * Sends an upgrade request to `url` (http only: a runtime's streaming server on loopback) and reads the
 * response head. Resolves for any status; rejects when the server cannot be reached or answers garbage.
 */
export function dialUpgrade(url: string, method: string, headers: readonly (readonly [string, string])[], timeoutMs = STREAM_DIAL_TIMEOUT_MS): Promise<DialedUpgrade> {
  const u = new URL(url);
  if (u.protocol !== "http:") return Promise.reject(new StreamProxyError(500, `Cannot proxy to the runtime's streaming server: unsupported URL scheme in ${url}`));
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port === "" ? 80 : u.port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffered = Buffer.alloc(0);
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err instanceof StreamProxyError ? err : new StreamProxyError(502, `error dialing backend: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => fail(new Error(`dial tcp ${host}:${port}: i/o timeout`)), timeoutMs);
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the runtime's streaming server closed the connection before answering the upgrade")));
    socket.once("connect", () => {
      const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
      for (const [name, value] of headers) if (FORWARDED_HEADERS.test(name)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) {
        if (buffered.length > RESPONSE_HEAD_BYTES_MAX) fail(new StreamProxyError(502, `the runtime's response head is over ${RESPONSE_HEAD_BYTES_MAX} bytes`));
        return;
      }
      socket.off("data", onData);
      socket.pause();
      const head = buffered.subarray(0, end + 4);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString("latin1"));
      if (m === null) return fail(new StreamProxyError(502, "the runtime's streaming server answered something that is not HTTP"));
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners("close");
      socket.removeAllListeners("error");
      // Until the caller attaches its own handlers, an error (the runtime hung up) only ends the socket.
      socket.on("error", () => socket.destroy());
      resolve({ socket, status: Number(m[1]), head, rest: buffered.subarray(end + 4) });
    };
    socket.on("data", onData);
  });
}

/** The headers of a request as pairs, in the client's spelling. */
export function requestHeaders(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

/**
 * Proxies an upgrade request to the runtime's URL: the runtime's answer (101 or a refusal) goes back to
 * the client as it came, then bytes flow both ways until either side closes.
 */
export async function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, url: string): Promise<void> {
  const dialed = await dialUpgrade(url, req.method ?? "GET", requestHeaders(req));
  const upstream = dialed.socket;
  client.write(dialed.head);
  if (dialed.rest.length > 0) client.write(dialed.rest);
  if (dialed.status !== 101) {
    // A refusal: its body follows the head; pass it on, then hang up.
    upstream.pipe(client);
    upstream.resume();
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    return;
  }
  if (head.length > 0) upstream.write(head);
  const close = () => {
    upstream.destroy();
    client.destroy();
  };
  upstream.pipe(client);
  client.pipe(upstream);
  upstream.resume();
  upstream.on("error", close);
  client.on("error", close);
  upstream.on("close", () => client.end());
  client.on("close", () => upstream.destroy());
}

/**
 * Unwraps kubectl's SPDY-over-WebSocket tunnel onto an upgraded SPDY connection to the runtime: binary
 * messages' bytes go to the runtime, the runtime's bytes come back as binary messages. Both directions
 * are flow-controlled (a full socket pauses the WebSocket; a WebSocket with more than
 * TUNNEL_PENDING_BYTES_MAX unsent pauses the socket).
 */
export function bridgeTunnel(ws: WebSocket, dialed: DialedUpgrade): void {
  const upstream = dialed.socket;
  let pending = 0;
  const sendToClient = (bytes: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    pending += bytes.length;
    ws.send(bytes, { binary: true }, () => {
      pending -= bytes.length;
      if (pending <= TUNNEL_PENDING_BYTES_MAX / 2 && upstream.isPaused()) upstream.resume();
    });
    if (pending > TUNNEL_PENDING_BYTES_MAX) upstream.pause();
  };
  if (dialed.rest.length > 0) sendToClient(dialed.rest);
  upstream.on("data", sendToClient);
  upstream.resume();
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    // upstream's TunnelingConnection: anything but a binary message is "invalid message type received".
    if (!isBinary) return ws.close(1002, "invalid message type received");
    if (!upstream.write(data)) {
      ws.pause();
      upstream.once("drain", () => ws.resume());
    }
  });
  upstream.on("end", () => ws.close(1000));
  upstream.on("error", () => ws.terminate());
  upstream.on("close", () => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
  ws.on("close", () => upstream.destroy());
  ws.on("error", () => upstream.destroy());
}
