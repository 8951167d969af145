import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, PodStatus, PodSpec } from "kubernetes-types/core/v1.js";
import { podStatusCells } from "./pod_status.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const MIN = 60_000;

function pod(spec: Partial<PodSpec>, status: PodStatus, deletionTimestamp?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", creationTimestamp: ago(10 * MIN), ...(deletionTimestamp ? { deletionTimestamp } : {}) },
    spec: { containers: [{ name: "app", image: "nginx" }], ...spec },
    status,
  };
}

const running = { running: { startedAt: ago(9 * MIN) } };

const cases: { name: string; pod: Pod; want: { ready: string; status: string; restarts: string } }[] = [
  {
    name: "an unscheduled pod is Pending with nothing ready",
    pod: pod({}, { phase: "Pending" }),
    want: { ready: "0/1", status: "Pending", restarts: "0" },
  },
  {
    name: "a scheduling-gated pod says SchedulingGated",
    pod: pod({}, { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }] }),
    want: { ready: "0/1", status: "SchedulingGated", restarts: "0" },
  },
  {
    name: "a container being created shows the waiting reason",
    pod: pod({}, { phase: "Pending", containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] }),
    want: { ready: "0/1", status: "ContainerCreating", restarts: "0" },
  },
  {
    name: "a running ready container with two restarts shows when it last restarted",
    pod: pod(
      {},
      {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            image: "nginx",
            imageID: "",
            ready: true,
            restartCount: 2,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } },
          },
        ],
      },
    ),
    want: { ready: "1/1", status: "Running", restarts: "2 (5m ago)" },
  },
  {
    name: "restarts without a known finish time print the bare count",
    pod: pod({}, { phase: "Running", containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: true, restartCount: 3, state: running }] }),
    want: { ready: "1/1", status: "Running", restarts: "3" },
  },
  {
    name: "a crash-looping container shows CrashLoopBackOff",
    pod: pod(
      {},
      {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            image: "nginx",
            imageID: "",
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(30_000) } },
          },
        ],
      },
    ),
    want: { ready: "0/1", status: "CrashLoopBackOff", restarts: "4 (30s ago)" },
  },
  {
    name: "a succeeded pod shows Completed",
    pod: pod({}, { phase: "Succeeded", containerStatuses: [{ name: "app", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } }] }),
    want: { ready: "0/1", status: "Completed", restarts: "0" },
  },
  {
    name: "a container that failed shows Error",
    pod: pod({}, { phase: "Failed", containerStatuses: [{ name: "app", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 2, reason: "Error" } } }] }),
    want: { ready: "0/1", status: "Error", restarts: "0" },
  },
  {
    name: "a terminated container without a reason shows its exit code or signal",
    pod: pod(
      { containers: [{ name: "a" }, { name: "b" }] },
      {
        phase: "Failed",
        containerStatuses: [
          { name: "a", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } },
          { name: "b", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, signal: 9 } } },
        ],
      },
    ),
    // Containers are walked last to first, so the first container's state is the one shown.
    want: { ready: "0/2", status: "ExitCode:137", restarts: "0" },
  },
  {
    name: "one container completed while another runs: Running when the pod is ready",
    pod: pod(
      { containers: [{ name: "a" }, { name: "b" }] },
      {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          { name: "a", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
          { name: "b", image: "x", imageID: "", ready: true, restartCount: 0, state: running },
        ],
      },
    ),
    want: { ready: "1/2", status: "Running", restarts: "0" },
  },
  {
    name: "one container completed while another runs: NotReady when the pod is not",
    pod: pod(
      { containers: [{ name: "a" }, { name: "b" }] },
      {
        phase: "Running",
        containerStatuses: [
          { name: "a", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
          { name: "b", image: "x", imageID: "", ready: true, restartCount: 0, state: running },
        ],
      },
    ),
    want: { ready: "1/2", status: "NotReady", restarts: "0" },
  },
  {
    name: "the second of two init containers running shows Init:1/2",
    pod: pod(
      { initContainers: [{ name: "i1" }, { name: "i2" }] },
      {
        phase: "Pending",
        initContainerStatuses: [
          { name: "i1", image: "x", imageID: "", ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
          { name: "i2", image: "x", imageID: "", ready: false, restartCount: 0, state: running },
        ],
        containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }],
      },
    ),
    want: { ready: "0/1", status: "Init:1/2", restarts: "0" },
  },
  {
    name: "a crash-looping init container shows Init:CrashLoopBackOff and counts only init restarts",
    pod: pod(
      { initContainers: [{ name: "migrate" }] },
      {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "migrate",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(2 * MIN) } },
          },
        ],
        containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }],
      },
    ),
    want: { ready: "0/1", status: "Init:CrashLoopBackOff", restarts: "3 (2m ago)" },
  },
  {
    name: "a failed init container shows Init:Error, or Init:ExitCode without a reason",
    pod: pod(
      { initContainers: [{ name: "i1" }] },
      { phase: "Pending", initContainerStatuses: [{ name: "i1", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }] },
    ),
    want: { ready: "0/1", status: "Init:ExitCode:3", restarts: "0" },
  },
  {
    name: "a started sidecar counts toward ready and total, and initialization continues",
    pod: pod(
      { initContainers: [{ name: "proxy", restartPolicy: "Always" }] },
      {
        phase: "Running",
        conditions: [{ type: "Initialized", status: "True" }],
        initContainerStatuses: [{ name: "proxy", image: "x", imageID: "", ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * MIN) } } }],
        containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: true, restartCount: 0, state: running }],
      },
    ),
    want: { ready: "2/2", status: "Running", restarts: "1 (3m ago)" },
  },
  {
    name: "a running pod being deleted shows Terminating",
    pod: pod({}, { phase: "Running", containerStatuses: [{ name: "app", image: "nginx", imageID: "", ready: true, restartCount: 0, state: running }] }, ago(MIN)),
    want: { ready: "1/1", status: "Terminating", restarts: "0" },
  },
  {
    name: "a completed pod being deleted keeps its terminal status",
    pod: pod({}, { phase: "Succeeded", containerStatuses: [{ name: "app", image: "x", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } }] }, ago(MIN)),
    want: { ready: "0/1", status: "Completed", restarts: "0" },
  },
  {
    name: "a pod on a lost node being deleted shows Unknown",
    pod: pod({}, { phase: "Running", reason: "NodeLost" }, ago(MIN)),
    want: { ready: "0/1", status: "Unknown", restarts: "0" },
  },
  {
    name: "a pod whose status has a reason (Evicted) shows the reason",
    pod: pod({}, { phase: "Failed", reason: "Evicted" }),
    want: { ready: "0/1", status: "Evicted", restarts: "0" },
  },
];

for (const c of cases) {
  test(`podStatusCells: ${c.name}`, () => assert.deepEqual(podStatusCells(c.pod, NOW), c.want));
}
