import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { generatePodStatus, podStatusEqual } from "./pod_status.js";
import type { RuntimeContainer, RuntimePod } from "./runtime_pod.js";

const NOW = 1_700_000_100_000;
const ms = (t: number) => BigInt(t) * 1_000_000n;

function pod(o: { restartPolicy?: "Always" | "OnFailure" | "Never"; inits?: string[]; readiness?: boolean } = {}): Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "u1" },
    spec: {
      restartPolicy: o.restartPolicy ?? "Always",
      ...(o.inits === undefined ? {} : { initContainers: o.inits.map((name) => ({ name, image: "busybox" })) }),
      containers: [{ name: "app", image: "busybox", ...(o.readiness === true ? { readinessProbe: { exec: { command: ["true"] } } } : {}) }],
    },
    status: { phase: "Pending", qosClass: "BestEffort", conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "2023-11-14T22:13:20Z" }] },
  };
}

function ctr(name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    id: `${name}-id`, name, sandboxId: "s1", restartCount: 0, hash: "", state: "CONTAINER_RUNNING",
    createdAtNs: ms(NOW - 5000), startedAtNs: ms(NOW - 5000), finishedAtNs: 0n, exitCode: 0, reason: "", message: "",
    image: "busybox", imageRef: "sha256:abc", logPath: "", ...o,
  };
}

function rp(containers: RuntimeContainer[], sandboxReady = true): RuntimePod {
  return { uid: "u1", name: "web", namespace: "default", sandboxes: [{ id: "s1", state: sandboxReady ? "SANDBOX_READY" : "SANDBOX_NOTREADY", attempt: 0, createdAtNs: ms(NOW - 6000), ip: "10.0.0.5" }], containers };
}

const input = { nowMs: NOW, hostIP: "10.0.0.5" };

test("generatePodStatus: a running container without probes makes the pod Running and Ready", () => {
  const s = generatePodStatus(pod(), rp([ctr("app")]), input);
  assert.equal(s.phase, "Running");
  assert.equal(s.qosClass, "BestEffort");
  assert.deepEqual(s.conditions?.map((c) => [c.type, c.status]), [["PodReadyToStartContainers", "True"], ["Initialized", "True"], ["Ready", "True"], ["ContainersReady", "True"], ["PodScheduled", "True"]]);
  const cs = s.containerStatuses![0]!;
  assert.equal(cs.containerID, "tk8s://app-id");
  assert.equal(cs.imageID, "sha256:abc");
  assert.deepEqual([cs.ready, cs.started, cs.restartCount], [true, true, 0]);
  assert.equal(cs.state?.running?.startedAt, "2023-11-14T22:14:55Z");
  assert.deepEqual([s.hostIP, s.podIP, s.podIPs, s.hostIPs], ["10.0.0.5", "10.0.0.5", [{ ip: "10.0.0.5" }], [{ ip: "10.0.0.5" }]]);
});

test("generatePodStatus: a container whose readiness probe has not passed is not ready, with upstream's message", () => {
  const s = generatePodStatus(pod({ readiness: true }), rp([ctr("app")]), { ...input, readiness: () => false });
  const ready = s.conditions!.find((c) => c.type === "Ready")!;
  assert.deepEqual([ready.status, ready.reason, ready.message], ["False", "ContainersNotReady", "containers with unready status: [app]"]);
  assert.equal(s.phase, "Running");
});

test("generatePodStatus: a pod with no container yet is Pending with ContainerCreating", () => {
  const s = generatePodStatus(pod(), rp([]), input);
  assert.equal(s.phase, "Pending");
  assert.equal(s.containerStatuses![0]!.state?.waiting?.reason, "ContainerCreating");
});

