import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { ContainerConfigError, containerConfig, expandVars, sandboxConfig } from "./container_config.js";
import type { VolumeSources } from "./volumes/volume_manager.js";

test("expandVars: $(VAR) references, $$ escapes, unknown references kept", () => {
  const env = new Map([["A", "1"], ["B", "two"]]);
  const cases = [["$(A)-$(B)", "1-two"], ["$$(A)", "$(A)"], ["$(C)", "$(C)"], ["x$", "x$"], ["$(A", "$(A"]];
  for (const [input, want] of cases) assert.equal(expandVars(input!, env), want, input);
});

const sources: VolumeSources = {
  getConfigMap: async (_ns, name) => (name === "cm" ? { data: { k: "from-cm" } } : null),
  getSecret: async () => null,
  requestToken: async () => ({ token: "", expiresAtMs: 0 }),
};

test("containerConfig: env from values, fields and ConfigMaps, expanded into args; labels, log path, mounts", async () => {
  const pod: Pod = { metadata: { name: "web", namespace: "ns", uid: "u" }, spec: { containers: [] } };
  const cfg = await containerConfig({
    pod,
    container: {
      name: "c", image: "busybox", command: ["sh", "-c"], args: ["echo $(GREETING) $(POD)"],
      env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } }, { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      volumeMounts: [{ name: "v", mountPath: "/data" }],
    },
    restartCount: 2, volumes: new Map([["v", "/host/v"]]), sources, imageRef: "sha256:1", nodeAllocatable: {},
  });
  assert.deepEqual(cfg.args, ["echo from-cm web"]);
  assert.equal(cfg.logPath, "c/2.log");
  assert.equal(cfg.metadata.attempt, 2);
  assert.equal(cfg.labels?.["io.kubernetes.pod.uid"], "u");
  assert.deepEqual(cfg.mounts, [{ containerPath: "/data", hostPath: "/host/v", readonly: false }]);
  await assert.rejects(
    containerConfig({ pod, container: { name: "c", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "nope" } } }] }, restartCount: 0, volumes: new Map(), sources, imageRef: "", nodeAllocatable: {} }),
    (e: unknown) => e instanceof ContainerConfigError && e.message === "couldn't find key nope in ConfigMap ns/cm",
  );
});

const base = (spec: Partial<Pod["spec"]> = {}): Pod => ({ metadata: { name: "web", namespace: "ns", uid: "u", labels: { app: "web" } }, spec: { containers: [{ name: "c", ports: [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP", hostPort: 5353 }] }], ...spec } });

test("sandboxConfig: a pod with its own network gets a hostname and the pod's namespaces, as upstream's NamespacesForPod", () => {
  const cfg = sandboxConfig(base(), 1, { logRoot: "/var/log/pods" });
  assert.equal(cfg.hostname, "web");
  assert.equal(cfg.metadata.attempt, 1);
  assert.equal(cfg.logDirectory, "/var/log/pods/ns_web_u");
  assert.deepEqual(cfg.linux?.securityContext?.namespaceOptions, { network: "POD", pid: "CONTAINER", ipc: "POD" });
  assert.equal(cfg.labels?.app, "web");
  assert.equal(cfg.labels?.["io.kubernetes.pod.uid"], "u");
  assert.equal(cfg.linux?.cgroupParent, undefined, "no cgroup parent unless asked for");
  assert.equal(cfg.dnsConfig, undefined);
});

test("sandboxConfig: a host-network pod gets no hostname (runc refuses one without a UTS namespace)", () => {
  const cfg = sandboxConfig(base({ hostNetwork: true, hostPID: true, hostIPC: true }), 0, { logRoot: "/l" });
  assert.equal("hostname" in cfg, false);
  assert.deepEqual(cfg.linux?.securityContext?.namespaceOptions, { network: "NODE", pid: "NODE", ipc: "NODE" });
});

test("sandboxConfig: shareProcessNamespace puts the containers in one PID namespace", () => {
  assert.equal(sandboxConfig(base({ shareProcessNamespace: true }), 0, { logRoot: "/l" }).linux?.securityContext?.namespaceOptions?.pid, "POD");
});

test("sandboxConfig: every container port is mapped, hostPort 0 where none is asked for", () => {
  assert.deepEqual(sandboxConfig(base(), 0, { logRoot: "/l" }).portMappings, [
    { protocol: "TCP", containerPort: 80, hostPort: 0 },
    { protocol: "UDP", containerPort: 53, hostPort: 5353 },
  ]);
});

test("sandboxConfig: spec.hostname wins, and a long pod name is cut to 63 bytes without a trailing dash", () => {
  assert.equal(sandboxConfig(base({ hostname: "h1" }), 0, { logRoot: "/l" }).hostname, "h1");
  const long: Pod = { metadata: { name: `${"a".repeat(62)}-b`, namespace: "ns", uid: "u" }, spec: { containers: [] } };
  assert.equal(sandboxConfig(long, 0, { logRoot: "/l" }).hostname, "a".repeat(62));
});

test("sandboxConfig: DNS config, cgroup parent, resources, sysctls, privileged and groups as upstream", () => {
  const pod = base({
    securityContext: { fsGroup: 2000, supplementalGroups: [3000], sysctls: [{ name: "net.core.somaxconn", value: "1024" }], runAsUser: 1000 },
  });
  pod.spec!.containers[0]!.resources = { requests: { cpu: "100m" }, limits: { memory: "64Mi" } };
  pod.spec!.containers[0]!.securityContext = { privileged: true };
  const dnsConfig = { servers: ["10.96.0.10"], searches: ["ns.svc.cluster.local"], options: ["ndots:5"] };
  const cfg = sandboxConfig(pod, 0, { logRoot: "/l", dnsConfig, cgroupsPerQos: true });
  assert.deepEqual(cfg.dnsConfig, dnsConfig);
  assert.equal(cfg.linux?.cgroupParent, "/kubepods/burstable/podu");
  assert.deepEqual(cfg.linux?.resources, { cpuShares: 102, memoryLimitInBytes: 64 * 1024 * 1024, cpuQuota: 0, cpuPeriod: 100_000 });
  assert.deepEqual(cfg.linux?.sysctls, { "net.core.somaxconn": "1024" });
  assert.equal(cfg.linux?.securityContext?.privileged, true, "a privileged container needs a privileged sandbox");
  assert.deepEqual(cfg.linux?.securityContext?.supplementalGroups, [2000, 3000]);
  assert.deepEqual(cfg.linux?.securityContext?.runAsUser, { value: 1000 });
});

test("containerConfig: CPU and memory from requests and limits, and the container's security context", async () => {
  const container = { name: "c", resources: { requests: { cpu: "250m" }, limits: { cpu: "1", memory: "16Mi" } }, securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } } };
  const pod: Pod = { metadata: { name: "web", namespace: "ns", uid: "u" }, spec: { containers: [container] } };
  const cfg = await containerConfig({
    pod,
    container,
    restartCount: 0, volumes: new Map(), sources, imageRef: "sha256:1", nodeAllocatable: {}, memoryCapacityBytes: 1024 ** 3,
  });
  assert.deepEqual(cfg.linux?.resources, { cpuShares: 256, cpuQuota: 100_000, cpuPeriod: 100_000, memoryLimitInBytes: 16 * 1024 * 1024, oomScoreAdj: 1000 - 1 });
  assert.deepEqual(cfg.linux?.securityContext, {
    namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" },
    readonlyRootfs: true,
    capabilities: { addCapabilities: ["NET_ADMIN"], dropCapabilities: ["ALL"] },
    noNewPrivs: true,
  });
});
