/**
 * `tk8s agent --server URL --token T`: joins this machine to a cluster as one more node. It pins the
 * cluster CA from the join token, gets the node's client certificate through the TLS bootstrap (a
 * CertificateSigningRequest the controller-manager approves and signs), then runs a kubelet that talks
 * to the API server as `system:node:<name>` — only through the API server, like any kubelet. kube-proxy
 * runs beside it with the same credentials (nodes may read Services and EndpointSlices); cluster DNS
 * runs on the server, and pods here reach it through the kube-dns Service's ClusterIP.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Option, type Command } from "commander";
import { InformerFactory } from "../client/informer_factory.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { ensureNodeCredentials } from "../join/node_credentials.js";
import { parseJoinToken } from "../join/join_token.js";
import { NodeAgent } from "../kubelet/node_agent.js";
import { newNodeEnv, type LogLevel } from "../platform/node/node_env.js";
import { defaultHostAddress, duration, port, waitForNodeReady } from "./flags.js";
import { untilShutdownSignal } from "./signals.js";
import { addKubeProxyFlags, addRuntimeFlags, expectedRuntime, kubeProxyOptions, runtimeOptions, type KubeProxyFlags, type RuntimeFlags } from "./components.js";
import { clusterDnsFromService, startNodeServices, type NodeServices } from "./node_services.js";

interface AgentFlags extends RuntimeFlags, KubeProxyFlags {
  clusterCidr: string;
  server: string;
  token?: string;
  tokenFile?: string;
  dataDir: string;
  nodeName?: string;
  nodeIp?: string;
  kubeletPort: number;
  bindAddress: string;
  bootstrapTimeout: number;
  logLevel: LogLevel;
}

export function addAgentCommand(program: Command): void {
  const command = program
    .command("agent")
    .description("join this machine to a cluster as a node: a kubelet on containerd (CRI), or the built-in process runtime where none answers")
    .requiredOption("--server <url>", "the API server to join (https://host:port)")
    .option("--token <token>", "the join token (the server's <data dir>/node-token)")
    .option("--token-file <path>", "read the join token from this file")
    .option("--data-dir <path>", "directory for the node's credentials and the kubelet's state", "/var/lib/tk8s-agent")
    .option("--node-name <name>", "this node's name (default: the host name)")
    .option("--node-ip <ip>", "the address the node reports and the API server reaches its kubelet on (default: the host's first IPv4 address)")
    .option("--kubelet-port <port>", "the kubelet's HTTPS port (0: any free port)", port, 10250)
    .option("--bind-address <ip>", "the address the kubelet serves HTTPS on", "0.0.0.0")
    .option("--bootstrap-timeout <duration>", "how long to wait for the node's certificate to be approved and signed", duration, 300_000)
    .option("--cluster-cidr <cidr>", "kube-proxy's --cluster-cidr: the pods' address range (the server's --cluster-cidr); traffic from outside it to a ClusterIP is masqueraded", "10.244.0.0/16")
    .addOption(new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]).default("info"));
  addKubeProxyFlags(addRuntimeFlags(command))
    .action(async (flags: AgentFlags) => {
      await runAgent(flags);
    });
}

async function joinToken(flags: AgentFlags): Promise<string> {
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new Error("give either --token or --token-file, not both");
  if (flags.token !== undefined) return flags.token;
  if (flags.tokenFile !== undefined) return (await fs.readFile(flags.tokenFile, "utf8")).trim();
  throw new Error("a join token is required: --token or --token-file (the server's <data dir>/node-token)");
}

async function runAgent(flags: AgentFlags): Promise<void> {
  const server = new URL(flags.server);
  if (server.protocol !== "https:") throw new Error(`--server must be an https:// URL: current value is "${flags.server}"`);
  const join = parseJoinToken(await joinToken(flags));
  const nodeName = (flags.nodeName ?? os.hostname()).toLowerCase();
  const nodeIP = flags.nodeIp ?? defaultHostAddress();
  const dataDir = path.resolve(flags.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const env = newNodeEnv({ logLevel: flags.logLevel, logFields: { component: "agent", node: nodeName } });
  const progress = (line: string) => process.stdout.write(`tk8s: ${line}\n`);

  const credentials = await ensureNodeCredentials({
    dir: dataDir,
    server: server.origin,
    join,
    nodeName,
    servingNames: [nodeName, nodeIP, "localhost", "127.0.0.1"],
    clock: env.clock,
    log: env.log,
    approvalTimeoutMs: flags.bootstrapTimeout,
    progress,
  });
  if (!credentials.bootstrapped) progress(`using the node credentials in ${credentials.kubeconfigPath}`);

  const client = new RestClient(loadKubeconfig(credentials.kubeconfigPath, { component: "kubelet" }));
  const informers = new InformerFactory(env, client);
  const runtime = runtimeOptions(flags);
  let clusterDNS = runtime.clusterDNS;
  // Cluster DNS runs on the server; pods here reach it through its Service, when the server made one.
  if (clusterDNS.length === 0) clusterDNS = await clusterDnsFromService(client);
  const proxyOptions = kubeProxyOptions(flags);
  const runtimeKind = await expectedRuntime(runtime.runtimeEndpoint);
  let services: NodeServices | null = null;
  if (proxyOptions !== null) {
    services = await startNodeServices(
      { env, client, informers, nodeName, nodeIP, clusterCidr: flags.clusterCidr, runtime: runtimeKind, dns: null, proxy: proxyOptions },
      progress,
    );
  }
  // Only containerd's pods get a resolv.conf of their own; the process runtime's use the host's.
  if (runtimeKind === "containerd" && clusterDNS.length > 0) progress(`kubelet: pods with dnsPolicy ClusterFirst use nameserver ${clusterDNS.join(", ")}`);
  const agent = new NodeAgent({
    env,
    client,
    informers,
    nodeName,
    nodeIP,
    rootDir: path.join(dataDir, "kubelet"),
    tls: { certPem: credentials.serving.certPem, keyPem: credentials.serving.keyPem, caPem: credentials.caPem },
    kubeletPort: flags.kubeletPort,
    bindAddress: flags.bindAddress,
    ...runtime,
    clusterDNS,
    progress,
  });
  try {
    await agent.start();
  } catch (err) {
    await services?.stop();
    throw err;
  }
  progress(`kubelet started; node ${nodeName} registered with ${server.origin}`);
  if (await waitForNodeReady(client, nodeName, 30_000)) progress(`node ${nodeName} is Ready`);
  else progress(`node ${nodeName} did not become Ready within 30 s; the kubelet keeps trying`);

  await untilShutdownSignal(env.log);
  progress("shutting down");
  await agent.stop();
  // kube-proxy's iptables rules stay, as upstream; the userspace mode removes its ClusterIPs.
  await services?.stop();
  await informers.shutdown();
  client.close();
}
