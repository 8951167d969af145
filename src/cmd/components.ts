/**
 * The components `tk8s server` runs beside the API server — kube-controller-manager, kube-scheduler and
 * this machine's node (kubelet) — started in order with a gate after each. They are clients of the API
 * server like any other (HTTPS, their own credentials), so they run in a worker thread of their own
 * (components_worker.ts): the API server and the datastore keep one core, the control loops and the
 * kubelet get the other, as they would as separate processes upstream.
 */
import * as os from "node:os";
import { randomUUID } from "node:crypto";
import { SERVICE_CLUSTER_IP_RANGE_DEFAULT } from "../apiserver/admission/service_allocator.js";
import { InformerFactory } from "../client/informer_factory.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { LeaderElector } from "../client/leader_election.js";
import { RestClient } from "../client/rest_client.js";
import { ControllerManager } from "../controllers/manager.js";
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_CNI_BIN_DIR, DEFAULT_CNI_CONF_DIR, DEFAULT_RESOLV_CONF, NodeAgent } from "../kubelet/node_agent.js";
import { newNodeEnv, type LogLevel } from "../platform/node/node_env.js";
import { KubeScheduler } from "../scheduler/kube_scheduler.js";
import { DEFAULT_CONTAINER_RUNTIME_ENDPOINT } from "../kubelet/cri/remote/endpoint.js";
import { RUNTIME_REQUEST_TIMEOUT_MS } from "../kubelet/cri/remote/remote_runtime.js";
import { detectRuntime } from "../kubelet/cri/remote/detect_runtime.js";
import { DEFAULT_HEALTHZ_PORT, DEFAULT_METRICS_PORT } from "../proxy/health_server.js";
import { duration, ipPort, waitForNodeReady } from "./flags.js";
import { startNodeServices, type NodeServices } from "./node_services.js";
import { Option, type Command } from "commander";

/** The container runtime flags of `tk8s server` and `tk8s agent` (upstream kubelet's names). */
export interface RuntimeFlags {
  containerRuntimeEndpoint: string;
  imageServiceEndpoint?: string;
  runtimeRequestTimeout: number;
  cniConfDir: string;
  cniBinDir: string;
  clusterDns?: string;
  clusterDomain: string;
  resolvConf: string;
}

/** What the runtime flags give the node agent. */
export interface NodeRuntimeOptions {
  readonly runtimeEndpoint: string;
  readonly imageServiceEndpoint?: string;
  readonly runtimeRequestTimeoutMs: number;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
  readonly resolvConf: string;
}

/** Adds --container-runtime-endpoint, --image-service-endpoint and --runtime-request-timeout to a command. */
export function addRuntimeFlags(command: Command): Command {
  return command
    .option("--container-runtime-endpoint <endpoint>", "the CRI runtime's socket (containerd); when nothing answers there, pods run on the built-in process runtime", DEFAULT_CONTAINER_RUNTIME_ENDPOINT)
    .option("--image-service-endpoint <endpoint>", "the CRI image service's socket (default: the runtime's)")
    .addOption(new Option("--runtime-request-timeout <duration>", "the deadline of each CRI call, except long-running ones (pulls, logs, exec, attach)").argParser(duration).default(RUNTIME_REQUEST_TIMEOUT_MS, "2m"))
    .option("--cni-conf-dir <path>", "containerd's CNI conf_dir: the node's pod network config is written there once the node has a pod CIDR", DEFAULT_CNI_CONF_DIR)
    .option("--cni-bin-dir <path>", "containerd's CNI bin_dir (bridge, host-local, portmap, loopback)", DEFAULT_CNI_BIN_DIR)
    .option("--cluster-dns <ips>", "comma-separated DNS server IPs for pods with dnsPolicy ClusterFirst (none: they get the host's resolv.conf)")
    .option("--cluster-domain <domain>", "the cluster's DNS domain, in pods' search paths", DEFAULT_CLUSTER_DOMAIN)
    .option("--resolv-conf <path>", "the resolver config pods with dnsPolicy Default get (\"\": none)", DEFAULT_RESOLV_CONF);
}

/** kube-proxy's flags (upstream's names and defaults), on `tk8s server` and `tk8s agent`. */
export interface KubeProxyFlags {
  disableKubeProxy?: boolean;
  healthzBindAddress: string;
  metricsBindAddress: string;
}

/** Cluster DNS's flags, on `tk8s server` only (agents use the server's through its Service). */
export interface ClusterDnsFlags {
  disableClusterDns?: boolean;
  clusterDnsListen: string;
  clusterDnsHttpListen: string;
}

