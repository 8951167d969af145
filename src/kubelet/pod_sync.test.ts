import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { CrashLoopBackOff } from "./backoff.js";
import { computePodActions, containerHash } from "./pod_sync.js";
import type { RuntimeContainer, RuntimePod, RuntimeSandbox } from "./runtime_pod.js";

const NOW = 1_700_000_100_000;
const ms = (t: number) => BigInt(t) * 1_000_000n;

function pod(o: { restartPolicy?: "Always" | "OnFailure" | "Never"; inits?: string[]; containers?: string[] } = {}): Pod {
  return {
    metadata: { name: "web", namespace: "default", uid: "u1" },
    spec: {
      restartPolicy: o.restartPolicy ?? "Always",
      ...(o.inits === undefined ? {} : { initContainers: o.inits.map((name) => ({ name, image: "busybox", command: ["true"] })) }),
      containers: (o.containers ?? ["app"]).map((name) => ({ name, image: "busybox", command: ["sleep", "30"] })),
    },
  };
}

function sandbox(o: Partial<RuntimeSandbox> = {}): RuntimeSandbox {
  return { id: "s1", state: "SANDBOX_READY", attempt: 0, createdAtNs: ms(NOW - 60_000), ip: "10.0.0.1", ...o };
}

function ctr(p: Pod, name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const spec = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === name)!;
  return {
    id: `${name}-${o.restartCount ?? 0}`, name, sandboxId: "s1", restartCount: 0, hash: containerHash(spec), state: "CONTAINER_RUNNING",
    createdAtNs: ms(NOW - 50_000), startedAtNs: ms(NOW - 50_000), finishedAtNs: 0n, exitCode: 0, reason: "", message: "",
    image: "busybox", imageRef: "sha256:x", logPath: "", ...o,
  };
}

function rp(sandboxes: RuntimeSandbox[], containers: RuntimeContainer[]): RuntimePod {
  return { uid: "u1", name: "web", namespace: "default", sandboxes, containers };
}

const exited = (exitCode: number, finishedAgoMs: number) => ({ state: "CONTAINER_EXITED" as const, exitCode, finishedAtNs: ms(NOW - finishedAgoMs) });

test("computePodActions: a new pod gets a sandbox and all its containers", () => {
  const a = computePodActions(pod({ containers: ["a", "b"] }), rp([], []), { nowMs: NOW, backoff: new CrashLoopBackOff() });
  assert.equal(a.createSandbox, true);
  assert.equal(a.killPod, false);
  assert.deepEqual(a.containersToStart.map((c) => [c.name, c.restartCount, c.isRestart]), [["a", 0, false], ["b", 0, false]]);
});

test("computePodActions: init containers start one at a time, in order, before any regular container", () => {
  const p = pod({ inits: ["i1", "i2"] });
  const cases = [
    { name: "no sandbox: the first init", rp: rp([], []), start: ["i1"] },
    { name: "first init running: wait", rp: rp([sandbox()], [ctr(p, "i1")]), start: [] },
    { name: "first init done: the second", rp: rp([sandbox()], [ctr(p, "i1", exited(0, 1000))]), start: ["i2"] },
    { name: "both done: the app", rp: rp([sandbox()], [ctr(p, "i2", exited(0, 500)), ctr(p, "i1", exited(0, 1000))]), start: ["app"] },
  ];
  for (const c of cases) {
    const a = computePodActions(p, c.rp, { nowMs: NOW, backoff: new CrashLoopBackOff() });
    assert.deepEqual(a.containersToStart.map((x) => x.name), c.start, c.name);
  }
});

test("computePodActions: a failed init container fails a Never pod and restarts under Always", () => {
  const never = pod({ inits: ["i1"], restartPolicy: "Never" });
  const a = computePodActions(never, rp([sandbox()], [ctr(never, "i1", exited(1, 1000))]), { nowMs: NOW, backoff: new CrashLoopBackOff() });
  assert.equal(a.initFailed, true);
  assert.deepEqual(a.containersToStart, []);
  const always = pod({ inits: ["i1"] });
  const b = computePodActions(always, rp([sandbox()], [ctr(always, "i1", exited(1, 1000))]), { nowMs: NOW, backoff: new CrashLoopBackOff() });
  assert.deepEqual(b.containersToStart.map((x) => [x.name, x.restartCount, x.isRestart]), [["i1", 1, true]]);
});

