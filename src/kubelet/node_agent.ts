/**
 * Everything one node runs, put together: a container runtime (containerd through the CRI when one
 * answers at `--container-runtime-endpoint`, else the built-in process runtime), the kubelet over it, and
 * the kubelet's HTTPS server (logs, exec, attach, port-forward) backed by the kubelet's view of its pods.
 * `tk8s server` runs one in-process; `tk8s agent` runs one on another machine.
 */
import type { Env } from "../env/env.js";
import { ApiError, badRequest } from "../api/status.js";
import type { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import type { ContainerRuntime } from "./cri/cri.js";
import { ProcessRuntime } from "./cri/process_runtime.js";
import { Kubelet } from "./kubelet.js";
import { selectRuntime, type SelectedRuntime } from "./runtime_selection.js";
import { PodNetworkConfigurer } from "./pod_network_configurer.js";
import { ensureKubeletMemoryDir } from "./memory_dir.js";
import { podDnsConfig } from "../dns/pod_dns_config.js";
import { readFileSync } from "node:fs";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { DNSConfig } from "./cri/cri.js";
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
  /** upstream's --container-runtime-endpoint (default unix:///run/containerd/containerd.sock). */
  readonly runtimeEndpoint?: string;
  /** upstream's --image-service-endpoint (default: the runtime's). */
  readonly imageServiceEndpoint?: string;
  /** upstream's --runtime-request-timeout, ms (default 2 min). */
  readonly runtimeRequestTimeoutMs?: number;
  /** containerd's CNI conf_dir, where the node's pod network config goes (containerd only). */
  readonly cniConfDir?: string;
  /** containerd's CNI bin_dir (the plugins the config names). */
  readonly cniBinDir?: string;
  /** upstream kubelet's --cluster-dns: the DNS server pods with dnsPolicy ClusterFirst use. */
  readonly clusterDNS?: readonly string[];
  /** upstream kubelet's --cluster-domain. */
  readonly clusterDomain?: string;
  /** upstream kubelet's --resolv-conf: the host resolver config pods with dnsPolicy Default get ("" for none). */
  readonly resolvConf?: string;
  /** Gets the one start-up line saying which runtime runs the pods and why. */
  readonly progress?: (line: string) => void;
}

/** upstream kubelet's defaults (k3s's for the CNI bin dir: Debian's containernetworking-plugins). */
export const DEFAULT_CNI_CONF_DIR = "/etc/cni/net.d";
export const DEFAULT_CNI_BIN_DIR = "/usr/lib/cni";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
export const DEFAULT_RESOLV_CONF = "/etc/resolv.conf";

/** How long containers get to stop when the node shuts down. */
const SHUTDOWN_GRACE_S = 10;

export class NodeAgent {
  #selected: SelectedRuntime | null = null;
  #kubelet: Kubelet | null = null;
  #server: KubeletServer | null = null;
  #network: PodNetworkConfigurer | null = null;
  readonly #o: NodeAgentOptions;

  constructor(options: NodeAgentOptions) {
    this.#o = options;
  }

  get kubelet(): Kubelet | null {
    return this.#kubelet;
  }

