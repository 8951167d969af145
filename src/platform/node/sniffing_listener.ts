/**
 * One TCP port, two protocols, as etcd serves its client port: connections that open with the HTTP/2
 * preface ("PRI * HTTP/2.0") go to gRPC, everything else to the HTTP/1 handler (/health, /version,
 * /metrics). Garbage gets the HTTP/1 parser's 400 and a closed connection; the server stays up.
 * HTTP/2 connections pass the authority guard first (see h2_authority_guard.ts): etcdctl 3.4 sends
 * `:authority` values that Node's nghttp2 rejects.
 */
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { guardH2Authority } from "./h2_authority_guard.js";

/** Bytes we wait for before deciding; the preface's first three are enough. */
const SNIFF_BYTES = 3;
/** A connection that sends nothing for this long is dropped before it is classified. */
const SNIFF_TIMEOUT_MS = 10_000;

export interface SniffingListenerHandlers {
  http2(socket: Duplex): void;
  http1(socket: net.Socket): void;
}

/** The listening server, plus a way to end the connections it accepted (and the HTTP/2 sessions on them). */
export type SniffingServer = net.Server & { destroyConnections(): void };

export async function listenSniffing(host: string, port: number, handlers: SniffingListenerHandlers): Promise<SniffingServer> {
  // Accepted sockets, so closing the listener can end them: a server shutting down must not be kept
  // alive by a client that keeps its connection open.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
    // Paused mode, not 'data': the HTTP/2 session reads the socket's handle directly, and only bytes
    // put back with unshift() before it attaches (with the stream never set flowing) reach it.
    const onReadable = (): void => {
      const head = socket.read(SNIFF_BYTES) as Buffer | null;
      if (head === null) {
        if (socket.readableEnded) clearTimeout(timer);
        return;
      }
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.unshift(head);
      if (head.toString("latin1") === "PRI") guardH2Authority(socket, (stream) => handlers.http2(stream));
      else handlers.http1(socket);
    };
    socket.on("readable", onReadable);
    socket.on("error", () => clearTimeout(timer));
    socket.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return Object.assign(server, {
    destroyConnections: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  });
}
