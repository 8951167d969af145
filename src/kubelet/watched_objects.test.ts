/**
 * The kubelet's watched ConfigMaps against a real in-process API server: one watch per object read,
 * changes arrive without another read, missing objects read as null, idle watches are stopped and the
 * number of watches is bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock } from "../platform/node/node_env.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { pollUntil } from "../controllers/util/controller_test_env.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { WatchedObjects } from "./watched_objects.js";

test("reads come from one watch per object, see changes, answer null for a missing object, and idle watches stop", async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig));
  const env = { clock: nodeClock, log: new MemoryLogger() };
  const objects = new WatchedObjects<ConfigMap>(env, (ns) => client.resource<ConfigMap>("", "v1", "configmaps").namespace(ns), { idleMs: 300, itemsMax: 2 });
  try {
    const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
    await cms.create({ metadata: { name: "a" }, data: { k: "1" } });
    assert.equal((await objects.get("default", "a"))?.data?.["k"], "1");
    assert.equal(await objects.get("default", "missing"), null);
    assert.equal(objects.size, 2);

    const cur = await cms.get("a");
    await cms.update({ ...cur, data: { k: "2" } });
    await pollUntil("the change to reach the watched copy", async () => (await objects.get("default", "a"))?.data?.["k"] === "2");
    // The object created after its watch started shows up too.
    await cms.create({ metadata: { name: "missing" }, data: { k: "now" } });
    await pollUntil("the new object", async () => (await objects.get("default", "missing"))?.data?.["k"] === "now");

    // A third object evicts the least recently read watch: never more than itemsMax.
    await cms.create({ metadata: { name: "c" } });
    assert.notEqual(await objects.get("default", "c"), null);
    assert.equal(objects.size, 2);

    await pollUntil("idle watches to stop", () => objects.size === 0, 5_000);
    assert.equal((await objects.get("default", "a"))?.data?.["k"], "2", "a read after the sweep starts a new watch");
  } finally {
    await objects.stop();
    client.close();
    await api.stop();
  }
});
