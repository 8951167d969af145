import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDefaults } from "../defaults/defaults.js";
import {
  validateDaemonSet,
  validateDaemonSetUpdate,
  validateDeployment,
  validateReplicaSet,
  validateStatefulSet,
  validateStatefulSetUpdate,
} from "./apps_v1.js";
import { errorString } from "./field_errors.js";

type Obj = Record<string, any>;

function workload(kind: string, spec: Obj, name = "web"): Obj {
  const o: Obj = { metadata: { name, namespace: "default", resourceVersion: "1" }, spec };
  applyDefaults("apps", "v1", kind, o);
  return o;
}

const tmpl = (labels: Obj, spec: Obj = {}): Obj => ({ metadata: { labels }, spec: { containers: [{ name: "c", image: "nginx" }], ...spec } });
const sel = (matchLabels: Obj): Obj => ({ matchLabels });

const deploymentCases: { name: string; spec: Obj; want: string[] }[] = [
  {
    name: "replicas may not be negative",
    spec: { replicas: -1, selector: sel({ a: "b" }), template: tmpl({ a: "b" }) },
    want: ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
  },
  {
    name: "an empty selector is invalid",
    spec: { selector: {}, template: tmpl({ a: "b" }) },
    want: ["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"],
  },
  {
    name: "a template without labels does not match",
    spec: { selector: sel({ a: "b" }), template: { spec: { containers: [{ name: "c", image: "x" }] } } },
    want: ["spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`"],
  },
  {
    name: "the template must restart Always",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }, { restartPolicy: "Never" }) },
    want: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  },
  {
    name: "maxSurge and maxUnavailable may not both be zero",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }), strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
    want: ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"],
  },
  {
    name: "maxUnavailable is at most 100%",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }), strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "150%" } } },
    want: ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%"],
  },
  {
    name: "a percentage must look like one",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }), strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "lots" } } },
    want: [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: lots: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ],
  },
  {
    name: "Recreate may not carry rollingUpdate",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }), strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } },
    want: ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
  },
  {
    name: "progressDeadlineSeconds must exceed minReadySeconds",
    spec: { selector: sel({ a: "b" }), template: tmpl({ a: "b" }), minReadySeconds: 10, progressDeadlineSeconds: 10 },
    want: ["spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"],
  },
  {
    name: "template containers are validated under the template path",
    spec: { selector: sel({ a: "b" }), template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c" }] } } },
    want: ["spec.template.spec.containers[0].image: Required value"],
  },
];

for (const c of deploymentCases) test(`validateDeployment: ${c.name}`, () => assert.deepEqual(validateDeployment(workload("Deployment", c.spec)).map(errorString), c.want));

test("validateReplicaSet: the selector is required", () => {
  assert.deepEqual(validateReplicaSet(workload("ReplicaSet", { template: tmpl({ a: "b" }) })).map(errorString), ["spec.selector: Required value"]);
});

test("validateStatefulSet: the name is a DNS label", () => {
  const sts = workload("StatefulSet", { serviceName: "s", selector: sel({ a: "b" }), template: tmpl({ a: "b" }) }, "db.main");
  assert.deepEqual(validateStatefulSet(sts).map(errorString), ['metadata.name: Invalid value: "db.main": must not contain dots']);
});

test("validateStatefulSetUpdate: only replicas, template and a few others may change", () => {
  const old = workload("StatefulSet", { serviceName: "s", selector: sel({ a: "b" }), template: tmpl({ a: "b" }) });
  const scaled = structuredClone(old);
  scaled.spec.replicas = 5;
  assert.deepEqual(validateStatefulSetUpdate(scaled, old), []);
  const renamed = structuredClone(old);
  renamed.spec.serviceName = "other";
  assert.deepEqual(validateStatefulSetUpdate(renamed, old).map(errorString), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});

test("validateDaemonSet: the selector must match the template", () => {
  const ds = workload("DaemonSet", { selector: sel({ a: "b" }), template: tmpl({ a: "c" }) });
  assert.deepEqual(validateDaemonSet(ds).map(errorString), ['spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`']);
});

test("validateDaemonSetUpdate: the selector is immutable", () => {
  const old = workload("DaemonSet", { selector: sel({ a: "b" }), template: tmpl({ a: "b", c: "d" }) });
  const updated = workload("DaemonSet", { selector: sel({ c: "d" }), template: tmpl({ a: "b", c: "d" }) });
  assert.deepEqual(validateDaemonSetUpdate(updated, old).map(errorString), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"c":"d"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
});
