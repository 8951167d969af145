import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDefaults } from "../defaults/defaults.js";
import { errorString } from "./field_errors.js";
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEvent,
  validateNamespace,
  validateNode,
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validatePodCreate,
  validatePodUpdate,
  validateReplicationController,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceUpdate,
} from "./core_v1.js";

type Obj = Record<string, any>;

function defaulted(kind: string, obj: Obj): Obj {
  const o = structuredClone(obj);
  applyDefaults("", "v1", kind, o);
  return o;
}

const pod = (spec: Obj): Obj => defaulted("Pod", { metadata: { name: "p", namespace: "default", resourceVersion: "1" }, spec });
const ctr = (extra: Obj = {}): Obj => ({ name: "c", image: "nginx", ...extra });

const podCases: { name: string; spec: Obj; want: string[] }[] = [
  { name: "a pod needs containers", spec: { containers: [] }, want: ["spec.containers: Required value"] },
  {
    name: "container names are DNS labels",
    spec: { containers: [ctr({ name: "Web" })] },
    want: [
      "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ],
  },
  {
    name: "ports are in range, with a known protocol and unique names",
    spec: {
      containers: [
        ctr({
          ports: [
            { name: "http", containerPort: 70000 },
            { name: "http", containerPort: 81, protocol: "HTTP" },
          ],
        }),
      ],
    },
    want: [
      "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.containers[0].ports[1].name: Duplicate value: "http"',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ],
  },
  {
    name: "env names are C-like identifiers",
    spec: { containers: [ctr({ env: [{ name: "1BAD", value: "x" }] })] },
    want: [
      "spec.containers[0].env[0].name: Invalid value: \"1BAD\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    ],
  },
  {
    name: "requests may not exceed limits",
    spec: { containers: [ctr({ resources: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } } })] },
    want: ['spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi'],
  },
  {
    name: "resource names must be standard",
    spec: { containers: [ctr({ resources: { limits: { gpus: "1" } } })] },
    // Requests default from limits, so the name is reported twice, as upstream does.
    want: [
      'spec.containers[0].resources.limits[gpus]: Invalid value: "gpus": must be a standard resource for containers',
      'spec.containers[0].resources.requests[gpus]: Invalid value: "gpus": must be a standard resource for containers',
    ],
  },
  {
    name: "a malformed quantity is reported at its field",
    spec: { containers: [ctr({ resources: { limits: { cpu: "lots" } } })] },
    want: [
      "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      "spec.containers[0].resources.requests[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ],
  },
  {
    // A volume with no source at all is defaulted to emptyDir, so only conflicting sources fail.
    name: "volumes have unique names and at most one source",
    spec: {
      volumes: [{ name: "a", emptyDir: {} }, { name: "a", emptyDir: {} }, { name: "b" }, { name: "c", hostPath: { path: "/x" }, nfs: { server: "s", path: "/p" } }],
      containers: [ctr()],
    },
    want: [
      'spec.volumes[1].name: Duplicate value: "a"',
      "spec.volumes[3].nfs: Forbidden: may not specify more than 1 volume type",
    ],
  },
  {
    name: "volume mounts must name a volume",
    spec: { containers: [ctr({ volumeMounts: [{ name: "data", mountPath: "/data" }] })] },
    want: ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
  },
  {
    name: "the DNS policy is an enum",
    spec: { containers: [ctr()], dnsPolicy: "Google" },
    want: ['spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'],
  },
  {
    name: "a probe needs exactly one handler",
    spec: { containers: [ctr({ livenessProbe: { periodSeconds: 5 }, readinessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } } })] },
    want: [
      "spec.containers[0].livenessProbe: Required value: must specify a handler type",
      "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
    ],
  },
  {
    name: "node selector labels are checked",
    spec: { containers: [ctr()], nodeSelector: { "bad key!": "x" } },
    want: [
      "spec.nodeSelector: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
  },
  {
    name: "tolerations without a key must use Exists, and seconds need NoExecute",
    spec: { containers: [ctr()], tolerations: [{ operator: "Equal", value: "x" }, { key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 5 }] },
    want: [
      'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ],
  },
  {
    name: "init containers share the name space with containers and may not have probes",
    spec: { containers: [ctr()], initContainers: [ctr({ readinessProbe: { exec: { command: ["x"] } } })] },
    want: ['spec.initContainers[0].name: Duplicate value: "c"', "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"],
  },
  {
    name: "an image may not have surrounding whitespace",
    spec: { containers: [ctr({ image: " nginx" })] },
    want: ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace'],
  },
  {
    name: "activeDeadlineSeconds is positive",
    spec: { containers: [ctr()], activeDeadlineSeconds: 0 },
    want: ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"],
  },
];

for (const c of podCases) test(`validatePodCreate: ${c.name}`, () => assert.deepEqual(validatePodCreate(pod(c.spec)).map(errorString), c.want));

test("validatePodUpdate: tolerations may only be added", () => {
  const old = pod({ containers: [ctr()], tolerations: [{ key: "a", operator: "Exists" }] });
  const added = pod({ containers: [ctr()], tolerations: [{ key: "a", operator: "Exists" }, { key: "b", operator: "Exists" }] });
  const removed = pod({ containers: [ctr()] });
  assert.deepEqual(validatePodUpdate(added, old).map(errorString), []);
  assert.deepEqual(validatePodUpdate(removed, old).map(errorString).slice(0, 1), ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]);
});

test("validatePodUpdate: containers may not be added", () => {
  const old = pod({ containers: [ctr()] });
  const updated = pod({ containers: [ctr(), ctr({ name: "d" })] });
  assert.deepEqual(validatePodUpdate(updated, old).map(errorString), ["spec.containers: Forbidden: pod updates may not add or remove containers"]);
});

test("validatePodUpdate: activeDeadlineSeconds may only shrink", () => {
  const old = pod({ containers: [ctr()], activeDeadlineSeconds: 10 });
  assert.deepEqual(validatePodUpdate(pod({ containers: [ctr()], activeDeadlineSeconds: 5 }), old), []);
  assert.deepEqual(validatePodUpdate(pod({ containers: [ctr()], activeDeadlineSeconds: 20 }), old).map(errorString), [
    "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value",
  ]);
});

const svc = (spec: Obj, name = "web"): Obj => defaulted("Service", { metadata: { name, namespace: "default", resourceVersion: "1" }, spec });

const serviceCases: { name: string; obj: Obj; want: string[] }[] = [
  { name: "ports are required", obj: svc({ selector: { app: "a" } }), want: ["spec.ports: Required value"] },
  {
    name: "service names are DNS-1035 labels",
    obj: svc({ ports: [{ port: 80 }] }, "1web"),
    want: [
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ],
  },
  {
    name: "several ports need names, unique ones",
    obj: svc({ ports: [{ port: 80 }, { name: "b", port: 81 }, { name: "b", port: 82 }] }),
    want: ["spec.ports[0].name: Required value", 'spec.ports[2].name: Duplicate value: "b"'],
  },
  {
    // targetPort defaults to port, so it is out of range too.
    name: "ports are in range",
    obj: svc({ ports: [{ port: 0 }] }),
    want: ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive", "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"],
  },
  {
    name: "the type is an enum",
    obj: svc({ type: "Magic", ports: [{ port: 80 }] }),
    want: ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
  },
  {
    name: "a ClusterIP service may not set nodePort",
    obj: svc({ ports: [{ port: 80, nodePort: 30000 }] }),
    want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  },
];

for (const c of serviceCases) test(`validateService: ${c.name}`, () => assert.deepEqual(validateService(c.obj).map(errorString), c.want));

test("validateServiceUpdate: the cluster IP may not change once set", () => {
  const old = svc({ clusterIP: "10.0.0.5", clusterIPs: ["10.0.0.5"], ports: [{ port: 80 }] });
  const updated = svc({ clusterIP: "10.0.0.6", clusterIPs: ["10.0.0.6"], ports: [{ port: 80 }] });
  assert.deepEqual(validateServiceUpdate(updated, old).map(errorString), ['spec.clusterIPs[0]: Invalid value: []string{"10.0.0.6"}: may not change once set']);
});

test("validateConfigMap: keys must be config keys", () => {
  const cm = { metadata: { name: "c", namespace: "d" }, data: { "a/b": "x", ok: "y" } };
  assert.deepEqual(validateConfigMap(cm).map(errorString), [
    "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
});

test("validateConfigMapUpdate: an immutable config map keeps its data", () => {
  const old = { metadata: { name: "c", namespace: "d", resourceVersion: "1" }, data: { a: "1" }, immutable: true };
  const updated = { metadata: { name: "c", namespace: "d", resourceVersion: "1" }, data: { a: "2" }, immutable: true };
  assert.deepEqual(validateConfigMapUpdate(updated, old).map(errorString), ["data: Forbidden: field is immutable when `immutable` is set"]);
});

test("validateSecret: a TLS secret needs its key and certificate", () => {
  const s = { metadata: { name: "s", namespace: "d" }, type: "kubernetes.io/tls", data: {} };
  assert.deepEqual(validateSecret(s).map(errorString), ["data[tls.key]: Required value", "data[tls.crt]: Required value"]);
});

test("validateSecretUpdate: the type is immutable", () => {
  const old = { metadata: { name: "s", namespace: "d", resourceVersion: "1" }, type: "Opaque" };
  const updated = { metadata: { name: "s", namespace: "d", resourceVersion: "1" }, type: "example.com/x" };
  assert.deepEqual(validateSecretUpdate(updated, old).map(errorString), ['type: Invalid value: "example.com/x": field is immutable']);
});

test("validateNamespace: names are DNS labels and cluster-scoped", () => {
  assert.deepEqual(validateNamespace({ metadata: { name: "a.b" } }).map(errorString), ['metadata.name: Invalid value: "a.b": must not contain dots']);
});

test("validateNode: taints need an effect and are unique by key and effect", () => {
  const node = { metadata: { name: "n1" }, spec: { taints: [{ key: "a", effect: "" }, { key: "b", effect: "NoSchedule" }, { key: "b", effect: "NoSchedule" }] } };
  assert.deepEqual(validateNode(node).map(errorString), [
    "spec.taints[0].effect: Required value",
    'spec.taints[2]: Duplicate value: core.Taint{Key:"b", Value:"", Effect:"NoSchedule", TimeAdded:<nil>}',
  ]);
});

test("validateReplicationController: the selector must match the template", () => {
  const rc = defaulted("ReplicationController", {
    metadata: { name: "rc", namespace: "d" },
    spec: { selector: { app: "a" }, template: { metadata: { labels: { app: "b" } }, spec: { containers: [ctr()] } } },
  });
  assert.deepEqual(validateReplicationController(rc).map(errorString), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`',
  ]);
});

test("validatePersistentVolume: capacity, access modes and a source are required", () => {
  const pv = { metadata: { name: "pv" }, spec: {} };
  assert.deepEqual(validatePersistentVolume(pv).map(errorString), [
    "spec.accessModes: Required value",
    "spec.capacity: Required value",
    "spec: Required value: must specify a volume type",
  ]);
});

test("validatePersistentVolumeClaim: access modes and a storage request are required", () => {
  const pvc = { metadata: { name: "c", namespace: "d" }, spec: { resources: {} } };
  assert.deepEqual(validatePersistentVolumeClaim(pvc).map(errorString), [
    "spec.accessModes: Required value: at least 1 access mode is required",
    "spec.resources[storage]: Required value",
  ]);
});

test("validatePersistentVolumeClaimUpdate: a bound claim may grow but not shrink", () => {
  const spec = (size: string): Obj => ({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, volumeName: "pv1" });
  const old = { metadata: { name: "c", namespace: "d", resourceVersion: "1" }, spec: spec("1Gi"), status: { phase: "Bound" } };
  assert.deepEqual(validatePersistentVolumeClaimUpdate({ ...old, spec: spec("2Gi") }, old), []);
  assert.deepEqual(validatePersistentVolumeClaimUpdate({ ...old, spec: spec("512Mi") }, old).map(errorString), [
    "spec.resources.requests.storage: Forbidden: field can not be less than previous value",
  ]);
});

test("validateEvent: the involved object's namespace must match the event's", () => {
  const ev = { metadata: { name: "e", namespace: "a" }, involvedObject: { namespace: "b" } };
  assert.deepEqual(validateEvent(ev).map(errorString), ['involvedObject.namespace: Invalid value: "b": does not match event.namespace']);
});
