/**
 * The pod network end to end: a private containerd whose CNI conf dir holds the conflist
 * ensurePodNetworkConfig wrote, two pod sandboxes (pause image, network mode POD) each running `busybox httpd`,
 * traffic pod → pod, host → pod and through a hostPort, then removal of everything, checked against a
 * snapshot of the host taken first. The test CIDR, bridge and network names are its own, so it never meets
 * a real node's network. Traffic goes only to loopback, the test's pods and the bridge's gateway address.
 * Outside CI a machine without containerd skips; under CI=true the suite runs and fails with what is missing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { containerdSkipReason, startContainerd, type ContainerdProcess } from "../../test/harness/containerd.js";
import { bridgePorts, hostNetworkSnapshot, removeVarLibCniDirsCreatedSince, requireNetworkPrerequisites, type HostNetworkSnapshot } from "../../test/harness/netns.js";
import { ensureTestImages, type TestImages } from "../../test/harness/test_images.js";
import { DEBIAN_CNI_BIN_DIR } from "../images/containerd_config.js";
import type { PodSandboxConfig } from "../kubelet/cri/cri.js";
import { RemoteContainerRuntime } from "../kubelet/cri/remote/remote_runtime.js";
import { parseIptablesSave, planNatCleanup } from "./iptables_save.js";
import { prepareHostForPods, undoHostPreparation, type HostPreparation } from "./host_prep.js";
import { runtimeNetworkNotReadyMessage } from "./network_readiness.js";
import { podIPsFromSandboxStatus } from "./pod_ips.js";
import { ensurePodNetworkConfig, HOST_LOCAL_DATA_DIR, removePodNetwork } from "./pod_network.js";
import { cidrContains, parseIpv4Cidr, podGateway } from "./pod_network_config.js";

const SUITE_TIMEOUT_MS = 180_000;
const WAIT_MS_MAX = 15_000;
const WAIT_POLL_MS = 100;
const HTTP_TIMEOUT_MS = 3_000;
const HTTPD_PORT = 8080;

const suffix = randomBytes(3).toString("hex");
const bridgeName = `tk8st${suffix}`;
const networkName = `tk8s-test-${suffix}`;

/** A /24 under 10.244.200.0/21 that no route on this host covers yet (parallel runs pick different ones). */
function freePodCIDR(): string {
  const routes = readFileSync("/proc/net/route", "utf8");
  for (let i = 0; i < 50; i++) {
    const third = 200 + (randomBytes(1)[0]! % 50);
    // /proc/net/route holds destinations as little-endian hex: 10.244.<third>.0 → 00 <third> F4 0A.
    const hex = `00${third.toString(16).padStart(2, "0")}F40A`.toUpperCase();
    if (!routes.includes(`\t${hex}\t`)) return `10.244.${third}.0/24`;
  }
  throw new Error("no free 10.244.200-249.0/24 for the test");
}

async function eventually<T>(what: string, fn: () => T | null | Promise<T | null>): Promise<T> {
  const deadline = Date.now() + WAIT_MS_MAX;
  let last = "";
  // Bounded by the deadline.
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
  throw new Error(`timed out after ${WAIT_MS_MAX} ms waiting for ${what}${last === "" ? "" : `: ${last}`}`);
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: "/", timeout: HTTP_TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`timed out connecting to ${host}:${port}`)));
    req.on("error", reject);
  });
}

