/** Waiting for the operator to stop a long-running command (SIGTERM from a supervisor, SIGINT from a terminal). */
import type { Logger } from "../env/env.js";

/** Resolves on the first SIGTERM or SIGINT, logging which one arrived. */
export function untilShutdownSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info("received signal; shutting down", { signal });
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
