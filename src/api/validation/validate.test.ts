import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDefaults } from "../defaults/defaults.js";
import { invalidError } from "./field_errors.js";
import { validateCreate, validateUpdate } from "./validate.js";

type Obj = Record<string, any>;

/** Defaults a manifest as the API server does before validation, then returns the 422 message or "". */
function createMessage(group: string, kind: string, manifest: Obj): string {
  const obj = structuredClone(manifest);
  applyDefaults(group, "v1", kind, obj);
  const errs = validateCreate(group, "v1", kind, obj);
  return errs.length === 0 ? "" : invalidError(group, kind, String(obj.metadata?.name ?? ""), errs).message;
}

function updateMessage(group: string, kind: string, manifest: Obj, oldManifest: Obj, subresource?: string): string {
  const obj = structuredClone(manifest);
  const old = structuredClone(oldManifest);
  applyDefaults(group, "v1", kind, obj);
  applyDefaults(group, "v1", kind, old);
  // The store fills in the current resourceVersion of an unconditional update before validating.
  obj.metadata.resourceVersion ??= "1";
  const errs = validateUpdate(group, "v1", kind, obj, old, subresource);
  return errs.length === 0 ? "" : invalidError(group, kind, String(obj.metadata?.name ?? ""), errs).message;
}

const meta = (name: string, extra: Obj = {}): Obj => ({ name, namespace: "default", ...extra });
const podSpec = (extra: Obj = {}): Obj => ({ containers: [{ name: "web", image: "nginx:1.27" }], ...extra });
const template = (labels: Obj, spec: Obj = podSpec()): Obj => ({ metadata: { labels }, spec });

