/**
 * The kubelet's HTTPS server (port 10250): what the API server proxies `kubectl logs`, `exec` and
 * `attach` to. Only clients with a certificate from the cluster CA in group `system:masters` (the API
 * server's kubelet client certificate) get in, standing in for upstream's webhook authorization.
 * `/containerLogs/{ns}/{pod}/{container}` streams the container's CRI log as text with kubectl's
 * options; `/exec/...` and `/attach/...` upgrade to WebSocket and speak the channel protocol.
 * `/portForward/{ns}/{pod}` speaks SPDY/3.1 (`portforward.k8s.io`), either after a plain
 * `Upgrade: SPDY/3.1` or tunnelled in WebSocket binary messages (subprotocol
 * `SPDY/3.1+portforward.k8s.io`, what kubectl 1.31+ tries first): see port_forward.ts.
 * `/healthz` answers `ok`.
 */
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { WebSocketServer, type WebSocket } from "ws";
import type { Clock, Logger } from "../../env/env.js";
import { ApiError, badRequest } from "../../api/status.js";
import { readLogs, type LogStream } from "../cri/cri_log.js";
import type { StreamSession } from "../cri/cri.js";
import { bridgeTunnel, dialUpgrade, proxyUpgrade, requestHeaders, StreamProxyError } from "./stream_proxy.js";
import { PORT_FORWARD_PROTOCOL_V1, PORT_FORWARD_WEBSOCKET_PROTOCOL, PortForwardSession, type PortForwardTarget } from "./port_forward.js";
import type { SpdyTransport } from "./spdy/session.js";
import { CHANNEL_PROTOCOLS, CLOSE, ERROR, RESIZE, STDERR, STDIN, STDOUT, exitStatus, frame, parseResize, selectProtocol } from "./channel_protocol.js";

/** upstream's --port. */
export const KUBELET_PORT = 10250;
/** Bounds a WebSocket message from the client (stdin chunks, resizes). */
const CLIENT_MESSAGE_BYTES_MAX = 1024 * 1024;
/** Bounds a tunnelled SPDY message (one frame or a few: kubectl writes 32 KiB data frames). */
const TUNNEL_MESSAGE_BYTES_MAX = 2 * 1024 * 1024;
/** Bytes handed to a WebSocket and not yet on the wire before the SPDY session waits. */
const TUNNEL_BUFFERED_BYTES_MAX = 1024 * 1024;

/** What the server needs from the kubelet: where a container's log is, and its streams. */
export interface StreamingBackend {
  /** The container's CRI log file; throws ApiError (404/400 with upstream's text) when there is none. */
  containerLogPath(namespace: string, pod: string, container: string, previous: boolean): Promise<string>;
  /** Whether the container is running (a followed log ends when it stops). */
  containerRunning(namespace: string, pod: string, container: string): Promise<boolean>;
  /** An in-process session, or the runtime's streaming URL to proxy the client to (containerd). */
  exec(namespace: string, pod: string, container: string, command: readonly string[], streams: StreamOptions): Promise<StreamSession | RuntimeStreamUrl>;
  attach(namespace: string, pod: string, container: string, streams: StreamOptions): Promise<StreamSession | RuntimeStreamUrl>;
  /** The pod's ports, or the runtime's URL; throws ApiError (404 `pod does not exist`) when the pod has no running sandbox. */
  portForward(namespace: string, pod: string): Promise<PortForwardTarget | RuntimeStreamUrl>;
}

/** A runtime's answer to Exec/Attach/PortForward when it serves the stream itself (containerd's streaming server). */
export interface RuntimeStreamUrl {
  readonly url: string;
}

function isStreamUrl(v: object): v is RuntimeStreamUrl {
  return typeof (v as { url?: unknown }).url === "string";
}

export interface StreamOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export interface KubeletServerOptions {
  readonly backend: StreamingBackend;
  readonly tls: { certPem: string; keyPem: string; caPem: string };
  readonly clock: Clock;
  readonly log: Logger;
  readonly bindAddress?: string;
  readonly port?: number;
  /** Groups allowed in (default: system:masters, which the API server's kubelet client is in). */
  readonly allowedGroups?: readonly string[];
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === "true" || v === "1";
}