  /** The runtime the pods run on (after start()). */
  get runtime(): ContainerRuntime {
    if (this.#selected === null) throw new Error("Cannot use the node's runtime: the node agent has not started");
    return this.#selected.runtime;
  }

  /** "cri" (containerd) or "process", after start(). */
  get runtimeKind(): SelectedRuntime["kind"] | null {
    return this.#selected?.kind ?? null;
  }

  /** Picks the runtime, starts the kubelet server (to learn its port), then the kubelet, which registers the Node. */
  async start(): Promise<void> {
    const { env } = this.#o;
    // Volumes' contents and the process runtime's state on tmpfs, as upstream keeps secrets (memory_dir.ts).
    const memoryDir = ensureKubeletMemoryDir(this.#o.rootDir);
    if (memoryDir === null) env.log.warn("no writable /dev/shm: volumes and runtime state stay on disk", { rootDir: this.#o.rootDir });
    this.#selected = await selectRuntime({
      rootDir: this.#o.rootDir, memoryDir, nodeIP: this.#o.nodeIP, clock: env.clock, log: env.log,
      ...(this.#o.runtimeEndpoint === undefined ? {} : { runtimeEndpoint: this.#o.runtimeEndpoint }),
      ...(this.#o.imageServiceEndpoint === undefined ? {} : { imageServiceEndpoint: this.#o.imageServiceEndpoint }),
      ...(this.#o.runtimeRequestTimeoutMs === undefined ? {} : { runtimeRequestTimeoutMs: this.#o.runtimeRequestTimeoutMs }),
    });
    this.#o.progress?.(this.#selected.line);
    const runtime = this.#selected.runtime;
    const backend: StreamingBackend = {
      containerLogPath: async (ns, pod, container, previous) => {
        const p = await this.#kubelet?.containerLogPath(ns, pod, container, previous);
        if (p === null || p === undefined) {
          if (previous) throw badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
          throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
        }
        return p;
      },
      containerRunning: async (ns, pod, container) => {
        const id = await this.#kubelet?.containerId(ns, pod, container);
        if (id === null || id === undefined) return false;
        return (await runtime.containerStatus(id)).status.state === "CONTAINER_RUNNING";
      },
      exec: async (ns, pod, container, command, streams) => {
        const id = await this.#containerId(ns, pod, container);
        const res = await runtime.exec({ containerId: id, cmd: command, ...streams });
        // containerd answers with its streaming server's URL, which the kubelet server proxies to (as upstream).
        if (res.url !== undefined) return { url: res.url };
        if (res.stream === undefined) throw new ApiError("InternalError", 500, "the runtime returned no exec stream");
        return res.stream;
      },
      attach: async (ns, pod, container, streams) => {
        const id = await this.#containerId(ns, pod, container);
        const res = await runtime.attach({ containerId: id, ...streams });
        if (res.url !== undefined) return { url: res.url };
        if (res.stream === undefined) throw new ApiError("InternalError", 500, "the runtime returned no attach stream");
        return res.stream;
      },
      portForward: async (ns, pod) => {
        const sandboxId = await this.#kubelet?.podSandboxId(ns, pod);
        // upstream's kubelet server: a pod it does not run is a 404 with this text.
        if (sandboxId === null || sandboxId === undefined) throw new ApiError("NotFound", 404, "pod does not exist");
        const res = await runtime.portForward({ podSandboxId: sandboxId });
        if (res.url !== undefined) return { url: res.url };
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
      runtime,
      env,
      rootDir: this.#o.rootDir,
      memoryDir,
      nodeIP: this.#o.nodeIP,
      kubeletPort: port,
      // containerd applies CPU and memory through cgroups; the process runtime records them only.
      cgroupsPerQos: this.#selected.kind === "cri",
      // Status shows `containerd://<id>` as upstream does; the process runtime's are `tk8s://<id>`.
      // Only a runtime with pod network namespaces writes a resolv.conf: process runtime pods use the host's.
      ...(this.#selected.kind === "cri" ? { containerIdScheme: this.#selected.runtimeName, dnsConfig: (pod: Pod) => this.#podDns(pod) } : {}),

      ...(this.#o.informers === undefined ? {} : { informers: this.#o.informers }),
    });
    if (this.#selected.kind === "cri") {
      this.#network = new PodNetworkConfigurer({
        client: this.#o.client, nodeName: this.#o.nodeName, clock: env.clock, log: env.log,
        confDir: this.#o.cniConfDir ?? DEFAULT_CNI_CONF_DIR, binDir: this.#o.cniBinDir ?? DEFAULT_CNI_BIN_DIR,
      });
      this.#network.start();
    }
    await this.#kubelet.start();
  }

  /** The pod's resolv.conf (upstream's GetPodDNS), its events recorded on the pod. */
  #podDns(pod: Pod): DNSConfig | undefined {
    const resolvConf = this.#o.resolvConf ?? DEFAULT_RESOLV_CONF;
    let hostResolvConf: string | null = null;
    if (resolvConf !== "") {
      try {
        hostResolvConf = readFileSync(resolvConf, "utf8");
      } catch (err) {
        this.#o.env.log.warn("cannot read the host's resolv.conf", { path: resolvConf, error: (err as Error).message });
        hostResolvConf = "";
      }
    }
    const dns = podDnsConfig(pod, { clusterDNS: this.#o.clusterDNS ?? [], clusterDomain: this.#o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN, hostResolvConf, nodeIPs: [this.#o.nodeIP] });
    for (const e of dns.events) this.#kubelet?.recordPodEvent(pod, e.type, e.reason, e.message);
    return { servers: dns.servers, searches: dns.searches, options: dns.options };
  }

  async #containerId(ns: string, pod: string, container: string): Promise<string> {
    const id = await this.#kubelet?.containerId(ns, pod, container);
    if (id === null || id === undefined) throw badRequest(`container ${container} is not valid for pod ${pod}`);
    return id;
  }

  /**
   * Stops the kubelet and its server. The process runtime's containers are stopped too (they are this
   * process's children, nothing outlives the node); containerd's keep running, as upstream, and a
   * restarted kubelet adopts them.
   */
  async stop(): Promise<void> {
    await this.#network?.stop();
    await this.#kubelet?.stop();
    await this.#server?.close();
    const runtime = this.#selected?.runtime;
    if (runtime instanceof ProcessRuntime) await runtime.stopAll(SHUTDOWN_GRACE_S);
    await runtime?.close();
  }
}
