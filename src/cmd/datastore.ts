/** `tk8s datastore`: the etcd v3-compatible store, with etcd's flag names and defaults. */
import { InvalidArgumentError, Option, type Command } from "commander";
import { ClientServer } from "../etcd/client_server.js";
import { checkRaftTiming, defaultConfig, SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT, ELECTION_TIMEOUT_MS_DEFAULT, HEARTBEAT_INTERVAL_MS_DEFAULT, MAX_REQUEST_BYTES_DEFAULT, MAX_TXN_OPS_DEFAULT, parseDurationMs, parseInitialCluster, parseRetentionMs, SNAPSHOT_COUNT_DEFAULT, type DatastoreConfig } from "../etcd/config.js";
import { EtcdServer } from "../etcd/server.js";
import { untilShutdownSignal } from "./signals.js";
import { newNodeEnv, type LogLevel } from "../platform/node/node_env.js";

function nonNegativeInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} must be a non-negative integer: current value is "${v}"`);
    return Number(v);
  };
}

function urlList(flag: string) {
  return (v: string): string[] => {
    const urls = v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    for (const u of urls) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new InvalidArgumentError(`${flag} must be a comma-separated list of URLs: "${u}" is not a URL`);
      }
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InvalidArgumentError(`${flag}: "${u}" must use http:// or https://`);
      if (parsed.port === "") throw new InvalidArgumentError(`${flag}: "${u}" must name a port`);
    }
    return urls;
  };
}

interface DatastoreFlags {
  name: string;
  dataDir?: string;
  listenClientUrls: string[];
  advertiseClientUrls?: string[];
  listenPeerUrls: string[];
  initialAdvertisePeerUrls?: string[];
  initialCluster?: string;
  initialClusterState: "new" | "existing";
  initialClusterToken: string;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  autoCompactionRetention: string;
  autoCompactionMode: "periodic" | "revision";
  snapshotCount: number;
  heartbeatInterval: number;
  experimentalSnapshotCatchupEntries: number;
  electionTimeout: number;
  experimentalWatchProgressNotifyInterval: string;
  logLevel: LogLevel;
}

export function configFromFlags(f: DatastoreFlags): DatastoreConfig {
  const peers = f.initialAdvertisePeerUrls ?? f.listenPeerUrls;
  const cfg = defaultConfig({
    name: f.name,
    dataDir: f.dataDir ?? `${f.name}.etcd`,
    listenClientUrls: f.listenClientUrls,
    advertiseClientUrls: f.advertiseClientUrls ?? f.listenClientUrls,
    listenPeerUrls: f.listenPeerUrls,
    initialAdvertisePeerUrls: peers,
    initialCluster: f.initialCluster ?? peers.map((p) => `${f.name}=${p}`).join(","),
    initialClusterState: f.initialClusterState,
    initialClusterToken: f.initialClusterToken,
    quotaBackendBytes: f.quotaBackendBytes,
    maxRequestBytes: f.maxRequestBytes,
    maxTxnOps: f.maxTxnOps,
    autoCompactionRetention: f.autoCompactionRetention,
    autoCompactionMode: f.autoCompactionMode,
    snapshotCount: f.snapshotCount,
    heartbeatIntervalMs: f.heartbeatInterval,
    snapshotCatchUpEntries: f.experimentalSnapshotCatchupEntries,
    electionTimeoutMs: f.electionTimeout,
    watchProgressNotifyIntervalMs: parseDurationMs(f.experimentalWatchProgressNotifyInterval, "--experimental-watch-progress-notify-interval"),
  });
  parseInitialCluster(cfg.initialCluster);
  checkRaftTiming(cfg);
  if (cfg.autoCompactionMode === "periodic" && cfg.autoCompactionRetention !== "0") parseRetentionMs(cfg.autoCompactionRetention);
  if (cfg.autoCompactionMode === "revision" && !/^\d+$/.test(cfg.autoCompactionRetention)) {
    throw new Error(`Cannot start: --auto-compaction-retention must be a revision count in revision mode: current value is "${cfg.autoCompactionRetention}"`);
  }
  return cfg;
}

