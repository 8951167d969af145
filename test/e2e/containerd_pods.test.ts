/**
 * A single-node `tk8s server --container-runtime-endpoint <private containerd>` driven by real kubectl:
 * pods are real containers from the offline busybox image. Running, `kubectl logs` (also `-f` and
 * `--previous`), `kubectl exec`, `kubectl port-forward` to `busybox httpd` (both transports kubectl
 * has), a memory limit enforced (OOMKilled, then restarted), and imagePullPolicy's errors
 * (ErrImageNeverPull; ErrImagePull then ImagePullBackOff for a registry on a closed loopback port).
 * Most pods use the host network; the httpd pods get their own network namespace and IP from the pod
 * network tk8s configures (CNI), so port-forward reaches a port bound to the pod's own loopback.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as http from "node:http";
import { after, before, describe, test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { KUBECTL_BINARY, kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { containerdSkipReason, startContainerd, type ContainerdProcess } from "../harness/containerd.js";
import { startPortForward } from "../harness/kubectl_port_forward.js";
import { freePort } from "../harness/ports.js";
import { ensureTestImages } from "../harness/test_images.js";
import { readFileSync, writeFileSync } from "node:fs";
import { removePodNetwork } from "../../src/cni/pod_network.js";
import { removePodCgroup } from "../../src/kubelet/pod_cgroups.js";
import type { Logger } from "../../src/env/env.js";

const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
const silentLog = { debug() {}, info() {}, warn() {}, error() {}, child() { return silentLog; } } as unknown as Logger;

const BUSYBOX = "tk8s/busybox:1.35";
const SCRIPT = "/usr/bin/script";
const MiB = 1024 * 1024;
const POLL_MS = 200;

function pod(name: string, containers: object[], extra: object = {}): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { hostNetwork: true, terminationGracePeriodSeconds: 2, containers, ...extra } });
}

function getPod(server: ApiServerProcess, name: string): Pod {
  return JSON.parse(kubectlOk(server, ["get", "pod", name, "-o", "json"])) as Pod;
}

/** Polls `fn` until it returns non-null; bounded by `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, fn: () => T | null, describeLast: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  for (;;) {
    const v = fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${describeLast()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: 20_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

const skip = containerdSkipReason();

describe("pods on containerd through tk8s server and real kubectl", { timeout: 400_000, ...(skip === undefined ? {} : { skip }) }, () => {
  let containerd: ContainerdProcess;
  let server: ApiServerProcess;
  // The bridge plugin turns on IP forwarding; the host gets back what it had.
  const ipForward = readFileSync(IP_FORWARD, "utf8");

  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    containerd = await startContainerd();
    await ensureTestImages(containerd.address);
    server = await startApiServer({
      cluster: true,
      extraArgs: ["--container-runtime-endpoint", containerd.address, "--runtime-request-timeout", "30s", "--cni-conf-dir", containerd.cniConfDir, "--cluster-cidr", "10.244.0.0/16"],
    });
  }, { timeout: 120_000 });

  after(async () => {
    if (server !== undefined) {
      kubectl(server, ["delete", "pods", "--all", "--wait=true", "--timeout=60s"]);
      await server.stop();
    }
    await containerd?.stop();
    // After the sandboxes are gone (their CNI DEL ran): the conflist, bridge, nat chains and IPAM state.
    if (containerd !== undefined) removePodNetwork({ confDir: containerd.cniConfDir });
    writeFileSync(IP_FORWARD, ipForward);
    // The kubelet removed each pod's cgroup; the QoS level it made under /kubepods stays (as upstream's
    // node-level cgroups do) unless the test removes it. Non-empty ones (another node's pods) stay.
    for (const parent of ["/kubepods/burstable", "/kubepods/besteffort", "/kubepods"]) removePodCgroup(parent, silentLog);
  }, { timeout: 120_000 });

  test("tk8s server says at start-up that containerd runs the pods", () => {
    assert.match(server.output(), /tk8s: container runtime: containerd v?1\.\d+\.\S+ \(CRI v1\) at unix:\/\/\/run\/tk8s-test-containerd-\w+\/containerd\.sock\n/);
    const node = JSON.parse(kubectlOk(server, ["get", "nodes", "-o", "json"])).items[0];
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/v?1\./);
  });

  test("a busybox pod runs, its logs come from containerd's log file, and exec runs a command in it", async () => {
    const resources = { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } };
    kubectlOk(server, ["create", "-f", "-"], { input: pod("bb", [{ name: "c", image: BUSYBOX, resources, command: ["sh", "-c", "echo hello from busybox; echo to stderr >&2; exec sleep 3600"] }]) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/bb", "--timeout=60s"]);
    const p = getPod(server, "bb");
    assert.equal(p.status?.phase, "Running");
    assert.match(p.status?.containerStatuses?.[0]?.containerID ?? "", /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(p.status?.containerStatuses?.[0]?.imageID ?? "", /^sha256:[0-9a-f]{64}$/);
    assert.equal(p.status?.podIP, "127.0.0.1", "a host-network pod has the node's address");

    const logs = await eventually("both lines in the log", 10_000, () => {
      const out = kubectlOk(server, ["logs", "bb"]);
      return out.includes("to stderr") ? out : null;
    });
    // stdout and stderr reach containerd through two pipes: their relative order is not kept (as upstream).
    assert.deepEqual(logs.split("\n").sort(), ["", "hello from busybox", "to stderr"]);

    assert.equal(kubectlOk(server, ["exec", "bb", "--", "sh", "-c", "echo $((6*7))"]), "42\n");
    // kubectl's SPDY transport, proxied to containerd the same way.
    assert.equal(kubectlOk(server, ["exec", "bb", "--", "sh", "-c", "echo spdy"], { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" } }), "spdy\n");
    // The pod's requests and limits reached the container's cgroups (v1: runc mounts the container's own).
    const cgroup = kubectlOk(server, ["exec", "bb", "--", "cat", "/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    assert.deepEqual(cgroup.trim().split("\n"), ["256", "50000", "100000", String(64 * MiB)]);
    const failed = kubectl(server, ["exec", "bb", "--", "sh", "-c", "exit 3"]);
    assert.equal(failed.code, 3, failed.stderr);
    // stdin through exec: the process sees it and its end.
    assert.equal(kubectlOk(server, ["exec", "-i", "bb", "--", "sh", "-c", "wc -c"], { input: "12345" }).trim(), "5");
  });

  test("kubectl exec -it gets a terminal in a containerd pod, and kubectl attach -i reaches the container's stdin", async (t) => {
    if (!existsSync(SCRIPT)) {
      if (process.env.CI === "true") throw new Error("util-linux `script` (Debian bsdutils) is required under CI=true");
      t.skip("util-linux script is missing: kubectl -t needs a terminal");
      return;
    }
    const quote = (q: string) => `'${q.replace(/'/g, "'\\''")}'`;
    const exec = spawnSync(SCRIPT, ["-qfec", [KUBECTL_BINARY, "--kubeconfig", server.kubeconfig, "exec", "-it", "bb", "--", "sh", "-c", "tty; stty size"].map(quote).join(" "), "/dev/null"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(exec.status, 0, exec.stdout + exec.stderr);
    assert.match(exec.stdout, /^\/dev\/pts\/\d+\r?$/m, "the command ran on a terminal");

    kubectlOk(server, ["create", "-f", "-"], { input: pod("reader", [{ name: "c", image: BUSYBOX, stdin: true, command: ["sh", "-c", "while read line; do echo got $line; done"] }]) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/reader", "--timeout=60s"]);
    const attach = spawn(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, "attach", "-i", "reader"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    attach.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      // kubectl may connect after a first write: keep writing until the answer shows.
      await eventually("the container's answer through attach", 30_000, () => {
        attach.stdin.write("hello\n");
        return out.includes("got hello") ? true : null;
      }, () => out);
    } finally {
      attach.kill("SIGKILL");
    }
  });

  test("kubectl logs -f follows a containerd pod's output as it is written", async () => {
    kubectlOk(server, ["create", "-f", "-"], { input: pod("ticker", [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "i=0; while [ $i -lt 100 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done; sleep 3600"] }]) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/ticker", "--timeout=60s"]);
    const child = spawn(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, "logs", "-f", "ticker"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      const first = await eventually("a first tick", 20_000, () => /tick (\d+)/.exec(out)?.[1] ?? null);
      const later = await eventually("ticks written after kubectl started following", 20_000, () => {
        const all = [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
        return all.length >= 3 && all[all.length - 1]! > Number(first) + 2 ? all : null;
      }, () => out);
      assert.deepEqual(later, later.map((_, i) => i), "every line once, in order");
    } finally {
      child.kill("SIGTERM");
    }
  });

  for (const [how, env] of [
    ["SPDY over WebSocket (kubectl's default)", {}],
    ["a plain SPDY upgrade", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }],
  ] as const) {
    test(`kubectl port-forward reaches busybox httpd in a containerd pod over ${how}`, async () => {
      const name = `httpd-${Object.keys(env).length}`;
      const port = await freePort();
      const script = `mkdir -p /www && echo "hi from httpd" > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
      // Its own network namespace: httpd listens on the pod's loopback, which only containerd's port-forward reaches.
      kubectlOk(server, ["create", "-f", "-"], { input: pod(name, [{ name: "web", image: BUSYBOX, command: ["sh", "-c", script], ports: [{ containerPort: port }], readinessProbe: { exec: { command: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}/`] }, periodSeconds: 1 } }], { hostNetwork: false }) });
      kubectlOk(server, ["wait", "--for=condition=Ready", `pod/${name}`, "--timeout=60s"]);
      assert.match(getPod(server, name).status?.podIP ?? "", /^10\.244\.\d+\.\d+$/, "a pod IP from the node's pod CIDR");
      const pf = await startPortForward(server.kubeconfig, [`pod/${name}`, `:${port}`], env);
      try {
        assert.equal(await httpGet(pf.localPort, "/"), "hi from httpd\n");
        assert.equal(await httpGet(pf.localPort, "/index.html"), "hi from httpd\n");
      } finally {
        await pf.signal("SIGTERM");
      }
    });
  }

  test("a container over its memory limit is OOMKilled, restarted, and its previous logs stay readable", async () => {
    // dd fills a 64 MiB buffer: four times the limit. The echo lands in the log before.
    const hog = { name: "hog", image: BUSYBOX, command: ["sh", "-c", "echo about to allocate; dd if=/dev/zero of=/dev/null bs=64M count=4"], resources: { limits: { memory: `${16}Mi` } } };
    kubectlOk(server, ["create", "-f", "-"], { input: pod("oom", [hog]) });
    const status = await eventually("an OOMKilled restart", 90_000, () => {
      const s = getPod(server, "oom").status?.containerStatuses?.[0];
      return s !== undefined && (s.restartCount ?? 0) >= 1 && s.lastState?.terminated?.reason === "OOMKilled" ? s : null;
    }, () => JSON.stringify(getPod(server, "oom").status, null, 1));
    assert.equal(status.lastState?.terminated?.exitCode, 137);
    // containerd applied the limit from the pod spec to the container's cgroup.
    const events = kubectlOk(server, ["get", "events", "--field-selector", "involvedObject.name=oom", "-o", "json"]);
    assert.match(events, /"reason": "Started"/);
    assert.equal(kubectlOk(server, ["logs", "oom", "--previous"]).split("\n")[0], "about to allocate");
    const waiting = await eventually("CrashLoopBackOff", 60_000, () => {
      const s = getPod(server, "oom").status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === "CrashLoopBackOff" ? s.state.waiting : null;
    });
    assert.match(waiting.message ?? "", /^back-off \d+s restarting failed container=hog pod=oom_default\(/);
  });

  test("imagePullPolicy Never with a missing image is ErrImageNeverPull, with upstream's message", async () => {
    kubectlOk(server, ["create", "-f", "-"], { input: pod("never", [{ name: "c", image: "tk8s/not-here:1.0", imagePullPolicy: "Never", command: ["true"] }]) });
    const waiting = await eventually("ErrImageNeverPull", 30_000, () => getPod(server, "never").status?.containerStatuses?.[0]?.state?.waiting ?? null);
    assert.deepEqual(waiting, { reason: "ErrImageNeverPull", message: 'Container image "tk8s/not-here:1.0" is not present with pull policy of Never' });
    const events = kubectlOk(server, ["get", "events", "--field-selector", "involvedObject.name=never", "-o", "json"]);
    assert.match(events, /"reason": "ErrImageNeverPull"/);
  });

  test("a failed pull is ErrImagePull, then ImagePullBackOff while the back-off lasts", async () => {
    // A registry on a closed loopback port: the pull fails at once and no traffic leaves the machine.
    const closed = await freePort();
    const image = `127.0.0.1:${closed}/tk8s/missing:1.0`;
    kubectlOk(server, ["create", "-f", "-"], { input: pod("pullfail", [{ name: "c", image, command: ["true"] }]) });
    const seen = new Set<string>();
    await eventually("ErrImagePull then ImagePullBackOff", 60_000, () => {
      const w = getPod(server, "pullfail").status?.containerStatuses?.[0]?.state?.waiting;
      if (w?.reason !== undefined) seen.add(w.reason);
      if (w?.reason === "ErrImagePull") assert.match(w.message ?? "", /rpc error: code = \w+ desc = .*127\.0\.0\.1/);
      if (w?.reason === "ImagePullBackOff") assert.equal(w.message, `Back-off pulling image "${image}"`);
      return seen.has("ErrImagePull") && seen.has("ImagePullBackOff") ? true : null;
    }, () => [...seen].join(","));
  });
});
