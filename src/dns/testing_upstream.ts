/**
 * For tests: a small upstream resolver on loopback (UDP and TCP on one port) so forwarding is exercised
 * without sending a packet anywhere else. It answers from a fixed table, can stay silent for chosen names
 * (to test timeouts), and reports in a TXT answer what it received, so tests can see that a query reached
 * it unchanged (EDNS options and all).
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { CLASS_IN, RCode, RRType, canonicalName, decodeMessage, encodeMessage, type DnsMessage, type ResourceRecord } from "./message.js";

export interface FakeUpstreamOptions {
  /** canonical name → records answered for it (A/AAAA/TXT…; filtered by the asked type). */
  readonly records: ReadonlyMap<string, readonly ResourceRecord[]>;
  /** Names never answered. */
  readonly silent?: ReadonlySet<string>;
  /** Milliseconds to wait before answering. */
  readonly delayMs?: number;
}

export interface FakeUpstream {
  readonly port: number;
  readonly address: string;
  /** Every query received, decoded, with the protocol it came over. */
  readonly received: { proto: "udp" | "tcp"; msg: DnsMessage }[];
  /** How many queries are being held (delay or silence) right now, and the most at once. */
  readonly stats: { holding: number; holdingMax: number };
  stop(): Promise<void>;
}

/** The TXT name whose answer describes the query that asked it: "proto=udp edns=1232 options=65001". */
export const ECHO_NAME = "echo.upstream.test.";

export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const received: FakeUpstream["received"] = [];
  const stats = { holding: 0, holdingMax: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const conns = new Set<Socket>();

  const answer = async (packet: Uint8Array, proto: "udp" | "tcp"): Promise<Uint8Array | null> => {
    let msg: DnsMessage;
    try {
      msg = decodeMessage(packet);
    } catch {
      return null;
    }
    received.push({ proto, msg });
    const q = msg.questions[0];
    if (q === undefined) return null;
    const name = canonicalName(q.name);
    stats.holding++;
    stats.holdingMax = Math.max(stats.holdingMax, stats.holding);
    try {
      if (options.silent?.has(name) === true) {
        await new Promise<void>((r) => timers.add(setTimeout(r, 60_000).unref()));
        return null;
      }
      if (options.delayMs !== undefined) await new Promise<void>((r) => timers.add(setTimeout(r, options.delayMs)));
    } finally {
      stats.holding--;
    }
    let answers: readonly ResourceRecord[] | undefined = options.records.get(name);
    if (name === ECHO_NAME) {
      const desc = `proto=${proto} edns=${msg.edns?.udpPayloadBytes ?? "none"} options=${(msg.edns?.options ?? []).map((o) => o.code).join(",")}`;
      answers = [{ name: q.name, type: RRType.TXT, class: CLASS_IN, ttl: 30, data: { texts: [desc] } }];
    }
    const limit = proto === "tcp" ? 65535 : Math.max(512, msg.edns?.udpPayloadBytes ?? 512);
    return encodeMessage(
      {
        header: { ...msg.header, qr: true, aa: true, ra: true },
        rcode: answers === undefined ? RCode.NXDOMAIN : RCode.NOERROR,
        questions: msg.questions,
        answers: (answers ?? []).filter((r) => r.type === q.type),
        authorities: [],
        additionals: [],
        edns: msg.edns === null ? null : { udpPayloadBytes: 4096, version: 0, dnssecOk: false, options: msg.edns.options },
      },
      { maxBytes: limit },
    );
  };

  // UDP and TCP on one port: the UDP port is free when bound, the same TCP port may not be (another test
  // process took it): then close the UDP socket and try another, a bounded number of times. A failed
  // start must not leave the UDP socket bound, or it keeps the test process alive for ever.
  let udp: UdpSocket | null = null;
  let tcp: Server | null = null;
  for (let attempt = 0; udp === null; attempt++) {
    const u = createSocket("udp4");
    await new Promise<void>((r) => u.bind(0, "127.0.0.1", () => r()));
    const t = makeTcpServer();
    try {
      await new Promise<void>((resolve, reject) => {
        t.once("error", reject);
        t.listen(u.address().port, "127.0.0.1", () => resolve());
      });
      udp = u;
      tcp = t;
    } catch (err) {
      await new Promise<void>((r) => u.close(() => r()));
      if (attempt >= 5) throw err;
    }
  }
  const port = udp.address().port;
  const udpSocket = udp;
  udpSocket.on("message", (m, rinfo) => {
    void answer(new Uint8Array(m), "udp").then((res) => {
      if (res !== null && !closed) udpSocket.send(res, rinfo.port, rinfo.address);
    });
  });
  const tcpServer = tcp!;
  function makeTcpServer(): Server {
    return createServer((s) => {
      conns.add(s);
      s.on("close", () => conns.delete(s));
      s.on("error", () => s.destroy());
      let buf = Buffer.alloc(0);
      s.on("data", (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const packet = new Uint8Array(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          void answer(packet, "tcp").then((res) => {
            if (res === null || s.destroyed) return;
            const frame = Buffer.alloc(2 + res.length);
            frame.writeUInt16BE(res.length, 0);
            frame.set(res, 2);
            s.write(frame);
          });
        }
      });
    });
  }
  let closed = false;
  return {
    port,
    address: `127.0.0.1:${port}`,
    received,
    stats,
    async stop() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const c of conns) c.destroy();
      await Promise.all([new Promise<void>((r) => udpSocket.close(() => r())), new Promise<void>((r) => tcpServer.close(() => r()))]);
    },
  };
}

/** Sends one query over UDP to 127.0.0.1:port and returns the raw answer (or null after `timeoutMs`). */
export function udpExchange(port: number, packet: Uint8Array, timeoutMs = 2000): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      resolve(null);
    }, timeoutMs);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      resolve(new Uint8Array(m));
    });
    sock.send(packet, port, "127.0.0.1");
  });
}

/** Sends one query over TCP to 127.0.0.1:port and returns the raw answer. */
export async function tcpExchange(port: number, packet: Uint8Array, timeoutMs = 2000): Promise<Uint8Array | null> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let buf = Buffer.alloc(0);
    const finish = (v: Uint8Array | null): void => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => finish(null), timeoutMs);
    s.on("error", () => finish(null));
    s.on("close", () => finish(null));
    s.on("connect", () => {
      const frame = Buffer.alloc(2 + packet.length);
      frame.writeUInt16BE(packet.length, 0);
      frame.set(packet, 2);
      s.write(frame);
    });
    s.on("data", (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
}