/** A TCP port nothing listens on right now, on any address (the hostPort must be free on the node). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "0.0.0.0", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("the pod network through CNI on a private containerd", { skip: containerdSkipReason(), timeout: SUITE_TIMEOUT_MS }, () => {
  let before0: HostNetworkSnapshot;
  let prep: HostPreparation | undefined;
  let confDir: string;
  let logRoot: string;
  let containerd: ContainerdProcess | undefined;
  let runtime: RemoteContainerRuntime | undefined;
  let images: TestImages;
  let podCIDR: string;
  let hostPort: number;
  const pods: { name: string; sandboxId: string; containerId: string; ip: string }[] = [];

  before(async () => {
    requireNetworkPrerequisites();
    before0 = hostNetworkSnapshot({ networkName, bridgeName });
    podCIDR = freePodCIDR();
    hostPort = await freePort();
    confDir = mkdtempSync(join(tmpdir(), "tk8s-cni-conf-"));
    logRoot = mkdtempSync(join(tmpdir(), "tk8s-cni-logs-"));
    prep = prepareHostForPods();
    containerd = await startContainerd({ cniConfDir: confDir });
    images = await ensureTestImages(containerd.address);
    runtime = new RemoteContainerRuntime(containerd.address);
  });

  after(async () => {
    // Best effort and idempotent: the last test does the same and asserts it; this runs when a test failed early.
    for (const p of pods) {
      await runtime?.stopPodSandbox(p.sandboxId).catch(() => undefined);
      await runtime?.removePodSandbox(p.sandboxId).catch(() => undefined);
    }
    runtime?.close();
    await containerd?.stop();
    try {
      removePodNetwork({ confDir, bridgeName, networkName });
    } finally {
      if (prep !== undefined) undoHostPreparation(prep);
      if (before0 !== undefined) removeVarLibCniDirsCreatedSince(before0);
      if (confDir !== undefined) rmSync(confDir, { recursive: true, force: true });
      if (logRoot !== undefined) rmSync(logRoot, { recursive: true, force: true });
    }
  });

  test("containerd reports NetworkReady once the conflist is written into its conf dir while it runs", async () => {
    const initially = (await runtime!.status()).status.conditions;
    assert.equal(runtimeNetworkNotReadyMessage(initially), "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized");
    const result = ensurePodNetworkConfig({ confDir, binDir: DEBIAN_CNI_BIN_DIR, podCIDR, bridgeName, networkName });
    assert.equal(result.changed, true);
    assert.deepEqual(result.precedingConfigs, []);
    await eventually("NetworkReady", async () => {
      const conditions = (await runtime!.status()).status.conditions;
      return runtimeNetworkNotReadyMessage(conditions) === null ? true : null;
    });
  });

  test("two pod sandboxes get distinct IPs in the pod CIDR, routed through the bridge's gateway", async () => {
    const cidr = parseIpv4Cidr(podCIDR);
    for (const name of ["web-a", "web-b"]) {
      const config: PodSandboxConfig = {
        metadata: { name, uid: `uid-${name}-${suffix}`, namespace: "default", attempt: 0 },
        hostname: name,
        logDirectory: join(logRoot, name),
        labels: { "io.kubernetes.pod.name": name },
        // Only web-a publishes a hostPort, as a pod spec's `ports: [{containerPort: 8080, hostPort: N}]` would.
        portMappings: name === "web-a" ? [{ protocol: "TCP", containerPort: HTTPD_PORT, hostPort }] : [],
        linux: { securityContext: { namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" } } },
      };
      const { podSandboxId } = await runtime!.runPodSandbox({ config });
      const status = (await runtime!.podSandboxStatus(podSandboxId)).status;
      const { podIP, podIPs } = podIPsFromSandboxStatus(status, { hostNetwork: false, hostIPs: ["192.0.2.2"] });
      assert.ok(cidrContains(cidr, podIP), `${podIP} is in ${podCIDR}`);
      assert.notEqual(podIP, podGateway(cidr));
      assert.deepEqual(podIPs, [{ ip: podIP }]);
      const { containerId } = await runtime!.createContainer({
        podSandboxId, sandboxConfig: config,
        config: {
          metadata: { name: "httpd", attempt: 0 },
          image: { image: images.busybox },
          command: ["sh", "-c", `mkdir -p /www && echo hello-from-${name} > /www/index.html && exec httpd -f -p ${HTTPD_PORT} -h /www`],
          logPath: "httpd/0.log",
        },
      });
      await runtime!.startContainer(containerId);
      pods.push({ name, sandboxId: podSandboxId, containerId, ip: podIP });
    }
    assert.notEqual(pods[0]!.ip, pods[1]!.ip);
    assert.ok(existsSync(join(HOST_LOCAL_DATA_DIR, networkName, pods[0]!.ip)), "host-local reserved the address");
    assert.equal(bridgePorts(bridgeName).length, 2, "each pod's veth is on the bridge");
    const route = await runtime!.execSync({ containerId: pods[0]!.containerId, cmd: ["ip", "route"], timeout: 5 });
    assert.match(Buffer.from(route.stdout).toString(), new RegExp(`^default via ${podGateway(cidr).replace(/\./g, "\\.")} dev eth0`, "m"));
  });

  test("the host reaches each pod's httpd at the pod IP", async () => {
    for (const p of pods) {
      const body = await eventually(`httpd in ${p.name}`, () => httpGet(p.ip, HTTPD_PORT));
      assert.equal(body, `hello-from-${p.name}\n`);
    }
  });

  test("a pod reaches the other pod by its IP, and a port nobody listens on is refused", async () => {
    const [a, b] = [pods[0]!, pods[1]!];
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const r = await runtime!.execSync({ containerId: from.containerId, cmd: ["wget", "-qO-", `http://${to.ip}:${HTTPD_PORT}/`], timeout: 10 });
      assert.equal(r.exitCode, 0, Buffer.from(r.stderr).toString());
      assert.equal(Buffer.from(r.stdout).toString(), `hello-from-${to.name}\n`);
    }
    // The control for the check below: nc connects to a port that listens and exits 0 at its stdin's end.
    const open = await runtime!.execSync({ containerId: a.containerId, cmd: ["nc", "-w", "2", b.ip, String(HTTPD_PORT)], timeout: 10 });
    assert.equal(open.exitCode, 0, Buffer.from(open.stderr).toString());
    // busybox wget segfaults on a refused connection; nc exits 1.
    const refused = await runtime!.execSync({ containerId: a.containerId, cmd: ["nc", "-w", "2", b.ip, String(HTTPD_PORT + 1)], timeout: 10 });
    assert.notEqual(refused.exitCode, 0);
  });

  test("the hostPort reaches web-a from the host on 127.0.0.1 and from web-b on the node's bridge address", async () => {
    const body = await eventually("hostPort on 127.0.0.1", () => httpGet("127.0.0.1", hostPort));
    assert.equal(body, "hello-from-web-a\n");
    const gateway = podGateway(parseIpv4Cidr(podCIDR));
    const r = await runtime!.execSync({ containerId: pods[1]!.containerId, cmd: ["wget", "-qO-", `http://${gateway}:${hostPort}/`], timeout: 10 });
    assert.equal(Buffer.from(r.stdout).toString(), "hello-from-web-a\n", Buffer.from(r.stderr).toString());
    // web-a reaches itself through its own hostPort: that is what hairpinMode is for.
    const hairpin = await runtime!.execSync({ containerId: pods[0]!.containerId, cmd: ["wget", "-qO-", `http://${gateway}:${hostPort}/`], timeout: 10 });
    assert.equal(Buffer.from(hairpin.stdout).toString(), "hello-from-web-a\n", Buffer.from(hairpin.stderr).toString());
    // web-b published no hostPort: the next port is not mapped to anything.
    const unmapped = await runtime!.execSync({ containerId: pods[1]!.containerId, cmd: ["nc", "-w", "2", gateway, String(hostPort + 1)], timeout: 10 });
    assert.notEqual(unmapped.exitCode, 0);
  });

  test("while the pods run, the live nat table holds what planNatCleanup would remove: a masquerade chain per pod, web-a's hostPort chain", () => {
    const save = execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" });
    const plan = planNatCleanup(parseIptablesSave(save), networkName);
    const byComment = (id: string) => plan.rules.filter((r) => r.comment.includes(`id: "${id}"`));
    const [a, b] = [pods[0]!, pods[1]!];
    assert.ok(byComment(a.sandboxId).some((r) => r.chain === "POSTROUTING" && r.args.includes(`${a.ip}/32`)), save);
    assert.ok(byComment(b.sandboxId).some((r) => r.chain === "POSTROUTING" && r.args.includes(`${b.ip}/32`)), save);
    const dnat = byComment(a.sandboxId).filter((r) => r.chain === "CNI-HOSTPORT-DNAT");
    assert.equal(dnat.length, 1, save);
    assert.ok(dnat[0]!.target.startsWith("CNI-DN-"));
    assert.equal(byComment(b.sandboxId).filter((r) => r.chain === "CNI-HOSTPORT-DNAT").length, 0);
    assert.ok(plan.chains.includes(dnat[0]!.target));
    // bridge ipMasq names its chain "CNI-" + 24 hex digits (libcni FormatChainName): the harness snapshot relies on it.
    assert.equal(plan.chains.filter((c) => /^CNI-[0-9a-f]{24}$/.test(c)).length, 2, plan.chains.join(","));
  });

  test("removing the sandboxes and then the pod network leaves the host as it was", async () => {
    const ports = bridgePorts(bridgeName);
    for (const p of pods.splice(0)) {
      await runtime!.stopPodSandbox(p.sandboxId);
      await runtime!.removePodSandbox(p.sandboxId);
    }
    assert.equal(existsSync(join(HOST_LOCAL_DATA_DIR, networkName, "last_reserved_ip.0")), true, "host-local keeps its cursor after DEL");
    // CNI DEL removes each pod's own rules but leaves portmap's shared CNI-HOSTPORT-* chains: removePodNetwork's job.
    const leftAfterDel = hostNetworkSnapshot({ networkName, bridgeName }).cniNatLines;
    assert.ok(!leftAfterDel.some((l) => l.includes(`"${networkName}"`)), "CNI DEL removed the pods' own rules");
    const removed = removePodNetwork({ confDir, bridgeName, networkName });
    assert.deepEqual(removed.natRules.filter((r) => r.includes(`"${networkName}"`)), []);
    // With no other CNI user on the host (the usual case), portmap's shared chains were ours to remove.
    if (before0.cniNatLines.length === 0) assert.equal(execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" }).includes("CNI-HOSTPORT"), false);
    assert.equal(removed.removedConfig, true);
    assert.equal(removed.removedBridge, true);
    assert.equal(removed.removedIpamState, true);
    for (const veth of ports) assert.equal(existsSync(`/sys/class/net/${veth}`), false, `${veth} is gone`);
    assert.equal(existsSync(`/sys/class/net/${bridgeName}`), false);
    assert.deepEqual(readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(containerd!.state) && l.includes("nsfs")), [], "no pod netns stays mounted");
    assert.equal(readFileSync("/proc/net/route", "utf8").includes(bridgeName), false, "the pod CIDR's route went with the bridge");
    // Once the only hostPort user is gone, portmap's shared chains go too; the nat table is as before.
    undoHostPreparation(prep!);
    prep = undefined;
    removeVarLibCniDirsCreatedSince(before0);
    const now = hostNetworkSnapshot({ networkName, bridgeName });
    assert.deepEqual(now, before0);
  });
});
