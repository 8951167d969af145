/** The `tk8s` command line: every component is a subcommand. */
import { Command, CommanderError } from "commander";
import { addAgentCommand } from "./agent.js";
import { addDatastoreCommand } from "./datastore.js";
import { addServerCommand } from "./server.js";
import { addTokenCommand } from "./token.js";

export const TK8S_VERSION = "0.1.0";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("tk8s")
    .description("Kubernetes re-implemented in TypeScript on Node.js")
    .version(TK8S_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  addDatastoreCommand(program);
  addServerCommand(program);
  addAgentCommand(program);
  addTokenCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
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