test("computePodActions: an exited container restarts per restartPolicy", () => {
  const cases = [
    { policy: "Always", exitCode: 0, restart: true },
    { policy: "Always", exitCode: 1, restart: true },
    { policy: "OnFailure", exitCode: 0, restart: false },
    { policy: "OnFailure", exitCode: 1, restart: true },
    { policy: "Never", exitCode: 1, restart: false },
  ] as const;
  for (const c of cases) {
    const p = pod({ restartPolicy: c.policy });
    const a = computePodActions(p, rp([sandbox()], [ctr(p, "app", exited(c.exitCode, 60_000))]), { nowMs: NOW, backoff: new CrashLoopBackOff() });
    assert.equal(a.containersToStart.length === 1, c.restart, `${c.policy} exit ${c.exitCode}`);
    // A pod with nothing left to run stops its sandbox.
    assert.equal(a.killPod, !c.restart, `${c.policy} exit ${c.exitCode} killPod`);
  }
});

test("computePodActions: a restart waits out CrashLoopBackOff, which doubles from 10 s to 5 min", () => {
  const p = pod();
  const backoff = new CrashLoopBackOff();
  const key = CrashLoopBackOff.key("default", "web", "u1", "app");
  // The first restart is immediate; the executor records it.
  let a = computePodActions(p, rp([sandbox()], [ctr(p, "app", exited(1, 1000))]), { nowMs: NOW, backoff });
  assert.equal(a.containersToStart.length, 1);
  backoff.next(key, NOW);
  // It failed again 1 s later: back off 10 s from its exit.
  a = computePodActions(p, rp([sandbox()], [ctr(p, "app", { ...exited(1, 0), restartCount: 1 })]), { nowMs: NOW + 1000, backoff });
  assert.deepEqual(a.containersToStart, []);
  assert.equal(a.backOff[0]?.message, "back-off 10s restarting failed container=app pod=web_default(u1)");
  assert.equal(a.backOff[0]?.retryInMs, 9000);
  // 10 s after its exit it may restart.
  a = computePodActions(p, rp([sandbox()], [ctr(p, "app", { ...exited(1, 0), restartCount: 1 })]), { nowMs: NOW + 10_000, backoff });
  assert.deepEqual(a.containersToStart.map((c) => c.restartCount), [2]);
  let t = NOW;
  for (let i = 0; i < 10; i++) backoff.next(key, (t += 1000));
  assert.equal(backoff.durationMs(key, t), 300_000);
});

test("computePodActions: a running container that failed liveness is killed with the probe's message", () => {
  const p = pod();
  const running = ctr(p, "app");
  const a = computePodActions(p, rp([sandbox()], [running]), { nowMs: NOW, backoff: new CrashLoopBackOff(), probeFailures: new Map([[running.id, "Container app failed liveness probe, will be restarted"]]) });
  assert.deepEqual(a.containersToKill, [{ id: running.id, name: "app", message: "Container app failed liveness probe, will be restarted" }]);
  assert.equal(a.killPod, false);
});

test("computePodActions: a dead sandbox is replaced with the next attempt and everything restarts in it", () => {
  const p = pod();
  const a = computePodActions(p, rp([sandbox({ state: "SANDBOX_NOTREADY" })], [ctr(p, "app", exited(137, 60_000))]), { nowMs: NOW, backoff: new CrashLoopBackOff() });
  assert.equal(a.createSandbox, true);
  assert.equal(a.sandboxAttempt, 1);
  assert.equal(a.killPod, true);
  assert.deepEqual(a.containersToStart.map((c) => c.name), ["app"]);
});

test("computePodActions: a finished Never pod gets no new sandbox", () => {
  const p = pod({ restartPolicy: "Never" });
  const a = computePodActions(p, rp([sandbox({ state: "SANDBOX_NOTREADY" })], [ctr(p, "app", exited(0, 60_000))]), { nowMs: NOW, backoff: new CrashLoopBackOff() });
  assert.equal(a.createSandbox, false);
  assert.deepEqual(a.containersToStart, []);
});
