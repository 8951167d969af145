import { test } from "node:test";
import assert from "node:assert/strict";
import { cronJobPrinter, jobPrinter } from "./batch_printers.js";
import type { Printer } from "./printer.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ctx = { nowMs: NOW };
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const MIN = 60_000;
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: "default", creationTimestamp: ago(20 * MIN), ...extra });
const cells = (p: Printer, obj: object) => p.print(obj, ctx).cells;
const template = { spec: { containers: [{ name: "pi", image: "perl:5.34" }], restartPolicy: "Never" } };
const selector = { matchLabels: { "batch.kubernetes.io/controller-uid": "abc" } };

test("job: 1.32's columns are NAME STATUS COMPLETIONS DURATION AGE, CONTAINERS IMAGES SELECTOR with -o wide", () => {
  assert.deepEqual(
    jobPrinter.columns.map((c) => [c.name, c.priority]),
    [
      ["Name", 0],
      ["Status", 0],
      ["Completions", 0],
      ["Duration", 0],
      ["Age", 0],
      ["Containers", 1],
      ["Images", 1],
      ["Selector", 1],
    ],
  );
});

const jobCases = [
  {
    name: "a running job counts its duration up to now",
    job: { spec: { completions: 3, parallelism: 1, selector, template }, status: { startTime: ago(5 * MIN), succeeded: 1, active: 1 } },
    want: ["pi", "Running", "1/3", "5m", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
  {
    name: "a complete job's duration is start to completion",
    job: {
      spec: { completions: 1, selector, template },
      status: { startTime: ago(10 * MIN), completionTime: ago(10 * MIN - 45_000), succeeded: 1, conditions: [{ type: "SuccessCriteriaMet", status: "True" }, { type: "Complete", status: "True" }] },
    },
    want: ["pi", "Complete", "1/1", "45s", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
  {
    name: "a failed job",
    job: { spec: { completions: 1, selector, template }, status: { startTime: ago(MIN), conditions: [{ type: "FailureTarget", status: "True" }, { type: "Failed", status: "True" }] } },
    want: ["pi", "Failed", "0/1", "60s", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
  {
    name: "a suspended job not yet started has no duration",
    job: { spec: { completions: 2, suspend: true, selector, template }, status: { conditions: [{ type: "Suspended", status: "True" }] } },
    want: ["pi", "Suspended", "0/2", "", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
  {
    name: "a work-queue job with parallelism shows n/1 of P",
    job: { spec: { parallelism: 4, selector, template }, status: { startTime: ago(MIN), succeeded: 0 } },
    want: ["pi", "Running", "0/1 of 4", "60s", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
  {
    name: "a job about to fail shows FailureTarget",
    job: { spec: { parallelism: 1, selector, template }, status: { startTime: ago(MIN), conditions: [{ type: "FailureTarget", status: "True" }] } },
    want: ["pi", "FailureTarget", "0/1", "60s", "20m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"],
  },
];
for (const c of jobCases) {
  test(`job: ${c.name}`, () => assert.deepEqual(cells(jobPrinter, { metadata: meta("pi"), ...c.job }), c.want));
}

test("job: a job being deleted is Terminating unless already finished", () => {
  const deleting = { metadata: meta("pi", { deletionTimestamp: ago(0) }), spec: { completions: 1, template }, status: { startTime: ago(MIN) } };
  assert.equal(cells(jobPrinter, deleting)[1], "Terminating");
  const finished = { ...deleting, status: { conditions: [{ type: "Complete", status: "True" }] } };
  assert.equal(cells(jobPrinter, finished)[1], "Complete");
});

test("cronjob: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE", () => {
  assert.deepEqual(
    cronJobPrinter.columns.filter((c) => c.priority === 0).map((c) => c.name),
    ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"],
  );
  const cj = {
    metadata: meta("hello"),
    spec: { schedule: "*/5 * * * *", suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: "hello-1" }], lastScheduleTime: ago(3 * MIN) },
  };
  assert.deepEqual(cells(cronJobPrinter, cj), ["hello", "*/5 * * * *", "<none>", "False", 1, "3m", "20m", "pi", "perl:5.34", "<none>"]);
  const never = { metadata: meta("tz"), spec: { schedule: "0 3 * * *", timeZone: "Europe/Paris", suspend: true, jobTemplate: { spec: { template } } } };
  assert.deepEqual(cells(cronJobPrinter, never).slice(0, 6), ["tz", "0 3 * * *", "Europe/Paris", "True", 0, "<none>"]);
});
