import { test } from "node:test";
import assert from "node:assert/strict";
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  findNodeRoles,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podPrinter,
  podTemplatePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from "./core_printers.js";
import type { Printer } from "./printer.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ctx = { nowMs: NOW };
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const MIN = 60_000;
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: "default", creationTimestamp: ago(10 * MIN), ...extra });
const cells = (p: Printer, obj: object) => p.print(obj, ctx).cells;
const names = (p: Printer) => p.columns.map((c) => c.name);
const defaultView = (p: Printer, obj: object) => cells(p, obj).filter((_, i) => p.columns[i]!.priority === 0);

test("pod: the columns are NAME READY STATUS RESTARTS AGE, and IP NODE NOMINATED NODE READINESS GATES with -o wide", () => {
  assert.deepEqual(names(podPrinter), ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]);
  assert.deepEqual(
    podPrinter.columns.map((c) => c.priority),
    [0, 0, 0, 0, 0, 1, 1, 1, 1],
  );
  assert.equal(podPrinter.columns[0]!.format, "name");
  // 1.32 prints RESTARTS as text ("2 (5m ago)"), so the column is a string.
  assert.equal(podPrinter.columns[3]!.type, "string");
});

test("pod: one running ready container with 2 restarts prints web 1/1 Running 2 (5m ago) 10m", () => {
  const pod = {
    metadata: meta("web"),
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "nginx" }], readinessGates: [{ conditionType: "example.com/lb" }] },
    status: {
      phase: "Running",
      podIP: "10.244.0.5",
      podIPs: [{ ip: "10.244.0.5" }],
      conditions: [{ type: "example.com/lb", status: "True" }],
      containerStatuses: [
        {
          name: "app",
          ready: true,
          restartCount: 2,
          state: { running: { startedAt: ago(4 * MIN) } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } },
        },
      ],
    },
  };
  assert.deepEqual(cells(podPrinter, pod), ["web", "1/1", "Running", "2 (5m ago)", "10m", "10.244.0.5", "node-1", "<none>", "1/1"]);
  assert.equal(podPrinter.print(pod, ctx).conditions, undefined);
});

test("pod: a pending pod shows <none> for IP, node and readiness gates", () => {
  const pod = { metadata: meta("p"), spec: { containers: [{ name: "a" }] }, status: { phase: "Pending" } };
  assert.deepEqual(cells(podPrinter, pod), ["p", "0/1", "Pending", "0", "10m", "<none>", "<none>", "<none>", "<none>"]);
});

test("pod: succeeded and failed pods carry upstream's Completed row condition", () => {
  const done = { metadata: meta("j"), spec: { containers: [{ name: "a" }] }, status: { phase: "Succeeded" } };
  assert.deepEqual(podPrinter.print(done, ctx).conditions, [
    { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
  ]);
  const failed = { ...done, status: { phase: "Failed" } };
  assert.deepEqual(podPrinter.print(failed, ctx).conditions, [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }]);
});

const serviceCases = [
  {
    name: "a ClusterIP service",
    svc: { spec: { type: "ClusterIP", clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }], selector: { k8s: "dns" } } },
    want: ["svc", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "10m", "k8s=dns"],
  },
  {
    name: "a headless service with no ports or selector",
    svc: { spec: { type: "ClusterIP", clusterIP: "None", clusterIPs: ["None"] } },
    want: ["svc", "ClusterIP", "None", "<none>", "<none>", "10m", "<none>"],
  },
  {
    name: "a NodePort service with an external IP",
    svc: { spec: { type: "NodePort", clusterIPs: ["10.96.1.1"], externalIPs: ["192.0.2.7"], ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }], selector: { app: "web" } } },
    want: ["svc", "NodePort", "10.96.1.1", "192.0.2.7", "80:30080/TCP", "10m", "app=web"],
  },
  {
    name: "a LoadBalancer service still waiting for its address",
    svc: { spec: { type: "LoadBalancer", clusterIPs: ["10.96.1.2"], ports: [{ port: 443, nodePort: 30443, protocol: "TCP" }] } },
    want: ["svc", "LoadBalancer", "10.96.1.2", "<pending>", "443:30443/TCP", "10m", "<none>"],
  },
  {
    name: "a LoadBalancer service with ingress points and external IPs lists both",
    svc: {
      spec: { type: "LoadBalancer", clusterIPs: ["10.96.1.3"], externalIPs: ["192.0.2.9"], ports: [{ port: 80, nodePort: 31000, protocol: "TCP" }] },
      status: { loadBalancer: { ingress: [{ ip: "203.0.113.20" }, { hostname: "a-very-long-load-balancer-name.example.com" }] } },
    },
    want: ["svc", "LoadBalancer", "10.96.1.3", "203.0.113.20,a-very-long-load-balancer-name.example.com,192.0.2.9", "80:31000/TCP", "10m", "<none>"],
  },
  {
    name: "an ExternalName service shows its external name and no cluster IP",
    svc: { spec: { type: "ExternalName", externalName: "db.example.com" } },
    want: ["svc", "ExternalName", "<none>", "db.example.com", "<none>", "10m", "<none>"],
  },
  {
    name: "a service without a type is a ClusterIP service (the default)",
    svc: { spec: { clusterIP: "10.96.9.9", ports: [{ port: 80 }] } },
    want: ["svc", "ClusterIP", "10.96.9.9", "<none>", "80/TCP", "10m", "<none>"],
  },
];
for (const c of serviceCases) {
  test(`service: ${c.name}`, () => assert.deepEqual(cells(servicePrinter, { metadata: meta("svc"), ...c.svc }), c.want));
}
test("service: the columns are NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, SELECTOR with -o wide", () => {
  assert.deepEqual(names(servicePrinter), ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]);
  assert.equal(servicePrinter.columns[6]!.priority, 1);
});

