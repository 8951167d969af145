/**
 * Services end to end on `tk8s server` with real kubectl (issue 7): kube-proxy and cluster DNS as the
 * server runs them beside its kubelet.
 *
 * - containerd (a private one) with the CNI pod network: kube-proxy in iptables mode. A Deployment of
 *   busybox HTTP servers behind a ClusterIP Service answers on its ClusterIP from the host and, by DNS
 *   name, from another pod; both replicas answer; a NodePort answers on the node address; a pod whose
 *   readiness probe fails leaves the rotation and comes back; scaling to 1 leaves one endpoint.
 * - the process runtime: kube-proxy in userspace mode puts a Service's ClusterIP on the host and forwards
 *   TCP to a host-network pod; cluster DNS answers on loopback.
 *
 * Cluster DNS forwards only to a resolver this test starts on loopback (it is the nameserver of the
 * --resolv-conf given to the server). Both suites are in one file so they never run at once: each puts
 * the cluster's ClusterIPs (10.96.0.0/12) on the host, in iptables or on lo. The host is left as found:
 * kube-proxy's KUBE- chains (kept on stop, as upstream) are removed with cleanupIptables, the pod network
 * with removePodNetwork, sysctls restored, and the userspace ClusterIPs are gone from lo.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { promises as dnsPromises } from "node:dns";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { KUBECTL_BINARY, kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { containerdSkipReason, startContainerd, type ContainerdProcess } from "../harness/containerd.js";
import { requireBinary } from "../harness/datastore_process.js";
import { freePort } from "../harness/ports.js";
import { ensureTestImages, BUSYBOX_BINARY } from "../harness/test_images.js";
import { removePodNetwork } from "../../src/cni/pod_network.js";
import { defaultHostAddress } from "../../src/cmd/flags.js";
import { CLASS_IN, RRType } from "../../src/dns/message.js";
import { startFakeUpstream, type FakeUpstream } from "../../src/dns/testing_upstream.js";
import type { Logger } from "../../src/env/env.js";
import { removePodCgroup } from "../../src/kubelet/pod_cgroups.js";
import { ExecIptables } from "../../src/proxy/iptables.js";
import { cleanupIptables } from "../../src/proxy/iptables_proxier.js";

const BUSYBOX = "tk8s/busybox:1.35";
const POLL_MS = 250;
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
const BRIDGE_NF_CALL_IPTABLES = "/proc/sys/net/bridge/bridge-nf-call-iptables";
const silentLog = { debug() {}, info() {}, warn() {}, error() {}, child() { return silentLog; } } as unknown as Logger;
/** A name only the test's upstream resolver knows: found through cluster DNS, it proves forwarding went there. */
const OUTSIDE_NAME = "outside.tk8s.test";
const OUTSIDE_ADDRESS = "198.51.100.7";

/** Polls `fn` until it returns non-null; bounded by `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | null> | T | null, describeLast: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${describeLast()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** One HTTP GET with a fresh connection (each one is balanced anew); rejects on errors and after 5 s. */
function httpGet(host: string, port: number, path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on("error", reject);
  });
}

/** The bodies of `n` sequential GETs (trimmed), in order. */
async function bodies(host: string, port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await httpGet(host, port)).trim());
  return out;
}

