import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectRuntime } from "./detect_runtime.js";

// The positive case (containerd answers) is in remote_runtime.test.ts, against a real containerd.
let dir: string;
let silent: Server;
const sockets = new Set<Socket>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tk8s-detect-"));
  writeFileSync(join(dir, "plain-file"), "");
  // Accepts connections and never answers: a hung runtime, or something that is not gRPC.
  silent = createServer((s) => { sockets.add(s); s.on("error", () => {}); });
  await new Promise<void>((resolve) => silent.listen(join(dir, "silent.sock"), resolve));
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test("detectRuntime: no socket at the endpoint is not found, saying so", async () => {
  const endpoint = `unix://${dir}/containerd.sock`;
  assert.deepEqual(await detectRuntime(endpoint), { found: false, endpoint, reason: `no socket at ${dir}/containerd.sock` });
});

test("detectRuntime: a file that is not a socket is not found", async () => {
  const endpoint = `unix://${dir}/plain-file`;
  assert.deepEqual(await detectRuntime(endpoint), { found: false, endpoint, reason: `${dir}/plain-file is not a unix socket` });
});

test("detectRuntime: an endpoint that is not a unix URL is not found, with the parse error", async () => {
  assert.deepEqual(await detectRuntime("tcp://127.0.0.1:1"), { found: false, endpoint: "tcp://127.0.0.1:1", reason: "only support unix socket endpoint" });
});

test("detectRuntime: a socket that never answers Version is not found once the timeout passes", async () => {
  const endpoint = `unix://${dir}/silent.sock`;
  const started = Date.now();
  const d = await detectRuntime(endpoint, { timeoutMs: 300 });
  assert.equal(d.found, false);
  assert.match(!d.found ? d.reason : "", new RegExp(`^the runtime at ${endpoint} did not answer Version: rpc error: code = (DeadlineExceeded|Unavailable) desc = `));
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});
