import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { after, before, test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { bridgeTunnel, dialUpgrade, proxyUpgrade, StreamProxyError } from "./stream_proxy.js";

// A stand-in for containerd's streaming server: /echo/<token> upgrades and echoes every byte (upper-cased,
// so an echo cannot be mistaken for the request), /refuse/<token> answers 404 with a body as Go's does.
let runtime: http.Server;
let runtimeUrl: string;
const seenHeaders: http.IncomingHttpHeaders[] = [];
// The kubelet side: proxies every upgrade to the runtime's URL of the same path.
let kubelet: http.Server;
let kubeletPort: number;
const tunnelWss = new WebSocketServer({ noServer: true });

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

before(async () => {
  runtime = http.createServer((_req, res) => res.writeHead(404).end());
  runtime.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    seenHeaders.push(req.headers);
    if (req.url?.startsWith("/refuse/")) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n\r\n404 page not found\n");
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`);
    if (head.length > 0) socket.write(head.toString().toUpperCase());
    socket.on("data", (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on("end", () => socket.end());
  });
  runtimeUrl = `http://127.0.0.1:${await listen(runtime)}`;
  kubelet = http.createServer();
  kubelet.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url === "/tunnel") {
      void dialUpgrade(`${runtimeUrl}/echo/tok`, "POST", [["Connection", "Upgrade"], ["Upgrade", "SPDY/3.1"], ["X-Stream-Protocol-Version", "portforward.k8s.io"]]).then((dialed) => {
        tunnelWss.handleUpgrade(req, socket, head, (ws) => bridgeTunnel(ws, dialed));
      });
      return;
    }
    void proxyUpgrade(req, socket, head, `${runtimeUrl}${req.url}`).catch((err: Error) => socket.end(`HTTP/1.1 500 Internal Server Error\r\n\r\n${err.message}`));
  });
  kubeletPort = await listen(kubelet);
});

after(async () => {
  for (const c of tunnelWss.clients) c.terminate();
  kubelet.closeAllConnections();
  runtime.closeAllConnections();
  await new Promise((r) => kubelet.close(r));
  await new Promise((r) => runtime.close(r));
});

/** Sends a raw upgrade request to the kubelet and reads until `until` matches. */
function rawUpgrade(path: string, headers: string, body: string, until: RegExp): Promise<{ text: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(kubeletPort, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no ${until} in: ${JSON.stringify(text)}`)), 5_000);
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      if (until.test(text)) {
        clearTimeout(timer);
        resolve({ text, socket });
      }
    });
    socket.on("error", reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\n${headers}Authorization: Bearer secret\r\n\r\n${body}`);
  });
}

test("proxyUpgrade: the runtime's 101 reaches the client, then bytes flow both ways, including those sent with the request", async () => {
  const { text, socket } = await rawUpgrade("/echo/token1", "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n", "early", /EARLY/);
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  const more = await new Promise<string>((resolve) => {
    socket.once("data", (d: Buffer) => resolve(d.toString()));
    socket.write("later bytes");
  });
  assert.equal(more, "LATER BYTES");
  socket.destroy();
  const h = seenHeaders.at(-1)!;
  assert.equal(h["x-stream-protocol-version"], "v4.channel.k8s.io", "the protocol headers go to the runtime");
  assert.equal(h.authorization, undefined, "the client's credentials do not");
});

test("proxyUpgrade: a refusal from the runtime reaches the client as it came", async () => {
  const { text, socket } = await rawUpgrade("/refuse/token2", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", /404 page not found\n/);
  assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
  socket.destroy();
});

test("dialUpgrade: a streaming server that is not there is a 502 with Go's wording", async () => {
  const closed = net.createServer();
  const port = await new Promise<number>((r) => closed.listen(0, "127.0.0.1", () => r((closed.address() as AddressInfo).port)));
  await new Promise((r) => closed.close(r));
  await assert.rejects(dialUpgrade(`http://127.0.0.1:${port}/exec/x`, "GET", []), (e: unknown) => e instanceof StreamProxyError && e.status === 502 && /^error dialing backend: /.test(e.message));
  await assert.rejects(dialUpgrade("https://127.0.0.1:1/exec/x", "GET", []), /unsupported URL scheme/);
});

test("bridgeTunnel: WebSocket binary messages become the SPDY connection's bytes and its bytes come back as binary messages", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${kubeletPort}/tunnel`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const got: string[] = [];
  const echoed = new Promise<void>((resolve) => {
    ws.on("message", (d: Buffer, isBinary: boolean) => {
      assert.equal(isBinary, true);
      got.push(d.toString());
      if (got.join("") === "SPDY FRAME BYTES") resolve();
    });
  });
  ws.send(Buffer.from("spdy frame "), { binary: true });
  ws.send(Buffer.from("bytes"), { binary: true });
  await echoed;
  assert.equal(seenHeaders.at(-1)!.upgrade, "SPDY/3.1", "the runtime saw a plain SPDY upgrade");
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  ws.send("text is not allowed in the tunnel");
  assert.equal(await closed, 1002);
});