export function addKubeProxyFlags(command: Command): Command {
  return command
    .option("--disable-kube-proxy", "do not run kube-proxy on this node (Services' ClusterIPs and NodePorts then do not answer here)")
    .option("--healthz-bind-address <ip:port>", "where kube-proxy serves /healthz and /livez (\"\": nowhere)", ipPortOrEmpty, `0.0.0.0:${DEFAULT_HEALTHZ_PORT}`)
    .option("--metrics-bind-address <ip:port>", "where kube-proxy serves /metrics (\"\": nowhere)", ipPortOrEmpty, `127.0.0.1:${DEFAULT_METRICS_PORT}`);
}

export function addClusterDnsFlags(command: Command): Command {
  return command
    .option("--disable-cluster-dns", "do not run cluster DNS (the kube-system/kube-dns Service)")
    .option("--cluster-dns-listen <ip:port>", "where cluster DNS answers, UDP and TCP (resolv.conf takes no port: pods on the process runtime need 53)", ipPort, "0.0.0.0:53")
    .option("--cluster-dns-http-listen <ip:port>", "where cluster DNS serves /health, /ready and /metrics (CoreDNS's prometheus port)", ipPort, "127.0.0.1:9153");
}

function ipPortOrEmpty(v: string): string {
  return v === "" ? v : ipPort(v);
}

/** kube-proxy's part of the node services config; null when disabled. */
export function kubeProxyOptions(flags: KubeProxyFlags): NodeServicesOptions["proxy"] {
  if (flags.disableKubeProxy === true) return null;
  // upstream: an empty address turns the server off.
  return { healthzBindAddress: flags.healthzBindAddress === "" ? null : flags.healthzBindAddress, metricsBindAddress: flags.metricsBindAddress === "" ? null : flags.metricsBindAddress };
}

/** Cluster DNS's part of the node services config; null when disabled. */
export function clusterDnsOptions(flags: ClusterDnsFlags & Pick<RuntimeFlags, "clusterDomain" | "resolvConf">): NodeServicesOptions["dns"] {
  if (flags.disableClusterDns === true) return null;
  return { listen: flags.clusterDnsListen, httpListen: flags.clusterDnsHttpListen, clusterDomain: flags.clusterDomain, resolvConfPath: flags.resolvConf };
}

/** The node add-ons to run beside the kubelet (see node_services.ts). */
export interface NodeServicesOptions {
  readonly dns: null | { readonly listen: string; readonly httpListen: string; readonly clusterDomain: string; readonly resolvConfPath: string };
  readonly proxy: null | { readonly healthzBindAddress: string | null; readonly metricsBindAddress: string | null };
}

/**
 * Which runtime the kubelet will pick, asked before it starts: the add-ons depend on it (iptables or
 * userspace kube-proxy; the cluster DNS address pods are told).
 */
export async function expectedRuntime(endpoint: string): Promise<"containerd" | "process"> {
  return (await detectRuntime(endpoint)).found ? "containerd" : "process";
}