test("endpoints: addresses with ports", () => {
  const ep = { metadata: meta("web"), subsets: [{ addresses: [{ ip: "10.244.0.5" }, { ip: "10.244.0.6" }], ports: [{ port: 8080 }] }] };
  assert.deepEqual(cells(endpointsPrinter, ep), ["web", "10.244.0.5:8080,10.244.0.6:8080", "10m"]);
  assert.deepEqual(cells(endpointsPrinter, { metadata: meta("empty") }), ["empty", "<none>", "10m"]);
});

test("findNodeRoles: roles from node-role.kubernetes.io/* and kubernetes.io/role, sorted, each once", () => {
  assert.deepEqual(
    findNodeRoles({ "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "true", "kubernetes.io/role": "master", "node-role.kubernetes.io/": "" }),
    ["control-plane", "master", "worker"],
  );
  assert.deepEqual(findNodeRoles({ "kubernetes.io/role": "" }), []);
});

test("node: a ready control-plane node", () => {
  const node = {
    metadata: { name: "cp-1", creationTimestamp: ago(3 * 24 * 60 * MIN), labels: { "node-role.kubernetes.io/control-plane": "" } },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False" },
        { type: "Ready", status: "True" },
      ],
      addresses: [
        { type: "Hostname", address: "cp-1" },
        { type: "InternalIP", address: "172.18.0.2" },
      ],
      nodeInfo: { kubeletVersion: "v1.32.0", osImage: "Debian GNU/Linux 12 (bookworm)", kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.7.24" },
    },
  };
  assert.deepEqual(cells(nodePrinter, node), [
    "cp-1",
    "Ready",
    "control-plane",
    "3d",
    "v1.32.0",
    "172.18.0.2",
    "<none>",
    "Debian GNU/Linux 12 (bookworm)",
    "6.1.0",
    "containerd://1.7.24",
  ]);
  assert.deepEqual(names(nodePrinter).slice(0, 5), ["Name", "Status", "Roles", "Age", "Version"]);
});

test("node: not ready and cordoned, no roles, no info", () => {
  const node = { metadata: meta("n2"), spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } };
  assert.deepEqual(cells(nodePrinter, node), ["n2", "NotReady,SchedulingDisabled", "<none>", "10m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]);
  assert.equal(cells(nodePrinter, { metadata: meta("n3") })[1], "Unknown");
});

test("event: LAST SEEN TYPE REASON OBJECT MESSAGE by default, the rest with -o wide", () => {
  const ev = {
    metadata: meta("web.17d"),
    involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{app}" },
    reason: "Pulled",
    message: "  Successfully pulled image \"nginx\"\n",
    type: "Normal",
    source: { component: "kubelet", host: "node-1" },
    firstTimestamp: ago(20 * MIN),
    lastTimestamp: ago(2 * MIN),
    count: 3,
  };
  assert.deepEqual(cells(eventPrinter, ev), ["2m", "Normal", "Pulled", "pod/web", "spec.containers{app}", "kubelet, node-1", "Successfully pulled image \"nginx\"", "20m", 3, "web.17d"]);
  assert.deepEqual(defaultView(eventPrinter, ev), ["2m", "Normal", "Pulled", "pod/web", "Successfully pulled image \"nginx\""]);
});

test("event: a new-API event without timestamps or count uses eventTime, the series and the reporting controller", () => {
  const single = { metadata: meta("e1"), involvedObject: { kind: "Node" }, eventTime: "2024-06-01T11:59:30.000000Z", reportingComponent: "scheduler", type: "Warning", reason: "X", message: "m" };
  assert.deepEqual(cells(eventPrinter, single), ["30s", "Warning", "X", "node", "", "scheduler", "m", "30s", 1, "e1"]);
  const series = { ...single, series: { count: 7, lastObservedTime: "2024-06-01T11:59:50.000000Z" } };
  assert.deepEqual(cells(eventPrinter, series).slice(0, 1), ["10s"]);
  assert.equal(cells(eventPrinter, series)[8], 7);
});

test("namespace, secret, serviceaccount, configmap: their counts and status", () => {
  assert.deepEqual(cells(namespacePrinter, { metadata: meta("kube-system"), status: { phase: "Active" } }), ["kube-system", "Active", "10m"]);
  assert.deepEqual(cells(secretPrinter, { metadata: meta("tls"), type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }), ["tls", "kubernetes.io/tls", 2, "10m"]);
  assert.deepEqual(cells(secretPrinter, { metadata: meta("s"), data: { a: "" }, stringData: { a: "x", b: "y" } }), ["s", "Opaque", 2, "10m"]);
  assert.deepEqual(cells(serviceAccountPrinter, { metadata: meta("default") }), ["default", 0, "10m"]);
  assert.deepEqual(cells(configMapPrinter, { metadata: meta("kube-root-ca.crt"), data: { "ca.crt": "x" }, binaryData: { b: "AA==" } }), ["kube-root-ca.crt", 2, "10m"]);
});

test("persistentvolume: capacity, modes, claim and class", () => {
  const pv = {
    metadata: meta("pv-1"),
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      claimRef: { namespace: "default", name: "data" },
      storageClassName: "standard",
      volumeMode: "Filesystem",
    },
    status: { phase: "Bound" },
  };
  assert.deepEqual(cells(persistentVolumePrinter, pv), ["pv-1", "10Gi", "RWO", "Retain", "Bound", "default/data", "standard", "<unset>", "", "10m", "Filesystem"]);
  const deleting = { ...pv, metadata: meta("pv-1", { deletionTimestamp: ago(0) }) };
  assert.equal(cells(persistentVolumePrinter, deleting)[4], "Terminating");
});

test("persistentvolumeclaim: an unbound claim shows no capacity or modes; a bound one shows the volume's", () => {
  const pending = { metadata: meta("data"), spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "standard" }, status: { phase: "Pending" } };
  assert.deepEqual(cells(persistentVolumeClaimPrinter, pending), ["data", "Pending", "", "", "", "standard", "<unset>", "10m", "<unset>"]);
  const bound = {
    metadata: meta("data", { annotations: { "volume.beta.kubernetes.io/storage-class": "legacy" } }),
    spec: { ...pending.spec, volumeName: "pv-1", volumeMode: "Filesystem" },
    status: { phase: "Bound", capacity: { storage: "10Gi" }, accessModes: ["ReadWriteOnce"] },
  };
  assert.deepEqual(cells(persistentVolumeClaimPrinter, bound), ["data", "Bound", "pv-1", "10Gi", "RWO", "legacy", "<unset>", "10m", "Filesystem"]);
});

