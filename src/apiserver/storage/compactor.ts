/**
 * kube-apiserver compacts the datastore's history itself (`--etcd-compaction-interval`, 5 minutes):
 * each round compacts to the revision it saw on the previous round, so history is kept for at least
 * one interval — long enough for watchers and paged lists to finish — and never grows without bound.
 */
import type { Env } from "../../env/env.js";
import type { Storage } from "./contract.js";

export function startCompactor(storage: Storage, env: Pick<Env, "clock" | "log">, intervalMs: number): { stop(): void } {
  let previous = 0;
  let stopped = false;
  let timer = env.clock.setTimer(intervalMs, tick);
  function tick(): void {
    void (async () => {
      try {
        const current = await storage.currentRevision();
        if (previous > 0) {
          await storage.compact(previous);
          env.log.info("compacted the datastore", { revision: previous });
        }
        previous = current;
      } catch (err) {
        env.log.warn("datastore compaction failed; will retry next interval", { error: err instanceof Error ? err.message : String(err) });
      }
      if (!stopped) timer = env.clock.setTimer(intervalMs, tick);
    })();
  }
  return {
    stop() {
      stopped = true;
      timer.cancel();
    },
  };
}
