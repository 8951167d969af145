/**
 * The DNS server's sockets: one UDP socket and one TCP listener on the same address and port (RFC 7766:
 * TCP is as required as UDP; clients fall back to it when an answer comes back with TC set). TCP messages
 * are framed by a 16-bit length; a connection may carry several queries, answered in order, and is closed
 * when idle. Connections and queries waiting on them are bounded.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, isIP, type Server, type Socket } from "node:net";
import type { Clock, Logger } from "../env/env.js";
import { rrTypeName, rcodeName } from "./message.js";
import type { HandledQuery, Proto } from "./dns_handler.js";
import type { DnsMetrics } from "./metrics.js";

export interface DnsServerOptions {
  /** "127.0.0.1:53", "[::1]:53", "0.0.0.0:1053"; port 0 picks a free one (the same one for UDP and TCP). */
  readonly listen: string;
  readonly handle: (packet: Uint8Array, proto: Proto) => Promise<HandledQuery>;
  readonly metrics: DnsMetrics;
  readonly clock: Clock;
  readonly log: Logger;
  /** CoreDNS closes idle TCP connections after 10 s. */
  readonly tcpIdleTimeoutMs?: number;
  readonly tcpConnectionsMax?: number;
  /** Queries one TCP connection may have waiting (pipelined) before it stops being read. */
  readonly tcpPipelineMax?: number;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (m === null || isIP(m[1]!) === 0) throw new Error(`Cannot listen on ${JSON.stringify(listen)}: want IP:PORT, e.g. "127.0.0.1:53" or "[::1]:53"`);
  return { host: m[1]!, port: Number(m[2]) };
}

export class DnsServer {
  readonly #o: DnsServerOptions;
  #udp: UdpSocket | null = null;
  #tcp: Server | null = null;
  readonly #conns = new Set<Socket>();
  #serverLabel = "";
  #address: { host: string; port: number } | null = null;

  constructor(options: DnsServerOptions) {
    this.#o = options;
  }

  /** The bound address (after start). */
  get address(): { host: string; port: number } {
    if (this.#address === null) throw new Error("Cannot read the address of a DNS server that is not started");
    return this.#address;
  }

  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListen(this.#o.listen);
    // With port 0 the kernel picks the UDP port; TCP then takes the same one. Another process may hold it
    // for TCP already, so a few ports are tried.
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket({ type: isIP(host) === 6 ? "udp6" : "udp4" });
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(port, host, () => {
          udp.off("error", reject);
          resolve();
        });
      });
      const bound = udp.address().port;
      const tcp = createServer({ pauseOnConnect: false }, (s) => this.#onConnection(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once("error", reject);
          tcp.listen(bound, host, () => {
            tcp.off("error", reject);
            resolve();
          });
        });
      } catch (err) {
        udp.close();
        if (port !== 0 || attempt >= 5) throw err;
        continue;
      }
      this.#udp = udp;
      this.#tcp = tcp;
      this.#address = { host, port: bound };
      this.#serverLabel = `dns://${isIP(host) === 6 ? `[${host}]` : host}:${bound}`;
      udp.on("message", (msg, rinfo) => void this.#onUdp(new Uint8Array(msg), rinfo.address, rinfo.port, rinfo.family));
      udp.on("error", (err) => this.#o.log.error("dns udp socket error", { err: String(err) }));
      return this.#address;
    }
  }

  async #serve(packet: Uint8Array, proto: Proto, family: string): Promise<Uint8Array | null> {
    const started = this.#o.clock.nowMs();
    let handled: HandledQuery;
    try {
      handled = await this.#o.handle(packet, proto);
    } catch (err) {
      // A bug answering one query must not take the server down; it is logged loudly and dropped.
      this.#o.log.error("dns query handler failed", { err: String(err), stack: (err as Error).stack });
      return null;
    }
    const m = this.#o.metrics;
    const type = handled.qtype === 0 ? "other" : rrTypeName(handled.qtype);
    // One server block for "." (the kubeadm Corefile's `.:53`): every query is in zone ".".
    const base = { server: this.#serverLabel, zone: ".", view: "" };
    m.requests.inc({ ...base, proto, family: family === "IPv6" ? "2" : "1", type });
    m.responses.inc({ ...base, rcode: rcodeName(handled.rcode), plugin: handled.plugin });
    m.requestDuration.observe({ ...base, type }, (this.#o.clock.nowMs() - started) / 1000);
    return handled.response;
  }

  async #onUdp(packet: Uint8Array, address: string, port: number, family: string): Promise<void> {
    const response = await this.#serve(packet, "udp", family);
    if (response === null || this.#udp === null) return;
    this.#udp.send(response, port, address, (err) => {
      if (err) this.#o.log.debug("dns udp send failed", { err: String(err) });
    });
  }

  #onConnection(s: Socket): void {
    if (this.#conns.size >= (this.#o.tcpConnectionsMax ?? 1000)) {
      s.destroy();
      return;
    }
    this.#conns.add(s);
    s.on("close", () => this.#conns.delete(s));
    s.on("error", () => s.destroy());
    s.setTimeout(this.#o.tcpIdleTimeoutMs ?? 10_000, () => s.destroy());
    const family = s.remoteFamily ?? "IPv4";
    let buf = Buffer.alloc(0);
    let pending = 0;
    // Answers go out in query order: each waits for the one before it.
    let chain: Promise<void> = Promise.resolve();
    s.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const packet = new Uint8Array(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        pending++;
        if (pending >= (this.#o.tcpPipelineMax ?? 32)) s.pause();
        const answer = this.#serve(packet, "tcp", family);
        chain = chain.then(async () => {
          const response = await answer;
          pending--;
          if (s.isPaused() && pending < (this.#o.tcpPipelineMax ?? 32)) s.resume();
          if (response === null) {
            // RFC 7766 §6.2.1: a message we cannot answer at all ends the connection.
            s.destroy();
            return;
          }
          if (s.destroyed) return;
          const frame = Buffer.alloc(2 + response.length);
          frame.writeUInt16BE(response.length, 0);
          frame.set(response, 2);
          s.write(frame);
        });
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.#conns) s.destroy();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = null;
    this.#tcp = null;
    await Promise.all([
      udp === null ? undefined : new Promise<void>((r) => udp.close(() => r())),
      tcp === null ? undefined : new Promise<void>((r) => tcp.close(() => r())),
    ]);
  }
}
