/** `kubectl port-forward` left running in the background, for tests of the kubelet's port-forward. */
import { spawn } from "node:child_process";
import { KUBECTL_BINARY } from "./apiserver_process.js";

const START_TIMEOUT_MS = 30_000;
const POLL_MS = 20;

export interface PortForward {
  /** The local port of the first forward. */
  readonly localPort: number;
  output(): string;
  readonly exited: Promise<number | null>;
  /** Sends the signal (if kubectl still runs) and resolves with its exit code. */
  signal(sig: NodeJS.Signals): Promise<number | null>;
}

/** Starts kubectl port-forward; resolves once it prints a "Forwarding from" line for every port asked. */
export async function startPortForward(kubeconfig: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<PortForward> {
  // kubectl prints one line per port, not all at once.
  const forwards = args.filter((a) => /^\d*:\d+$|^\d+$/.test(a)).length;
  const child = spawn(KUBECTL_BINARY, ["--kubeconfig", kubeconfig, "port-forward", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  const lines = () => [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+)/g)];
  // Bounded by the deadline.
  while (lines().length < Math.max(1, forwards)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`kubectl port-forward ${args.join(" ")} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    localPort: Number(lines()[0]![1]),
    output: () => out,
    exited,
    signal: async (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return exited;
    },
  };
}
