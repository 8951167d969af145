import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { ensureKubeletMemoryDir, kubeletMemoryDirFor, removeKubeletMemoryDir } from "./memory_dir.js";

test("each kubelet root has its own memory directory, private (0700), found again after a restart", () => {
  const shm = fs.mkdtempSync(path.join(tmpdir(), "tk8s-shm-"));
  try {
    const a = ensureKubeletMemoryDir("/var/lib/tk8s/a/kubelet", shm)!;
    const b = ensureKubeletMemoryDir("/var/lib/tk8s/b/kubelet", shm)!;
    assert.notEqual(a, b);
    assert.equal(path.dirname(a), shm);
    assert.equal(fs.statSync(a).mode & 0o777, 0o700);
    assert.equal(ensureKubeletMemoryDir("/var/lib/tk8s/a/kubelet/", shm), a, "the same root (however written) finds the same directory");
    assert.equal(kubeletMemoryDirFor("/var/lib/tk8s/a/kubelet", shm), a);
    removeKubeletMemoryDir("/var/lib/tk8s/a/kubelet", shm);
    assert.equal(fs.existsSync(a), false);
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
  }
});

test("without a writable shared-memory directory there is no memory directory (everything stays on disk)", () => {
  assert.equal(ensureKubeletMemoryDir("/var/lib/tk8s/a/kubelet", "/nonexistent/shm"), null);
});
