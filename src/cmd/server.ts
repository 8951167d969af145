/**
 * `tk8s server`: a single-node cluster in one process, started in order with a gate after each: the
 * embedded datastore (or an external etcd with --datastore-endpoint), kube-apiserver over it (with
 * the cluster's PKI and an admin kubeconfig made on first start), the controller-manager, the
 * scheduler, the node's add-ons (cluster DNS behind the kube-dns Service, kube-proxy: node_services.ts)
 * and a node agent (kubelet) told the DNS address. It writes `<data dir>/node-token`, the join token with which
 * `tk8s agent` adds more nodes.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Option, type Command } from "commander";
import { defaultHostAddress, duration, nonNegative, port } from "./flags.js";
import { ClientServer } from "../etcd/client_server.js";
import { defaultConfig } from "../etcd/config.js";
import { EtcdServer } from "../etcd/server.js";
import { untilShutdownSignal } from "./signals.js";
import { newNodeEnv, type LogLevel } from "../platform/node/node_env.js";
import { Authenticator, loadTokenFile } from "../apiserver/auth/authenticator.js";
import { bootstrapCluster } from "../apiserver/bootstrap.js";
import { ensureClusterPki } from "../apiserver/pki/pki.js";
import { renderKubeconfig } from "../apiserver/pki/kubeconfig.js";
import { ApiServer } from "../apiserver/server.js";
import { ServiceAccountTokens } from "../apiserver/serviceaccount/token_issuer.js";
import { startCompactor } from "../apiserver/storage/compactor.js";
import type { Storage } from "../apiserver/storage/contract.js";
import { EmbeddedStorage } from "../apiserver/storage/embedded_storage.js";
import { EtcdV3Storage } from "../apiserver/storage/etcd_v3_storage.js";
import { newMachinery, newOpenApiServer } from "../apiserver/wiring.js";
import { randomBytes } from "node:crypto";
import { addClusterDnsFlags, addKubeProxyFlags, addRuntimeFlags, clusterDnsOptions, kubeProxyOptions, runtimeOptions, startComponents, type ClusterDnsFlags, type ComponentsConfig, type KubeProxyFlags, type RuntimeFlags } from "./components.js";
import type { ApiError } from "../api/status.js";
import { bootstrapTokenSecret, newBootstrapToken, type BootstrapToken } from "../apiserver/auth/bootstrap_token.js";
import { formatJoinToken, parseJoinToken } from "../join/join_token.js";
import { issueClientCertificate, issueServingCertificate } from "../apiserver/pki/pki.js";
import { NODES_GROUP } from "../apiserver/auth/authorizer.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";

interface ServerFlags extends RuntimeFlags, KubeProxyFlags, ClusterDnsFlags {
  dataDir: string;
  nodeName?: string;
  kubeletPort: number;
  disableScheduler?: boolean;
  disableControllerManager?: boolean;
  disableAgent?: boolean;
  clusterCidr: string;
  bindAddress: string;
  securePort: number;
  advertiseAddress?: string;
  datastoreEndpoint?: string;
  embeddedEtcdClientUrls?: string;
  tokenAuthFile?: string;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  etcdCompactionInterval: number;
  nodeMonitorGracePeriod: number;
  logLevel: LogLevel;
}

export function addServerCommand(program: Command): void {
  const command = program
    .command("server")
    .description("run a single-node cluster: the embedded datastore, kube-apiserver, controller-manager, scheduler, a kubelet, kube-proxy and cluster DNS")
    .requiredOption("--data-dir <path>", "directory for the datastore, certificates and kubeconfigs")
    .option("--bind-address <ip>", "the address to serve HTTPS on", "0.0.0.0")
    .option("--secure-port <port>", "the port to serve HTTPS on (0: any free port)", port, 6443)
    .option("--advertise-address <ip>", "the address the `kubernetes` Service's endpoints name (default: the host's first IPv4 address)")
    .option("--datastore-endpoint <urls>", "use these etcd v3 endpoints (http://host:port, comma-separated: the members of one cluster) instead of the embedded datastore")
    .option("--embedded-etcd-client-urls <urls>", "also serve the embedded datastore's etcd v3 API on these URLs (for etcdctl)")
    .option("--token-auth-file <path>", "static bearer tokens: CSV lines of token,user,uid,\"group1,group2\"")
    .option("--max-requests-inflight <n>", "the most non-mutating requests in flight at once (0: no limit)", nonNegative, 400)
    .option("--max-mutating-requests-inflight <n>", "the most mutating requests in flight at once (0: no limit)", nonNegative, 200)
    .option("--etcd-compaction-interval <duration>", "how often to compact the datastore's history (0s: never)", duration, 300_000)
    .option("--node-monitor-grace-period <duration>", "how long a node may go without renewing its Lease before it is marked NotReady", duration, 40_000)
    .option("--node-name <name>", "this node's name (default: the host name)")
    .option("--kubelet-port <port>", "the kubelet's HTTPS port (0: any free port)", port, 10250)
    .option("--cluster-cidr <cidr>", "the pods' address range; each node gets a /24 of it", "10.244.0.0/16")
    .option("--disable-scheduler", "do not run the scheduler")
    .option("--disable-controller-manager", "do not run the controller manager")
    .option("--disable-agent", "do not run a kubelet on this machine (an API-only server)")
    .addOption(new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]).default("info"));
  addClusterDnsFlags(addKubeProxyFlags(addRuntimeFlags(command)))
    .action(async (flags: ServerFlags) => {
      await runServer(flags);
    });
}

/**
 * The join token in `<data dir>/node-token` (made on first start) and the bootstrap-token Secret that
 * makes it valid (re-created if someone deleted it: delete the file too to revoke the token for good).
 */
