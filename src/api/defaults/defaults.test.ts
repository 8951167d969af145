import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults, hasDefaults } from "./defaults.js";
import { BUILTIN_RESOURCES } from "../resources.js";

function defaulted(group: string, version: string, kind: string, obj: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj);
  applyDefaults(group, version, kind, copy);
  return copy;
}

const untouched = [
  { name: "a ConfigMap has no visible defaults", group: "", version: "v1", kind: "ConfigMap", obj: { metadata: { name: "c" } } },
  { name: "a PodDisruptionBudget has no defaults", group: "policy", version: "v1", kind: "PodDisruptionBudget", obj: { spec: { minAvailable: 1 } } },
  { name: "a Lease has no defaults", group: "coordination.k8s.io", version: "v1", kind: "Lease", obj: { spec: {} } },
  { name: "an events.k8s.io Event has no defaults", group: "events.k8s.io", version: "v1", kind: "Event", obj: { reason: "x" } },
  { name: "an unknown kind is left alone", group: "example.com", version: "v1", kind: "Widget", obj: { spec: { ports: [{ port: 1 }] } } },
  { name: "a kind of the wrong group is left alone", group: "apps", version: "v1", kind: "Pod", obj: { spec: {} } },
  { name: "a kind of the wrong version is left alone", group: "apps", version: "v1beta1", kind: "Deployment", obj: { spec: {} } },
];
for (const c of untouched) {
  test(`applyDefaults: ${c.name}`, () => assert.deepEqual(defaulted(c.group, c.version, c.kind, c.obj), c.obj));
}

test("applyDefaults: dispatches by group, version and kind", () => {
  assert.deepEqual(defaulted("", "v1", "Secret", {}), { type: "Opaque" });
  assert.deepEqual(defaulted("scheduling.k8s.io", "v1", "PriorityClass", { value: 1 }), {
    value: 1,
    preemptionPolicy: "PreemptLowerPriority",
  });
});

test("applyDefaults: a list defaults each of its items", () => {
  const list = { kind: "SecretList", items: [{ metadata: { name: "a" } }, { metadata: { name: "b" }, type: "kubernetes.io/tls" }] };
  assert.deepEqual(defaulted("", "v1", "SecretList", list), {
    kind: "SecretList",
    items: [
      { metadata: { name: "a" }, type: "Opaque" },
      { metadata: { name: "b" }, type: "kubernetes.io/tls" },
    ],
  });
});

test("applyDefaults: defaulting twice gives what defaulting once gives, for every kind with defaults", () => {
  const samples: Record<string, Record<string, unknown>> = {
    Pod: { spec: { containers: [{ name: "c", image: "busybox", resources: { limits: { cpu: "1" } } }] } },
    Service: { spec: { ports: [{ port: 80 }] } },
    Deployment: { spec: { template: { spec: { containers: [{ name: "c", image: "nginx" }] } } } },
    ReplicationController: { spec: { template: { metadata: { labels: { a: "b" } } } } },
  };
  for (const r of BUILTIN_RESOURCES) {
    if (!hasDefaults(r.group, r.version, r.kind)) continue;
    const once = defaulted(r.group, r.version, r.kind, samples[r.kind] ?? { metadata: { name: "x" } });
    assert.deepEqual(defaulted(r.group, r.version, r.kind, once), once, `${r.group}/${r.kind}`);
  }
});

test("hasDefaults: every kind with a defaulter is a served resource", () => {
  const kinds = [
    ["", "Pod"], ["", "PodTemplate"], ["", "ReplicationController"], ["", "Service"], ["", "Namespace"],
    ["", "Secret"], ["", "Node"], ["", "PersistentVolume"], ["", "PersistentVolumeClaim"], ["", "LimitRange"],
    ["", "Endpoints"], ["apps", "Deployment"], ["apps", "ReplicaSet"], ["apps", "StatefulSet"], ["apps", "DaemonSet"],
    ["batch", "Job"], ["batch", "CronJob"], ["discovery.k8s.io", "EndpointSlice"], ["scheduling.k8s.io", "PriorityClass"],
    ["storage.k8s.io", "StorageClass"],
  ] as const;
  for (const [group, kind] of kinds) {
    assert.ok(hasDefaults(group, "v1", kind), `${group}/${kind} has defaults`);
    assert.ok(BUILTIN_RESOURCES.some((r) => r.group === group && r.kind === kind), `${group}/${kind} is served`);
  }
  assert.equal(hasDefaults("", "v1", "ConfigMap"), false);
});
