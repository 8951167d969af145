/**
 * For integration tests of controllers: a real API server in the test's process, a client from its
 * admin kubeconfig, an informer factory, and a bounded poll. Nothing here is faked but the logger.
 */
import type { Env } from "../../env/env.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../platform/node/node_env.js";
import { loadKubeconfig } from "../../client/kubeconfig.js";
import { RestClient } from "../../client/rest_client.js";
import { InformerFactory } from "../../client/informer_factory.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import type { Controller, ControllerContext } from "../controller.js";

/** The longest a test waits for the cluster to reach a state. */
export const POLL_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 25;

export interface ControllerTestEnv {
  readonly server: InProcessApiServer;
  readonly env: Env;
  readonly log: MemoryLogger;
  readonly client: RestClient;
  readonly ctx: ControllerContext;
  /** Inits the controllers, starts the informers, waits for their caches, runs the controllers. */
  start(...controllers: Controller[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startControllerTestEnv(): Promise<ControllerTestEnv> {
  const server = await startInProcessApiServer();
  const log = new MemoryLogger();
  const env: Env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log };
  const client = new RestClient(loadKubeconfig(server.kubeconfig));
  const informers = new InformerFactory(env, client);
  const ctx: ControllerContext = { env, client, informers };
  const running: { c: Controller; done: Promise<void> }[] = [];
  return {
    server,
    env,
    log,
    client,
    ctx,
    async start(...controllers) {
      for (const c of controllers) c.init();
      informers.start();
      if (!(await informers.waitForCacheSync({ timeoutMs: POLL_TIMEOUT_MS }))) throw new Error("Cannot start controllers: caches did not sync");
      for (const c of controllers) running.push({ c, done: c.run(2) });
    },
    async stop() {
      for (const r of running) r.c.stop();
      await Promise.all(running.map((r) => r.done));
      await informers.shutdown();
      client.close();
      await server.stop();
    },
  };
}

/** Polls `fn` until it returns a value other than undefined/false; throws with `what` after the timeout. */
export async function pollUntil<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = POLL_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
