/**
 * The streaming path end to end with real kubectl: kubectl → API server (pods/log, pods/exec) → this
 * kubelet server → the built-in process runtime running a real process. The kubelet's pod workers are
 * not in this test: the container is started through the runtime directly, and the backend maps the
 * pod's container to it as the kubelet does.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { startInProcessApiServer, type InProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { issueServingCertificate } from "../../apiserver/pki/pki.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import { ApiError } from "../../api/status.js";
import { ProcessRuntime } from "../cri/process_runtime.js";
import type { PodSandboxConfig } from "../cri/cri.js";
import { KubeletServer, type StreamingBackend } from "./kubelet_server.js";
import { startPortForward } from "../../../test/harness/kubectl_port_forward.js";

const KUBECTL = "/usr/bin/kubectl";
let api: InProcessApiServer;
let runtime: ProcessRuntime;
let server: KubeletServer;
let root: string;
const log = new MemoryLogger();
let sandboxId = "";
const containers = new Map<string, string>();

function apiRequest(path: string, method: string, body: unknown, contentType = "application/json"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port: api.port, path, method, ca: api.ca, cert: api.clientCert, key: api.clientKey, headers: { "Content-Type": contentType } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** Real kubectl, run asynchronously: the API server lives in this process, so blocking on kubectl would starve it. */
function kubectl(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL, ["--kubeconfig", api.kubeconfig, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

before(async () => {
  api = await startInProcessApiServer();
  root = mkdtempSync(join(tmpdir(), "tk8s-kubelet-server-"));
  runtime = new ProcessRuntime({ root: join(root, "runtime"), clock: nodeClock, log });
  const config: PodSandboxConfig = { metadata: { name: "web", uid: "uid-web", namespace: "default" }, logDirectory: join(root, "logs") };
  sandboxId = (await runtime.runPodSandbox({ config })).podSandboxId;
  const { containerId } = await runtime.createContainer({
    podSandboxId: sandboxId,
    sandboxConfig: config,
    config: { metadata: { name: "app" }, image: { image: "busybox" }, command: ["/bin/sh", "-c", "echo hello from app; sleep 60"], logPath: "app/0.log" },
  });
  await runtime.startContainer(containerId);
  containers.set("default/web/app", containerId);

  const backend: StreamingBackend = {
    async containerLogPath(ns, pod, container) {
      const id = containers.get(`${ns}/${pod}/${container}`);
      if (id === undefined) throw new ApiError("BadRequest", 400, `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
      return (await runtime.containerStatus(id)).status.logPath;
    },
    async containerRunning(ns, pod, container) {
      const id = containers.get(`${ns}/${pod}/${container}`);
      return id !== undefined && (await runtime.containerStatus(id)).status.state === "CONTAINER_RUNNING";
    },
    async exec(ns, pod, container, command, streams) {
      const res = await runtime.exec({ containerId: containers.get(`${ns}/${pod}/${container}`)!, cmd: command, ...streams });
      return res.stream!;
    },
    async attach(ns, pod, container, streams) {
      const res = await runtime.attach({ containerId: containers.get(`${ns}/${pod}/${container}`)!, ...streams });
      return res.stream!;
    },
    async portForward(ns, pod) {
      if (`${ns}/${pod}` !== "default/web") throw new ApiError("NotFound", 404, "pod does not exist");
      const { forwarder } = await runtime.portForward({ podSandboxId: sandboxId });
      return { podName: sandboxId, uid: "", connect: (port) => forwarder!.connect(port) };
    },
  };
  const serving = await issueServingCertificate({ certPem: api.ca, keyPem: api.caKey }, "n1", ["127.0.0.1", "localhost"]);
  server = new KubeletServer({ backend, tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: api.ca }, clock: nodeClock, log, bindAddress: "127.0.0.1", port: 0 });
  const port = await server.start();
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } };
  assert.equal(await apiRequest("/api/v1/nodes", "POST", node), 201);
  const status = { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } };
  assert.equal(await apiRequest("/api/v1/nodes/n1/status", "PATCH", status, "application/merge-patch+json"), 200);
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { nodeName: "n1", containers: [{ name: "app", image: "busybox" }] } };
  assert.equal(await apiRequest("/api/v1/namespaces/default/pods", "POST", pod), 201);
  // kubectl port-forward refuses a pod that is not Running; no kubelet runs here to say so.
  assert.equal(await apiRequest("/api/v1/namespaces/default/pods/web/status", "PATCH", { status: { phase: "Running" } }, "application/merge-patch+json"), 200);
});

after(async () => {
  await server?.close();
  if (sandboxId !== "") {
    await runtime.stopPodSandbox(sandboxId).catch(() => {});
    await runtime.removePodSandbox(sandboxId).catch(() => {});
  }
  await api?.stop();
  rmSync(root, { recursive: true, force: true });
});

test("kubectl logs reads the container's CRI log through the API server and the kubelet", async () => {
  const r = await kubectl(["logs", "web"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "hello from app\n");
  const stamped = await kubectl(["logs", "web", "--timestamps"]);
  assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello from app\n$/);
});

test("kubectl exec runs a command in the container: its output, stderr and exit code come back", async () => {
  const ok = await kubectl(["exec", "web", "--", "/bin/sh", "-c", "echo out; echo err >&2"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, "out\n");
  assert.equal(ok.stderr, "err\n");
  const failed = await kubectl(["exec", "web", "--", "/bin/sh", "-c", "exit 3"]);
  assert.equal(failed.status, 3);
  assert.match(failed.stderr, /command terminated with exit code 3/);
});

test("kubectl exec -i streams stdin to the command and ends it at end of input", async () => {
  const r = await kubectl(["exec", "-i", "web", "--", "/bin/cat"], "piped through\n");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "piped through\n");
});

/** kubectl port-forward left running: resolves with the local port once kubectl says it is forwarding. */
const portForward = (args: string[], env: NodeJS.ProcessEnv = {}) => startPortForward(api.kubeconfig, args, env);

function httpGet(port: number, path = "/"): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** An HTTP server standing in for the pod's process (the process runtime shares the host's network). */
async function podHttpServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const big = Buffer.alloc(1024 * 1024, "x");
  const srv = http.createServer((req, res) => {
    if (req.url === "/big") return res.end(big);
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => res.end(`hi ${req.method} ${req.url} ${body}`));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

for (const [name, env, transport] of [
  ["SPDY tunnelled over WebSocket (kubectl's default)", {}, "websocket"],
  ["a plain SPDY upgrade (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }, "spdy"],
] as const) {
  test(`kubectl port-forward reaches the pod's port through the API server over ${name}`, async () => {
    const pod = await podHttpServer();
    const pf = await portForward(["pod/web", `:${pod.port}`], env).catch(async (err) => {
      await pod.close();
      throw err;
    });
    try {
      const first = await httpGet(pf.localPort, "/one");
      assert.equal(first.body.toString(), "hi GET /one ");
      const second = await httpGet(pf.localPort, "/two");
      assert.equal(second.body.toString(), "hi GET /two ");
      // Larger than SPDY's 64 KiB window: kubectl's spdystream never sends WINDOW_UPDATE.
      const big = await httpGet(pf.localPort, "/big");
      assert.equal(big.body.length, 1024 * 1024);
      const concurrent = await Promise.all([1, 2, 3, 4, 5].map((i) => httpGet(pf.localPort, `/c${i}`)));
      assert.deepEqual(concurrent.map((r) => r.body.toString()), [1, 2, 3, 4, 5].map((i) => `hi GET /c${i} `));
      assert.match(pf.output(), /Handling connection for \d+/);
      const upgrades = log.records.filter((r) => r.msg === "port-forward upgraded").map((r) => r.fields.transport);
      assert.equal(upgrades.at(-1), transport, pf.output());
    } finally {
      await pf.signal("SIGTERM");
      await pod.close();
    }
  });
}

test("kubectl port-forward to a port nobody listens on prints the kubelet's error, as upstream's kubectl then ends the forward", async () => {
  const pod = await podHttpServer();
  const closed = await podHttpServer();
  await closed.close();
  const pf = await portForward(["pod/web", `:${pod.port}`, `:${closed.port}`]).catch(async (err) => {
    await pod.close();
    throw err;
  });
  try {
    const forwarded = [...pf.output().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const good = forwarded.find(([, remote]) => remote === pod.port)![0];
    const bad = forwarded.find(([, remote]) => remote === closed.port)![0];
    assert.equal((await httpGet(good, "/before")).body.toString(), "hi GET /before ");
    await assert.rejects(httpGet(bad, "/"));
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([pf.exited, new Promise<string>((r) => (timer = setTimeout(() => r("still running"), 10_000)))]);
    clearTimeout(timer);
    assert.equal(code, 1, pf.output());
    assert.match(pf.output(), new RegExp(`error forwarding port ${closed.port} to pod ${sandboxId}, uid : failed to connect to localhost:${closed.port} inside the host network of sandbox \\\\"${sandboxId}\\\\": connect ECONNREFUSED`));
    assert.match(pf.output(), /lost connection to pod/);
  } finally {
    await pf.signal("SIGTERM");
    await pod.close();
  }
});

test("kubectl port-forward ends cleanly on SIGINT, like Ctrl-C", async () => {
  const pod = await podHttpServer();
  const pf = await portForward(["pod/web", `:${pod.port}`]).catch(async (err) => {
    await pod.close();
    throw err;
  });
  try {
    assert.equal((await httpGet(pf.localPort, "/x")).body.toString(), "hi GET /x ");
  } finally {
    await pf.signal("SIGINT");
    await pod.close();
  }
  assert.equal(await pf.exited, 0, pf.output());
  await assert.rejects(httpGet(pf.localPort, "/after"));
});
