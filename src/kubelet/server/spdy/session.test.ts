import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { MemoryLogger } from "../../../env/memory_logger.js";
import { encodeFrame, encodeHeaderBlock, headersOf, RstStatus } from "./frames.js";
import { HeaderCompressor } from "./header_codec.js";
import { memoryTransportPair, type MemoryTransport } from "./memory_transport.js";
import { INITIAL_WINDOW_BYTES, SpdySession, SpdyStreamResetError, type SpdySessionOptions, type SpdyStream } from "./session.js";

interface Pair {
  client: SpdySession;
  server: SpdySession;
  clientWire: MemoryTransport;
  serverWire: MemoryTransport;
  accepted: SpdyStream[];
}

function pair(client: Partial<SpdySessionOptions> = {}, server: Partial<SpdySessionOptions> = {}): Pair {
  const [clientWire, serverWire] = memoryTransportPair();
  const accepted: SpdyStream[] = [];
  const log = new MemoryLogger();
  const c = new SpdySession(clientWire, { server: false, log, ...client });
  const s = new SpdySession(serverWire, {
    server: true,
    log,
    onStream: (stream) => {
      accepted.push(stream);
      stream.reply(headersOf({ ok: "yes" }));
    },
    ...server,
  });
  clientWire.session = c;
  serverWire.session = s;
  return { client: c, server: s, clientWire, serverWire, accepted };
}

const tick = () => new Promise((r) => setImmediate(r));
/** Lets queued work finish: ticks, a pause for zlib's thread-pool jobs (header blocks), ticks again. */
async function settle(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
  await new Promise((r) => setTimeout(r, 30));
  for (let i = 0; i < n; i++) await tick();
}

/** Header blocks inflate on libuv's thread pool: under load that takes longer than a few ticks. Bounded. */
async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** Reads to the peer's FIN. (Not `for await`: ending the loop destroys the Duplex, write side too.) */
function readAll(stream: SpdyStream): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.once("end", () => resolve(Buffer.concat(chunks).toString()));
    stream.once("error", reject);
  });
}

test("a stream opens with SYN_STREAM, is answered with SYN_REPLY, carries data both ways and closes with FIN on each side", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ streamtype: "data", port: "80" }));
  assert.deepEqual(await stream.replied, headersOf({ ok: "yes" }));
  const server = p.accepted[0]!;
  assert.equal(server.id, 1);
  assert.deepEqual(server.headers.get("port"), ["80"]);
  stream.end("ping");
  assert.equal(await readAll(server), "ping");
  server.end("pong");
  assert.equal(await readAll(stream), "pong");
  await settle();
  assert.equal(p.client.streamCount, 0);
  assert.equal(p.server.streamCount, 0);
});

test("header compression keeps one context per direction across many streams", async () => {
  const p = pair();
  const streams = Array.from({ length: 20 }, (_, i) => p.client.openStream(headersOf({ streamtype: i % 2 ? "data" : "error", port: "8080", requestid: String(i >> 1) })));
  await Promise.all(streams.map((s) => s.replied));
  assert.deepEqual(p.accepted.map((s) => s.headers.get("requestid")![0]), streams.map((_, i) => String(i >> 1)));
  assert.deepEqual(p.accepted.map((s) => s.id), streams.map((s) => s.id));
});

test("a PING with the peer's parity is echoed, and our own PING resolves on the echo", async () => {
  const p = pair();
  await p.client.ping();
  await p.server.ping();
  await p.client.ping();
});

test("with flow control enforced the sender stops at the peer's 64 KiB window and goes on as WINDOW_UPDATEs come", async () => {
  const p = pair({ sendFlowControl: "enforce" });
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  server.pause();
  const payload = Buffer.alloc(200 * 1024, 7);
  stream.end(payload);
  await settle();
  assert.equal(server.readableLength, INITIAL_WINDOW_BYTES, "no byte past the window");
  const got: Buffer[] = [];
  server.on("data", (d: Buffer) => got.push(d));
  server.resume();
  await once(server, "end");
  assert.deepEqual(Buffer.concat(got), payload);
});

test("without flow control from the peer (moby/spdystream never sends WINDOW_UPDATE) the sender does not stall at 64 KiB", async () => {
  // The server never reads, so it never credits a window: an "auto" sender must not wait for it.
  const p = pair({}, { limits: { streamBufferBytesMax: 8 * 1024 * 1024 } });
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  server.pause();
  stream.write(Buffer.alloc(300 * 1024));
  await settle();
  assert.equal(server.readableLength, 300 * 1024);
});

test("a reader that falls behind pauses the transport, and catching up resumes it", async () => {
  const p = pair({}, { limits: { streamBufferBytesMax: 64 * 1024 } });
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  server.pause();
  stream.end(Buffer.alloc(256 * 1024, 1));
  await settle();
  assert.equal(p.serverWire.paused, true);
  assert.ok(p.serverWire.heldBytes > 0, "the rest waits in the transport");
  let total = 0;
  server.on("data", (d: Buffer) => (total += d.length));
  server.resume();
  await once(server, "end");
  assert.equal(total, 256 * 1024);
  assert.equal(p.serverWire.paused, false);
});

