import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults } from "./defaults.js";

type Obj = Record<string, unknown>;

function defaulted(kind: string, obj: Obj): Obj {
  const copy = structuredClone(obj);
  applyDefaults("batch", "v1", kind, copy);
  return copy;
}

const POD_SPEC_DEFAULTS_NEVER = {
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Never",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};
const PI = { name: "pi", image: "perl:5.34.0", resources: {} };
const PI_DEFAULTED = {
  ...PI,
  imagePullPolicy: "IfNotPresent",
  terminationMessagePath: "/dev/termination-log",
  terminationMessagePolicy: "File",
};
const TEMPLATE = { metadata: { creationTimestamp: null }, spec: { containers: [PI], restartPolicy: "Never" } };
const TEMPLATE_DEFAULTED = { metadata: { creationTimestamp: null }, spec: { containers: [PI_DEFAULTED], ...POD_SPEC_DEFAULTS_NEVER } };

test("Job: the body `kubectl create job pi --image=perl:5.34.0` sends comes back as upstream 1.32 defaults it", () => {
  const sent = { kind: "Job", apiVersion: "batch/v1", metadata: { name: "pi", creationTimestamp: null }, spec: { template: TEMPLATE }, status: {} };
  // The selector and the controller-uid / job-name labels come from the job strategy, not from here.
  assert.deepEqual(defaulted("Job", sent), {
    kind: "Job",
    apiVersion: "batch/v1",
    metadata: { name: "pi", creationTimestamp: null },
    spec: {
      backoffLimit: 6,
      completionMode: "NonIndexed",
      completions: 1,
      manualSelector: false,
      parallelism: 1,
      podReplacementPolicy: "TerminatingOrFailed",
      suspend: false,
      template: TEMPLATE_DEFAULTED,
    },
    status: {},
  });
});

const jobCases: { name: string; spec: Obj; want: Obj }[] = [
  {
    name: "parallelism alone leaves completions unset (a work queue)",
    spec: { parallelism: 3, template: TEMPLATE },
    want: {
      parallelism: 3,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      manualSelector: false,
      template: TEMPLATE_DEFAULTED,
    },
  },
  {
    name: "completions alone gets parallelism 1",
    spec: { completions: 5, template: TEMPLATE },
    want: {
      completions: 5,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      manualSelector: false,
      template: TEMPLATE_DEFAULTED,
    },
  },
  {
    name: "a per-index backoff limit turns the job-wide limit off",
    spec: { completions: 2, completionMode: "Indexed", backoffLimitPerIndex: 1, template: TEMPLATE },
    want: {
      completions: 2,
      completionMode: "Indexed",
      backoffLimitPerIndex: 1,
      parallelism: 1,
      backoffLimit: 2147483647,
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      manualSelector: false,
      template: TEMPLATE_DEFAULTED,
    },
  },
  {
    name: "with a pod failure policy pods are replaced only once Failed, and condition patterns match True",
    spec: {
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }, { type: "X", status: "False" }] }] },
      suspend: true,
      backoffLimit: 0,
      template: TEMPLATE,
    },
    want: {
      podFailurePolicy: {
        rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }, { type: "X", status: "False" }] }],
      },
      suspend: true,
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      completionMode: "NonIndexed",
      podReplacementPolicy: "Failed",
      manualSelector: false,
      template: TEMPLATE_DEFAULTED,
    },
  },
  {
    name: "a template without restartPolicy is defaulted to Always, for validation to reject",
    spec: { template: { spec: { containers: [PI] } } },
    want: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      manualSelector: false,
      template: { spec: { containers: [PI_DEFAULTED], ...POD_SPEC_DEFAULTS_NEVER, restartPolicy: "Always" } },
    },
  },
];
for (const c of jobCases) test(`Job: ${c.name}`, () => assert.deepEqual(defaulted("Job", { spec: c.spec })["spec"], c.want));

test("Job: the job's labels come from its template when it has none", () => {
  const labelled = { metadata: { labels: { app: "pi" } }, spec: { containers: [PI], restartPolicy: "Never" } };
  assert.deepEqual(defaulted("Job", { metadata: { name: "pi" }, spec: { template: labelled } })["metadata"], { name: "pi", labels: { app: "pi" } });
  assert.deepEqual(defaulted("Job", { metadata: { name: "pi", labels: { own: "1" } }, spec: { template: labelled } })["metadata"], {
    name: "pi",
    labels: { own: "1" },
  });
});

test("CronJob: the body `kubectl create cronjob` sends gets schedule policy defaults; its job template gets no Job defaults", () => {
  const sent = {
    kind: "CronJob",
    apiVersion: "batch/v1",
    metadata: { name: "pi", creationTimestamp: null },
    spec: { schedule: "*/1 * * * *", jobTemplate: { metadata: { name: "pi", creationTimestamp: null }, spec: { template: TEMPLATE } } },
    status: {},
  };
  assert.deepEqual(defaulted("CronJob", sent), {
    kind: "CronJob",
    apiVersion: "batch/v1",
    metadata: { name: "pi", creationTimestamp: null },
    spec: {
      concurrencyPolicy: "Allow",
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { name: "pi", creationTimestamp: null }, spec: { template: TEMPLATE_DEFAULTED } },
      schedule: "*/1 * * * *",
      successfulJobsHistoryLimit: 3,
      suspend: false,
    },
    status: {},
  });
});

test("CronJob: values given are kept", () => {
  const spec = { schedule: "@daily", concurrencyPolicy: "Forbid", suspend: true, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0, jobTemplate: { spec: { template: TEMPLATE } } };
  assert.deepEqual(defaulted("CronJob", { spec })["spec"], { ...spec, jobTemplate: { spec: { template: TEMPLATE_DEFAULTED } } });
});
