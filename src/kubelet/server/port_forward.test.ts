import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { ManualClock } from "../../env/manual_clock.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { headersOf, RstStatus } from "./spdy/frames.js";
import { memoryTransportPair } from "./spdy/memory_transport.js";
import { SpdySession, type SpdyStream, type SpdyStreamResetError } from "./spdy/session.js";
import { PortForwardSession, StreamPairer, parseStreamHeaders, type PortForwardTarget } from "./port_forward.js";

test("stream headers are checked with upstream's messages", () => {
  const cases: [Record<string, string>, number, ReturnType<typeof parseStreamHeaders>][] = [
    [{ streamtype: "data", port: "80", requestid: "7" }, 1, { streamType: "data", port: 80, requestId: "7" }],
    [{ streamtype: "error", port: "65535", requestid: "0" }, 1, { streamType: "error", port: 65535, requestId: "0" }],
    [{ streamtype: "error", port: "80" }, 5, { streamType: "error", port: 80, requestId: "5" }],
    [{ streamtype: "data", port: "80" }, 7, { streamType: "data", port: 80, requestId: "5" }],
    [{ streamtype: "data" }, 1, { error: `"port" header is required` }],
    [{ streamtype: "data", port: "http" }, 1, { error: `unable to parse "http" as a port: strconv.ParseUint: parsing "http": invalid syntax` }],
    [{ streamtype: "data", port: "70000" }, 1, { error: `unable to parse "70000" as a port: strconv.ParseUint: parsing "70000": value out of range` }],
    [{ streamtype: "data", port: "0" }, 1, { error: `port "0" must be > 0` }],
    [{ port: "80" }, 1, { error: `"streamType" header is required` }],
    [{ streamtype: "stdin", port: "80" }, 1, { error: `invalid stream type "stdin"` }],
  ];
  for (const [headers, id, want] of cases) assert.deepEqual(parseStreamHeaders(headersOf(headers), id), want, JSON.stringify(headers));
});

test("the pairer matches error and data streams by request id, in either order", () => {
  const clock = new ManualClock();
  const complete: string[] = [];
  const p = new StreamPairer<string>({ clock, onComplete: (pair) => complete.push(`${pair.requestId}:${pair.error}+${pair.data}`), onTimeout: () => assert.fail("no timeout") });
  assert.deepEqual(p.add("0", "error", "e0"), { kind: "pending" });
  assert.deepEqual(p.add("1", "data", "d1"), { kind: "pending" });
  assert.deepEqual(p.add("0", "data", "d0"), { kind: "complete" });
  assert.deepEqual(p.add("1", "error", "e1"), { kind: "complete" });
  assert.deepEqual(complete, ["0:e0+d0", "1:e1+d1"]);
  assert.equal(p.pendingCount, 0);
  clock.advance(60_000);
});

test("a second stream of the same type for a request is refused", () => {
  const p = new StreamPairer<string>({ clock: new ManualClock(), onComplete: () => {}, onTimeout: () => {} });
  p.add("3", "error", "a");
  assert.deepEqual(p.add("3", "error", "b"), { kind: "rejected", message: "error processing stream for request 3: error stream already assigned" });
});

test("a stream whose partner does not come within the creation timeout is given up with upstream's message", () => {
  const clock = new ManualClock();
  const timedOut: [string, string | undefined, string][] = [];
  const p = new StreamPairer<string>({ clock, timeoutMs: 30_000, onComplete: () => assert.fail("no pair"), onTimeout: (id, partial, msg) => timedOut.push([id, partial.error, msg]) });
  p.add("4", "error", "e4");
  clock.advance(29_999);
  assert.deepEqual(timedOut, []);
  clock.advance(1);
  assert.deepEqual(timedOut, [["4", "e4", "(request=4) timed out waiting for streams"]]);
  assert.equal(p.pendingCount, 0);
});

test("requests waiting for their second stream are bounded", () => {
  const p = new StreamPairer<string>({ clock: new ManualClock(), pendingMax: 2, onComplete: () => {}, onTimeout: () => {} });
  p.add("1", "error", "x");
  p.add("2", "error", "x");
  assert.equal(p.add("3", "error", "x").kind, "rejected");
  assert.equal(p.add("1", "data", "x").kind, "complete", "a pair already waiting still completes");
});

