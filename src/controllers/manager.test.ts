import { test } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { SeededRng } from "../env/seeded_rng.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../platform/node/node_env.js";
import type { Env } from "../env/env.js";
import type { Controller } from "./controller.js";
import { BUILTIN_CONTROLLERS, ControllerManager, controllerDescriptors, selectControllers, type ControllerDescriptor } from "./manager.js";

async function poll<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const d = (name: string, enabledByDefault = true): ControllerDescriptor => ({ name, workers: 1, enabledByDefault, create: () => null });

const selectCases: { name: string; selection: string[]; want: string[] }[] = [
  { name: "* selects those enabled by default", selection: ["*"], want: ["a", "b"] },
  { name: "-name removes one from *", selection: ["*", "-a"], want: ["b"] },
  { name: "a name selects a controller off by default", selection: ["*", "c"], want: ["a", "b", "c"] },
  { name: "names alone select only them", selection: ["b"], want: ["b"] },
];
for (const c of selectCases) {
  test(`selectControllers: ${c.name}`, () => {
    assert.deepEqual(selectControllers([d("a"), d("b"), d("c", false)], c.selection).map((x) => x.name), c.want);
  });
}

test("selectControllers: an unknown name is refused as upstream does", () => {
  assert.throws(() => selectControllers([d("a")], ["nope"]), /"nope" is not in the list of known controllers/);
});

test("BUILTIN_CONTROLLERS: upstream's names and default workers", () => {
  const workers = Object.fromEntries(BUILTIN_CONTROLLERS.map((x) => [x.name, x.workers]));
  assert.equal(workers["deployment-controller"], 5);
  assert.equal(workers["replicaset-controller"], 5);
  assert.equal(workers["endpoints-controller"], 5);
  assert.equal(workers["namespace-controller"], 10);
  assert.equal(workers["garbage-collector-controller"], 20);
  assert.equal(new Set(BUILTIN_CONTROLLERS.map((x) => x.name)).size, BUILTIN_CONTROLLERS.length, "names are unique");
  assert.equal(controllerDescriptors([{ ...d("deployment-controller"), workers: 7 }]).find((x) => x.name === "deployment-controller")?.workers, 7);
});

/** A controller that only says what happened to it. */
class ProbeController implements Controller {
  readonly name = "probe";
  readonly events: string[] = [];
  #stop: (() => void) | null = null;
  init(): void {
    this.events.push("init");
  }
  run(workers: number): Promise<void> {
    this.events.push(`run ${workers}`);
    return new Promise((resolve) => (this.#stop = resolve));
  }
  stop(): void {
    this.events.push("stop");
    this.#stop?.();
  }
}

test("ControllerManager: acquires the kube-controller-manager lease, runs its controllers, and hands over on stop", { timeout: 90_000 }, async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const env = (seed: number): Env => ({ clock: nodeClock, rng: new SeededRng(seed), fs: nodeFileSystem, log: new MemoryLogger() });
  const probes: ProbeController[] = [];
  const probe: ControllerDescriptor = {
    name: "probe-controller",
    workers: 3,
    enabledByDefault: false,
    create: () => {
      const p = new ProbeController();
      probes.push(p);
      return p;
    },
  };
  const options = {
    controllers: ["disruption-controller", "probe-controller"],
    extraControllers: [probe],
    leaseDurationMs: 4_000,
    renewDeadlineMs: 3_000,
    retryPeriodMs: 500,
  };
  const first = new ControllerManager(env(1), client, { ...options, identity: "cm-1" });
  const second = new ControllerManager(env(2), client, { ...options, identity: "cm-2" });
  try {
    first.start();
    const leases = client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace("kube-system");
    const lease = await poll("the lease", async () => {
      try {
        const l = await leases.get("kube-controller-manager");
        return l.spec?.holderIdentity === "cm-1" ? l : undefined;
      } catch {
        return undefined;
      }
    });
    assert.equal(lease.spec?.leaseDurationSeconds, 4);
    await poll("the probe to run", () => (probes[0]?.events.includes("run 3") ? true : undefined));
    assert.deepEqual(probes[0]!.events, ["init", "run 3"]);
    assert.deepEqual(first.runningControllers(), ["disruption-controller", "probe-controller"]);

    // The disruption controller really runs: a PDB gets a status.
    const pdbs = client.resource<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets").namespace("default");
    await pdbs.create({ metadata: { name: "b" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "x" } } } });
    await poll("the PDB status", async () => ((await pdbs.get("b")).status?.observedGeneration === 1 ? true : undefined));

    // A second candidate waits while the first leads.
    second.start();
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(second.isLeader(), false);
    assert.deepEqual(second.runningControllers(), []);

    // Stopping the first releases the lease; the second takes over and starts its own controllers.
    await first.stop();
    assert.deepEqual(probes[0]!.events, ["init", "run 3", "stop"]);
    assert.deepEqual(first.runningControllers(), []);
    await poll("the second to lead", () => (second.isLeader() && probes[1]?.events.includes("run 3") ? true : undefined));
    assert.equal((await leases.get("kube-controller-manager")).spec?.holderIdentity, "cm-2");
    await second.stop();
  } finally {
    await first.stop();
    await second.stop();
    client.close();
    await api.stop();
  }
});

test("ControllerManager: without leader election the controllers start at once", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const probes: ProbeController[] = [];
  const m = new ControllerManager({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() }, client, {
    leaderElect: false,
    controllers: ["probe-controller"],
    extraControllers: [{ name: "probe-controller", workers: 2, enabledByDefault: false, create: () => (probes.push(new ProbeController()), probes.at(-1)!) }],
  });
  try {
    m.start();
    await poll("the probe to run", () => (probes[0]?.events.includes("run 2") ? true : undefined));
    assert.equal(m.isLeader(), true);
    await m.stop();
    assert.deepEqual(probes[0]!.events, ["init", "run 2", "stop"]);
  } finally {
    await m.stop();
    client.close();
    await api.stop();
  }
});

test("ControllerManager: every built-in controller starts, runs without errors, and stops", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const log = new MemoryLogger();
  const m = new ControllerManager({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log }, client, { rootCaPem: api.ca, clusterSigning: { certPem: api.ca, keyPem: api.caKey }, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 });
  try {
    m.start();
    await poll("the controllers to run", () => (m.runningControllers().length > 0 && log.records.some((r) => r.msg === "started controller" && r.fields["controller"] === "node-ipam-controller") ? true : undefined));
    assert.deepEqual(m.runningControllers(), BUILTIN_CONTROLLERS.map((x) => x.name));
    await new Promise((r) => setTimeout(r, 1_000));
    await m.stop();
    assert.deepEqual(log.records.filter((r) => r.level === "error").map((r) => r.msg), []);
    assert.ok(log.records.some((r) => r.msg === "controller stopped" && r.fields["controller"] === "resourcequota"));
  } finally {
    await m.stop();
    client.close();
    await api.stop();
  }
});
