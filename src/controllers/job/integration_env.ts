/**
 * What the integration tests of the workload controllers (job, cronjob, statefulset, daemonset) share:
 * a real API server in the test's process, an admin client, shared informers on the real clock, and
 * a ControllerContext whose clock the test chooses (a ManualClock drives requeues deterministically).
 */
import type { Clock, Env } from "../../env/env.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import type { ControllerContext } from "../controller.js";

export interface ControllerTestEnv {
  readonly server: InProcessApiServer;
  readonly client: RestClient;
  readonly informers: InformerFactory;
  readonly ctx: ControllerContext;
  /** What the controllers and informers logged (tests look for "sync failed"). */
  readonly log: MemoryLogger;
  close(): Promise<void>;
}

/** Starts a server and builds the context; `clock` is the controller's (informers use the real one). */
export async function startControllerTestEnv(clock: Clock = nodeClock): Promise<ControllerTestEnv> {
  const server = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(server.kubeconfig, { component: "controller-test" }));
  const log = new MemoryLogger();
  const informers = new InformerFactory({ clock: nodeClock, log, rng: nodeRng }, client);
  const env: Env = { clock, rng: nodeRng, fs: nodeFileSystem, log };
  return {
    server,
    client,
    informers,
    ctx: { env, client, informers },
    log,
    async close() {
      if (process.env.TK8S_TEST_LOG === "1") for (const r of log.records) if (r.level !== "debug") console.error(r.level, r.msg, JSON.stringify(r.fields));
      await informers.shutdown();
      client.close();
      await server.stop();
    },
  };
}

/** Polls `fn` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr === undefined ? "" : `: ${String(lastErr)}`}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