test("resourcequota: requests and counts under REQUEST, limits.* under LIMIT, sorted", () => {
  const quota = {
    metadata: meta("compute"),
    status: {
      hard: { "limits.memory": "2Gi", pods: "10", "requests.cpu": "1", "limits.cpu": "2" },
      used: { pods: "3", "requests.cpu": "500m", "limits.cpu": "1" },
    },
  };
  assert.deepEqual(cells(resourceQuotaPrinter, quota), ["compute", "pods: 3/10, requests.cpu: 500m/1", "limits.cpu: 1/2, limits.memory: 0/2Gi", "10m"]);
});

test("replicationcontroller and podtemplate: counts, containers and labels", () => {
  const rc = {
    metadata: meta("rc"),
    spec: { replicas: 3, selector: { app: "x" }, template: { spec: { containers: [{ name: "a", image: "img:1" }] } } },
    status: { replicas: 3, readyReplicas: 2 },
  };
  assert.deepEqual(cells(replicationControllerPrinter, rc), ["rc", 3, 3, 2, "10m", "a", "img:1", "app=x"]);
  const pt = { metadata: meta("pt"), template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "a", image: "i" }, { name: "b", image: "j" }] } } };
  assert.deepEqual(cells(podTemplatePrinter, pt), ["pt", "a,b", "i,j", "app=x"]);
});
