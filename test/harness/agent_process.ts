/**
 * A started `tk8s agent` joining a started `tk8s server` with the server's join token: a second node on
 * this machine (its own data directory, node name and kubelet port; host network like every
 * process-runtime node).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TK8S_ENTRY } from "./datastore_process.js";
import type { ApiServerProcess } from "./apiserver_process.js";
import { removeKubeletMemoryDir } from "../../src/kubelet/memory_dir.js";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface AgentProcess {
  readonly nodeName: string;
  readonly dataDir: string;
  /** The node's own kubeconfig (system:node:<name>), written by the TLS bootstrap. */
  readonly kubeconfig: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartAgentOptions {
  readonly nodeName: string;
  /** Reuse this data directory (a restart); it is then left in place at stop(). */
  readonly dataDir?: string;
  /** Defaults to `--token-file <server data dir>/node-token`. */
  readonly tokenArgs?: readonly string[];
}

/** Runs `tk8s agent` to completion (for start-up failures): its exit code and output. */
export async function runAgentToExit(server: Pick<ApiServerProcess, "url">, args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [TK8S_ENTRY, "agent", "--server", server.url, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: out };
}

export async function startAgent(server: Pick<ApiServerProcess, "url" | "dataDir">, options: StartAgentOptions): Promise<AgentProcess> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tk8s-agent-"));
  const args = [
    TK8S_ENTRY,
    "agent",
    "--server",
    server.url,
    ...(options.tokenArgs ?? ["--token-file", join(server.dataDir, "node-token")]),
    "--data-dir",
    dataDir,
    "--node-name",
    options.nodeName,
    "--node-ip",
    "127.0.0.1",
    "--kubelet-port",
    "0",
    "--log-level",
    "warn",
    // kube-proxy listens on fixed ports and changes the host: agents of parallel tests would fight over them.
    "--disable-kube-proxy",
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tk8s agent did not report a Ready node in ${READY_TIMEOUT_MS} ms:\n${out}`)), READY_TIMEOUT_MS);
    const check = () => {
      if (out.includes(`node ${options.nodeName} is Ready`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tk8s agent exited with ${code} before its node was Ready:\n${out}`));
    });
  });
  return {
    nodeName: options.nodeName,
    dataDir,
    kubeconfig: join(dataDir, "kubelet.kubeconfig"),
    output: () => out,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      if (ownsDir) {
        rmSync(dataDir, { recursive: true, force: true });
        // The kubelet's tmpfs side (volumes' contents, the process runtime's state): see memory_dir.ts.
        removeKubeletMemoryDir(join(dataDir, "kubelet"));
      }
    },
  };
}
