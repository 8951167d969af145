/**
 * Sends queries for names outside the cluster's zones to upstream resolvers (CoreDNS's `forward` plugin,
 * which the kubeadm Corefile points at /etc/resolv.conf). The client's packet goes out as it came, OPT
 * record and all (EDNS0 passthrough), over the protocol the client used, so a truncated UDP answer reaches
 * the client with TC set and the client retries over TCP, which is forwarded over TCP.
 *
 * Each UDP query uses a fresh socket (a new random source port, so a spoofed answer must guess it) and
 * accepts only a reply from the upstream's address carrying the query's ID. Upstreams are tried in turn
 * (starting at a random one, or the first with the "sequential" policy) until one answers within the
 * timeout. At most `maxConcurrent` queries are in flight; past that a query is refused at once.
 */
import { createSocket, type Socket } from "node:dgram";
import { connect, isIP } from "node:net";
import type { Clock, Rng } from "../env/env.js";
import type { DnsMetrics } from "./metrics.js";
import { peekId, rcodeName } from "./message.js";

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** "1.2.3.4", "1.2.3.4:5353", "[fd00::1]:53", "fd00::1" → host and port (53 by default). */
export function parseUpstream(text: string): Upstream {
  const t = text.trim().replace(/^dns:\/\//, "");
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  let host: string;
  let port = 53;
  if (bracket !== null) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIP(t) !== 0) host = t;
  else {
    const at = t.lastIndexOf(":");
    if (at < 0) throw new Error(`Cannot use upstream ${JSON.stringify(text)}: it must be an IP address, optionally with :port`);
    host = t.slice(0, at);
    port = Number(t.slice(at + 1));
  }
  if (isIP(host) === 0) throw new Error(`Cannot use upstream ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Cannot use upstream ${JSON.stringify(text)}: the port must be 1-65535`);
  return { host, port };
}

export function upstreamString(u: Upstream): string {
  return isIP(u.host) === 6 ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;
}

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** How long one upstream gets to answer before the next is tried (CoreDNS's read timeout is 2 s). */
  readonly timeoutMs?: number;
  /** CoreDNS's max_concurrent; the kubeadm Corefile sets 1000. */
  readonly maxConcurrent?: number;
  /** "random" (CoreDNS's default) or "sequential" (always start at the first). */
  readonly policy?: "random" | "sequential";
  readonly metrics?: DnsMetrics;
}

export type ForwardFailure = "max-concurrent" | "no-upstream" | "timeout";

/** Why a query could not be forwarded; the server turns it into REFUSED or SERVFAIL. */
export class ForwardError extends Error {
  override readonly name = "ForwardError";
  constructor(readonly reason: ForwardFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_CONCURRENT = 1000;
/** The largest UDP answer we read from an upstream. */
const UDP_RECEIVE_BYTES_MAX = 65535;

export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #env: { clock: Clock; rng: Rng };
  #inFlight = 0;
  readonly #sockets = new Set<Socket>();
  #closed = false;

  constructor(env: { clock: Clock; rng: Rng }, options: ForwarderOptions) {
    this.#env = env;
    this.#o = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get upstreams(): readonly Upstream[] {
    return this.#o.upstreams;
  }

  /** The upstream's answer to `query` (raw bytes), or a `ForwardError`. */
  async forward(query: Uint8Array, proto: "udp" | "tcp"): Promise<Uint8Array> {
    const ups = this.#o.upstreams;
    if (ups.length === 0 || this.#closed) throw new ForwardError("no-upstream", "Cannot forward: no upstream resolvers are configured");
    if (this.#inFlight >= (this.#o.maxConcurrent ?? DEFAULT_MAX_CONCURRENT)) {
      this.#o.metrics?.forwardMaxConcurrentRejects.inc();
      throw new ForwardError("max-concurrent", `Cannot forward: ${this.#inFlight} queries are already in flight (max_concurrent)`);
    }
    this.#inFlight++;
    try {
      const start = this.#o.policy === "sequential" ? 0 : this.#env.rng.nextU32() % ups.length;
      let last: unknown;
      for (let i = 0; i < ups.length; i++) {
        const u = ups[(start + i) % ups.length]!;
        const to = upstreamString(u);
        this.#o.metrics?.forwardRequests.inc({ to });
        try {
          const answer = proto === "udp" ? await this.#udp(u, query) : await this.#tcp(u, query);
          if (answer.length >= 4) this.#o.metrics?.forwardResponses.inc({ to, rcode: rcodeName(answer[3]! & 0xf) });
          return answer;
        } catch (err) {
          this.#o.metrics?.forwardTimeouts.inc({ to });
          last = err;
        }
      }
      throw new ForwardError("timeout", `Cannot forward: no upstream answered (${ups.map(upstreamString).join(", ")})`, { cause: last });
    } finally {
      this.#inFlight--;
    }
  }

  #udp(u: Upstream, query: Uint8Array): Promise<Uint8Array> {
    const id = peekId(query);
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: isIP(u.host) === 6 ? "udp6" : "udp4", recvBufferSize: UDP_RECEIVE_BYTES_MAX });
      this.#sockets.add(sock);
      const done = (err: Error | null, answer?: Uint8Array): void => {
        timer.cancel();
        this.#sockets.delete(sock);
        sock.close();
        if (err !== null) reject(err);
        else resolve(answer!);
      };
      const timer = this.#env.clock.setTimer(this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => done(new Error(`no answer from ${upstreamString(u)} in time`)));
      sock.on("error", (err) => done(err));
      sock.on("message", (msg, rinfo) => {
        // Only the upstream we asked, answering our ID as a response, counts; anything else is dropped.
        if (rinfo.address !== u.host || rinfo.port !== u.port || msg.length < 12 || peekId(msg) !== id || (msg[2]! & 0x80) === 0) return;
        done(null, new Uint8Array(msg));
      });
      sock.send(query, u.port, u.host, (err) => {
        if (err) done(err);
      });
    });
  }

  #tcp(u: Upstream, query: Uint8Array): Promise<Uint8Array> {
    const id = peekId(query);
    return new Promise((resolve, reject) => {
      const sock = connect({ host: u.host, port: u.port });
      let buf = Buffer.alloc(0);
      let settled = false;
      const done = (err: Error | null, answer?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        sock.destroy();
        if (err !== null) reject(err);
        else resolve(answer!);
      };
      const timer = this.#env.clock.setTimer(this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => done(new Error(`no answer from ${upstreamString(u)} in time`)));
      sock.on("error", (err) => done(err));
      sock.on("close", () => done(new Error(`${upstreamString(u)} closed the connection without an answer`)));
      sock.on("connect", () => {
        const frame = Buffer.alloc(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        frame.set(query, 2);
        sock.write(frame);
      });
      sock.on("data", (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length > 2 + UDP_RECEIVE_BYTES_MAX) return done(new Error("upstream sent more than one message's worth of bytes"));
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + msg.length);
          if (msg.length >= 12 && peekId(msg) === id) return done(null, msg);
        }
      });
    });
  }

  /** Fails the queries in flight and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const s of this.#sockets) s.emit("error", new Error("forwarder closed"));
  }
}
