import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { InformerFactory } from "../client/informer_factory.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { SeededRng } from "../env/seeded_rng.js";
import { nodeClock, nodeFileSystem } from "../platform/node/node_env.js";
import type { Env } from "../env/env.js";
import { KubeScheduler } from "./kube_scheduler.js";

let api: InProcessApiServer;
let client: RestClient;
let informers: InformerFactory;
let scheduler: KubeScheduler;

async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function addNode(name: string, cpu: string, taints: Node["spec"] extends infer S ? (S extends { taints?: infer T } ? T : never) : never = []): Promise<void> {
  const nodes = client.resource<Node>("", "v1", "nodes");
  await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } }, spec: { taints } });
  await nodes.patch(
    name,
    "merge",
    { status: { capacity: { cpu, memory: "8Gi", pods: "110" }, allocatable: { cpu, memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True" }] } },
    { subresource: "status" },
  );
}

function pod(name: string, cpu: string): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "1"], resources: { requests: { cpu } } }] } };
}

before(async () => {
  api = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  const env: Env = { clock: nodeClock, rng: new SeededRng(7), fs: nodeFileSystem, log: new MemoryLogger() } as unknown as Env;
  informers = new InformerFactory(env, client);
  scheduler = new KubeScheduler({ env, client, informers });
  scheduler.init();
  await addNode("small-1", "1");
  await addNode("small-2", "1");
  await addNode("tainted", "8", [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]);
  informers.start();
  assert.equal(await informers.waitForCacheSync({ timeoutMs: 10_000 }), true);
  void scheduler.run();
});

after(async () => {
  scheduler?.stop();
  await informers?.shutdown();
  client?.close();
  await api?.stop();
});

test("a pod that fits is bound through pods/binding, with PodScheduled=True and a Scheduled event", async () => {
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  await pods.create(pod("fits", "500m"));
  const bound = await eventually("the pod to be bound", async () => {
    const p = await pods.get("fits");
    return p.spec?.nodeName ? p : undefined;
  });
  assert.match(bound.spec!.nodeName!, /^small-[12]$/);
  assert.equal(bound.status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True");
  const events = await eventually("the Scheduled event", async () => {
    const list = await client.resource<{ metadata?: { name?: string }; reason?: string; message?: string; involvedObject?: { name?: string } }>("", "v1", "events").namespace("default").list();
    const e = list.items.find((x) => x.reason === "Scheduled" && x.involvedObject?.name === "fits");
    return e;
  });
  assert.equal(events.message, `Successfully assigned default/fits to ${bound.spec!.nodeName}`);
});

test("a pod that fits nowhere gets upstream's FitError in its PodScheduled condition", async () => {
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  await pods.create(pod("too-big", "4"));
  const condition = await eventually("the PodScheduled=False condition", async () => {
    const p = await pods.get("too-big");
    return p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  });
  assert.equal(condition.reason, "Unschedulable");
  assert.equal(
    condition.message,
    // 4 CPUs exceed every small node's whole allocatable, so (as 1.32) evicting pods there cannot help either.
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
  );
});

test("a pod left unschedulable is placed once a node that fits it joins", async () => {
  await addNode("big", "8");
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  const bound = await eventually("the pod to be bound to the new node", async () => {
    const p = await pods.get("too-big");
    return p.spec?.nodeName ? p : undefined;
  });
  assert.equal(bound.spec!.nodeName, "big");
});

test("pods whose bindings are still in flight count on their nodes, so a burst never overcommits one", async () => {
  const nodes = client.resource<Node>("", "v1", "nodes");
  const names = ["burst-a", "burst-b", "burst-c"];
  for (const n of names) {
    await addNode(n, "1");
    await nodes.patch(n, "merge", { metadata: { labels: { burst: "yes" } } });
  }
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  const burst = (name: string): Pod => {
    const p = pod(name, "600m");
    return { ...p, spec: { ...p.spec!, nodeSelector: { burst: "yes" } } };
  };
  // Let the scheduler see the labels before the pods come.
  await new Promise((r) => setTimeout(r, 200));
  await Promise.all(["burst-0", "burst-1", "burst-2"].map((n) => pods.create(burst(n))));
  const placed = await eventually("all three pods to be bound", async () => {
    const list = await Promise.all(["burst-0", "burst-1", "burst-2"].map((n) => pods.get(n)));
    return list.every((p) => p.spec?.nodeName) ? list.map((p) => p.spec!.nodeName!) : undefined;
  });
  assert.deepEqual([...placed].sort(), names, "600m twice does not fit a 1-cpu node: one pod per node");
  // The API server commits a binding before the scheduler reads its response: the count drains shortly after.
  await eventually("the binding cycles to end", async () => (scheduler.bindingsInFlight === 0 ? true : undefined));
});
