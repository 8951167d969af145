import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { FREE_PORTS_MAX, freePort, freePorts } from "./ports.js";

test("freePorts returns distinct ports that can be bound on 127.0.0.1", async () => {
  const ports = await freePorts(4);
  assert.equal(new Set(ports).size, 4);
  for (const port of ports) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("freePort returns one port in the TCP range", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
});

test("freePorts rejects counts outside [1, FREE_PORTS_MAX]", async () => {
  for (const count of [0, -1, 1.5, FREE_PORTS_MAX + 1]) {
    await assert.rejects(freePorts(count), RangeError, `count ${count}`);
  }
});
