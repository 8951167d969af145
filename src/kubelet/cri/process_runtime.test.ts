import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, afterEach, beforeEach, test } from "node:test";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from "./cri.js";
import { parseCriLogLine, readLogs } from "./cri_log.js";
import { CreateContainerFailedError, CriError, ExecTimeoutError, KubeletReason, StartContainerFailedError } from "./errors.js";
import { ProcessRuntime } from "./process_runtime.js";

let dir = "";
const runtimes: ProcessRuntime[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-process-runtime-"));
});
afterEach(async () => {
  // Every process a test started dies here: each runtime kills its containers' process groups.
  for (const rt of runtimes.splice(0)) {
    await rt.stopAll(0);
    await rt.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
after(() => undefined);

function newRuntime(options: { containersMax?: number } = {}): ProcessRuntime {
  const rt = new ProcessRuntime({ root: path.join(dir, "runtime"), clock: nodeClock, log: new MemoryLogger(), adoptedPollMs: 50, ...options });
  runtimes.push(rt);
  return rt;
}

function sandboxConfig(name = "web"): PodSandboxConfig {
  return {
    metadata: { name, namespace: "default", uid: `uid-${name}`, attempt: 0 },
    hostname: name,
    logDirectory: path.join(dir, "logs", `default_${name}_uid-${name}`),
    labels: { app: name },
  };
}

async function run(rt: ProcessRuntime, config: Partial<ContainerConfig> & { command?: string[] }, sandbox = sandboxConfig()): Promise<{ sandboxId: string; containerId: string }> {
  const existing = await rt.listPodSandbox({ labelSelector: { app: sandbox.metadata.name } });
  const sandboxId = existing[0]?.id ?? (await rt.runPodSandbox({ config: sandbox })).podSandboxId;
  const { containerId } = await rt.createContainer({
    podSandboxId: sandboxId,
    sandboxConfig: sandbox,
    config: { metadata: { name: "main", attempt: 0 }, image: { image: "busybox" }, logPath: "main/0.log", ...config },
  });
  await rt.startContainer(containerId);
  return { sandboxId, containerId };
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitExited(rt: ProcessRuntime, id: string): Promise<ContainerStatus> {
  return waitFor("container exit", async () => {
    const { status } = await rt.containerStatus(id);
    return status.state === "CONTAINER_EXITED" ? status : null;
  });
}

function logLines(file: string): { stream: string; partial: boolean; message: string; ns: bigint }[] {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => {
    const p = parseCriLogLine(Buffer.from(l));
    assert.ok(p !== null, `line parses: ${l}`);
    return { stream: p.stream, partial: p.partial, message: Buffer.from(p.message).toString(), ns: p.timestampNs };
  });
}

test("a container runs, writes its output to its log in the CRI format, and reports its exit code", async () => {
  const rt = newRuntime();
  const before = BigInt(Date.now()) * 1_000_000n;
  const { containerId } = await run(rt, { command: ["/bin/sh", "-c", "echo hello; echo oops >&2; printf partial; exit 3"] });
  const status = await waitExited(rt, containerId);
  assert.equal(status.exitCode, 3);
  assert.equal(status.reason, "Error");
  assert.ok(status.startedAt >= before && status.finishedAt >= status.startedAt && status.createdAt <= status.startedAt);
  assert.equal(status.logPath, path.join(dir, "logs", "default_web_uid-web", "main", "0.log"));
  const raw = fs.readFileSync(status.logPath, "utf8");
  assert.match(raw, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z stdout F hello$/m);
  const lines = logLines(status.logPath);
  assert.deepEqual(lines.filter((l) => l.stream === "stdout").map((l) => [l.partial, l.message]), [[false, "hello"], [true, "partial"]]);
  assert.deepEqual(lines.filter((l) => l.stream === "stderr").map((l) => [l.partial, l.message]), [[false, "oops"]]);
});

test("a container that exits 0 is Completed", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["true"] });
  const status = await waitExited(rt, containerId);
  assert.deepEqual([status.exitCode, status.reason], [0, "Completed"]);
});

test("stop sends SIGTERM to the process group and a process that exits on it reports 143", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["sleep", "30"] });
  const started = Date.now();
  await rt.stopContainer(containerId, 5);
  const status = (await rt.containerStatus(containerId)).status;
  assert.equal(status.state, "CONTAINER_EXITED");
  assert.equal(status.exitCode, 143);
  assert.ok(Date.now() - started < 2000, "SIGTERM was enough: no wait for the timeout");
});

