/**
 * Everything one node runs, put together: the built-in process runtime, the kubelet over it, and the
 * kubelet's HTTPS server (logs, exec, attach, port-forward) backed by the kubelet's view of its pods.
 * `tk8s server` runs one in-process; `tk8s agent` (a later piece) runs one on another machine.
 */
import * as path from "node:path";
import type { Env } from "../env/env.js";
import { ApiError, badRequest } from "../api/status.js";
import type { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { Kubelet } from "./kubelet.js";
import { KubeletServer, type StreamingBackend } from "./server/kubelet_server.js";

export interface NodeAgentOptions {
  readonly env: Env;
  readonly client: RestClient;
  readonly informers?: InformerFactory;
  readonly nodeName: string;
  readonly nodeIP: string;
  /** `<data dir>/kubelet`. */
  readonly rootDir: string;
  /** The kubelet server's certificate (from the cluster CA) and the CA its clients must come from. */
  readonly tls: { certPem: string; keyPem: string; caPem: string };
  readonly kubeletPort: number;
  readonly bindAddress?: string;
}

/** How long containers get to stop when the node shuts down. */
const SHUTDOWN_GRACE_S = 10;

export class NodeAgent {
  readonly runtime: ProcessRuntime;
  #kubelet: Kubelet | null = null;
  #server: KubeletServer | null = null;
  readonly #o: NodeAgentOptions;

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    this.runtime = new ProcessRuntime({ root: path.join(options.rootDir, "process-runtime"), clock: options.env.clock, log: options.env.log, podIp: options.nodeIP });
  }

  get kubelet(): Kubelet | null {
    return this.#kubelet;
  }

  /** Starts the kubelet server (to learn its port), then the kubelet, which registers the Node. */
  async start(): Promise<void> {
    const { env } = this.#o;
    const backend: StreamingBackend = {
      containerLogPath: async (ns, pod, container, previous) => {
        const p = await this.#kubelet?.containerLogPath(ns, pod, container, previous);
        if (p === null || p === undefined) throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
        return p;
      },
      containerRunning: async (ns, pod, container) => {
        const id = await this.#kubelet?.containerId(ns, pod, container);
        if (id === null || id === undefined) return false;
        return (await this.runtime.containerStatus(id)).status.state === "CONTAINER_RUNNING";
      },
      exec: async (ns, pod, container, command, streams) => {
        const id = await this.#containerId(ns, pod, container);
        const res = await this.runtime.exec({ containerId: id, cmd: command, ...streams });
        if (res.stream === undefined) throw new ApiError("InternalError", 500, "the runtime returned no exec stream");
        return res.stream;
      },
      attach: async (ns, pod, container, streams) => {
        const id = await this.#containerId(ns, pod, container);
        const res = await this.runtime.attach({ containerId: id, ...streams });
        if (res.stream === undefined) throw new ApiError("InternalError", 500, "the runtime returned no attach stream");
        return res.stream;
      },
      portForward: async (ns, pod) => {
        const sandboxId = await this.#kubelet?.podSandboxId(ns, pod);
        // upstream's kubelet server: a pod it does not run is a 404 with this text.
        if (sandboxId === null || sandboxId === undefined) throw new ApiError("NotFound", 404, "pod does not exist");
        const res = await this.runtime.portForward({ podSandboxId: sandboxId });
        const forwarder = res.forwarder;
        if (forwarder === undefined) throw new ApiError("InternalError", 500, "the runtime returned no port forwarder");
        // Messages name the sandbox with an empty uid, as with the CRI streaming server of containerd.
        return { podName: sandboxId, uid: "", connect: (port) => forwarder.connect(port) };
      },
    };
    this.#server = new KubeletServer({
      backend,
      tls: this.#o.tls,
      clock: env.clock,
      log: env.log,
      bindAddress: this.#o.bindAddress ?? "0.0.0.0",
      port: this.#o.kubeletPort,
    });
    const port = await this.#server.start();
    this.#kubelet = new Kubelet({
      nodeName: this.#o.nodeName,
      client: this.#o.client,
      runtime: this.runtime,
      env,
      rootDir: this.#o.rootDir,
      nodeIP: this.#o.nodeIP,
      kubeletPort: port,
      ...(this.#o.informers === undefined ? {} : { informers: this.#o.informers }),
    });
    await this.#kubelet.start();
  }

  async #containerId(ns: string, pod: string, container: string): Promise<string> {
    const id = await this.#kubelet?.containerId(ns, pod, container);
    if (id === null || id === undefined) throw badRequest(`container ${container} is not valid for pod ${pod}`);
    return id;
  }

  /** Stops the kubelet and its server, then the containers it ran (nothing outlives the node). */
  async stop(): Promise<void> {
    await this.#kubelet?.stop();
    await this.#server?.close();
    await this.runtime.stopAll(SHUTDOWN_GRACE_S);
    await this.runtime.close();
  }
}