/** kubectl without blocking this process (spawnSync would stop the test's own servers from answering). */
function kubectlAsync(server: ApiServerProcess, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function jsonpath(server: ApiServerProcess, args: readonly string[], path: string): string {
  return kubectlOk(server, [...args, "-o", `jsonpath=${path}`]);
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

function startUpstream(): Promise<FakeUpstream> {
  return startFakeUpstream({ records: new Map([[`${OUTSIDE_NAME}.`, [{ name: `${OUTSIDE_NAME}.`, type: RRType.A, class: CLASS_IN, ttl: 60, data: { address: OUTSIDE_ADDRESS } }]]]) });
}

/** A resolv.conf naming only the test's resolver (cluster DNS reads its upstreams from the kubelet's --resolv-conf). */
function writeResolvConf(dir: string, upstream: FakeUpstream): string {
  const path = join(dir, "resolv.conf");
  writeFileSync(path, `nameserver 127.0.0.1:${upstream.port}\n`);
  return path;
}

/** The address and port of the "cluster DNS serving …" start-up line. */
function dnsAddressFromOutput(out: string): { host: string; port: number } {
  const m = /tk8s: cluster DNS serving cluster\.local on ([\d.]+):(\d+) \(Service kube-system\/kube-dns 10\.96\.0\.10\)\n/.exec(out);
  assert.ok(m !== null, `no cluster DNS line in:\n${out}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function readyEndpointAddresses(server: ApiServerProcess, service: string): string[] {
  const slices = JSON.parse(kubectlOk(server, ["get", "endpointslices", "-l", `kubernetes.io/service-name=${service}`, "-o", "json"])).items as EndpointSlice[];
  return slices.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses)).sort();
}

function loAddresses(): string[] {
  const r = spawnSync("ip", ["-4", "-o", "addr", "show", "dev", "lo"], { encoding: "utf8" });
  return [...(r.stdout ?? "").matchAll(/inet ([\d.]+)\//g)].map((m) => m[1]!);
}

function kubeChains(): string[] {
  const chains: string[] = [];
  for (const table of ["nat", "filter"]) {
    const r = spawnSync("iptables-save", ["-t", table], { encoding: "utf8" });
    chains.push(...[...(r.stdout ?? "").matchAll(/^:(KUBE-\S+)/gm)].map((m) => `${table}/${m[1]}`));
  }
  return chains;
}

function iptablesSkipReason(): string | undefined {
  const containerd = containerdSkipReason();
  if (containerd !== undefined) return containerd;
  if (process.env.CI !== "true" && requireBinary("iptables-save") === null) return "iptables is missing (Debian package iptables)";
  return undefined;
}

function processRuntimeSkipReason(): string | undefined {
  if (process.env.CI === "true") return undefined;
  if (process.getuid?.() !== 0) return "the userspace proxy puts ClusterIPs on lo: needs root";
  if (!existsSync(BUSYBOX_BINARY)) return `${BUSYBOX_BINARY} is missing (Debian package busybox-static)`;
  return undefined;
}

const webDeployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "httpd",
            image: BUSYBOX,
            imagePullPolicy: "Never",
            // The page names the pod (its hostname), so a client sees which replica answered; /ready is
            // what the readiness probe asks for, and removing it takes the pod out of the Service.
            command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && echo ok > /www/ready && exec httpd -f -p 8080 -h /www"],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1, failureThreshold: 1, successThreshold: 1 },
          },
        ],
      },
    },
  },
};

const iptablesSkip = iptablesSkipReason();

describe("Services on containerd: kube-proxy's iptables rules and cluster DNS in tk8s server", { timeout: 600_000, ...(iptablesSkip === undefined ? {} : { skip: iptablesSkip }) }, () => {
  let containerd: ContainerdProcess;
  let server: ApiServerProcess;
  let upstream: FakeUpstream;
  let dir: string;
  let nodeIP: string;
  let clusterIP: string;
  let nodePort: number;
  let webPods: string[];
  // The bridge plugin and the kubelet turn these on; the host gets back what it had.
  const ipForward = readFileSync(IP_FORWARD, "utf8");
  const bridgeNf = existsSync(BRIDGE_NF_CALL_IPTABLES) ? readFileSync(BRIDGE_NF_CALL_IPTABLES, "utf8") : null;
  const chainsBefore = kubeChains();

  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    assert.deepEqual(chainsBefore, [], "no kube-proxy rules on the host before the test (another test's left?)");
    // Pods reach cluster DNS through the Service's DNAT to the node address: it must not be loopback.
    nodeIP = defaultHostAddress();
    assert.notEqual(nodeIP, "127.0.0.1", "the host needs a non-loopback IPv4 address for the node");
    dir = mkdtempSync(join(tmpdir(), "tk8s-services-"));
    upstream = await startUpstream();
    containerd = await startContainerd();
    await ensureTestImages(containerd.address);
    server = await startApiServer({
      cluster: true,
      nodeServices: true,
      extraArgs: [
        "--container-runtime-endpoint", containerd.address,
        "--runtime-request-timeout", "30s",
        "--cni-conf-dir", containerd.cniConfDir,
        "--cluster-cidr", "10.244.0.0/16",
        "--advertise-address", nodeIP,
        "--cluster-dns-listen", `${nodeIP}:0`,
        "--cluster-dns-http-listen", "127.0.0.1:0",
        "--healthz-bind-address", "127.0.0.1:0",
        "--metrics-bind-address", "127.0.0.1:0",
        "--resolv-conf", writeResolvConf(dir, upstream),
      ],
    });
  }, { timeout: 180_000 });

  after(async () => {
    if (server !== undefined) {
      kubectl(server, ["delete", "deployments,services,pods", "--all", "--wait=true", "--timeout=60s"]);
      await server.stop();
    }
    await containerd?.stop();
    // kube-proxy leaves its rules at stop (as upstream, so a restart drops no traffic): the test removes them.
    await cleanupIptables(await ExecIptables.create());
    if (containerd !== undefined) removePodNetwork({ confDir: containerd.cniConfDir });
    writeFileSync(IP_FORWARD, ipForward);
    if (bridgeNf !== null) writeFileSync(BRIDGE_NF_CALL_IPTABLES, bridgeNf);
    for (const parent of ["/kubepods/burstable", "/kubepods/besteffort", "/kubepods"]) removePodCgroup(parent, silentLog);
    await upstream?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(kubeChains(), [], "kube-proxy's chains are gone");
  }, { timeout: 180_000 });

  test("tk8s server starts cluster DNS and kube-proxy in iptables mode before the kubelet, which gets the DNS Service's address", () => {
    const out = server.output();
    assert.equal(dnsAddressFromOutput(out).host, nodeIP);
    assert.match(out, /tk8s: kube-proxy started \(iptables mode\); \/healthz on 127\.0\.0\.1:\d+, \/metrics on 127\.0\.0\.1:\d+\n/);
    assert.match(out, /tk8s: kubelet: pods with dnsPolicy ClusterFirst use nameserver 10\.96\.0\.10\n/);
    assert.ok(out.indexOf("kube-proxy started") < out.indexOf("kubelet started"), out);
    assert.equal(jsonpath(server, ["-n", "kube-system", "get", "service", "kube-dns"], "{.spec.clusterIP}"), "10.96.0.10");
    assert.ok(kubeChains().includes("nat/KUBE-SERVICES"), "kube-proxy wrote its rules");
  });

  test("a Deployment behind a ClusterIP Service answers on the ClusterIP from the host, every replica in turn", async () => {
    kubectlOk(server, ["apply", "-f", "-"], { input: JSON.stringify(webDeployment) });
    kubectlOk(server, ["expose", "deployment", "web", "--port=80", "--target-port=8080"]);
    kubectlOk(server, ["expose", "deployment", "web", "--name=web-nodeport", "--type=NodePort", "--port=80", "--target-port=8080"]);
    kubectlOk(server, ["rollout", "status", "deployment/web", "--timeout=120s"]);
    webPods = lines(jsonpath(server, ["get", "pods", "-l", "app=web"], "{range .items[*]}{.metadata.name}{\"\\n\"}{end}")).sort();
    assert.equal(webPods.length, 2);
    clusterIP = jsonpath(server, ["get", "service", "web"], "{.spec.clusterIP}");
    assert.match(clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    await eventually("both endpoints ready in the Service's EndpointSlice", 30_000, () => (readyEndpointAddresses(server, "web").length === 2 ? true : null));
    // Random balancing: 40 requests all on one of two endpoints has odds of 2^-39.
    const seen = await eventually("both replicas answering on the ClusterIP", 30_000, async () => {
      const got = new Set(await bodies(clusterIP, 80, 40).catch(() => []));
      return got.size === 2 ? [...got].sort() : null;
    });
    assert.deepEqual(seen, webPods);
  });

  test("another pod reaches the Service by its DNS name through cluster DNS, and names outside the cluster are forwarded to the node's resolver", async () => {
    kubectlOk(server, ["run", "client", `--image=${BUSYBOX}`, "--image-pull-policy=Never", "--", "sleep", "3600"]);
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/client", "--timeout=60s"]);
    const resolvConf = kubectlOk(server, ["exec", "client", "--", "cat", "/etc/resolv.conf"]);
    assert.match(resolvConf, /^nameserver 10\.96\.0\.10$/m);
    assert.match(resolvConf, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    const script = "for i in $(seq 20); do wget -qO- http://web.default.svc.cluster.local:80/ || exit 1; done";
    const got = await eventually("both replicas answering the client pod by name", 60_000, () => {
      const r = kubectl(server, ["exec", "client", "--", "sh", "-c", script]);
      const s = new Set(lines(r.stdout));
      return r.code === 0 && s.size === 2 ? [...s].sort() : null;
    });
    assert.deepEqual(got, webPods);
    // The short name through the pod's search path.
    assert.ok(webPods.includes(kubectlOk(server, ["exec", "client", "--", "wget", "-qO-", "http://web/"]).trim()));
    // Not spawnSync: the upstream resolver answers from this process, which must keep running meanwhile.
    const nslookup = async (name: string) => {
      const r = await kubectlAsync(server, ["exec", "client", "--", "nslookup", "-type=a", name]);
      return `exit ${r.code}\n${r.stdout}${r.stderr}`;
    };
    assert.match(await nslookup("web.default.svc.cluster.local"), new RegExp(`Address:\\s+${clusterIP.replace(/\./g, "\\.")}`));
    const before = upstream.received.length;
    const outside = await nslookup(`${OUTSIDE_NAME}.`);
    assert.match(outside, new RegExp(`Address:\\s+${OUTSIDE_ADDRESS.replace(/\./g, "\\.")}`));
    assert.ok(upstream.received.slice(before).some((q) => q.msg.questions[0]?.name.replace(/\.$/, "") === OUTSIDE_NAME), "the test's resolver was asked");
  });

  test("the NodePort answers from the host on the node address, every replica in turn", async () => {
    nodePort = Number(jsonpath(server, ["get", "service", "web-nodeport"], "{.spec.ports[0].nodePort}"));
    assert.ok(nodePort >= 30000 && nodePort <= 32767, String(nodePort));
    const seen = await eventually("both replicas answering on the NodePort", 30_000, async () => {
      const got = new Set(await bodies(nodeIP, nodePort, 40).catch(() => []));
      return got.size === 2 ? [...got].sort() : null;
    });
    assert.deepEqual(seen, webPods);
  });

  test("a pod whose readiness probe fails is taken out of the Service, and comes back when it passes again", async () => {
    const [out, stays] = webPods as [string, string];
    kubectlOk(server, ["exec", out, "--", "rm", "/www/ready"]);
    await eventually(`${out} not Ready`, 30_000, () => (jsonpath(server, ["get", "pod", out], "{.status.conditions[?(@.type==\"Ready\")].status}") === "False" ? true : null));
    await eventually("only one ready endpoint", 30_000, () => (readyEndpointAddresses(server, "web").length === 1 ? true : null));
    // The rules follow the EndpointSlice within kube-proxy's min sync period (1 s).
    const only = await eventually(`every request answered by ${stays}`, 30_000, async () => {
      const got = await bodies(clusterIP, 80, 20).catch(() => []);
      return got.length === 20 && got.every((b) => b === stays) ? got : null;
    });
    assert.equal(only.length, 20);
    kubectlOk(server, ["exec", out, "--", "sh", "-c", "echo ok > /www/ready"]);
    await eventually("both replicas answering again", 30_000, async () => {
      const got = new Set(await bodies(clusterIP, 80, 40).catch(() => []));
      return got.size === 2 ? true : null;
    });
  });

  test("scaling the Deployment to 1 removes the other endpoint from rotation, on the ClusterIP and the NodePort", async () => {
    kubectlOk(server, ["scale", "deployment", "web", "--replicas=1"]);
    const remaining = await eventually("one web pod left", 60_000, () => {
      const pods = JSON.parse(kubectlOk(server, ["get", "pods", "-l", "app=web", "-o", "json"])).items as Pod[];
      const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined);
      return live.length === 1 ? live[0]!.metadata!.name! : null;
    });
    await eventually("one endpoint in the slice", 30_000, () => (readyEndpointAddresses(server, "web").length === 1 ? true : null));
    for (const [host, port] of [[clusterIP, 80], [nodeIP, nodePort]] as const) {
      const got = await eventually(`every request on ${host}:${port} answered by ${remaining}`, 30_000, async () => {
        const b = await bodies(host, port, 20).catch(() => []);
        return b.length === 20 && b.every((x) => x === remaining) ? b : null;
      });
      assert.equal(got.length, 20);
    }
  });

  test("kube-proxy's /healthz says it is healthy", async () => {
    const m = /\/healthz on 127\.0\.0\.1:(\d+)/.exec(server.output());
    assert.ok(m !== null);
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: Number(m[1]), path: "/healthz", agent: false }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      }).on("error", reject);
    });
    assert.equal(body.status, 200, body.text);
  });
});

const processSkip = processRuntimeSkipReason();

describe("Services on the process runtime: kube-proxy's userspace mode and cluster DNS on loopback", { timeout: 300_000, ...(processSkip === undefined ? {} : { skip: processSkip }) }, () => {
  let server: ApiServerProcess;
  let upstream: FakeUpstream;
  let dir: string;
  let podPort: number;
  const loBefore = loAddresses();

  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    if (!existsSync(BUSYBOX_BINARY)) throw new Error(`${BUSYBOX_BINARY} is required (Debian package busybox-static)`);
    dir = mkdtempSync(join(tmpdir(), "tk8s-services-process-"));
    upstream = await startUpstream();
    podPort = await freePort();
    server = await startApiServer({
      cluster: true,
      nodeServices: true,
      extraArgs: [
        "--cluster-dns-listen", "127.0.0.1:0",
        "--cluster-dns-http-listen", "127.0.0.1:0",
        "--healthz-bind-address", "127.0.0.1:0",
        "--metrics-bind-address", "127.0.0.1:0",
        "--resolv-conf", writeResolvConf(dir, upstream),
      ],
    });
  }, { timeout: 120_000 });

  after(async () => {
    if (server !== undefined) {
      kubectl(server, ["delete", "services,pods", "--all", "--wait=true", "--timeout=60s"]);
      await server.stop();
    }
    await upstream?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    // The userspace proxy removes the ClusterIPs it added to lo when it stops.
    assert.deepEqual(loAddresses(), loBefore, "lo has its addresses back");
  }, { timeout: 120_000 });

  test("tk8s server says kube-proxy runs in userspace mode", () => {
    assert.match(server.output(), /tk8s: kube-proxy started \(userspace mode: the process runtime's pods use the host network\); \/healthz on 127\.0\.0\.1:\d+, \/metrics on 127\.0\.0\.1:\d+\n/);
    assert.doesNotMatch(server.output(), /use nameserver/, "process runtime pods keep the host's resolv.conf");
  });

  test("a Service's ClusterIP reaches a host-network pod through the userspace proxy", async () => {
    const www = join(dir, "www");
    spawnSync("mkdir", ["-p", www]);
    writeFileSync(join(www, "index.html"), "served by host-web\n");
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "host-web", labels: { app: "host-web" } },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "httpd", image: "busybox:1.36", command: [BUSYBOX_BINARY, "httpd", "-f", "-p", `127.0.0.1:${podPort}`, "-h", www], ports: [{ containerPort: podPort }] }],
      },
    };
    kubectlOk(server, ["apply", "-f", "-"], { input: JSON.stringify(pod) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/host-web", "--timeout=60s"]);
    kubectlOk(server, ["create", "service", "clusterip", "host-web", `--tcp=80:${podPort}`]);
    const clusterIP = jsonpath(server, ["get", "service", "host-web"], "{.spec.clusterIP}");
    const body = await eventually(`GET http://${clusterIP}/`, 30_000, () => httpGet(clusterIP, 80).catch(() => null));
    assert.equal(body, "served by host-web\n");
    assert.ok(loAddresses().includes(clusterIP), "the ClusterIP is a host address while the proxy runs");
  });

  test("cluster DNS on loopback answers for Services and forwards other names to the node's resolver", async () => {
    const { host, port } = dnsAddressFromOutput(server.output());
    assert.equal(host, "127.0.0.1");
    const resolver = new dnsPromises.Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([`${host}:${port}`]);
    const clusterIP = jsonpath(server, ["get", "service", "host-web"], "{.spec.clusterIP}");
    const answer = await eventually("host-web's A record", 10_000, () => resolver.resolve4("host-web.default.svc.cluster.local").catch(() => null));
    assert.deepEqual(answer, [clusterIP]);
    assert.deepEqual(await resolver.resolve4("kube-dns.kube-system.svc.cluster.local"), ["10.96.0.10"]);
    await assert.rejects(resolver.resolve4("nothing-here.default.svc.cluster.local"), { code: "ENOTFOUND" });
    assert.deepEqual(await resolver.resolve4(OUTSIDE_NAME), [OUTSIDE_ADDRESS]);
    assert.ok(upstream.received.some((q) => q.msg.questions[0]?.name.replace(/\.$/, "") === OUTSIDE_NAME));
  });
});
