import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { newNodeEnv } from "../platform/node/node_env.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { runtimeLine, selectRuntime } from "./runtime_selection.js";

// containerd found at the endpoint is tested end to end (test/e2e/containerd_pods.test.ts).
test("selectRuntime: no runtime at the endpoint falls back to the process runtime and says why", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-select-"));
  const env = newNodeEnv({ logLevel: "error" });
  try {
    const s = await selectRuntime({ runtimeEndpoint: `unix://${dir}/containerd.sock`, rootDir: dir, nodeIP: "127.0.0.1", clock: env.clock, log: env.log });
    assert.equal(s.kind, "process");
    assert.ok(s.runtime instanceof ProcessRuntime);
    assert.equal(s.line, `container runtime: the built-in process runtime (pods are host processes on the host network): no socket at ${dir}/containerd.sock`);
    await s.runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("selectRuntime: an endpoint that is not a unix socket URL falls back too, with the parser's reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-select-"));
  const env = newNodeEnv({ logLevel: "error" });
  try {
    const s = await selectRuntime({ runtimeEndpoint: "tcp://127.0.0.1:1", rootDir: dir, nodeIP: "127.0.0.1", clock: env.clock, log: env.log });
    assert.equal(s.kind, "process");
    assert.match(s.line, /: only support unix socket endpoint$/);
    await s.runtime.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("runtimeLine: a CRI runtime is named with its version and endpoint", () => {
  assert.equal(runtimeLine({ kind: "cri", runtimeName: "containerd", runtimeVersion: "1.6.20~ds1", endpoint: "unix:///run/containerd/containerd.sock" }),
    "container runtime: containerd 1.6.20~ds1 (CRI v1) at unix:///run/containerd/containerd.sock");
});
