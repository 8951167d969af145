/**
 * kubectl left running (`get -w`): its output is collected as it streams, a test waits for the line it
 * expects, and stop() ends it. spawnSync cannot do this, since a watch never exits on its own.
 */
import { spawn } from "node:child_process";
import { KUBECTL_BINARY, type ApiServerProcess } from "../harness/apiserver_process.js";

/** Streamed output beyond this is a runaway watch; the collector keeps the first part only. */
export const BACKGROUND_OUTPUT_CHARS_MAX = 1024 * 1024;
const POLL_MS = 20;

export interface BackgroundKubectl {
  stdout(): string;
  stderr(): string;
  /** Resolves when `predicate(stdout)` holds; rejects with the output so far after `timeoutMs`. */
  waitFor(predicate: (stdout: string) => boolean, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code when kubectl exits on its own (null: killed by a signal). */
  exited(): Promise<number | null>;
  /** SIGTERM, and resolves when the process has exited. */
  stop(): Promise<void>;
}

export function startKubectl(server: Pick<ApiServerProcess, "kubeconfig">, args: readonly string[]): BackgroundKubectl {
  const child = spawn(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    if (out.length < BACKGROUND_OUTPUT_CHARS_MAX) out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    if (err.length < BACKGROUND_OUTPUT_CHARS_MAX) err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      // Bounded by the deadline: every pass sleeps POLL_MS.
      while (!predicate(out)) {
        if (Date.now() > deadline) throw new Error(`kubectl ${args.join(" ")}: expected output did not arrive in ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`);
        if (child.exitCode !== null) throw new Error(`kubectl ${args.join(" ")} exited ${child.exitCode} before the expected output\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    exited: () => exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Polls `check` until it returns true; for state that settles asynchronously (a finalizer, a watch). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS * 5));
  }
}
