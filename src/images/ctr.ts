/**
 * Loading images into containerd with its own `ctr` tool (shipped in Debian's containerd package): the
 * import path containerd itself maintains for docker-archive and OCI tarballs, into the `k8s.io`
 * namespace where the CRI plugin (and so the kubelet) sees them.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The namespace containerd's CRI plugin keeps its images and containers in. */
export const CRI_NAMESPACE = "k8s.io";
/** Upstream kubelet's default --container-runtime-endpoint. */
export const DEFAULT_CONTAINER_RUNTIME_ENDPOINT = "unix:///run/containerd/containerd.sock";
/** Importing unpacks every layer into the snapshotter; a minute is far more than an offline tools image needs. */
export const CTR_IMPORT_TIMEOUT_MS = 120_000;
/** ctr prints one line per image; more output than this is not an import report. */
const CTR_OUTPUT_BYTES_MAX = 4 << 20;

export class RuntimeEndpointError extends Error {
  override readonly name = "RuntimeEndpointError";
}

/** The socket path of a `unix://` endpoint (a bare absolute path is accepted too, as the kubelet does). */
export function socketPathOf(endpoint: string): string {
  if (endpoint.startsWith("unix://")) {
    const path = endpoint.slice("unix://".length);
    if (!path.startsWith("/")) throw new RuntimeEndpointError(`Cannot use container runtime endpoint ${endpoint}: the socket path must be absolute`);
    return path;
  }
  if (endpoint.startsWith("/")) return endpoint;
  throw new RuntimeEndpointError(`Cannot use container runtime endpoint ${endpoint}: only unix:// endpoints are supported`);
}

/** The `ctr` binary on PATH, or null. */
export function findCtr(pathEnv: string = process.env.PATH ?? ""): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "ctr");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

/** Throws a one-line error if ctr or the runtime's socket is missing; returns [ctr, socket]. */
export function requireCtrAndSocket(endpoint: string): [string, string] {
  const ctr = findCtr();
  if (ctr === null) throw new RuntimeEndpointError("Cannot import images: ctr not found on PATH (it ships with containerd: apt-get install containerd)");
  const socket = socketPathOf(endpoint);
  if (!existsSync(socket) || !statSync(socket).isSocket()) {
    throw new RuntimeEndpointError(`Cannot reach the container runtime: no socket at ${socket} (is containerd running? see --container-runtime-endpoint)`);
  }
  return [ctr, socket];
}

/**
 * `ctr --address SOCK -n k8s.io images import FILE`: containerd stores the content, unpacks it into its
 * default snapshotter and names it. Returns ctr's output.
 */
export function ctrImport(file: string, endpoint: string): Promise<string> {
  const [ctr, socket] = requireCtrAndSocket(endpoint);
  return runCtr(ctr, ["--address", socket, "--namespace", CRI_NAMESPACE, "images", "import", file]);
}

function runCtr(ctr: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ctr, args, { timeout: CTR_IMPORT_TIMEOUT_MS, maxBuffer: CTR_OUTPUT_BYTES_MAX, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        const detail = (stderr.trim() || err.message).split("\n").filter((l) => l.trim() !== "").pop() ?? err.message;
        reject(new Error(`Cannot run ctr ${args.slice(4).join(" ")}: ${detail}`, { cause: err }));
        return;
      }
      resolve(stdout);
    });
  });
}
