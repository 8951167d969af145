/**
 * A started `tk8s server` (embedded datastore, or `--datastore-endpoint` to an external one) on a free
 * loopback port, with its admin kubeconfig, and helpers to run real kubectl against it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TK8S_ENTRY, requireBinary } from "./datastore_process.js";
import { removeKubeletMemoryDir } from "../../src/kubelet/memory_dir.js";

export const KUBECTL_BINARY = "/usr/bin/kubectl";
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ApiServerProcess {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly url: string;
  readonly port: number;
  /** The CA, and the admin's client certificate and key (PEM), for HTTP clients in tests. */
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

export interface StartApiServerOptions {
  /**
   * Run the whole single-node cluster (scheduler, controller manager, kubelet). By default only the API
   * server runs (`--disable-*`), so API tests see exactly the objects they create.
   */
  readonly cluster?: boolean;
  readonly datastoreEndpoint?: string;
  /** Reuse this data directory (a restart); it is then left in place at stop(). */
  readonly dataDir?: string;
  readonly extraArgs?: readonly string[];
  readonly env?: Record<string, string>;
  /**
   * Run cluster DNS and kube-proxy beside the kubelet. Off by default: they listen on fixed ports (53,
   * 10256, 10249) and put ClusterIPs on the host, which servers of tests running in parallel would fight
   * over. A test asking for them passes its own --cluster-dns-listen and bind addresses (port 0).
   */
  readonly nodeServices?: boolean;
}

export async function startApiServer(options: StartApiServerOptions = {}): Promise<ApiServerProcess> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tk8s-apiserver-"));
  const args = [
    TK8S_ENTRY,
    "server",
    "--data-dir",
    dataDir,
    "--bind-address",
    "127.0.0.1",
    "--secure-port",
    "0",
    "--advertise-address",
    "127.0.0.1",
    "--log-level",
    "warn",
    "--kubelet-port",
    "0",
    ...(options.cluster === true ? [] : ["--disable-scheduler", "--disable-controller-manager", "--disable-agent"]),
    ...(options.nodeServices === true ? [] : ["--disable-cluster-dns", "--disable-kube-proxy"]),
    ...(options.datastoreEndpoint === undefined ? [] : ["--datastore-endpoint", options.datastoreEndpoint]),
    // The process runtime unless a test asks for containerd: a containerd at the default socket must not
    // change what a test runs on (a later --container-runtime-endpoint in extraArgs wins).
    "--container-runtime-endpoint",
    "unix:///nonexistent/tk8s-test/containerd.sock",
    ...(options.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(options.env ?? {}) } });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tk8s server did not become ready in ${READY_TIMEOUT_MS} ms:\n${out}`)), READY_TIMEOUT_MS);
    const check = () => {
      // The kubeconfig line comes last, once every component of the server is up.
      const m = /ready on https:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null && out.includes("admin kubeconfig written to")) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tk8s server exited with ${code} before it was ready:\n${out}`));
    });
  });
  const pki = join(dataDir, "pki");
  return {
    dataDir,
    kubeconfig: join(dataDir, "admin.kubeconfig"),
    url: `https://127.0.0.1:${port}`,
    port,
    ca: readFileSync(join(pki, "ca.crt"), "utf8"),
    clientCert: readFileSync(join(pki, "admin.crt"), "utf8"),
    clientKey: readFileSync(join(pki, "admin.key"), "utf8"),
    output: () => out,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      if (ownsDir) {
        rmSync(dataDir, { recursive: true, force: true });
        // The kubelet's tmpfs side (volumes' contents, the process runtime's state): see memory_dir.ts.
        removeKubeletMemoryDir(join(dataDir, "kubelet"));
      }
    },
  };
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs real kubectl against the server; `input` goes to stdin. */
export function kubectl(server: Pick<ApiServerProcess, "kubeconfig">, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): KubectlResult {
  const r = spawnSync(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, ...args], {
    input: options.input,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...(options.env ?? {}) },
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** kubectl that must succeed; throws with its stderr otherwise. */
export function kubectlOk(server: Pick<ApiServerProcess, "kubeconfig">, args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): string {
  const r = kubectl(server, args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Under CI=true a missing kubectl fails the suite loudly; elsewhere the caller may skip. */
export function kubectlAvailable(): boolean {
  const found = requireBinary(KUBECTL_BINARY) !== null;
  if (!found && process.env.CI === "true") throw new Error(`kubectl is required at ${KUBECTL_BINARY} under CI=true`);
  return found;
}
