import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDefaults } from "../defaults/defaults.js";
import { validateCronJob, validateJob, validateJobUpdate } from "./batch_v1.js";
import { errorString } from "./field_errors.js";

type Obj = Record<string, any>;

function batch(kind: string, spec: Obj, name = "j"): Obj {
  const o: Obj = { metadata: { name, namespace: "default", resourceVersion: "1" }, spec };
  applyDefaults("batch", "v1", kind, o);
  return o;
}

const UID_LABEL = "batch.kubernetes.io/controller-uid";
const podSpec = (extra: Obj = {}): Obj => ({ containers: [{ name: "c", image: "busybox" }], restartPolicy: "Never", ...extra });
const jobSpec = (extra: Obj = {}): Obj => ({
  selector: { matchLabels: { [UID_LABEL]: "u" } },
  template: { metadata: { labels: { [UID_LABEL]: "u" } }, spec: podSpec() },
  ...extra,
});

const jobCases: { name: string; spec: Obj; want: string[] }[] = [
  { name: "a generated selector matching the template is valid", spec: jobSpec(), want: [] },
  {
    name: "counts may not be negative",
    spec: jobSpec({ parallelism: -1, completions: -2, backoffLimit: -3 }),
    want: [
      "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
      "spec.completions: Invalid value: -2: must be greater than or equal to 0",
      "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
    ],
  },
  {
    name: "an Indexed job needs completions",
    // With parallelism given, defaulting leaves completions unset.
    spec: jobSpec({ completionMode: "Indexed", parallelism: 2 }),
    want: ["spec.completions: Required value: when completion mode is Indexed"],
  },
  {
    name: "the selector must match the template",
    spec: { ...jobSpec(), template: { metadata: { labels: { other: "x" } }, spec: podSpec() } },
    want: ['spec.template.metadata.labels: Invalid value: map[string]string{"other":"x"}: `selector` does not match template `labels`'],
  },
];

for (const c of jobCases) test(`validateJob: ${c.name}`, () => assert.deepEqual(validateJob(batch("Job", c.spec)).map(errorString), c.want));

test("validateJobUpdate: the pod template is immutable", () => {
  const old = batch("Job", jobSpec());
  const updated = structuredClone(old);
  updated.spec.template.spec.containers[0].image = "busybox:2";
  assert.deepEqual(validateJobUpdate(updated, old).map(errorString), ["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]);
  const scaled = structuredClone(old);
  scaled.spec.parallelism = 3;
  assert.deepEqual(validateJobUpdate(scaled, old), []);
});

const cronCases: { name: string; name_: string; spec: Obj; want: string[] }[] = [
  {
    name: "a schedule out of range is rejected with the cron library's message",
    name_: "c",
    spec: { schedule: "0 25 * * *", jobTemplate: { spec: { template: { spec: podSpec() } } } },
    want: ['spec.schedule: Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25'],
  },
  {
    name: "a time zone goes in timeZone, not the schedule",
    name_: "c",
    spec: { schedule: "TZ=UTC 0 * * * *", jobTemplate: { spec: { template: { spec: podSpec() } } } },
    want: ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
  },
  {
    name: "an unknown time zone is rejected",
    name_: "c",
    spec: { schedule: "0 * * * *", timeZone: "Mars/Olympus", jobTemplate: { spec: { template: { spec: podSpec() } } } },
    want: ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
  },
  {
    name: "the job template's selector is generated, not given",
    name_: "c",
    spec: { schedule: "0 * * * *", jobTemplate: { spec: { selector: { matchLabels: { a: "b" } }, template: { spec: podSpec() } } } },
    want: [
      'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
    ],
  },
  {
    name: "names leave room for the job suffix",
    name_: "a".repeat(53),
    spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: podSpec() } } } },
    want: [`metadata.name: Invalid value: "${"a".repeat(53)}": must be no more than 52 characters`],
  },
  {
    name: "the job template must not restart Always",
    name_: "c",
    spec: { schedule: "@hourly", jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: "Always" }) } } } },
    want: ['spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'],
  },
];

for (const c of cronCases) test(`validateCronJob: ${c.name}`, () => assert.deepEqual(validateCronJob(batch("CronJob", c.spec, c.name_)).map(errorString), c.want));