async function ensureJoinToken(client: RestClient, file: string, caPem: string): Promise<void> {
  let token: BootstrapToken;
  try {
    token = parseJoinToken(await fs.readFile(file, "utf8")).token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    token = newBootstrapToken((n) => randomBytes(n));
  }
  try {
    await client.resource("", "v1", "secrets").namespace("kube-system").create(bootstrapTokenSecret(token, { description: "the join token of tk8s server (node-token)" }) as never);
  } catch (err) {
    if ((err as ApiError).reason !== "AlreadyExists") throw err;
  }
  await fs.writeFile(file, `${formatJoinToken(caPem, token)}\n`, { mode: 0o600 });
}

async function runServer(flags: ServerFlags): Promise<void> {
  const env = newNodeEnv({ logLevel: flags.logLevel, logFields: { component: "server" } });
  const dataDir = path.resolve(flags.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const advertiseAddress = flags.advertiseAddress ?? defaultHostAddress();

  let storage: Storage;
  let etcd: EtcdServer | null = null;
  let etcdClients: ClientServer | null = null;
  if (flags.datastoreEndpoint !== undefined) {
    storage = new EtcdV3Storage(flags.datastoreEndpoint);
    env.log.info("using an external datastore", { endpoint: flags.datastoreEndpoint });
  } else {
    const config = defaultConfig({ name: "default", dataDir: path.join(dataDir, "etcd") });
    etcd = await EtcdServer.open(newNodeEnv({ logLevel: flags.logLevel, logFields: { component: "datastore" } }), config);
    storage = new EmbeddedStorage(etcd);
    if (flags.embeddedEtcdClientUrls !== undefined) {
      etcdClients = await ClientServer.listen(etcd, env, flags.embeddedEtcdClientUrls.split(","));
    }
    env.log.info("using the embedded datastore", { dataDir: config.dataDir });
  }

  const pki = await ensureClusterPki(path.join(dataDir, "pki"), { serverNames: [os.hostname(), advertiseAddress] });
  const authenticator = new Authenticator(flags.tokenAuthFile === undefined ? new Map() : loadTokenFile(flags.tokenAuthFile));
  const apiserver = new ApiServer({
    storage,
    log: env.log,
    machinery: newMachinery(),
    openapi: newOpenApiServer(),
    tls: { certPem: pki.apiserver.certPem, keyPem: pki.apiserver.keyPem, caPem: pki.ca.certPem },
    bindAddress: flags.bindAddress,
    port: flags.securePort,
    authenticator,
    maxRequestsInflight: flags.maxRequestsInflight,
    maxMutatingRequestsInflight: flags.maxMutatingRequestsInflight,
    kubeletClient: pki.kubeletClient,
    serviceAccountTokens: await ServiceAccountTokens.open(path.join(dataDir, "pki")),
    enableBootstrapTokenAuth: true,
  });
  const boundPort = await apiserver.start();
  await bootstrapCluster(apiserver, { advertiseAddress, securePort: boundPort, caPem: pki.ca.certPem });
  apiserver.setReady();
  const compactor = flags.etcdCompactionInterval > 0 ? startCompactor(storage, env, flags.etcdCompactionInterval) : null;

  const kubeconfigPath = path.join(dataDir, "admin.kubeconfig");
  const host = flags.bindAddress === "0.0.0.0" || flags.bindAddress === "::" ? "127.0.0.1" : flags.bindAddress;
  await fs.writeFile(
    kubeconfigPath,
    renderKubeconfig({
      server: `https://${host}:${boundPort}`,
      caPem: pki.ca.certPem,
      userName: "kubernetes-admin",
      clientCertPem: pki.admin.certPem,
      clientKeyPem: pki.admin.keyPem,
    }),
    { mode: 0o600 },
  );
  process.stdout.write(`tk8s: the API server is ready on https://${host}:${boundPort}\n`);

  // The other components talk to the API server over HTTPS like any client, with their own credentials.
  const client = new RestClient(loadKubeconfig(kubeconfigPath, { component: "tk8s-server" }));
  let agentConfig: ComponentsConfig["agent"] = null;
  if (flags.disableAgent !== true) {
    const nodeName = (flags.nodeName ?? os.hostname()).toLowerCase();
    const serving = await issueServingCertificate(pki.ca, nodeName, [nodeName, advertiseAddress, "127.0.0.1", "localhost"]);
    // This node's kubelet is a node like any other: it acts as system:node:<name>, not as the admin, so
    // the node authorization rules and NodeRestriction apply to it as to a joined agent.
    const identity = await issueClientCertificate(pki.ca, `system:node:${nodeName}`, [NODES_GROUP]);
    const kubeletKubeconfig = path.join(dataDir, "kubelet.kubeconfig");
    await fs.writeFile(
      kubeletKubeconfig,
      renderKubeconfig({ server: `https://${host}:${boundPort}`, caPem: pki.ca.certPem, userName: `system:node:${nodeName}`, clientCertPem: identity.certPem, clientKeyPem: identity.keyPem }),
      { mode: 0o600 },
    );
    agentConfig = { nodeName, nodeIP: advertiseAddress, kubeconfig: kubeletKubeconfig, rootDir: path.join(dataDir, "kubelet"), kubeletPort: flags.kubeletPort, serving, runtime: runtimeOptions(flags),
      services: { dns: clusterDnsOptions(flags), proxy: kubeProxyOptions(flags) },
    };
  }
  const components = await startComponents(
    {
      logLevel: flags.logLevel,
      adminKubeconfig: kubeconfigPath,
      ca: pki.ca,
      clusterCidr: flags.clusterCidr,
      nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod,
      controllerManager: flags.disableControllerManager !== true,
      scheduler: flags.disableScheduler !== true,
      agent: agentConfig,
    },
    (line) => process.stdout.write(`tk8s: ${line}\n`),
  );
  const nodeTokenPath = path.join(dataDir, "node-token");
  await ensureJoinToken(client, nodeTokenPath, pki.ca.certPem);
  process.stdout.write(`tk8s: join more nodes with: tk8s agent --server https://${advertiseAddress}:${boundPort} --token-file ${nodeTokenPath}\n`);
  env.log.info("cluster is ready", { kubeconfig: kubeconfigPath, port: boundPort });
  process.stdout.write(`tk8s: admin kubeconfig written to ${kubeconfigPath}\n`);
  process.stdout.write(`tk8s: try: kubectl --kubeconfig ${kubeconfigPath} get nodes\n`);

  await untilShutdownSignal(env.log);
  process.stdout.write("tk8s: shutting down\n");
  await components.stop();
  client.close();
  compactor?.stop();
  await apiserver.close();
  await etcdClients?.close();
  storage.close();
  await etcd?.close();
}
