/**
 * A second node joins a running `tk8s server` with `tk8s agent --token-file <server>/node-token`: the CA
 * is pinned by the join token, the node's client certificate comes through a CertificateSigningRequest
 * the controller-manager approves and signs, and the kubelet then acts as `system:node:<name>` — allowed
 * its own node's business and nothing else. Stopping the agent makes its node NotReady, and its pods
 * come back on the other node. Real kubectl throughout.
 */
import { removeKubeletMemoryDir } from "../../src/kubelet/memory_dir.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { runAgentToExit, startAgent, type AgentProcess } from "../harness/agent_process.js";
import { TK8S_ENTRY } from "../harness/datastore_process.js";
import { eventually } from "./background_kubectl.js";
import { renderKubeconfig } from "../../src/apiserver/pki/kubeconfig.js";

const AGENT_NODE = "agent-1";
/** Short enough for a test, longer than the kubelet's 10 s lease renewal (upstream's default is 40 s). */
const GRACE = "20s";

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      # Leave a lost node after 2 s instead of upstream's default 300 s.
      tolerations:
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2 }
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2 }
      containers:
      - { name: main, image: busybox:1.36, command: ["sh", "-c", "echo on $NODE; sleep 3600"], env: [{ name: NODE, valueFrom: { fieldRef: { fieldPath: spec.nodeName } } }] }
`;

describe("a second node joins with tk8s agent", { timeout: 300_000 }, () => {
  let server: ApiServerProcess;
  let agent: AgentProcess | undefined;
  let serverNode = "";
  const agentDir = mkdtempSync(join(tmpdir(), "tk8s-agent-e2e-"));

  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer({ cluster: true, extraArgs: ["--node-monitor-grace-period", GRACE] });
    serverNode = kubectlOk(server, ["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
  }, { timeout: 90_000 });
  after(async () => {
    await agent?.stop();
    if (server !== undefined) kubectl(server, ["delete", "deploy", "--all", "--wait=true", "--timeout=30s"]);
    await server?.stop();
    rmSync(agentDir, { recursive: true, force: true });
    removeKubeletMemoryDir(join(agentDir, "kubelet"));
  }, { timeout: 90_000 });

  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });
  const jsonpath = (args: string[], path: string) => ok([...args, "-o", `jsonpath=${path}`]);
  const ready = (node: string) => jsonpath(["get", "node", node], "{.status.conditions[?(@.type==\"Ready\")].status}");
  const runningOn = (app: string, node: string) =>
    jsonpath(["get", "pods", "-l", `app=${app}`, "--field-selector", `status.phase=Running,spec.nodeName=${node}`], "{.items[*].metadata.name}")
      .split(" ")
      .filter((n) => n !== "" && kubectl(server, ["get", "pod", n, "-o", "jsonpath={.metadata.deletionTimestamp}"]).stdout === "");

  test("the server writes a join token only root can read: K10<CA pin>::<bootstrap token>", () => {
    const file = join(server.dataDir, "node-token");
    assert.match(readFileSync(file, "utf8"), /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const id = /::([a-z0-9]{6})\./.exec(readFileSync(file, "utf8"))![1];
    assert.equal(jsonpath(["get", "secret", "-n", "kube-system", `bootstrap-token-${id}`], "{.type}"), "bootstrap.kubernetes.io/token");
  });

  test("an agent refuses a token whose CA pin does not match the server, and a malformed token, with one clear line", async () => {
    const token = readFileSync(join(server.dataDir, "node-token"), "utf8").trim();
    const wrongPin = `K10${"0".repeat(64)}${token.slice(67)}`;
    const pinned = await runAgentToExit(server, ["--token", wrongPin, "--data-dir", join(agentDir, "refused"), "--node-name", "intruder"]);
    assert.notEqual(pinned.code, 0);
    assert.match(pinned.output, /tk8s: the server at 127\.0\.0\.1:\d+ presented no CA matching the join token's CA hash/);
    const malformed = await runAgentToExit(server, ["--token", "hello", "--data-dir", join(agentDir, "refused"), "--node-name", "intruder"]);
    assert.notEqual(malformed.code, 0);
    assert.equal(malformed.output, "tk8s: the join token must look like K10<64 hex digits>::<id>.<secret> (the server's <data dir>/node-token)\n");
    assert.equal(kubectl(server, ["get", "node", "intruder"]).code, 1, "no node registered");
  });

  test("the agent's CSR is auto-approved and signed, and its node registers Ready", async () => {
    agent = await startAgent(server, { nodeName: AGENT_NODE, dataDir: agentDir });
    assert.match(agent.output(), /the cluster CA matches the join token/);
    assert.equal(ready(AGENT_NODE), "True");
    const csrs = ok(["get", "csr", "--no-headers"]);
    assert.match(csrs, /node-csr-[0-9a-f]+\s+\S+\s+kubernetes\.io\/kube-apiserver-client-kubelet\s+system:bootstrap:[a-z0-9]{6}\s+<none>\s+Approved,Issued/);
    const name = /(node-csr-[0-9a-f]+)/.exec(csrs)![1]!;
    assert.equal(jsonpath(["get", "csr", name], "{.status.conditions[0].reason}"), "AutoApproved");
    assert.deepEqual(JSON.parse(jsonpath(["get", "csr", name], "{.spec.groups}")), ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"]);
  });

  test("the node's credentials act as system:node:<name>: its own node only, no writes elsewhere", () => {
    const asNode = { kubeconfig: agent!.kubeconfig };
    assert.equal(kubectl(asNode, ["get", "pods", "-A", "-o", "name"]).code, 0, "a node reads pods");
    const other = kubectl(asNode, ["label", "node", serverNode, "stolen=yes"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`nodes "${serverNode}" is forbidden: node "${AGENT_NODE}" is not allowed to modify node "${serverNode}"`));
    assert.equal(kubectl(asNode, ["label", "node", AGENT_NODE, "mine=yes"]).code, 0, "its own node it may label");
    const cm = kubectl(asNode, ["create", "configmap", "x", "--from-literal=a=b"]);
    assert.equal(cm.code, 1);
    assert.match(cm.stderr, /configmaps is forbidden: User "system:node:agent-1" cannot create resource "configmaps" in API group "" in the namespace "default"/);
  });

  test("pods scheduled to the agent run there, and logs and exec reach them through its kubelet", async () => {
    ok(["cordon", serverNode]);
    ok(["apply", "-f", "-"], deployment("roaming"));
    await eventually(() => runningOn("roaming", AGENT_NODE).length === 2, 60_000, "2 pods running on the agent");
    ok(["uncordon", serverNode]);
    const pod = runningOn("roaming", AGENT_NODE)[0]!;
    await eventually(() => kubectl(server, ["logs", pod]).stdout === `on ${AGENT_NODE}\n`, 20_000, "the pod's log");
    assert.equal(ok(["exec", pod, "--", "sh", "-c", "echo $NODE"]), `${AGENT_NODE}\n`);
  });

  test("stopping the agent makes its node NotReady and tainted, and its pods are replaced on the other node", async () => {
    await agent!.stop();
    await eventually(() => ready(AGENT_NODE) === "Unknown", 60_000, `node ${AGENT_NODE} NotReady`);
    assert.match(ok(["get", "node", AGENT_NODE, "--no-headers"]), /NotReady/);
    assert.match(jsonpath(["get", "node", AGENT_NODE], "{.spec.taints[*].key}"), /node\.kubernetes\.io\/unreachable/);
    await eventually(() => runningOn("roaming", serverNode).length === 2, 90_000, `2 replacement pods running on ${serverNode}`);
    assert.equal(ready(serverNode), "True");
  });

  test("a user's CSR made with openssl waits for kubectl certificate approve, then its certificate authenticates", async () => {
    const key = join(agentDir, "alice.key");
    const req = join(agentDir, "alice.csr");
    const made = spawnSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=alice/O=dev", "-keyout", key, "-out", req], { encoding: "utf8" });
    assert.equal(made.status, 0, made.stderr);
    ok(["apply", "-f", "-"], `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: { name: alice }
