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
import * as https from "node:https";
import { startInProcessApiServer, type InProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { issueServingCertificate } from "../../apiserver/pki/pki.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import { ApiError } from "../../api/status.js";
import { ProcessRuntime } from "../cri/process_runtime.js";
import type { PodSandboxConfig } from "../cri/cri.js";
import { KubeletServer, type StreamingBackend } from "./kubelet_server.js";

const KUBECTL = "/usr/bin/kubectl";
let api: InProcessApiServer;
let runtime: ProcessRuntime;
let server: KubeletServer;
let root: string;
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
  const log = new MemoryLogger();
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
