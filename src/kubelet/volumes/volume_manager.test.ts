import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { checkHostPath, MountError, VolumeManager, type VolumeSources } from "./volume_manager.js";

/** The API answers as plain data: the plugins only read objects and one token per request. */
function sources(): VolumeSources & { tokenRequests: number } {
  const s = {
    tokenRequests: 0,
    getConfigMap: async (_ns: string, name: string) => (name === "kube-root-ca.crt" ? { data: { "ca.crt": "CA" } } : null),
    getSecret: async () => null,
    requestToken: async () => {
      s.tokenRequests++;
      return { token: `tok${s.tokenRequests}`, expiresAtMs: 1_000_000 };
    },
  };
  return s;
}

test("VolumeManager: emptyDir, projected token + CA + namespace, and tearDown", async () => {
  const root = fs.mkdtempSync(path.join(tmpdir(), "tk8s-vm-"));
  try {
    let now = 0;
    const src = sources();
    const vm = new VolumeManager({ root, sources: src, log: new MemoryLogger(), wallMs: () => now });
    const pod: Pod = {
      metadata: { name: "p", namespace: "default", uid: "u1" },
      spec: {
        containers: [],
        volumes: [
          { name: "scratch", emptyDir: {} },
          { name: "api", projected: { sources: [
            { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
          ] } },
        ],
      },
    };
    const paths = await vm.setUp(pod);
    assert.equal(paths.get("scratch"), path.join(root, "pods/u1/volumes/kubernetes.io~empty-dir/scratch"));
    const api = paths.get("api")!;
    assert.equal(fs.readFileSync(path.join(api, "token"), "utf8"), "tok1");
    assert.equal(fs.readFileSync(path.join(api, "ca.crt"), "utf8"), "CA");
    assert.equal(fs.readFileSync(path.join(api, "namespace"), "utf8"), "default");
    now = 500_000;
    await vm.setUp(pod);
    assert.equal(src.tokenRequests, 1, "a token younger than 80% of its life is reused");
    now = 900_000;
    await vm.setUp(pod);
    assert.equal(fs.readFileSync(path.join(api, "token"), "utf8"), "tok2");
    vm.tearDown("u1");
    assert.equal(fs.existsSync(path.join(root, "pods/u1")), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("VolumeManager: a missing configMap is a MountError in upstream's words", async () => {
  const root = fs.mkdtempSync(path.join(tmpdir(), "tk8s-vm-"));
  try {
    const vm = new VolumeManager({ root, sources: sources(), log: new MemoryLogger(), wallMs: () => 0 });
    await assert.rejects(vm.setUp({ metadata: { uid: "u", namespace: "default" }, spec: { containers: [], volumes: [{ name: "cfg", configMap: { name: "nope" } }] } }),
      (e: unknown) => e instanceof MountError && e.message === 'MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("checkHostPath: type checks as upstream", () => {
  const root = fs.mkdtempSync(path.join(tmpdir(), "tk8s-hp-"));
  try {
    const d = path.join(root, "made");
    assert.equal(checkHostPath(d, "DirectoryOrCreate"), d);
    assert.ok(fs.statSync(d).isDirectory());
    assert.throws(() => checkHostPath(d, "File"), new RegExp(`hostPath type check failed: ${d} is not a file`));
    const f = path.join(root, "f");
    checkHostPath(f, "FileOrCreate");
    assert.ok(fs.statSync(f).isFile());
    assert.throws(() => checkHostPath(f, "Directory"), /is not a directory/);
    assert.throws(() => checkHostPath(path.join(root, "missing"), "Directory"), /is not a directory/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("VolumeManager: an emptyDir with medium Memory lives in /dev/shm when it can, and goes with the pod", async () => {
  const root = fs.mkdtempSync(path.join(tmpdir(), "tk8s-vm-"));
  try {
    const vm = new VolumeManager({ root, sources: sources(), log: new MemoryLogger(), wallMs: () => 0 });
    const paths = await vm.setUp({ metadata: { uid: "mem-u", namespace: "default" }, spec: { containers: [], volumes: [{ name: "m", emptyDir: { medium: "Memory" } }] } });
    const p = paths.get("m")!;
    let shm = false;
    try {
      fs.accessSync("/dev/shm", fs.constants.W_OK);
      shm = true;
    } catch {
      shm = false;
    }
    assert.equal(p.startsWith("/dev/shm/tk8s-mem-u-"), shm);
    fs.writeFileSync(path.join(p, "x"), "y");
    vm.tearDown("mem-u");
    assert.equal(fs.existsSync(p), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("VolumeManager: with a memory root, written volumes go there (emptyDir stays under the root) and tearDown removes both", async () => {
  const root = fs.mkdtempSync(path.join(tmpdir(), "tk8s-vm-"));
  const memoryRoot = fs.mkdtempSync(path.join(tmpdir(), "tk8s-vm-mem-"));
  try {
    const vm = new VolumeManager({ root, memoryRoot, sources: sources(), log: new MemoryLogger(), wallMs: () => 0 });
    const pod: Pod = {
      metadata: { name: "p", namespace: "default", uid: "u2" },
      spec: {
        containers: [],
        volumes: [
          { name: "scratch", emptyDir: {} },
          { name: "api", projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3607 } }] } },
          { name: "ca", configMap: { name: "kube-root-ca.crt" } },
        ],
      },
    };
    const paths = await vm.setUp(pod);
    assert.equal(paths.get("scratch"), path.join(root, "pods/u2/volumes/kubernetes.io~empty-dir/scratch"));
    assert.equal(paths.get("api"), path.join(memoryRoot, "pods/u2/volumes/kubernetes.io~projected/api"));
    assert.equal(paths.get("ca"), path.join(memoryRoot, "pods/u2/volumes/kubernetes.io~configmap/ca"));
    assert.equal(fs.readFileSync(path.join(paths.get("api")!, "token"), "utf8"), "tok1");
    assert.equal(fs.existsSync(path.join(root, "pods/u2/volumes/kubernetes.io~projected")), false, "nothing written on the disk side");
    vm.tearDown("u2");
    assert.equal(fs.existsSync(path.join(root, "pods/u2")), false);
    assert.equal(fs.existsSync(path.join(memoryRoot, "pods/u2")), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(memoryRoot, { recursive: true, force: true });
  }
});