spec:
  request: ${readFileSync(req).toString("base64")}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
`);
    assert.match(ok(["get", "csr", "alice", "--no-headers"]), /^alice\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Pending\n$/);
    assert.match(ok(["certificate", "approve", "alice"]), /certificatesigningrequest\.certificates\.k8s\.io\/alice approved/);
    await eventually(() => jsonpath(["get", "csr", "alice"], "{.status.certificate}") !== "", 20_000, "the signed certificate");
    const kubeconfig = join(agentDir, "alice.kubeconfig");
    const certPem = Buffer.from(jsonpath(["get", "csr", "alice"], "{.status.certificate}"), "base64").toString("utf8");
    writeFileSync(kubeconfig, renderKubeconfig({ server: server.url, caPem: server.ca, userName: "alice", clientCertPem: certPem, clientKeyPem: readFileSync(key, "utf8") }));
    const asAlice = kubectl({ kubeconfig }, ["get", "pods"]);
    assert.equal(asAlice.code, 1);
    assert.match(asAlice.stderr, /pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/);
  });

  test("a restarted agent reuses its certificate and its node is Ready again", async () => {
    agent = await startAgent(server, { nodeName: AGENT_NODE, dataDir: agentDir });
    assert.match(agent.output(), /using the node credentials in .*kubelet\.kubeconfig/);
    assert.doesNotMatch(agent.output(), /certificate signing request/);
    await eventually(() => ready(AGENT_NODE) === "True", 30_000, `node ${AGENT_NODE} Ready again`);
  });

  test("tk8s token create issues another join token; list shows it; after delete it no longer joins a node", async () => {
    const tk8s = (...args: string[]) => spawnSync(process.execPath, [TK8S_ENTRY, "token", ...args, "--kubeconfig", server.kubeconfig], { encoding: "utf8", timeout: 30_000 });
    const created = tk8s("create", "--ttl", "1h", "--description", "e2e");
    assert.equal(created.status, 0, created.stderr);
    const m = /^tk8s agent --server (https:\/\/127\.0\.0\.1:\d+) --token (K10[0-9a-f]{64}::([a-z0-9]{6})\.[a-z0-9]{16})\n$/.exec(created.stdout);
    assert.ok(m !== null, created.stdout);
    assert.equal(m[1], server.url);
    const [, , token, id] = m;
    assert.match(tk8s("list").stdout, new RegExp(`^TOKEN-ID\\s+EXPIRES\\s+USAGES\\s+DESCRIPTION\\n(.*\\n)*${id}\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+authentication\\s+e2e\\n`, "m"));
    const second = await startAgent(server, { nodeName: "agent-2", tokenArgs: ["--token", token!] });
    await second.stop();
    assert.equal(tk8s("delete", id!).stdout, `bootstrap token "${id}" deleted\n`);
    const refused = await runAgentToExit(server, ["--token", token!, "--data-dir", join(agentDir, "revoked"), "--node-name", "agent-3"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /tk8s: Unauthorized/);
    ok(["delete", "node", "agent-2"]);
  });
});
