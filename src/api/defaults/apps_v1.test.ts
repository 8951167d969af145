import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults } from "./defaults.js";

type Obj = Record<string, unknown>;

function defaulted(kind: string, obj: Obj): Obj {
  const copy = structuredClone(obj);
  applyDefaults("apps", "v1", kind, copy);
  return copy;
}

const POD_SPEC_DEFAULTS = {
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Always",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};
const NGINX = { name: "nginx", image: "nginx", resources: {} };
const NGINX_DEFAULTED = {
  name: "nginx",
  image: "nginx",
  imagePullPolicy: "Always",
  resources: {},
  terminationMessagePath: "/dev/termination-log",
  terminationMessagePolicy: "File",
};

test("Deployment: the body `kubectl create deployment nginx --image=nginx` sends comes back as upstream 1.32 defaults it", () => {
  const sent = {
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: { name: "nginx", creationTimestamp: null, labels: { app: "nginx" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "nginx" } },
      template: { metadata: { creationTimestamp: null, labels: { app: "nginx" } }, spec: { containers: [NGINX] } },
      strategy: {},
    },
    status: {},
  };
  assert.deepEqual(defaulted("Deployment", sent), {
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: { name: "nginx", creationTimestamp: null, labels: { app: "nginx" } },
    spec: {
      progressDeadlineSeconds: 600,
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: "nginx" } },
      strategy: { rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" }, type: "RollingUpdate" },
      // The template gets no enableServiceLinks: that default is for Pods only.
      template: {
        metadata: { creationTimestamp: null, labels: { app: "nginx" } },
        spec: { containers: [NGINX_DEFAULTED], ...POD_SPEC_DEFAULTS },
      },
    },
    status: {},
  });
});

const deploymentCases: { name: string; spec: Obj; want: Obj }[] = [
  {
    name: "a deployment with only selector and template gets replicas 1 and a 25% rolling update",
    spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [NGINX] } } },
    want: {
      selector: { matchLabels: { a: "b" } },
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: { spec: { containers: [NGINX_DEFAULTED], ...POD_SPEC_DEFAULTS } },
    },
  },
  {
    name: "a Recreate strategy gets no rolling update block; replicas 0 and limits given are kept",
    spec: { replicas: 0, strategy: { type: "Recreate" }, revisionHistoryLimit: 2, progressDeadlineSeconds: 60, template: { spec: {} } },
    want: { replicas: 0, strategy: { type: "Recreate" }, revisionHistoryLimit: 2, progressDeadlineSeconds: 60, template: { spec: POD_SPEC_DEFAULTS } },
  },
  {
    name: "a rolling update keeps the surge given and defaults the other",
    spec: { strategy: { rollingUpdate: { maxSurge: 0 } } },
    want: {
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: { spec: POD_SPEC_DEFAULTS },
    },
  },
];
for (const c of deploymentCases) test(`Deployment: ${c.name}`, () => assert.deepEqual(defaulted("Deployment", { spec: c.spec })["spec"], c.want));

test("ReplicaSet: replicas is 1 and the template is defaulted, labels are not copied", () => {
  const sent = { metadata: { name: "rs" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: {} } } };
  assert.deepEqual(defaulted("ReplicaSet", sent), {
    metadata: { name: "rs" },
    spec: { selector: { matchLabels: { a: "b" } }, replicas: 1, template: { metadata: { labels: { a: "b" } }, spec: POD_SPEC_DEFAULTS } },
  });
});

const statefulSetCases: { name: string; spec: Obj; want: Obj }[] = [
  {
    name: "a minimal statefulset is OrderedReady, rolls from partition 0 and retains its claims",
    spec: {
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [NGINX] } },
      volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
    },
    want: {
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      replicas: 1,
      revisionHistoryLimit: 10,
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [NGINX_DEFAULTED], ...POD_SPEC_DEFAULTS } },
      volumeClaimTemplates: [
        {
          metadata: { name: "www" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
          status: { phase: "Pending" },
        },
      ],
    },
  },
  {
    name: "an explicit RollingUpdate without a block gets none; OnDelete and given policies are kept",
    spec: { updateStrategy: { type: "RollingUpdate" }, podManagementPolicy: "Parallel", persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
    want: {
      updateStrategy: { type: "RollingUpdate" },
      podManagementPolicy: "Parallel",
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
      replicas: 1,
      revisionHistoryLimit: 10,
      template: { spec: POD_SPEC_DEFAULTS },
    },
  },
  {
    name: "a rolling update block without partition gets partition 0",
    spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } } },
    want: {
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2, partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      replicas: 1,
      revisionHistoryLimit: 10,
      template: { spec: POD_SPEC_DEFAULTS },
    },
  },
  {
    name: "OnDelete gets no rolling update block",
    spec: { updateStrategy: { type: "OnDelete" } },
    want: {
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "OnDelete" },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      replicas: 1,
      revisionHistoryLimit: 10,
      template: { spec: POD_SPEC_DEFAULTS },
    },
  },
];
for (const c of statefulSetCases) test(`StatefulSet: ${c.name}`, () => assert.deepEqual(defaulted("StatefulSet", { spec: c.spec })["spec"], c.want));

const daemonSetCases: { name: string; spec: Obj; want: Obj }[] = [
  {
    name: "a minimal daemonset rolls one node at a time without surge",
    spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [NGINX] } } },
    want: {
      selector: { matchLabels: { a: "b" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: { spec: { containers: [NGINX_DEFAULTED], ...POD_SPEC_DEFAULTS } },
    },
  },
  {
    name: "OnDelete gets no rolling update block",
    spec: { updateStrategy: { type: "OnDelete" }, revisionHistoryLimit: 0 },
    want: { updateStrategy: { type: "OnDelete" }, revisionHistoryLimit: 0, template: { spec: POD_SPEC_DEFAULTS } },
  },
];
for (const c of daemonSetCases) test(`DaemonSet: ${c.name}`, () => assert.deepEqual(defaulted("DaemonSet", { spec: c.spec })["spec"], c.want));