test("consumed bytes are credited back with WINDOW_UPDATE, which switches the peer to honouring windows", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  server.resume();
  const before = p.serverWire.written;
  stream.write(Buffer.alloc(100 * 1024));
  await settle();
  assert.ok(p.serverWire.written - before >= 2 * 16, "stream and session WINDOW_UPDATEs went out");
  // The client now keeps the window: a stalled reader holds it at 64 KiB of unacknowledged bytes.
  server.pause();
  stream.write(Buffer.alloc(300 * 1024));
  await settle();
  assert.ok(server.readableLength <= INITIAL_WINDOW_BYTES, `${server.readableLength} unread bytes fit in one window`);
});

test("RST_STREAM from the peer fails the stream with its status", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  const failed = once(server, "error");
  stream.reset(RstStatus.CANCEL);
  const [err] = (await failed) as [SpdyStreamResetError];
  assert.ok(err instanceof SpdyStreamResetError);
  assert.equal(err.status, RstStatus.CANCEL);
  await settle();
  assert.equal(p.server.streamCount, 0);
});

test("streams past the limit are refused with REFUSED_STREAM", async () => {
  const p = pair({}, { limits: { streamsMax: 2 } });
  const streams = [1, 2, 3].map(() => p.client.openStream(headersOf({ port: "1" })).on("error", () => {}));
  await streams[0]!.replied;
  await streams[1]!.replied;
  await assert.rejects(streams[2]!.replied, (e: SpdyStreamResetError) => e.status === RstStatus.REFUSED_STREAM);
});

test("a stream id of the wrong parity or going backwards is reset with PROTOCOL_ERROR", async () => {
  const p = pair();
  const resets: [number, number][] = [];
  const write = p.serverWire.write.bind(p.serverWire);
  p.serverWire.write = (b: Buffer) => {
    if (b.readUInt16BE(2) === 3 && b[0]! & 0x80) resets.push([b.readUInt32BE(8), b.readUInt32BE(12)]);
    return write(b);
  };
  // Frames made by hand with a compressor of their own: the server's inflater has seen nothing else.
  const compressor = new HeaderCompressor();
  for (const id of [2, 5, 3]) {
    const block = await compressor.compress(encodeHeaderBlock(headersOf({ port: "1" })));
    p.server.receive(encodeFrame({ type: "SYN_STREAM", streamId: id, associatedToStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headers: new Map() }, block));
  }
  compressor.close();
  await until(() => resets.length >= 2 && p.accepted.length >= 1);
  await settle();
  assert.deepEqual(resets, [[2, RstStatus.PROTOCOL_ERROR], [3, RstStatus.PROTOCOL_ERROR]]);
  assert.deepEqual(p.accepted.map((s) => s.id), [5]);
});

test("a reset for a stream that is not open is ignored", async () => {
  const p = pair();
  p.server.receive(encodeFrame({ type: "RST_STREAM", streamId: 99, status: 1 }));
  await settle();
  assert.equal(p.server.ended, false);
  await p.client.ping();
});

test("the transport closing ends every stream and the session", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  const closed = once(server, "close");
  p.clientWire.end();
  await closed;
  assert.equal(server.readableEnded, false, "ended without the peer's FIN: the stream was cut off");
  await p.server.done;
  await p.client.done;
  assert.equal(p.server.ended, true);
});

test("garbage on the wire ends the session with GOAWAY PROTOCOL_ERROR", async () => {
  const p = pair();
  const sent: Buffer[] = [];
  const write = p.serverWire.write.bind(p.serverWire);
  p.serverWire.write = (b: Buffer) => {
    sent.push(b);
    return write(b);
  };
  p.server.receive(Buffer.from([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]));
  await p.server.done;
  const goaway = sent.find((b) => b.readUInt16BE(2) === 7);
  assert.ok(goaway !== undefined);
  assert.equal(goaway.readUInt32BE(12), 1);
});

test("GOAWAY from the peer refuses new streams and ends the session once open streams finish", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  p.client.close();
  await p.server.done;
  assert.equal(server.destroyed, true);
});

test("a full transport holds data frames until it drains", async () => {
  const p = pair();
  const stream = p.client.openStream(headersOf({ port: "1" }));
  await stream.replied;
  const server = p.accepted[0]!;
  p.clientWire.full = true;
  stream.write(Buffer.alloc(100 * 1024));
  await settle();
  assert.equal(server.readableLength, 32 * 1024, "one frame went before the transport said it was full");
  p.client.transportDrained();
  await settle();
  assert.equal(server.readableLength, 64 * 1024);
  p.clientWire.drain();
  await settle();
  assert.equal(server.readableLength, 100 * 1024);
});