const VALID: { name: string; group: string; kind: string; obj: Obj }[] = [
  { name: "a minimal pod", group: "", kind: "Pod", obj: { metadata: meta("web"), spec: podSpec() } },
  {
    name: "a pod with ports, env, probes, volumes and resources",
    group: "",
    kind: "Pod",
    obj: {
      metadata: meta("web", { labels: { app: "web", "example.com/tier": "front" } }),
      spec: {
        volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "cfg" } }],
        containers: [
          {
            name: "web",
            image: "nginx",
            ports: [{ name: "http", containerPort: 80 }],
            env: [{ name: "MODE", value: "x" }, { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "1Gi" } },
            volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cfg", mountPath: "/etc/cfg" }],
            readinessProbe: { httpGet: { path: "/", port: 80 } },
            livenessProbe: { tcpSocket: { port: "http" } },
          },
        ],
        initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
        tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
        nodeSelector: { "kubernetes.io/os": "linux" },
      },
    },
  },
  { name: "a ClusterIP service", group: "", kind: "Service", obj: { metadata: meta("web"), spec: { selector: { app: "web" }, ports: [{ port: 80 }] } } },
  { name: "a NodePort service", group: "", kind: "Service", obj: { metadata: meta("np"), spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] } } },
  { name: "a LoadBalancer service", group: "", kind: "Service", obj: { metadata: meta("lb"), spec: { type: "LoadBalancer", ports: [{ port: 443, targetPort: "https" }] } } },
  { name: "a headless service without ports", group: "", kind: "Service", obj: { metadata: meta("db"), spec: { clusterIP: "None" } } },
  { name: "an ExternalName service", group: "", kind: "Service", obj: { metadata: meta("ext"), spec: { type: "ExternalName", externalName: "example.com" } } },
  { name: "a config map", group: "", kind: "ConfigMap", obj: { metadata: meta("cfg"), data: { "app.properties": "a=b", KEY_NAME: "x" } } },
  { name: "a TLS secret", group: "", kind: "Secret", obj: { metadata: meta("tls"), type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } } },
  { name: "a namespace", group: "", kind: "Namespace", obj: { metadata: { name: "team-a" } } },
  { name: "a node", group: "", kind: "Node", obj: { metadata: { name: "node-1.example" }, spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] } } },
  {
    name: "a replication controller",
    group: "",
    kind: "ReplicationController",
    obj: { metadata: meta("rc"), spec: { replicas: 2, selector: { app: "rc" }, template: template({ app: "rc" }) } },
  },
  {
    name: "a persistent volume claim",
    group: "",
    kind: "PersistentVolumeClaim",
    obj: { metadata: meta("data"), spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
  },
  {
    name: "a hostPath persistent volume",
    group: "",
    kind: "PersistentVolume",
    obj: { metadata: { name: "pv1" }, spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv1" } } },
  },
  {
    name: "a deployment",
    group: "apps",
    kind: "Deployment",
    obj: { metadata: meta("web"), spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) } },
  },
  {
    name: "a replica set selecting by expression",
    group: "apps",
    kind: "ReplicaSet",
    obj: {
      metadata: meta("web"),
      spec: { selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }, template: template({ app: "web" }) },
    },
  },
  {
    name: "a stateful set",
    group: "apps",
    kind: "StatefulSet",
    obj: { metadata: meta("db"), spec: { serviceName: "db", selector: { matchLabels: { app: "db" } }, template: template({ app: "db" }) } },
  },
  {
    name: "a daemon set",
    group: "apps",
    kind: "DaemonSet",
    obj: { metadata: meta("agent"), spec: { selector: { matchLabels: { app: "agent" } }, template: template({ app: "agent" }) } },
  },
  {
    name: "a job with its generated selector",
    group: "batch",
    kind: "Job",
    obj: {
      metadata: meta("pi"),
      spec: {
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
        template: template({ "batch.kubernetes.io/controller-uid": "u1" }, podSpec({ restartPolicy: "Never" })),
      },
    },
  },
  {
    name: "a cron job",
    group: "batch",
    kind: "CronJob",
    obj: { metadata: meta("tick"), spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: "OnFailure" }) } } } } },
  },
  { name: "a lease", group: "coordination.k8s.io", kind: "Lease", obj: { metadata: meta("leader"), spec: { holderIdentity: "a", leaseDurationSeconds: 15 } } },
  {
    name: "an endpoint slice",
    group: "discovery.k8s.io",
    kind: "EndpointSlice",
    obj: { metadata: meta("web-abc"), addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }], ports: [{ name: "http", port: 80 }] },
  },
  { name: "a pod disruption budget", group: "policy", kind: "PodDisruptionBudget", obj: { metadata: meta("web"), spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } } } },
  { name: "a priority class", group: "scheduling.k8s.io", kind: "PriorityClass", obj: { metadata: { name: "high" }, value: 1000 } },
  { name: "a storage class", group: "storage.k8s.io", kind: "StorageClass", obj: { metadata: { name: "fast" }, provisioner: "example.com/fast", parameters: { type: "ssd" } } },
];

for (const c of VALID) {
  test(`validateCreate: ${c.name} is valid once defaulted`, () => assert.equal(createMessage(c.group, c.kind, c.obj), ""));
}

