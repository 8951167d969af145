import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { ManualClock } from "../../env/manual_clock.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import { ContainerLogManager } from "./container_log_manager.js";
import { listRotatedLogs, parseCriLogLine } from "./cri_log.js";
import { ProcessRuntime } from "./process_runtime.js";

let dir = "";
let runtime: ProcessRuntime | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-log-manager-"));
});
afterEach(async () => {
  await runtime?.stopAll(0);
  await runtime?.close();
  runtime = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A `cat` container: what the test writes to its stdin is its output, so the test decides when logs grow. */
async function catContainer(): Promise<{ id: string; logPath: string; say: (text: string) => Promise<void> }> {
  runtime = new ProcessRuntime({ root: path.join(dir, "runtime"), clock: nodeClock, log: new MemoryLogger() });
  const sandbox = { metadata: { name: "p", namespace: "default", uid: "u" }, logDirectory: path.join(dir, "logs") };
  const { podSandboxId } = await runtime.runPodSandbox({ config: sandbox });
  const { containerId } = await runtime.createContainer({
    podSandboxId, sandboxConfig: sandbox,
    config: { metadata: { name: "cat" }, image: { image: "busybox" }, command: ["cat"], stdin: true, logPath: "cat/0.log" },
  });
  await runtime.startContainer(containerId);
  const { stream } = await runtime.attach({ containerId, stdin: true });
  const logPath = (await runtime.containerStatus(containerId)).status.logPath;
  return {
    id: containerId,
    logPath,
    say: async (text) => {
      stream!.stdin!.write(text);
      await waitFor(() => fs.existsSync(logPath) && fs.readFileSync(logPath, "utf8").includes(text.trim().split("\n").at(-1)!));
    },
  };
}

test("a log at its size limit is rotated: renamed with a stamp, the runtime reopens it, and new output goes to the new file", async () => {
  const c = await catContainer();
  const clock = new ManualClock();
  const manager = new ContainerLogManager(runtime!, { clock, log: new MemoryLogger(), maxBytes: 500, maxFiles: 3 });
  await c.say("small\n");
  assert.equal(await manager.rotateLog(c.id, c.logPath), false, "under the limit nothing happens");

  await c.say(`${"a".repeat(600)}\n`);
  await manager.rotateAll();
  const rotated = await listRotatedLogs(c.logPath);
  assert.deepEqual(rotated.map((f) => path.basename(f)), [`0.log.${"20231114-221320"}`]);
  assert.ok(fs.readFileSync(rotated[0]!, "utf8").includes("small"));
  await c.say("after-rotation\n");
  const current = fs.readFileSync(c.logPath, "utf8").trim().split("\n");
  assert.equal(current.length, 1);
  assert.equal(Buffer.from(parseCriLogLine(Buffer.from(current[0]!))!.message).toString(), "after-rotation");
});

test("rotation keeps maxFiles files, gzips all but the newest rotated one, and drops the oldest", async () => {
  const c = await catContainer();
  const clock = new ManualClock();
  const manager = new ContainerLogManager(runtime!, { clock, log: new MemoryLogger(), maxBytes: 100, maxFiles: 3 });
  for (let round = 0; round < 4; round++) {
    await c.say(`round-${round}-${"b".repeat(120)}\n`);
    clock.advance(1000); // a new stamp per rotation
    assert.equal(await manager.rotateLog(c.id, c.logPath), true);
  }
  const rotated = await listRotatedLogs(c.logPath);
  assert.equal(rotated.length, 2, "maxFiles 3 = the live file + 2 rotated");
  assert.ok(rotated[0]!.endsWith(".gz") && !rotated[1]!.endsWith(".gz"));
  assert.match(gunzipSync(fs.readFileSync(rotated[0]!)).toString(), /round-2-/);
  assert.match(fs.readFileSync(rotated[1]!, "utf8"), /round-3-/);
});

test("maxFiles below 2 is refused", () => {
  assert.throws(
    () => new ContainerLogManager({} as ProcessRuntime, { clock: new ManualClock(), log: new MemoryLogger(), maxFiles: 1 }),
    /Cannot rotate container logs: maxFiles must be > 1: current value is 1/,
  );
});