test("generatePodStatus: a crash looping container waits in CrashLoopBackOff with its last termination", () => {
  const waiting = new Map([["app", { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=app pod=web_default(u1)" }]]);
  const s = generatePodStatus(pod(), rp([ctr("app", { state: "CONTAINER_EXITED", exitCode: 1, restartCount: 1, finishedAtNs: ms(NOW - 1000) })]), { ...input, waiting });
  const cs = s.containerStatuses![0]!;
  assert.equal(cs.state?.waiting?.reason, "CrashLoopBackOff");
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  assert.equal(cs.lastState?.terminated?.reason, "Error");
  assert.equal(cs.restartCount, 1);
  assert.equal(s.phase, "Running");
});

test("generatePodStatus: phases of finished pods follow restartPolicy", () => {
  const cases = [
    { policy: "Never", exitCode: 0, phase: "Succeeded" },
    { policy: "Never", exitCode: 2, phase: "Failed" },
    { policy: "OnFailure", exitCode: 0, phase: "Succeeded" },
  ] as const;
  for (const c of cases) {
    const s = generatePodStatus(pod({ restartPolicy: c.policy }), rp([ctr("app", { state: "CONTAINER_EXITED", exitCode: c.exitCode, finishedAtNs: ms(NOW) })], false), input);
    assert.equal(s.phase, c.phase, `${c.policy} ${c.exitCode}`);
    assert.equal(s.containerStatuses![0]!.state?.terminated?.reason, c.exitCode === 0 ? "Completed" : "Error");
  }
  const done = generatePodStatus(pod({ restartPolicy: "Never" }), rp([ctr("app", { state: "CONTAINER_EXITED", exitCode: 0, finishedAtNs: ms(NOW) })], false), input);
  assert.equal(done.conditions!.find((c) => c.type === "Ready")!.reason, "PodCompleted");
});

test("generatePodStatus: init containers not yet done keep the pod Pending and not Initialized", () => {
  const s = generatePodStatus(pod({ inits: ["setup"] }), rp([ctr("setup")]), input);
  assert.equal(s.phase, "Pending");
  const init = s.conditions!.find((c) => c.type === "Initialized")!;
  assert.deepEqual([init.status, init.reason, init.message], ["False", "ContainersNotInitialized", "containers with incomplete status: [setup]"]);
  assert.equal(s.containerStatuses![0]!.state?.waiting?.reason, "PodInitializing");
});

test("generatePodStatus: an unchanged condition keeps its transition time, so an unchanged pod writes nothing", () => {
  const p = pod();
  const first = generatePodStatus(p, rp([ctr("app")]), input);
  const second = generatePodStatus({ ...p, status: first }, rp([ctr("app")]), { ...input, nowMs: NOW + 60_000 });
  assert.equal(podStatusEqual(first, second), true);
});

test("generatePodStatus: startTime and transition times come from the status the kubelet last set, not the informer's older copy", () => {
  const first = generatePodStatus(pod(), rp([ctr("app")]), input);
  // A second later the informer still shows the Pending pod (our write has not come back yet).
  const again = generatePodStatus(pod(), rp([ctr("app")]), { ...input, nowMs: NOW + 1000, oldStatus: first });
  assert.equal(again.startTime, first.startTime);
  assert.deepEqual(again.conditions, first.conditions);
  assert.ok(podStatusEqual(first, again), "no second write for the same state");
  const fromStale = generatePodStatus(pod(), rp([ctr("app")]), { ...input, nowMs: NOW + 1000 });
  assert.notEqual(fromStale.startTime, first.startTime, "without the cache the times would move");
});

test("generatePodStatus: conditions other components own come from the API pod even when the kubelet's cache is older", () => {
  const first = generatePodStatus(pod(), rp([ctr("app")]), input);
  const p = pod();
  p.status!.conditions = [...p.status!.conditions!, { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", lastTransitionTime: "2023-11-14T22:15:00Z" }];
  const s = generatePodStatus(p, rp([ctr("app")]), { ...input, oldStatus: first });
  assert.deepEqual(s.conditions?.map((c) => c.type), ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled", "DisruptionTarget"]);
});

test("podStatusEqual: a null field (lastProbeTime: null as the API returns it) equals an absent one", () => {
  const a = { phase: "Running", conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null as unknown as string, lastTransitionTime: "2023-11-14T22:13:20Z" }] } as const;
  const b = { phase: "Running", conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "2023-11-14T22:13:20Z" }] } as const;
  assert.ok(podStatusEqual({ ...a, conditions: [...a.conditions] }, { ...b, conditions: [...b.conditions] }));
  assert.ok(!podStatusEqual({ phase: "Running" }, { phase: "Pending" }));
});
