/**
 * Is a CRI runtime listening at an endpoint? `tk8s server` asks at start-up and runs pods through containerd
 * when it answers, through the built-in process runtime otherwise, and says which (issue 7).
 */
import { statSync } from "node:fs";
import type { VersionResponse } from "../cri.js";
import { EndpointError, parseRuntimeEndpoint } from "./endpoint.js";
import { KUBE_RUNTIME_API_VERSION, RemoteRuntimeService } from "./remote_runtime.js";

/** How long a runtime whose socket exists gets to answer Version at start-up; a healthy containerd takes ~1 ms. */
export const DETECT_RUNTIME_TIMEOUT_MS = 5_000;

export type RuntimeDetection =
  | { readonly found: true; readonly endpoint: string; readonly version: VersionResponse }
  | { readonly found: false; readonly endpoint: string; readonly reason: string };

/**
 * Looks for a runtime at `endpoint`: the socket must exist and Version must answer with runtimeApiVersion "v1"
 * (the kubelet speaks only runtime.v1, as upstream since 1.26). Never throws: an unusable endpoint is a
 * `found: false` with the reason, for the start-up log line.
 */
export async function detectRuntime(endpoint: string, options: { readonly timeoutMs?: number } = {}): Promise<RuntimeDetection> {
  let socketPath: string;
  try {
    socketPath = parseRuntimeEndpoint(endpoint).socketPath;
  } catch (err) {
    if (!(err instanceof EndpointError)) throw err;
    return { found: false, endpoint, reason: err.message };
  }
  try {
    if (!statSync(socketPath).isSocket()) return { found: false, endpoint, reason: `${socketPath} is not a unix socket` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { found: false, endpoint, reason: `no socket at ${socketPath}` };
    return { found: false, endpoint, reason: `Cannot stat ${socketPath}: ${(err as Error).message}` };
  }
  const client = new RemoteRuntimeService(endpoint, { timeoutMs: options.timeoutMs ?? DETECT_RUNTIME_TIMEOUT_MS });
  try {
    const version = await client.version(KUBE_RUNTIME_API_VERSION);
    if (version.runtimeApiVersion !== "v1") {
      return { found: false, endpoint, reason: `the runtime at ${endpoint} speaks CRI ${JSON.stringify(version.runtimeApiVersion)}, not "v1"` };
    }
    return { found: true, endpoint, version };
  } catch (err) {
    if (!(err instanceof Error) || err.name === "AssertionError") throw err;
    return { found: false, endpoint, reason: `the runtime at ${endpoint} did not answer Version: ${err.message}` };
  } finally {
    client.close();
  }
}
