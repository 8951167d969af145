import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "kubernetes-types/core/v1.js";
import { startInProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import type { Env } from "../../env/env.js";
import { NodeIpamController } from "./node_ipam_controller.js";

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("NodeIpamController: nodes get distinct /24 pod CIDRs, kept across a restart and released on delete", { timeout: 60_000 }, async () => {
  const api = await startInProcessApiServer();
  const env: Env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const client = new RestClient(loadKubeconfig(api.kubeconfig, { component: "controller-manager" }));
  const nodes = client.resource<Node>("", "v1", "nodes");
  const cidrOf = (name: string) =>
    poll(`${name}'s podCIDR`, async () => {
      const n = await nodes.get(name);
      return n.spec?.podCIDR === undefined ? undefined : { podCIDR: n.spec.podCIDR, podCIDRs: n.spec.podCIDRs };
    });
  const start = async (): Promise<{ c: NodeIpamController; informers: InformerFactory; running: Promise<void> }> => {
    const informers = new InformerFactory(env, client);
    const c = new NodeIpamController({ env, client, informers });
    c.init();
    informers.start();
    assert.equal(await informers.waitForCacheSync({ timeoutMs: 10_000 }), true);
    return { c, informers, running: c.run(2) };
  };
  let run = await start();
  try {
    await nodes.create({ metadata: { name: "a" } });
    assert.deepEqual(await cidrOf("a"), { podCIDR: "10.244.0.0/24", podCIDRs: ["10.244.0.0/24"] });
    await nodes.create({ metadata: { name: "b" } });
    assert.deepEqual(await cidrOf("b"), { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] });

    // A new controller learns the used subnets from the nodes before it allocates.
    run.c.stop();
    await run.running;
    await run.informers.shutdown();
    run = await start();
    await nodes.create({ metadata: { name: "c" } });
    assert.equal((await cidrOf("c")).podCIDR, "10.244.2.0/24");
    assert.equal(run.c.cidrs.allocated, 3);

    await nodes.delete("a");
    await poll("a's subnet to be released", async () => (run.c.cidrs.allocated === 2 ? true : undefined));
  } finally {
    run.c.stop();
    await run.running;
    await run.informers.shutdown();
    client.close();
    await api.stop();
  }
});