/** The node agent options the runtime flags give. */
export function runtimeOptions(flags: RuntimeFlags): NodeRuntimeOptions {
  return {
    runtimeEndpoint: flags.containerRuntimeEndpoint,
    ...(flags.imageServiceEndpoint === undefined ? {} : { imageServiceEndpoint: flags.imageServiceEndpoint }),
    runtimeRequestTimeoutMs: flags.runtimeRequestTimeout,
    cniConfDir: flags.cniConfDir,
    cniBinDir: flags.cniBinDir,
    clusterDNS: (flags.clusterDns ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
    clusterDomain: flags.clusterDomain,
    resolvConf: flags.resolvConf,
  };
}

/** Everything the components need. */
export interface ComponentsConfig {
  readonly logLevel: LogLevel;
  /** Credentials of the controller-manager and the scheduler (system:masters until RBAC). */
  readonly adminKubeconfig: string;
  readonly ca: { readonly certPem: string; readonly keyPem: string };
  readonly clusterCidr: string;
  readonly nodeMonitorGracePeriodMs: number;
  readonly controllerManager: boolean;
  readonly scheduler: boolean;
  readonly agent: null | {
    readonly nodeName: string;
    readonly nodeIP: string;
    /** The node's own credentials (system:node:<name>). */
    readonly kubeconfig: string;
    readonly rootDir: string;
    readonly kubeletPort: number;
    readonly serving: { readonly certPem: string; readonly keyPem: string };
    readonly runtime: NodeRuntimeOptions;
    /** Cluster DNS and kube-proxy, started before the kubelet (which is told the DNS address). */
    readonly services: NodeServicesOptions;
  };
}

export interface RunningComponents {
  stop(): Promise<void>;
}

/** Starts the enabled components; `progress` gets one line as each comes up. */
export async function startComponents(cfg: ComponentsConfig, progress: (line: string) => void): Promise<RunningComponents> {
  const env = newNodeEnv({ logLevel: cfg.logLevel, logFields: { component: "server" } });
  const client = new RestClient(loadKubeconfig(cfg.adminKubeconfig, { component: "tk8s-server" }));
  const informers = new InformerFactory(env, client);
  let controllers: ControllerManager | null = null;
  let scheduler: KubeScheduler | null = null;
  let schedulerElector: LeaderElector | null = null;
  let agent: NodeAgent | null = null;
  let nodeServices: NodeServices | null = null;
  let kubeletClient: RestClient | null = null;
  let stopping = false;
  if (cfg.controllerManager) {
    controllers = new ControllerManager(env, client, {
      rootCaPem: cfg.ca.certPem,
      identity: `${os.hostname()}_${randomUUID()}`,
      nodeIpam: { clusterCidr: cfg.clusterCidr, serviceCidr: SERVICE_CLUSTER_IP_RANGE_DEFAULT },
      nodeLifecycle: { nodeMonitorGracePeriodMs: cfg.nodeMonitorGracePeriodMs },
      clusterSigning: cfg.ca,
    });
    controllers.start();
    progress("controller-manager started");
  }
  if (cfg.scheduler) {
    scheduler = new KubeScheduler({ env, client, informers });
    scheduler.init();
    informers.start();
    if (!(await informers.waitForCacheSync({ timeoutMs: 30_000 }))) throw new Error("Cannot start the scheduler: its caches did not sync in 30 s");
    // As kube-scheduler: schedule only while holding the kube-system/kube-scheduler Lease.
    const leading = scheduler;
    schedulerElector = new LeaderElector(env, client, {
      namespace: "kube-system",
      name: "kube-scheduler",
      identity: `${os.hostname()}_${randomUUID()}`,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: () => void leading.run(),
        onStoppedLeading: () => {
          if (stopping) env.log.info("scheduler released its lease", {});
          else env.log.error("scheduler lost its lease; scheduling stops", {});
          leading.stop();
        },
      },
    });
    void schedulerElector.run();
    progress("scheduler started");
  }
  if (cfg.agent !== null) {
    const a = cfg.agent;
    let clusterDNS = a.runtime.clusterDNS;
    const runtime = await expectedRuntime(a.runtime.runtimeEndpoint);
    if (a.services.dns !== null || a.services.proxy !== null) {
      nodeServices = await startNodeServices(
        {
          env,
          client,
          informers,
          nodeName: a.nodeName,
          nodeIP: a.nodeIP,
          clusterCidr: cfg.clusterCidr,
          runtime,
          dns: a.services.dns,
          proxy: a.services.proxy,
        },
        progress,
      );
      // An explicit --cluster-dns wins, as upstream's kubelet flag.
      if (clusterDNS.length === 0) clusterDNS = nodeServices.clusterDNS;
    }
    // Only containerd's pods get a resolv.conf of their own; the process runtime's use the host's.
    if (runtime === "containerd" && clusterDNS.length > 0) progress(`kubelet: pods with dnsPolicy ClusterFirst use nameserver ${clusterDNS.join(", ")}`);
    kubeletClient = new RestClient(loadKubeconfig(a.kubeconfig, { component: "kubelet" }));
    agent = new NodeAgent({
      env,
      client: kubeletClient,
      nodeName: a.nodeName,
      nodeIP: a.nodeIP,
      rootDir: a.rootDir,
      tls: { certPem: a.serving.certPem, keyPem: a.serving.keyPem, caPem: cfg.ca.certPem },
      kubeletPort: a.kubeletPort,
      ...a.runtime,
      clusterDNS,
      progress,
    });
    try {
      await agent.start();
    } catch (err) {
      await nodeServices?.stop();
      throw err;
    }
    progress(`kubelet started; node ${a.nodeName} registered`);
    if (await waitForNodeReady(client, a.nodeName, 30_000)) progress(`node ${a.nodeName} is Ready`);
  }
  return {
    async stop() {
      stopping = true;
      await agent?.stop();
      kubeletClient?.close();
      // kube-proxy's iptables rules stay, as upstream (a restart must not drop Service traffic); the
      // userspace mode removes the ClusterIPs it put on the host.
      await nodeServices?.stop();
      await schedulerElector?.stop();
      scheduler?.stop();
      await controllers?.stop();
      await informers.shutdown();
      client.close();
    },
  };
}
