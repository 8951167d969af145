/**
 * The kubelet against a real API server (in this process) and the real process runtime: every process
 * a test starts is killed in `after` through the runtime.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import type { ConfigMap, Event, Node, Pod } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { ApiError } from "../api/status.js";
import { RestClient } from "../client/rest_client.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeRng } from "../platform/node/node_env.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { Kubelet } from "./kubelet.js";

const NODE = "node-a";
let api: InProcessApiServer;
let client: RestClient;
let runtime: ProcessRuntime;
let kubelet: Kubelet;
let dir = "";

before(async () => {
  dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-kubelet-"));
  api = await startInProcessApiServer();
  client = new RestClient({ server: api.url, ca: api.ca, cert: api.clientCert, key: api.clientKey, userAgent: "tk8s-kubelet-test/0.1.0" });
  const log = new MemoryLogger();
  runtime = new ProcessRuntime({ root: path.join(dir, "runtime"), clock: nodeClock, log, podIp: "127.0.0.1" });
  kubelet = new Kubelet({
    nodeName: NODE, client, runtime, env: { clock: nodeClock, rng: nodeRng, log }, rootDir: path.join(dir, "kubelet"),
    nodeIP: "127.0.0.1", relistPeriodMs: 200, nodeStatusUpdateFrequencyMs: 500,
  });
  await kubelet.start();
});

after(async () => {
  await kubelet.stop();
  await runtime.stopAll(0);
  await runtime.close();
  client.close();
  await api.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const pods = () => client.resource<Pod>("", "v1", "pods").namespace("default");

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function podSpec(name: string, command: string[], extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 5, containers: [{ name: "c", image: "busybox", command }], ...extra },
  };
}

test("a Node the node controller marked Unknown is put back to Ready on the kubelet's next status round", async () => {
  const nodes = client.resource<Node>("", "v1", "nodes");
  await kubelet.nodeStatus.syncNodeStatus();
  const writes = kubelet.nodeStatus.writes;
  await kubelet.nodeStatus.syncNodeStatus();
  assert.equal(kubelet.nodeStatus.writes, writes, "nothing changed, nothing written");
  const node = await nodes.get(NODE);
  const unknown = (node.status?.conditions ?? []).map((c) => (c.type === "Ready" ? { ...c, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." } : c));
  await nodes.patch(NODE, "merge", { status: { conditions: unknown } }, { subresource: "status" });
  assert.equal((await nodes.get(NODE)).status?.conditions?.find((c) => c.type === "Ready")?.status, "Unknown");
  await kubelet.nodeStatus.syncNodeStatus();
  const ready = (await nodes.get(NODE)).status?.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "True");
  assert.equal(ready?.reason, "KubeletReady");
  assert.equal(kubelet.nodeStatus.writes, writes + 1);
});

test("the kubelet registers its Node with labels, capacity, nodeInfo and a Ready condition, and renews its Lease", async () => {
  const node = await client.resource<Node>("", "v1", "nodes").get(NODE);
  assert.equal(node.metadata?.labels?.["kubernetes.io/hostname"], NODE);
  assert.equal(node.metadata?.labels?.["kubernetes.io/os"], "linux");
  assert.ok(node.metadata?.labels?.["kubernetes.io/arch"]);
  assert.equal(node.status?.capacity?.pods, "110");
  // A whole number of KiB, canonical: Ki, or Mi/Gi when it divides evenly.
  assert.match(String(node.status?.capacity?.memory), /^\d+(Ki|Mi|Gi)$/);
  assert.equal(node.status?.nodeInfo?.kubeletVersion, "v1.32.0-tk8s");
  assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, "tk8s-process://0.1.0");
  assert.deepEqual(node.status?.addresses?.[0], { type: "InternalIP", address: "127.0.0.1" });
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  assert.deepEqual([ready?.status, ready?.reason, ready?.message], ["True", "KubeletReady", "kubelet is posting ready status"]);
  const lease = await waitFor("the node lease", () => client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace("kube-node-lease").get(NODE));
  assert.equal(lease.spec?.holderIdentity, NODE);
  assert.equal(lease.spec?.leaseDurationSeconds, 40);
  assert.equal(lease.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
});

test("a pod bound to the node runs: Running, Ready, and its log holds its output", async () => {
  await pods().create(podSpec("hello", ["sh", "-c", "echo hello; sleep 30"]));
  const p = await waitFor("hello Running and Ready", async () => {
    const p = await pods().get("hello");
    return p.status?.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? p : null;
  });
  const cs = p.status!.containerStatuses![0]!;
  assert.match(String(cs.containerID), /^tk8s:\/\/[0-9a-f]{64}$/);
  assert.equal(cs.ready, true);
  assert.equal(p.status?.podIP, "127.0.0.1");
  assert.equal(p.status?.hostIP, "127.0.0.1");
  assert.ok(p.status?.startTime);
  const logPath = await kubelet.containerLogPath("default", "hello", "c", false);
  assert.ok(logPath !== null);
  await waitFor("hello in the log", async () => fs.existsSync(logPath) && / stdout F hello$/m.test(fs.readFileSync(logPath, "utf8")));
  const events = await waitFor("Started event", async () => {
    const list = await client.resource<Event>("", "v1", "events").namespace("default").list();
    const mine = list.items.filter((e) => e.involvedObject.name === "hello");
    return mine.some((e) => e.reason === "Started") ? mine : null;
  });
  // "busybox" has no tag: it means :latest, pulled Always, as upstream.
  assert.deepEqual(new Set(events.map((e) => e.reason)), new Set(["Pulling", "Pulled", "Created", "Started"]));
  assert.equal(events.find((e) => e.reason === "Pulling")?.message, 'Pulling image "busybox"');
  assert.equal(events.find((e) => e.reason === "Created")?.message, "Created container: c");
  assert.equal(events.find((e) => e.reason === "Started")?.involvedObject.fieldPath, "spec.containers{c}");
});

test("deleting a pod stops its process and the kubelet removes the pod object", async () => {
  const p = await waitFor("hello running", async () => {
    const p = await pods().get("hello");
    return p.status?.phase === "Running" ? p : null;
  });
  const id = p.status!.containerStatuses![0]!.containerID!.replace("tk8s://", "");
  await pods().delete("hello");
  await waitFor("the pod object gone", async () => {
    try {
      await pods().get("hello");
      return false;
    } catch (err) {
      return err instanceof ApiError && err.reason === "NotFound";
    }
  });
  await waitFor("the container removed or exited", async () => {
    const list = await runtime.listContainers({ id });
    return list.length === 0 || list[0]!.state === "CONTAINER_EXITED";
  });
});

test("a container that keeps exiting 1 under restartPolicy Always goes into CrashLoopBackOff", async () => {
  await pods().create(podSpec("crash", ["sh", "-c", "exit 1"]));
  const p = await waitFor("CrashLoopBackOff", async () => {
    const p = await pods().get("crash");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff" ? p : null;
  }, 20_000);
  const cs = p.status!.containerStatuses![0]!;
  assert.match(String(cs.state?.waiting?.message), /^back-off 10s restarting failed container=c pod=crash_default\(/);
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  assert.equal(cs.lastState?.terminated?.reason, "Error");
  assert.ok((cs.restartCount ?? 0) >= 1);
  assert.equal(p.status?.phase, "Running");
  const instances = await runtime.listContainers({ labelSelector: { "io.kubernetes.pod.uid": p.metadata!.uid! } });
  assert.ok(instances.length <= 3, `old instances are collected: ${instances.length}`);
  assert.equal(await kubelet.podSandboxId("default", "crash") !== null, true);
  await pods().delete("crash", { gracePeriodSeconds: 0 });
});

test("a container without a command fails with CreateContainerError and the runtime's message", async () => {
  await pods().create({ apiVersion: "v1", kind: "Pod", metadata: { name: "nocmd", namespace: "default" }, spec: { nodeName: NODE, containers: [{ name: "c", image: "nginx" }] } });
  const p = await waitFor("CreateContainerError", async () => {
    const p = await pods().get("nocmd");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerError" ? p : null;
  });
  assert.equal(p.status!.containerStatuses![0]!.state!.waiting!.message, 'the process runtime cannot run image "nginx" without an explicit command: it has no image filesystem');
  assert.equal(p.status?.phase, "Pending");
  await pods().delete("nocmd", { gracePeriodSeconds: 0 });
});

test("a configMap volume's file is readable by the container, and a pod with restartPolicy Never succeeds", async () => {
  await client.resource<ConfigMap>("", "v1", "configmaps").namespace("default").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default" }, data: { "greeting.txt": "hi from a configmap" } });
  await pods().create(podSpec("reader", ["cat", "/etc/cfg/greeting.txt"], {
    restartPolicy: "Never",
    volumes: [{ name: "cfg", configMap: { name: "cfg" } }],
    containers: [{ name: "c", image: "busybox", command: ["cat", "/etc/cfg/greeting.txt"], volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }] }],
  }));
  const p = await waitFor("reader Succeeded", async () => {
    const p = await pods().get("reader");
    return p.status?.phase === "Succeeded" ? p : null;
  });
  assert.equal(p.status!.containerStatuses![0]!.state?.terminated?.reason, "Completed");
  const logPath = await kubelet.containerLogPath("default", "reader", "c");
  assert.match(fs.readFileSync(logPath!, "utf8"), / stdout [PF] hi from a configmap$/m);
});

test("a failing liveness probe restarts the container, with Unhealthy and Killing events", async () => {
  await pods().create(podSpec("live", ["sleep", "30"], {
    containers: [{ name: "c", image: "busybox", command: ["sleep", "30"], livenessProbe: { exec: { command: ["sh", "-c", "echo sick; exit 1"] }, periodSeconds: 1, failureThreshold: 2 } }],
  }));
  const p = await waitFor("a restart", async () => {
    const p = await pods().get("live");
    return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : null;
  }, 20_000);
  assert.ok(p.status!.containerStatuses![0]!.lastState?.terminated !== undefined);
  const events = (await client.resource<Event>("", "v1", "events").namespace("default").list()).items.filter((e) => e.involvedObject.name === "live");
  assert.ok(events.some((e) => e.reason === "Unhealthy" && e.message === "Liveness probe failed: sick\n" && e.type === "Warning"), JSON.stringify(events.map((e) => [e.reason, e.message])));
  assert.ok(events.some((e) => e.reason === "Killing" && e.message === "Container c failed liveness probe, will be restarted"));
  await pods().delete("live", { gracePeriodSeconds: 0 });
});

test("init containers run first, in order; an emptyDir is shared between them and the app", async () => {
  await pods().create({
    apiVersion: "v1", kind: "Pod", metadata: { name: "init", namespace: "default" },
    spec: {
      nodeName: NODE, restartPolicy: "Never",
      volumes: [{ name: "work", emptyDir: {} }],
      initContainers: [
        { name: "first", image: "busybox", command: ["sh", "-c", "echo one > /work/out"], volumeMounts: [{ name: "work", mountPath: "/work" }] },
        { name: "second", image: "busybox", command: ["sh", "-c", "echo two >> /work/out"], volumeMounts: [{ name: "work", mountPath: "/work" }] },
      ],
      containers: [{ name: "c", image: "busybox", command: ["cat", "/work/out"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
    },
  });
  const p = await waitFor("init Succeeded", async () => {
    const p = await pods().get("init");
    return p.status?.phase === "Succeeded" ? p : null;
  });
  assert.deepEqual(p.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason]), [["first", "Completed"], ["second", "Completed"]]);
  assert.equal(p.status?.conditions?.find((c) => c.type === "Initialized")?.status, "True");
  const logPath = await kubelet.containerLogPath("default", "init", "c");
  assert.match(fs.readFileSync(logPath!, "utf8"), /stdout F one\n.*stdout F two\n/s);
});

test("graceful deletion waits for a container that traps SIGTERM, then the pod object goes", async () => {
  await pods().create(podSpec("graceful", ["sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done"]));
  await waitFor("graceful Running", async () => (await pods().get("graceful")).status?.phase === "Running");
  const logPath = (await kubelet.containerLogPath("default", "graceful", "c"))!;
  await pods().delete("graceful");
  await waitFor("the pod object gone", async () => {
    try {
      await pods().get("graceful");
      return false;
    } catch (err) {
      return err instanceof ApiError && err.reason === "NotFound";
    }
  });
  assert.match(fs.readFileSync(logPath, "utf8"), / stdout F bye$/m, "the container got SIGTERM and could say goodbye");
});