test("stop kills a process that ignores SIGTERM with SIGKILL once the timeout passes", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"] });
  const { status } = await rt.containerStatus(containerId);
  await waitFor("ready in the log", async () => fs.existsSync(status.logPath) && fs.readFileSync(status.logPath, "utf8").includes("ready"));
  const started = Date.now();
  await rt.stopContainer(containerId, 1);
  const elapsed = Date.now() - started;
  const after = (await rt.containerStatus(containerId)).status;
  assert.equal(after.exitCode, 137);
  assert.ok(elapsed >= 950 && elapsed < 3000, `killed after the 1s timeout, not before (took ${elapsed}ms)`);
});

test("execSync runs a command with the container's env and working dir and returns its output and exit code", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, {
    command: ["sleep", "30"],
    envs: [{ key: "GREETING", value: "bonjour" }],
    workingDir: "/app",
  });
  const r = await rt.execSync({ containerId, cmd: ["/bin/sh", "-c", "echo $GREETING; pwd; echo $HOSTNAME; echo err >&2; exit 2"], timeout: 5 });
  const [greeting, pwd, hostname] = Buffer.from(r.stdout).toString().trim().split("\n");
  assert.equal(greeting, "bonjour");
  // /app is no directory of the host: it is made inside the container's own root.
  assert.ok(pwd!.endsWith(path.join("root", "app")) && pwd!.startsWith(path.join(dir, "runtime")), pwd);
  assert.equal(hostname, "web");
  assert.equal(Buffer.from(r.stderr).toString(), "err\n");
  assert.equal(r.exitCode, 2);
});

test("execSync past its timeout kills the command and fails with a timeout error", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["sleep", "30"] });
  const started = Date.now();
  await assert.rejects(rt.execSync({ containerId, cmd: ["sleep", "20"], timeout: 1 }), (err: unknown) => {
    assert.ok(err instanceof ExecTimeoutError);
    assert.equal(err.code, "DeadlineExceeded");
    assert.equal(err.message, 'command "sleep 20" timed out after 1s');
    return true;
  });
  assert.ok(Date.now() - started < 3000);
});

test("a container without a command fails CreateContainer with the reason the kubelet shows", async () => {
  const rt = newRuntime();
  const { podSandboxId } = await rt.runPodSandbox({ config: sandboxConfig() });
  await assert.rejects(
    rt.createContainer({
      podSandboxId,
      sandboxConfig: sandboxConfig(),
      config: { metadata: { name: "nginx" }, image: { image: "sha256:abc", userSpecifiedImage: "nginx" } },
    }),
    (err: unknown) => {
      assert.ok(err instanceof CreateContainerFailedError);
      assert.equal(err.kubeletReason, KubeletReason.CreateContainerError);
      assert.equal(err.message, 'the process runtime cannot run image "nginx" without an explicit command: it has no image filesystem');
      return true;
    },
  );
  assert.deepEqual(await rt.listContainers(), []);
});

test("a command that is not on the PATH fails StartContainer and leaves the container exited with StartError", async () => {
  const rt = newRuntime();
  const { podSandboxId } = await rt.runPodSandbox({ config: sandboxConfig() });
  const { containerId } = await rt.createContainer({
    podSandboxId, sandboxConfig: sandboxConfig(), config: { metadata: { name: "x" }, image: { image: "busybox" }, command: ["no-such-binary-tk8s"] },
  });
  await assert.rejects(rt.startContainer(containerId), (err: unknown) => {
    assert.ok(err instanceof StartContainerFailedError);
    assert.equal(err.kubeletReason, KubeletReason.RunContainerError);
    assert.equal(err.message, 'exec: "no-such-binary-tk8s": executable file not found in $PATH');
    return true;
  });
  const { status } = await rt.containerStatus(containerId);
  assert.deepEqual([status.state, status.exitCode, status.reason], ["CONTAINER_EXITED", 128, "StartError"]);
});

