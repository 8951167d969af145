import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { test } from "node:test";
import { httpProbe, tcpProbe } from "./prober.js";

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as net.AddressInfo).port;
}

test("httpProbe: 2xx and 3xx pass, other codes fail with upstream's text, a closed port is refused", async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === "/ok" ? 200 : req.url === "/moved" ? 302 : 500;
    res.end("body");
  });
  const port = await listen(server);
  try {
    const probe = (path: string) => httpProbe({ scheme: "http", host: "127.0.0.1", port, path, headers: {} }, 1);
    assert.deepEqual(await probe("/ok"), { success: true, output: "body" });
    assert.equal((await probe("/moved")).success, true);
    assert.deepEqual(await probe("/bad"), { success: false, output: "HTTP probe failed with statuscode: 500" });
  } finally {
    server.close();
  }
  const r = await httpProbe({ scheme: "http", host: "127.0.0.1", port, path: "/", headers: {} }, 1);
  assert.equal(r.success, false);
  assert.equal(r.output, `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
});

test("tcpProbe: an open port passes, a closed one fails with the dial error", async () => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  assert.deepEqual(await tcpProbe("127.0.0.1", port, 1), { success: true, output: "" });
  server.close();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await tcpProbe("127.0.0.1", port, 1), { success: false, output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
});
