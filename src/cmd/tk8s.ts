/** The `tk8s` command line: every component is a subcommand. */
import { Command, CommanderError } from "commander";

export const TK8S_VERSION = "0.1.0";

/**
 * Each subcommand's module, loaded only when needed: `tk8s datastore` does not load the API server, the
 * kubelet and the controllers, so a restarted datastore member is back in a fraction of the time.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  datastore: async () => (await import("./datastore.js")).addDatastoreCommand,
  server: async () => (await import("./server.js")).addServerCommand,
  agent: async () => (await import("./agent.js")).addAgentCommand,
  token: async () => (await import("./token.js")).addTokenCommand,
  image: async () => (await import("./image.js")).addImageCommand,
};

/** The CLI; with `only`, just that subcommand (the others' modules stay unloaded). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command();
  program
    .name("tk8s")
    .description("Kubernetes re-implemented in TypeScript on Node.js")
    .version(TK8S_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  for (const [name, load] of Object.entries(COMMANDS)) if (only === undefined || only === name) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const sub = argv[2];
  try {
    const program = await buildProgram(sub !== undefined && Object.hasOwn(COMMANDS, sub) ? sub : undefined);
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0 through here; usage errors were already printed as one line.
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`tk8s: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