test("volumes are given by path: the container path in args and env becomes the host path, and root/ links to it", async () => {
  const rt = newRuntime();
  const volume = path.join(dir, "volumes", "config");
  fs.mkdirSync(volume, { recursive: true });
  fs.writeFileSync(path.join(volume, "key"), "value-from-volume\n");
  const { containerId } = await run(rt, {
    command: ["/bin/sh", "-c", "cat /etc/config/key; echo $CONFIG_DIR"],
    envs: [{ key: "CONFIG_DIR", value: "/etc/config" }],
    mounts: [{ containerPath: "/etc/config", hostPath: volume, readonly: true }],
  });
  const status = await waitExited(rt, containerId);
  assert.equal(status.exitCode, 0);
  assert.deepEqual(logLines(status.logPath).map((l) => l.message), ["value-from-volume", volume]);
  const { info } = await rt.containerStatus(containerId);
  assert.equal(fs.readlinkSync(path.join(info["workingDir"]!, "etc", "config")), volume);
});

test("exec gives the kubelet stdin and stdout streams of a process in the container", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["sleep", "30"] });
  const { stream } = await rt.exec({ containerId, cmd: ["cat"], stdin: true, stdout: true, stderr: true });
  assert.ok(stream !== undefined && stream.stdin !== null && stream.stdout !== null && stream.stderr !== null);
  const chunks: Buffer[] = [];
  stream.stdout.on("data", (c: Buffer) => chunks.push(c));
  stream.stdin.end("ping\n");
  assert.deepEqual(await stream.done, { exitCode: 0 });
  assert.equal(Buffer.concat(chunks).toString(), "ping\n");
});

test("exec with a tty runs the command on a terminal that the client can resize", async (t) => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["sleep", "30"] });
  let response;
  try {
    response = await rt.exec({ containerId, cmd: ["/bin/sh", "-c", "test -t 0 && echo on-a-tty; sleep 0.3; stty size"], tty: true, stdout: true, stdin: true });
  } catch (err) {
    if (err instanceof CriError && err.code === "Unimplemented") {
      if (process.env.CI === "true") throw new Error("util-linux `script` (Debian bsdutils) is required under CI=true", { cause: err });
      return t.skip("util-linux script is not installed");
    }
    throw err;
  }
  const { stream } = response;
  assert.ok(stream !== undefined && stream.stdout !== null);
  assert.equal(stream.stderr, null, "a terminal has one output");
  const chunks: Buffer[] = [];
  stream.stdout.on("data", (c: Buffer) => chunks.push(c));
  stream.resize({ width: 100, height: 40 });
  const { exitCode } = await stream.done;
  assert.equal(exitCode, 0);
  assert.match(Buffer.concat(chunks).toString(), /on-a-tty/);
  assert.match(Buffer.concat(chunks).toString(), /40 100/, "the resize reached the terminal");
  stream.stdin?.destroy();
});

test("attach writes to the container's stdin and reads its output", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["/bin/sh", "-c", "read line; echo got $line"], stdin: true, stdinOnce: true });
  const { stream } = await rt.attach({ containerId, stdin: true, stdout: true, stderr: true });
  assert.ok(stream !== undefined && stream.stdin !== null && stream.stdout !== null);
  const chunks: Buffer[] = [];
  stream.stdout.on("data", (c: Buffer) => chunks.push(c));
  stream.stdin.end("hi\n");
  assert.deepEqual(await stream.done, { exitCode: 0 });
  await waitFor("the output", async () => Buffer.concat(chunks).toString() === "got hi\n");
});

test("port-forward connects to the port on 127.0.0.1, the pod's network being the host's", async () => {
  const rt = newRuntime();
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const { sandboxId } = await run(rt, { command: ["sleep", "30"] });
    const { forwarder } = await rt.portForward({ podSandboxId: sandboxId, port: [port] });
    assert.ok(forwarder !== undefined);
    const socket = await forwarder.connect(port);
    const echoed = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
    socket.write("echo");
    assert.equal(await echoed, "echo");
    socket.destroy();
    await assert.rejects(forwarder.connect(1), /failed to connect to localhost:1 inside the host network/);
  } finally {
    server.close();
  }
});

test("state survives a runtime restart: exited containers keep their exit code, running ones are adopted", async () => {
  const first = newRuntime();
  const { containerId: done } = await run(first, { command: ["/bin/sh", "-c", "exit 4"] }, sandboxConfig("a"));
  const { containerId: running } = await run(first, { command: ["sleep", "30"] }, sandboxConfig("b"));
  await waitExited(first, done);
  await first.close();

  const second = newRuntime();
  const sandboxes = await second.listPodSandbox();
  assert.deepEqual(sandboxes.map((s) => s.metadata.name).sort(), ["a", "b"]);
  assert.deepEqual((await second.containerStatus(done)).status.exitCode, 4);
  assert.equal((await second.containerStatus(running)).status.state, "CONTAINER_RUNNING");
  await second.stopContainer(running, 2);
  const status = (await second.containerStatus(running)).status;
  assert.equal(status.state, "CONTAINER_EXITED");
  assert.equal(status.exitCode, 255, "the exit code of a process another runtime spawned is lost");
  assert.equal(status.reason, "Unknown");
});