const INVALID: { name: string; group: string; kind: string; obj: Obj; want: string }[] = [
  {
    name: "a pod without an image",
    group: "",
    kind: "Pod",
    obj: { metadata: meta("p"), spec: { containers: [{ name: "c" }] } },
    want: 'Pod "p" is invalid: spec.containers[0].image: Required value',
  },
  {
    name: "a pod with two errors lists both in brackets",
    group: "",
    kind: "Pod",
    obj: { metadata: meta("p"), spec: { containers: [{ name: "c" }, { name: "c", image: "x" }] } },
    want: 'Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "c"]',
  },
  {
    name: "a pod with an unknown restartPolicy",
    group: "",
    kind: "Pod",
    obj: { metadata: meta("p"), spec: podSpec({ restartPolicy: "Sometimes" }) },
    want: 'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  },
  {
    name: "a deployment whose selector does not match its template",
    group: "apps",
    kind: "Deployment",
    obj: { metadata: meta("web"), spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "api" }) } },
    want: 'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: `selector` does not match template `labels`',
  },
  {
    name: "a deployment without a selector",
    group: "apps",
    kind: "Deployment",
    obj: { metadata: meta("web"), spec: { template: template({ app: "web" }) } },
    want: 'Deployment.apps "web" is invalid: spec.selector: Required value',
  },
  {
    name: "a deployment with a bad template label, reported where upstream reports it",
    group: "apps",
    kind: "Deployment",
    obj: { metadata: meta("web"), spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web", "-x": "y" }) } },
    want:
      'Deployment.apps "web" is invalid: spec.template.labels: Invalid value: "-x": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyName\',  or \'my.name\',  or \'123-abc\', regex used for validation is \'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\')',
  },
  {
    name: "a job whose template restarts Always",
    group: "batch",
    kind: "Job",
    obj: { metadata: meta("j"), spec: { template: template({}) } },
    want: 'Job.batch "j" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
  },
  {
    name: "a cron job with a bad schedule",
    group: "batch",
    kind: "CronJob",
    obj: { metadata: meta("c"), spec: { schedule: "bad", jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: "Never" }) } } } } },
    want: 'CronJob.batch "c" is invalid: spec.schedule: Invalid value: "bad": expected exactly 5 fields, found 1: [bad]',
  },
  {
    name: "a namespaced object without a namespace",
    group: "",
    kind: "ConfigMap",
    obj: { metadata: { name: "cfg" } },
    want: 'ConfigMap "cfg" is invalid: metadata.namespace: Required value',
  },
  {
    name: "a cluster-scoped object with a namespace",
    group: "scheduling.k8s.io",
    kind: "PriorityClass",
    obj: { metadata: { name: "high", namespace: "default" }, value: 10 },
    want: 'PriorityClass.scheduling.k8s.io "high" is invalid: metadata.namespace: Forbidden: not allowed on this type',
  },
  {
    name: "a kind without its own rules still gets the metadata rules",
    group: "",
    kind: "ServiceAccount",
    obj: { metadata: { name: "Bad_Name", namespace: "default" } },
    want:
      'ServiceAccount "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
  },
];

for (const c of INVALID) {
  test(`validateCreate: ${c.name} is rejected with upstream's message`, () => assert.equal(createMessage(c.group, c.kind, c.obj), c.want));
}

test("validateUpdate: changing a deployment's selector is rejected as immutable", () => {
  const old = { metadata: meta("web", { resourceVersion: "1" }), spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) } };
  const updated = { metadata: meta("web", { resourceVersion: "1" }), spec: { selector: { matchLabels: { app: "web2" } }, template: template({ app: "web2" }) } };
  assert.equal(
    updateMessage("apps", "Deployment", updated, old),
    'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  );
});

test("validateUpdate: a pod may change its image", () => {
  const old = { metadata: meta("p"), spec: podSpec() };
  const updated = { metadata: meta("p"), spec: { containers: [{ name: "web", image: "nginx:1.28" }] } };
  assert.equal(updateMessage("", "Pod", updated, old), "");
});

test("validateUpdate: a pod may not change anything else in its spec", () => {
  const old = { metadata: meta("p"), spec: podSpec() };
  const updated = { metadata: meta("p"), spec: podSpec({ restartPolicy: "Never" }) };
  const message = updateMessage("", "Pod", updated, old);
  assert.ok(
    message.startsWith(
      'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    message,
  );
  assert.match(message, /restartPolicy/);
});

test("validateUpdate: renaming an object is rejected as immutable", () => {
  const old = { metadata: { name: "a", namespace: "default" }, data: {} };
  const updated = { metadata: { name: "b", namespace: "default" }, data: {} };
  assert.equal(updateMessage("", "ConfigMap", updated, old), 'ConfigMap "b" is invalid: metadata.name: Invalid value: "b": field is immutable');
});

test("validateUpdate: a status update checks only metadata", () => {
  const old = { metadata: meta("p"), spec: podSpec() };
  const updated = { metadata: meta("p"), spec: podSpec({ restartPolicy: "Never" }), status: { phase: "Running" } };
  assert.equal(updateMessage("", "Pod", updated, old, "status"), "");
});

test("validateUpdate: a scale update rejects negative replicas", () => {
  const old = { metadata: meta("web"), spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) } };
  const updated = structuredClone(old);
  updated.spec.replicas = -1;
  assert.equal(updateMessage("apps", "Deployment", updated, old, "scale"), 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
});
