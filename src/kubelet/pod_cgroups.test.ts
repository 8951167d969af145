import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "../env/env.js";
import { removePodCgroup } from "./pod_cgroups.js";

function recordingLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = { warnings, debug() {}, info() {}, error() {}, warn(msg: string, f?: Record<string, unknown>) { warnings.push(`${msg} ${String(f?.cgroup)}`); }, child: () => log };
  return log as unknown as Logger & { warnings: string[] };
}

test("removePodCgroup: the pod's directory goes from every hierarchy that has it; one still in use stays and is logged", () => {
  // A plain directory tree stands in for /sys/fs/cgroup: rmdir of a non-empty directory fails there too.
  const root = mkdtempSync(join(tmpdir(), "tk8s-cgroups-"));
  try {
    const parent = "/kubepods/burstable/podu1";
    for (const controller of ["memory", "cpu,cpuacct", "pids"]) mkdirSync(join(root, controller, parent), { recursive: true });
    writeFileSync(join(root, "pids", parent, "left-behind"), "");
    const log = recordingLog();
    assert.equal(removePodCgroup(parent, log, root), 2);
    assert.equal(existsSync(join(root, "memory", parent)), false);
    assert.equal(existsSync(join(root, "cpu,cpuacct", parent)), false);
    assert.equal(existsSync(join(root, "memory", "/kubepods/burstable")), true, "the QoS level stays");
    assert.deepEqual(log.warnings, [`cannot remove the pod's cgroup ${join(root, "pids", parent)}`]);
    assert.equal(removePodCgroup(parent, recordingLog(), join(root, "missing")), 0, "no cgroup file system: nothing to do");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
