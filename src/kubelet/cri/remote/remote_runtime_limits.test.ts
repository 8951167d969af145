/** Bounds of the CRI client that need no runtime: a unix socket that accepts and never answers stands in for a hung one. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CriError, ResourceExhaustedError } from "../errors.js";
import { EndpointError } from "./endpoint.js";
import { RemoteContainerRuntime, RemoteRuntimeService } from "./remote_runtime.js";

let dir: string;
let hung: Server;
const sockets = new Set<Socket>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tk8s-cri-limits-"));
  hung = createServer((s) => { sockets.add(s); s.on("error", () => {}); });
  await new Promise<void>((resolve) => hung.listen(join(dir, "hung.sock"), resolve));
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => hung.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test("a call to a runtime that never answers fails at its deadline with DeadlineExceeded", async () => {
  const client = new RemoteRuntimeService(`unix://${dir}/hung.sock`, { timeoutMs: 200 });
  try {
    const started = Date.now();
    await assert.rejects(client.listContainers(), (err: unknown) => {
      assert.ok(err instanceof CriError, String(err));
      assert.equal(err.code, "DeadlineExceeded");
      assert.match(err.message, /^rpc error: code = DeadlineExceeded desc = /);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
  } finally {
    client.close();
  }
});

test("calls beyond the in-flight limit fail at once with ResourceExhaustedError", async () => {
  const client = new RemoteContainerRuntime(`unix://${dir}/hung.sock`, { timeoutMs: 500, inflightMax: 2 });
  try {
    const pending = [client.version("0.1.0"), client.status()];
    await assert.rejects(client.listPodSandbox(), (err: unknown) => {
      assert.ok(err instanceof ResourceExhaustedError, String(err));
      assert.equal(err.message, "Cannot call runtime.v1.RuntimeService/ListPodSandbox: 2 CRI calls in flight (limit 2)");
      return true;
    });
    // The image service has its own connection and budget.
    const images = client.imageFsInfo();
    const settled = await Promise.allSettled([...pending, images]);
    assert.deepEqual(settled.map((s) => s.status), ["rejected", "rejected", "rejected"]);
    // Once they finished, there is room again (and this one times out like the others).
    await assert.rejects(client.version("0.1.0"), (err: unknown) => err instanceof CriError && err.code === "DeadlineExceeded");
  } finally {
    await client.close();
  }
});

test("a client for an endpoint that is not a unix socket cannot be made", () => {
  assert.throws(() => new RemoteRuntimeService("tcp://127.0.0.1:10010"), EndpointError);
});