export function addDatastoreCommand(program: Command): void {
  program
    .command("datastore")
    .description("run an etcd v3-compatible datastore member (Raft-replicated; flags as etcd's)")
    .option("--name <name>", "human-readable name for this member", "default")
    .option("--data-dir <path>", "path to the data directory (default: ${name}.etcd)")
    .option("--listen-client-urls <urls>", "URLs to listen on for client traffic", urlList("--listen-client-urls"), ["http://localhost:2379"])
    .option("--advertise-client-urls <urls>", "client URLs to advertise to the rest of the cluster", urlList("--advertise-client-urls"))
    .option("--listen-peer-urls <urls>", "URLs to listen on for peer traffic", urlList("--listen-peer-urls"), ["http://localhost:2380"])
    .option("--initial-advertise-peer-urls <urls>", "this member's peer URLs to advertise to the rest of the cluster", urlList("--initial-advertise-peer-urls"))
    .option("--initial-cluster <members>", "initial cluster configuration for bootstrapping (name=peerURL,...)")
    .addOption(new Option("--initial-cluster-state <state>", "initial cluster state").choices(["new", "existing"]).default("new"))
    .option("--initial-cluster-token <token>", "initial cluster token for the cluster during bootstrap", "etcd-cluster")
    .option("--quota-backend-bytes <bytes>", "raise an alarm when the backend size exceeds the quota (0 = default 2 GiB)", nonNegativeInt("--quota-backend-bytes"), 0)
    .option("--max-request-bytes <bytes>", "maximum client request size in bytes the server will accept", nonNegativeInt("--max-request-bytes"), MAX_REQUEST_BYTES_DEFAULT)
    .option("--max-txn-ops <n>", "maximum number of operations permitted in a transaction", nonNegativeInt("--max-txn-ops"), MAX_TXN_OPS_DEFAULT)
    .option("--auto-compaction-retention <retention>", "auto compaction retention (hours or a duration like 30m in periodic mode; revisions in revision mode; 0 disables)", "0")
    .addOption(new Option("--auto-compaction-mode <mode>", "interpret retention as time (periodic) or a revision count").choices(["periodic", "revision"]).default("periodic"))
    .option("--experimental-snapshot-catchup-entries <n>", "number of entries for a slow follower to catch up after compacting the raft storage entries", nonNegativeInt("--experimental-snapshot-catchup-entries"), SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT)
    .option("--heartbeat-interval <ms>", "time (in milliseconds) of a heartbeat interval", nonNegativeInt("--heartbeat-interval"), HEARTBEAT_INTERVAL_MS_DEFAULT)
    .option("--election-timeout <ms>", "time (in milliseconds) for an election to timeout", nonNegativeInt("--election-timeout"), ELECTION_TIMEOUT_MS_DEFAULT)
    .option("--snapshot-count <n>", "number of committed transactions that trigger a snapshot", nonNegativeInt("--snapshot-count"), SNAPSHOT_COUNT_DEFAULT)
    .option("--experimental-watch-progress-notify-interval <duration>", "duration of periodic watch progress notifications", "10m")
    .addOption(new Option("--log-level <level>", "log level").choices(["debug", "info", "warn", "error"]).default("info"))
    .action(async (flags: DatastoreFlags) => {
      const config = configFromFlags(flags);
      const env = newNodeEnv({ logLevel: flags.logLevel, logFields: { component: "datastore", member: config.name } });
      const server = await EtcdServer.open(env, config);
      const clients = await ClientServer.listen(server, env, config.listenClientUrls);
      env.log.info("ready to serve client requests", { clientUrls: config.advertiseClientUrls });
      // A member removed from the cluster stops on its own, and then so does the process.
      await Promise.race([untilShutdownSignal(env.log), server.done]);
      await clients.close();
      await server.close();
    });
}