function writeStatus(res: ServerResponse, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

export class KubeletServer {
  readonly #o: KubeletServerOptions;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: CLIENT_MESSAGE_BYTES_MAX, handleProtocols: (set) => selectProtocol(set) ?? false });
  /**
   * kubectl's tunnelling subprotocol, `SPDY/3.1+portforward.k8s.io`, holds a '/', which is not an RFC 7230
   * token, so ws refuses the header ("Invalid Sec-WebSocket-Protocol header") although Go's gorilla
   * client sends it. The server checks it itself, hides it from ws, and names it in the 101 answer.
   */
  readonly #tunnelWss = new WebSocketServer({ noServer: true, maxPayload: TUNNEL_MESSAGE_BYTES_MAX }).on("headers", (headers: string[]) => {
    headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_WEBSOCKET_PROTOCOL}`);
  });
  readonly #portForwards = new Set<PortForwardSession>();
  #server: https.Server | null = null;

  constructor(options: KubeletServerOptions) {
    this.#o = options;
  }

  async start(): Promise<number> {
    const server = https.createServer({ cert: this.#o.tls.certPem, key: this.#o.tls.keyPem, ca: this.#o.tls.caPem, requestCert: true, rejectUnauthorized: false });
    server.on("request", (req, res) => void this.#serve(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(req, socket, head));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#o.port ?? KUBELET_PORT, this.#o.bindAddress ?? "0.0.0.0", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.#o.log.info("kubelet server listening", { port });
    return port;
  }

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    for (const c of this.#tunnelWss.clients) c.terminate();
    for (const pf of this.#portForwards) pf.spdy.transportClosed();
    const server = this.#server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    this.#server = null;
  }

  #authorized(req: IncomingMessage): boolean {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return false;
    const o = socket.getPeerCertificate()?.subject?.O;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    return groups.some((g) => (this.#o.allowedGroups ?? ["system:masters"]).includes(g));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kubelet");
    try {
      if (url.pathname === "/healthz") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("ok");
        return;
      }
      if (!this.#authorized(req)) throw new ApiError("Forbidden", 403, `Forbidden (user=${(req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN ?? "anonymous"}, verb=get, resource=nodes, subresource=proxy)`);
      const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
      if (parts[0] === "containerLogs" && parts.length === 4) return await this.#logs(res, parts[1]!, parts[2]!, parts[3]!, url.searchParams);
      if ((parts[0] === "exec" || parts[0] === "attach") && req.method !== undefined) throw badRequest("Upgrade request required");
      throw new ApiError("NotFound", 404, "404 page not found");
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError("InternalError", 500, err instanceof Error ? err.message : String(err));
      if (res.headersSent) res.end();
      else writeStatus(res, apiErr);
    }
  }

  async #logs(res: ServerResponse, namespace: string, pod: string, container: string, q: URLSearchParams): Promise<void> {
    const previous = boolParam(q, "previous");
    const path = await this.#o.backend.containerLogPath(namespace, pod, container, previous);
    const tail = q.get("tailLines");
    const sinceSeconds = q.get("sinceSeconds");
    const sinceTime = q.get("sinceTime");
    const limitBytes = q.get("limitBytes");
    let sinceNs: bigint | undefined;
    if (sinceSeconds !== null) sinceNs = BigInt(Math.floor(this.#o.clock.wallMs() - Number(sinceSeconds) * 1000)) * 1_000_000n;
    else if (sinceTime !== null) {
      const ms = Date.parse(sinceTime);
      if (Number.isNaN(ms)) throw badRequest(`sinceTime: Invalid value: "${sinceTime}": must be RFC3339`);
      sinceNs = BigInt(ms) * 1_000_000n;
    }
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    await readLogs(
      path,
      {
        write: (_stream: LogStream, data: Uint8Array) =>
          new Promise<void>((resolve) => {
            if (res.write(data)) resolve();
            else res.once("drain", () => resolve());
          }),
      },
      {
        ...(tail !== null ? { tail: Number(tail) } : {}),
        ...(sinceNs !== undefined ? { sinceNs } : {}),
        ...(limitBytes !== null ? { limitBytes: Number(limitBytes) } : {}),
        timestamps: boolParam(q, "timestamps"),
        follow: boolParam(q, "follow") && !previous,
        containerRunning: () => this.#o.backend.containerRunning(namespace, pod, container),
        signal: abort.signal,
        clock: this.#o.clock,
        log: this.#o.log,
      },
    );
    res.end();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kubelet");
    const refuse = (err: ApiError) => {
      const body = JSON.stringify(err.toStatus());
      socket.end(`HTTP/1.1 ${err.code} ${err.reason ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    socket.on("error", () => socket.destroy());
    if (!this.#authorized(req)) return refuse(new ApiError("Forbidden", 403, "Forbidden"));
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const kind = parts[0];
    if (kind === "portForward" && (parts.length === 3 || parts.length === 4)) return this.#portForward(req, socket, head, parts[1]!, parts[2]!, refuse);
    if ((kind !== "exec" && kind !== "attach") || parts.length !== 4) return refuse(new ApiError("NotFound", 404, "404 page not found"));
    const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim());
    // A SPDY client (kubectl's fallback) can only be served by a runtime with its own streaming server:
    // it is checked once the backend has answered.
    const spdy = String(req.headers.upgrade ?? "").toLowerCase().includes("spdy/3.1");
    if (selectProtocol(protocols) === null && !spdy) {
      return refuse(badRequest(`unable to upgrade: the client offered no supported protocol: supported: ${CHANNEL_PROTOCOLS.join(", ")}`));
    }
    const [, namespace, pod, container] = parts as [string, string, string, string];
    const q = url.searchParams;
    const streams: StreamOptions = { stdin: boolParam(q, "stdin"), stdout: boolParam(q, "stdout"), stderr: boolParam(q, "stderr"), tty: boolParam(q, "tty") };
    const command = q.getAll("command");
    let session: StreamSession | RuntimeStreamUrl;
    try {
      if (kind === "exec") {
        if (command.length === 0) throw badRequest("you must specify at least 1 command");
        session = await this.#o.backend.exec(namespace, pod, container, command, streams);
      } else {
        session = await this.#o.backend.attach(namespace, pod, container, streams);
      }
    } catch (err) {
      return refuse(err instanceof ApiError ? err : new ApiError("InternalError", 500, err instanceof Error ? err.message : String(err)));
    }
    if (isStreamUrl(session)) return this.#proxy(req, socket, head, session.url, refuse);
    const inProcess = session;
    if (spdy && selectProtocol(protocols) === null) {
      inProcess.close();
      return refuse(badRequest(`unable to upgrade: the client offered no supported protocol: supported: ${CHANNEL_PROTOCOLS.join(", ")}`));
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#pump(ws, inProcess, command));
  }

  /**
   * Upgrades a port-forward request. WebSocket first (kubectl's SPDY-over-WebSocket tunnel), else a SPDY
   * upgrade with upstream's httpstream.Handshake: the client's X-Stream-Protocol-Version must include
   * portforward.k8s.io (none at all is a pre-1.4 client and is let in).
   */
  async #portForward(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, pod: string, refuse: (err: ApiError) => void): Promise<void> {
    const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
    const websocket = upgrade === "websocket";
    if (websocket) {
      const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
      if (!offered.includes(PORT_FORWARD_WEBSOCKET_PROTOCOL)) {
        return refuse(badRequest(`unable to upgrade: the client offered no supported protocol: supported: ${PORT_FORWARD_WEBSOCKET_PROTOCOL}`));
      }
    } else {
      const connection = String(req.headers.connection ?? "").toLowerCase();
      if (!connection.includes("upgrade") || !upgrade.includes("spdy/3.1")) return refuse(badRequest("unable to upgrade: missing upgrade headers in request"));
      const raw = req.headers["x-stream-protocol-version"];
      const offered = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
      if (offered.length > 0 && !offered.includes(PORT_FORWARD_PROTOCOL_V1)) {
        return refuse(new ApiError("Forbidden", 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${PORT_FORWARD_PROTOCOL_V1}]`));
      }
    }
    let answer: PortForwardTarget | RuntimeStreamUrl;
    try {
      answer = await this.#o.backend.portForward(namespace, pod);
    } catch (err) {
      return refuse(err instanceof ApiError ? err : new ApiError("InternalError", 500, err instanceof Error ? err.message : String(err)));
    }
    if (isStreamUrl(answer)) {
      if (!websocket) return this.#proxy(req, socket, head, answer.url, refuse);
      return this.#tunnelToRuntime(req, socket, head, answer.url, refuse);
    }
    const target = answer;
    const log = this.#o.log.child({ portForward: `${namespace}/${pod}` });
    log.debug("port-forward upgraded", { transport: websocket ? "websocket" : "spdy" });
    if (websocket) {
      delete req.headers["sec-websocket-protocol"];
      this.#tunnelWss.handleUpgrade(req, socket, head, (ws) => {
        let unsent = 0;
        let full = false;
        const transport: SpdyTransport = {
          write: (bytes) => {
            if (ws.readyState !== ws.OPEN) return true;
            unsent += bytes.length;
            ws.send(bytes, { binary: true }, () => {
              unsent -= bytes.length;
              if (full && unsent <= TUNNEL_BUFFERED_BYTES_MAX / 2) {
                full = false;
                pf.spdy.transportDrained();
              }
            });
            if (unsent > TUNNEL_BUFFERED_BYTES_MAX) full = true;
            return !full;
          },
          end: () => ws.close(1000),
          pause: () => ws.pause(),
          resume: () => ws.resume(),
        };
        const pf = new PortForwardSession(transport, { target, clock: this.#o.clock, log });
        this.#portForwards.add(pf);
        ws.on("message", (data: Buffer, isBinary: boolean) => {
          // upstream's TunnelingConnection: anything but a binary message is "invalid message type received".
          if (!isBinary) return ws.close(1002, "invalid message type received");
          pf.spdy.receive(data);
        });
        ws.on("close", () => {
          this.#portForwards.delete(pf);
          pf.spdy.transportClosed();
        });
        ws.on("error", () => ws.terminate());
      });
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL_V1}\r\n\r\n`);
    const transport: SpdyTransport = {
      write: (bytes) => socket.write(bytes),
      end: () => socket.end(),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    };
    const pf = new PortForwardSession(transport, { target, clock: this.#o.clock, log });
    this.#portForwards.add(pf);
    socket.on("data", (d: Buffer) => pf.spdy.receive(d));
    socket.on("drain", () => pf.spdy.transportDrained());
    socket.on("close", () => {
      this.#portForwards.delete(pf);
      pf.spdy.transportClosed();
    });
    if (head.length > 0) pf.spdy.receive(head);
  }

  /** Hands an upgrade to the runtime's streaming server (upstream's proxyStream); a failure to reach it is a 500. */
  async #proxy(req: IncomingMessage, socket: Duplex, head: Buffer, url: string, refuse: (err: ApiError) => void): Promise<void> {
    try {
      await proxyUpgrade(req, socket, head, url);
    } catch (err) {
      this.#o.log.warn("cannot proxy to the runtime's streaming server", { url: redactToken(url), error: (err as Error).message });
      refuse(new ApiError("InternalError", 500, (err as Error).message));
    }
  }

  /**
   * kubectl's SPDY-over-WebSocket port-forward against a runtime that speaks plain SPDY: upgrade to the
   * runtime first (so a refusal reaches the client as an HTTP error, not a closed WebSocket), then accept
   * the WebSocket and bridge its binary messages to the SPDY connection (what upstream's API server does).
   */
  async #tunnelToRuntime(req: IncomingMessage, socket: Duplex, head: Buffer, url: string, refuse: (err: ApiError) => void): Promise<void> {
    let dialed;
    try {
      const headers = requestHeaders(req).filter(([n]) => !/^(upgrade|connection|sec-websocket-.*)$/i.test(n));
      dialed = await dialUpgrade(url, "POST", [...headers, ["Connection", "Upgrade"], ["Upgrade", "SPDY/3.1"], ["X-Stream-Protocol-Version", PORT_FORWARD_PROTOCOL_V1]]);
    } catch (err) {
      const status = err instanceof StreamProxyError ? err.status : 500;
      return refuse(new ApiError("InternalError", status, (err as Error).message));
    }
    if (dialed.status !== 101) {
      dialed.socket.destroy();
      return refuse(new ApiError("InternalError", 500, `the runtime's streaming server refused the port-forward upgrade: ${dialed.head.toString("latin1").split("\r\n")[0]}`));
    }
    delete req.headers["sec-websocket-protocol"];
    // A client that hangs up during the handshake never gets a WebSocket: the runtime's connection goes too.
    let bridged = false;
    socket.once("close", () => {
      if (!bridged) dialed.socket.destroy();
    });
    this.#tunnelWss.handleUpgrade(req, socket, head, (ws) => {
      bridged = true;
      bridgeTunnel(ws, dialed);
    });
  }

  /** Moves bytes between the WebSocket's channels and the session until the command ends. */
  #pump(ws: WebSocket, session: StreamSession, command: readonly string[]): void {
    const v4plus = ws.protocol === "v4.channel.k8s.io" || ws.protocol === "v5.channel.k8s.io";
    const send = (channel: number, data: Uint8Array) => {
      if (ws.readyState === ws.OPEN) ws.send(frame(channel, data));
    };
    const outputs: Promise<void>[] = [];
    for (const [stream, channel] of [[session.stdout, STDOUT], [session.stderr, STDERR]] as const) {
      if (stream === null) continue;
      outputs.push(
        new Promise<void>((resolve) => {
          stream.on("data", (d: Buffer) => send(channel, d));
          stream.on("end", () => resolve());
          stream.on("error", () => resolve());
        }),
      );
    }
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const bytes = isBinary ? data : Buffer.from(data);
      if (bytes.length === 0) return;
      const channel = bytes[0]!;
      const payload = bytes.subarray(1);
      if (channel === STDIN) session.stdin?.write(payload);
      else if (channel === RESIZE) {
        const size = parseResize(payload);
        if (size !== null) session.resize(size);
      } else if (channel === CLOSE && payload[0] === STDIN) session.stdin?.end();
    });
    ws.on("close", () => session.close());
    void session.done.then(async ({ exitCode }) => {
      // Output written before the exit goes out before the status that ends the session.
      await Promise.race([Promise.all(outputs), new Promise((r) => setTimeout(r, 2_000))]);
      if (v4plus) send(ERROR, Buffer.from(JSON.stringify(exitStatus(exitCode, command))));
      ws.close(1000);
    });
  }
}

/** The streaming URL without its one-time token, for logs. */
function redactToken(url: string): string {
  return url.replace(/\/[^/]+$/, "/<token>");
}
