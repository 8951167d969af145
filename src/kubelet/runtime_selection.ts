/**
 * Which container runtime a node runs its pods on (issue 7): containerd through the CRI when a runtime
 * answers at `--container-runtime-endpoint`, the built-in process runtime otherwise. The choice and its
 * reason make one start-up line, so an operator sees at once whether pods are real containers.
 */
import * as path from "node:path";
import type { Clock, Logger } from "../env/env.js";
import type { ContainerRuntime } from "./cri/cri.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { detectRuntime } from "./cri/remote/detect_runtime.js";
import { DEFAULT_CONTAINER_RUNTIME_ENDPOINT } from "./cri/remote/endpoint.js";
import { RemoteContainerRuntime, RUNTIME_REQUEST_TIMEOUT_MS } from "./cri/remote/remote_runtime.js";

export interface RuntimeSelectionOptions {
  /** upstream's --container-runtime-endpoint; default unix:///run/containerd/containerd.sock. */
  readonly runtimeEndpoint?: string;
  /** upstream's --image-service-endpoint; default: the runtime's endpoint. */
  readonly imageServiceEndpoint?: string;
  /** upstream's --runtime-request-timeout (ms); default 2 min. */
  readonly runtimeRequestTimeoutMs?: number;
  /** The kubelet's root dir: the process runtime keeps its state under `<rootDir>/process-runtime`… */
  readonly rootDir: string;
  /** …or under `<memoryDir>/process-runtime` when the kubelet has a memory directory (memory_dir.ts). */
  readonly memoryDir?: string | null;
  /** The node's IP: the process runtime's pods share the host network, so it is their IP too. */
  readonly nodeIP: string;
  readonly clock: Clock;
  readonly log: Logger;
}

export type SelectedRuntime =
  | { readonly kind: "cri"; readonly runtime: RemoteContainerRuntime; readonly endpoint: string; readonly line: string; readonly runtimeName: string }
  | { readonly kind: "process"; readonly runtime: ProcessRuntime; readonly endpoint: string; readonly line: string };

/** The start-up line for a choice: what runs the pods, and why. */
export function runtimeLine(choice: { kind: "cri"; runtimeName: string; runtimeVersion: string; endpoint: string } | { kind: "process"; reason: string }): string {
  if (choice.kind === "cri") return `container runtime: ${choice.runtimeName} ${choice.runtimeVersion} (CRI v1) at ${choice.endpoint}`;
  return `container runtime: the built-in process runtime (pods are host processes on the host network): ${choice.reason}`;
}

/** Detects a CRI runtime at the endpoint and opens a client to it, else the process runtime. Never throws for an absent runtime. */
export async function selectRuntime(o: RuntimeSelectionOptions): Promise<SelectedRuntime> {
  const endpoint = o.runtimeEndpoint ?? DEFAULT_CONTAINER_RUNTIME_ENDPOINT;
  const detected = await detectRuntime(endpoint);
  if (detected.found) {
    const runtime = new RemoteContainerRuntime(endpoint, {
      timeoutMs: o.runtimeRequestTimeoutMs ?? RUNTIME_REQUEST_TIMEOUT_MS,
      ...(o.imageServiceEndpoint === undefined ? {} : { imageEndpoint: o.imageServiceEndpoint }),
    });
    const line = runtimeLine({ kind: "cri", runtimeName: detected.version.runtimeName, runtimeVersion: detected.version.runtimeVersion, endpoint });
    o.log.info("using a CRI container runtime", { endpoint, runtimeName: detected.version.runtimeName, runtimeVersion: detected.version.runtimeVersion });
    return { kind: "cri", runtime, endpoint, line, runtimeName: detected.version.runtimeName };
  }
  const runtime = new ProcessRuntime({ root: path.join(o.memoryDir ?? o.rootDir, "process-runtime"), clock: o.clock, log: o.log, podIp: o.nodeIP });
  o.log.info("using the built-in process runtime", { endpoint, reason: detected.reason });
  return { kind: "process", runtime, endpoint, line: runtimeLine({ kind: "process", reason: detected.reason }) };
}

/** Whether a runtime has its own network namespaces per pod (containerd does; the process runtime does not). */
export function runtimeIsolatesNetwork(runtime: ContainerRuntime): boolean {
  return !(runtime instanceof ProcessRuntime);
}