/** A port-forward session served over memory, with kubectl's side played by a client SpdySession. */
function harness(target: PortForwardTarget, clock = new ManualClock()) {
  const [clientWire, serverWire] = memoryTransportPair();
  const log = new MemoryLogger();
  const client = new SpdySession(clientWire, { server: false, log });
  const pf = new PortForwardSession(serverWire, { target, clock, log });
  clientWire.session = client;
  serverWire.session = pf.spdy;
  /** kubectl's handleConnection: an error stream closed at once for writing, then the data stream. */
  const request = (port: number, requestId: number) => {
    const error = client.openStream(headersOf({ streamtype: "error", port: String(port), requestid: String(requestId) }));
    error.end();
    const data = client.openStream(headersOf({ streamtype: "data", port: String(port), requestid: String(requestId) }));
    return { error, data };
  };
  return { client, pf, request, log, clock };
}

function collect(stream: SpdyStream): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.once("end", () => resolve(Buffer.concat(chunks).toString()));
    stream.once("error", reject);
  });
}

async function echoServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((sock) => {
    n++;
    sock.on("data", (d) => sock.write(Buffer.from(d.toString().toUpperCase())));
    sock.on("end", () => sock.end());
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return { port: (srv.address() as AddressInfo).port, connections: () => n, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const hostTarget: PortForwardTarget = {
  podName: "sandbox-1",
  uid: "",
  connect: (port) =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    }),
};

test("each pair of streams becomes one connection to the pod's port, with FIN both ways and an empty error stream", async () => {
  const echo = await echoServer();
  const h = harness(hostTarget);
  for (const id of [0, 1]) {
    const { error, data } = h.request(echo.port, id);
    await Promise.all([error.replied, data.replied]);
    const errText = collect(error);
    const reply = collect(data);
    data.end(`hello ${id}`);
    assert.equal(await reply, `HELLO ${id}`);
    assert.equal(await errText, "");
  }
  assert.equal(echo.connections(), 2);
  // Streams closed on both sides are forgotten: a long forward does not accumulate them.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.pf.spdy.streamCount, 0);
  h.client.close();
  await h.pf.spdy.done;
  await echo.close();
});

test("a port nobody listens on gets upstream's error text on the error stream, and both streams end", async () => {
  const echo = await echoServer();
  await echo.close();
  const h = harness(hostTarget);
  const { error, data } = h.request(echo.port, 0);
  const [errText, dataText] = await Promise.all([collect(error), collect(data)]);
  assert.match(errText, new RegExp(`^error forwarding port ${echo.port} to pod sandbox-1, uid : connect ECONNREFUSED`));
  assert.equal(dataText, "");
  // The session is still there for the next connection.
  await h.client.ping();
  h.client.close();
});

test("a stream without a valid port is reset, not answered", async () => {
  const h = harness(hostTarget);
  const bad = h.client.openStream(headersOf({ streamtype: "data", port: "0", requestid: "0" })).on("error", () => {});
  await assert.rejects(bad.replied, (e: SpdyStreamResetError) => e.status === RstStatus.CANCEL);
  assert.ok(h.log.records.some((r) => r.msg === "port-forward stream refused" && r.fields.err === `port "0" must be > 0`));
  h.client.close();
});

test("an error stream whose data stream never comes is ended with the timeout message", async () => {
  const clock = new ManualClock();
  const h = harness(hostTarget, clock);
  const error = h.client.openStream(headersOf({ streamtype: "error", port: "80", requestid: "9" }));
  error.end();
  await error.replied;
  const text = collect(error);
  clock.advance(30_000);
  assert.equal(await text, "(request=9) timed out waiting for streams");
  h.client.close();
});

test("closing the connection closes the pod connections it carried", async () => {
  let podSide: net.Socket | null = null;
  const srv = net.createServer((s) => {
    podSide = s;
    s.resume();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  const h = harness(hostTarget);
  const { data } = h.request(port, 0);
  data.on("error", () => {});
  await data.replied;
  data.write("x");
  // Bounded: the connection is made within a few ticks.
  for (let i = 0; i < 200 && podSide === null; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(podSide !== null);
  const closed = new Promise((r) => podSide!.once("close", r));
  h.client.close();
  await closed;
  await new Promise<void>((r) => srv.close(() => r()));
});
