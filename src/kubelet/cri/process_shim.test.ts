import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { nodeClock } from "../../platform/node/node_env.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { ProcessShim, ShimSpawnError, type ShimChild } from "./process_shim.js";

function newShim(): ProcessShim {
  return new ProcessShim({ clock: nodeClock, log: new MemoryLogger() });
}

function readAll(s: Readable | null): Promise<string> {
  if (s === null) return Promise.resolve("");
  return new Promise((resolve) => {
    let text = "";
    s.on("data", (d: Buffer) => (text += d.toString()));
    s.on("close", () => resolve(text));
  });
}

function closed(c: ShimChild): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => c.once("close", (code: number | null, signal: string | null) => resolve({ code, signal })));
}

const opts = { cwd: "/", env: { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "pipe", "pipe"] as const };

test("a process started through the helper hands all its output and its exit code to the kubelet", async () => {
  const shim = newShim();
  try {
    const c = await shim.spawn("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], opts);
    assert.ok(c.pid > 0);
    const [out, err, end] = await Promise.all([readAll(c.stdout), readAll(c.stderr), closed(c)]);
    assert.equal(out, "out\n");
    assert.equal(err, "err\n");
    assert.deepEqual(end, { code: 3, signal: null });
  } finally {
    shim.close();
  }
});

test("output written the moment a process starts is not lost in the hand-over", async () => {
  const shim = newShim();
  try {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, k) => shim.spawn("/bin/echo", [`line-${k}`], opts)));
    const outs = await Promise.all(runs.map((c) => readAll(c.stdout)));
    assert.deepEqual(outs, runs.map((_, k) => `line-${k}\n`));
  } finally {
    shim.close();
  }
});

test("stdin given to a process is the kubelet's to write and close", async () => {
  const shim = newShim();
  try {
    const c = await shim.spawn("/bin/cat", [], { ...opts, stdio: ["pipe", "pipe", "ignore"] });
    assert.equal(c.stderr, null);
    // Listen for "close" before reading: it may come as soon as the output has been read.
    const end = closed(c);
    c.stdin!.end("hello\n");
    assert.equal(await readAll(c.stdout), "hello\n");
    assert.deepEqual(await end, { code: 0, signal: null });
  } finally {
    shim.close();
  }
});

test("a process starts detached: its own process group, which a signal to the group ends", async () => {
  const shim = newShim();
  try {
    const c = await shim.spawn("/bin/sleep", ["30"], opts);
    const end = closed(c);
    process.kill(-c.pid, "SIGTERM"); // throws ESRCH unless the pid leads a group
    assert.deepEqual(await end, { code: null, signal: "SIGTERM" });
  } finally {
    shim.close();
  }
});

test("a program that cannot be executed fails the spawn with the exec's error", async () => {
  const shim = newShim();
  try {
    await assert.rejects(shim.spawn("/nonexistent/program", [], opts), (err: Error) => err instanceof ShimSpawnError && /ENOENT/.test(err.message));
    // The helper still serves the next request.
    const c = await shim.spawn("/bin/true", [], opts);
    assert.deepEqual(await closed(c), { code: 0, signal: null });
  } finally {
    shim.close();
  }
});

test("when the helper dies, its running processes are reported lost and the next spawn starts a new helper", async () => {
  const shim = newShim();
  try {
    const c = await shim.spawn("/bin/sleep", ["30"], opts);
    const lost = new Promise<void>((resolve) => c.once("lost", resolve));
    const helper = shim.pid;
    assert.ok(helper !== null);
    process.kill(helper, "SIGKILL");
    await lost;
    process.kill(-c.pid, "SIGKILL"); // still running: it was detached from the helper too
    await new Promise((r) => setTimeout(r, 1_100)); // restarts are spaced by SHIM_RESTART_MS
    const next = await shim.spawn("/bin/true", [], opts);
    assert.notEqual(shim.pid, helper);
    assert.deepEqual(await closed(next), { code: 0, signal: null });
  } finally {
    shim.close();
  }
});

test("a closed shim refuses to start processes", async () => {
  const shim = newShim();
  shim.close();
  await assert.rejects(shim.spawn("/bin/true", [], opts), ShimSpawnError);
});