test("a sandbox reserves its name; stopping it kills its containers; removing it removes its directory", async () => {
  const rt = newRuntime();
  const { sandboxId, containerId } = await run(rt, { command: ["sleep", "30"] });
  await assert.rejects(rt.runPodSandbox({ config: sandboxConfig() }), /failed to reserve sandbox name "web_default_uid-web_0"/);
  const st = await rt.podSandboxStatus(sandboxId);
  assert.equal(st.status.state, "SANDBOX_READY");
  assert.equal(st.status.network.ip, "127.0.0.1");
  assert.equal(st.containersStatuses.length, 1);
  await rt.stopPodSandbox(sandboxId);
  assert.equal((await rt.podSandboxStatus(sandboxId)).status.state, "SANDBOX_NOTREADY");
  assert.equal((await rt.containerStatus(containerId)).status.exitCode, 137);
  assert.deepEqual((await rt.listContainers({ state: { state: "CONTAINER_EXITED" } })).map((c) => c.id), [containerId]);
  await rt.removePodSandbox(sandboxId);
  await rt.removePodSandbox(sandboxId); // idempotent
  assert.deepEqual(await rt.listPodSandbox(), []);
  assert.deepEqual(await rt.listContainers(), []);
  assert.equal(fs.existsSync(path.join(dir, "runtime", "sandboxes", sandboxId)), false);
  await assert.rejects(rt.containerStatus(containerId), /an error occurred when try to find container ".*": not found/);
});

test("the number of containers is bounded", async () => {
  const rt = newRuntime({ containersMax: 1 });
  await run(rt, { command: ["true"] });
  await assert.rejects(run(rt, { metadata: { name: "second" }, command: ["true"] }), (err: unknown) => err instanceof CriError && err.code === "ResourceExhausted");
});

test("images are names: a pulled name is present under its normalized reference until removed", async () => {
  const rt = newRuntime();
  assert.equal((await rt.imageStatus({ image: "nginx" })).image, null);
  const { imageRef } = await rt.pullImage({ image: { image: "nginx" } });
  const { image } = await rt.imageStatus({ image: "docker.io/library/nginx:latest" });
  assert.ok(image !== null);
  assert.equal(image.id, imageRef);
  assert.deepEqual(image.repoTags, ["docker.io/library/nginx:latest"]);
  assert.equal((await rt.imageStatus({ image: imageRef })).image?.id, imageRef);
  assert.equal((await rt.listImages()).length, 1);
  await rt.removeImage({ image: "nginx" });
  assert.equal((await rt.imageStatus({ image: "nginx" })).image, null);
  await assert.rejects(rt.pullImage({ image: { image: "UPPER/Case" } }), (err: unknown) => err instanceof CriError && err.kubeletReason === "InvalidImageName");
});

test("a runtime running as root runs a container as its securityContext's user", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("the runtime can switch users only as root");
  const rt = newRuntime();
  const { containerId } = await run(rt, {
    command: ["/bin/sh", "-c", "id -u; id -g; touch ./mine && echo wrote"],
    linux: { securityContext: { runAsUser: { value: 65534 }, runAsGroup: { value: 65534 } } },
  });
  const status = await waitExited(rt, containerId);
  assert.deepEqual(logLines(status.logPath).map((l) => l.message), ["65534", "65534", "wrote"]);
});

test("logs of a running container can be followed until it exits, as kubectl logs -f reads them", async () => {
  const rt = newRuntime();
  const { containerId } = await run(rt, { command: ["/bin/sh", "-c", "echo one; sleep 0.3; echo two"] });
  const { status } = await rt.containerStatus(containerId);
  await waitFor("the log file", async () => fs.existsSync(status.logPath));
  let out = "";
  await readLogs(status.logPath, { write: (_s, d) => void (out += Buffer.from(d).toString()) }, {
    clock: nodeClock,
    follow: true,
    pollMs: 20,
    containerRunning: async () => (await rt.containerStatus(containerId)).status.state === "CONTAINER_RUNNING",
  });
  assert.equal(out, "one\ntwo\n");
});
