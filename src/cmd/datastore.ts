import type { Command } from "commander";

/** `tk8s datastore`: the etcd-compatible store (flags as etcd's). Wired in src/etcd/. */
export function addDatastoreCommand(program: Command): void {
  program.command("datastore").description("run the etcd v3-compatible datastore").action(() => {
    throw new Error("datastore is not wired yet");
  });
}
