/**
 * An API server restart, as the reflector meets it upstream: its watch breaks, the new server's watch
 * cache starts at the datastore's current revision, so a re-watch from the reflector's older
 * resourceVersion is refused with 410 "too old resource version"; the reflector relists, and objects
 * deleted meanwhile reach the handlers as DeletedFinalStateUnknown tombstones. The server is built
 * here (as test/harness/inprocess_apiserver.ts does) so that it can be restarted on the same port
 * over the same datastore.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { bootstrapCluster } from "../apiserver/bootstrap.js";
import { ensureClusterPki } from "../apiserver/pki/pki.js";
import { ApiServer } from "../apiserver/server.js";
import { EmbeddedStorage } from "../apiserver/storage/embedded_storage.js";
import { newMachinery, newOpenApiServer } from "../apiserver/wiring.js";
import { defaultConfig } from "../etcd/config.js";
import { EtcdServer } from "../etcd/server.js";
import { ManualClock } from "../env/manual_clock.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../platform/node/node_env.js";
import { RestClient } from "./rest_client.js";
import { SharedIndexInformer } from "./shared_informer.js";
import { DeletedFinalStateUnknown } from "./store.js";
import { waitUntil } from "./testing_wait.js";

test("Reflector: after an API server restart a re-watch gets 410, the reflector relists, and a deletion it missed is a tombstone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-client-restart-"));
  const serverLog = new MemoryLogger();
  const etcd = await EtcdServer.open({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: serverLog } as never, defaultConfig({ name: "test", dataDir: join(dir, "etcd") }));
  const storage = new EmbeddedStorage(etcd);
  const pki = await ensureClusterPki(join(dir, "pki"), { serverNames: [] });
  const newServer = (port: number) =>
    new ApiServer({
      storage,
      log: serverLog,
      machinery: newMachinery(),
      openapi: newOpenApiServer(),
      tls: { certPem: pki.apiserver.certPem, keyPem: pki.apiserver.keyPem, caPem: pki.ca.certPem },
      bindAddress: "127.0.0.1",
      port,
    });
  let server = newServer(0);
  const port = await server.start();
  await bootstrapCluster(server, { advertiseAddress: "127.0.0.1", securePort: port });
  server.setReady();
  const client = new RestClient({ server: `https://127.0.0.1:${port}`, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, userAgent: "tk8s-restart-test/0.1.0" });
  const clock = new ManualClock();
  const log = new MemoryLogger();
  let informer: SharedIndexInformer<ConfigMap> | null = null;
  try {
    const cms = client.resource<ConfigMap>("", "v1", "configmaps").namespace("default");
    await cms.create({ metadata: { name: "kept" } });
    await cms.create({ metadata: { name: "gone" } });
    informer = new SharedIndexInformer<ConfigMap>({ clock, log }, cms, { name: "configmaps" });
    const told: string[] = [];
    informer.addEventHandler({
      onAdd: (o, initial) => told.push(`add ${o.metadata?.name}${initial ? " (initial)" : ""}`),
      onDelete: (o) => told.push(o instanceof DeletedFinalStateUnknown ? `tombstone ${o.key} (last seen ${o.obj.metadata?.name})` : `delete ${o.metadata?.name}`),
    });
    informer.run();
    await informer.whenSynced();
    await waitUntil("the watch", () => informer!.reflector.stats.watches >= 1);
    // The watch has run for a while (a watch that breaks within a second counts as an error, not a close).
    clock.advance(5000);

    // Restart: the watch breaks; the reflector waits out its backoff on the manual clock.
    await server.close();
    await waitUntil("the reflector backing off", () => log.records.some((r) => r.msg === "watch failed; retrying after backoff"));
    // While no API server runs, the object goes away in the datastore: no watch can report it.
    await storage.delete("/registry/configmaps/default/gone");
    server = newServer(port);
    await server.start();
    server.setReady();

    // Let the backoff timers fire until the reflector has relisted (bounded by the loop count).
    for (let i = 0; i < 100 && !told.some((t) => t.startsWith("tombstone")); i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(told, ["add gone (initial)", "add kept (initial)", "tombstone default/gone (last seen gone)"]);
    assert.ok(informer.reflector.stats.expired >= 1, "the re-watch from the old resourceVersion was refused with 410");
    assert.ok(log.records.some((r) => r.msg === "watch closed; relisting" && /too old resource version/.test(String(r.fields.error))));
    assert.deepEqual(informer.indexer.listKeys(), ["default/kept"]);

    // And it keeps watching on the new server.
    await cms.create({ metadata: { name: "after" } });
    await waitUntil("the add on the new server", () => told.includes("add after"));
  } finally {
    await informer?.stop();
    client.close();
    await server.close();
    storage.close();
    await etcd.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
