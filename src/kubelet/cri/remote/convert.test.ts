import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCriProtos } from "./cri_proto.js";
import {
  containerStatusResponseFromWire, imageFsInfoFromWire, imageStatusFromWire, int64ToBigInt, int64ToNumber,
  podSandboxStatusResponseFromWire, type Wire,
} from "./convert.js";

/** Encodes `message` as the runtime would send it and decodes it as the client receives it (proto-loader options included). */
function roundTrip(service: "runtimeService" | "imageService", method: string, message: Wire): Wire {
  const def = loadCriProtos()[service].service[method];
  assert.ok(def, `no method ${method}`);
  return def.responseDeserialize(def.responseSerialize(message)) as Wire;
}

const int64Cases = [
  { name: "a nanosecond timestamp beyond 2^53 stays exact", v: "1732512345123456789", want: 1732512345123456789n },
  { name: "an absent int64 is zero", v: null, want: 0n },
  { name: "a negative value keeps its sign", v: "-5", want: -5n },
];
for (const c of int64Cases) test(`int64ToBigInt: ${c.name}`, () => assert.equal(int64ToBigInt(c.v), c.want));

test("int64ToNumber: reads decimal strings and treats absence as zero", () => {
  assert.equal(int64ToNumber("67108864"), 67108864);
  assert.equal(int64ToNumber(undefined), 0);
  assert.throws(() => int64ToNumber("12abc"), /Cannot read int64: current value is "12abc"/);
});

test("containerStatusResponseFromWire: timestamps become exact bigints, limits numbers, enums their names", () => {
  const wire = roundTrip("runtimeService", "ContainerStatus", {
    status: {
      id: "c1", metadata: { name: "app", attempt: 2 }, state: "CONTAINER_EXITED",
      createdAt: "1732512345123456789", startedAt: "1732512346000000001", finishedAt: "1732512347999999999",
      exitCode: 137, image: { image: "docker.io/tk8s/busybox:1.35" }, imageRef: "sha256:abc", reason: "OOMKilled",
      message: "", labels: { a: "b" }, annotations: {}, logPath: "/var/log/pods/x/app/2.log",
      mounts: [{ containerPath: "/data", hostPath: "/tmp/d", readonly: true, propagation: "PROPAGATION_HOST_TO_CONTAINER" }],
      resources: { linux: { memoryLimitInBytes: "67108864", cpuQuota: "50000", cpuPeriod: "100000", cpuShares: "512", oomScoreAdj: "999" } },
    },
    info: { info: "{}" },
  });
  const r = containerStatusResponseFromWire(wire);
  assert.equal(r.status.createdAt, 1732512345123456789n);
  assert.equal(r.status.startedAt, 1732512346000000001n);
  assert.equal(r.status.finishedAt, 1732512347999999999n);
  assert.equal(r.status.state, "CONTAINER_EXITED");
  assert.equal(r.status.exitCode, 137);
  assert.equal(r.status.reason, "OOMKilled");
  assert.deepEqual(r.status.metadata, { name: "app", attempt: 2 });
  assert.deepEqual(r.status.mounts, [{ containerPath: "/data", hostPath: "/tmp/d", readonly: true, selinuxRelabel: false, propagation: "PROPAGATION_HOST_TO_CONTAINER" }]);
  assert.deepEqual(r.status.resources?.linux, {
    cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 512, memoryLimitInBytes: 67108864, oomScoreAdj: 999,
    cpusetCpus: "", cpusetMems: "", memorySwapLimitInBytes: 0,
  });
  assert.deepEqual(r.info, { info: "{}" });
});

test("containerStatusResponseFromWire: a status without resources has none, and unset times are 0n", () => {
  const r = containerStatusResponseFromWire(roundTrip("runtimeService", "ContainerStatus", { status: { id: "c1", state: "CONTAINER_CREATED", createdAt: "5" } }));
  assert.equal(r.status.resources, undefined);
  assert.equal(r.status.startedAt, 0n);
  assert.equal(r.status.finishedAt, 0n);
  assert.deepEqual(r.status.mounts, []);
  assert.deepEqual(r.status.labels, {});
});

test("podSandboxStatusResponseFromWire: network, namespace modes and the response timestamp come through", () => {
  const r = podSandboxStatusResponseFromWire(roundTrip("runtimeService", "PodSandboxStatus", {
    status: {
      id: "s1", metadata: { name: "web", uid: "u", namespace: "default", attempt: 1 }, state: "SANDBOX_READY", createdAt: "1732512345000000000",
      network: { ip: "10.244.0.5", additionalIps: [{ ip: "fd00::5" }] },
      linux: { namespaces: { options: { network: "NODE", pid: "CONTAINER", ipc: "POD" } } },
    },
    timestamp: "1732512399000000000",
  }));
  assert.equal(r.status.state, "SANDBOX_READY");
  assert.equal(r.status.createdAt, 1732512345000000000n);
  assert.deepEqual(r.status.network, { ip: "10.244.0.5", additionalIps: [{ ip: "fd00::5" }] });
  assert.deepEqual(r.status.linux.namespaces.options, { network: "NODE", pid: "CONTAINER", ipc: "POD" });
  assert.equal(r.timestamp, 1732512399000000000n);
  assert.deepEqual(r.containersStatuses, []);
});

test("imageStatusFromWire: an absent image is null; a present one has its size and uid", () => {
  assert.equal(imageStatusFromWire(roundTrip("imageService", "ImageStatus", {})).image, null);
  const r = imageStatusFromWire(roundTrip("imageService", "ImageStatus", {
    image: { id: "sha256:abc", repoTags: ["docker.io/tk8s/busybox:1.35"], size: "2097152", uid: { value: "0" }, spec: { image: "sha256:abc" } },
  }));
  assert.deepEqual(r.image, {
    id: "sha256:abc", repoTags: ["docker.io/tk8s/busybox:1.35"], repoDigests: [], size: 2097152, username: "",
    spec: { image: "sha256:abc" }, pinned: false, uid: { value: 0 },
  });
});

test("imageFsInfoFromWire: usage wrappers become { value } numbers", () => {
  const r = imageFsInfoFromWire(roundTrip("imageService", "ImageFsInfo", {
    imageFilesystems: [{ timestamp: "1732512345000000000", fsId: { mountpoint: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" }, usedBytes: { value: "4096" }, inodesUsed: { value: "12" } }],
  }));
  assert.deepEqual(r, {
    imageFilesystems: [{ timestamp: 1732512345000000000n, fsId: { mountpoint: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" }, usedBytes: { value: 4096 }, inodesUsed: { value: 12 } }],
    containerFilesystems: [],
  });
});
