/** The datastore's configuration, named and defaulted as etcd's flags. */
export interface DatastoreConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: string[];
  readonly advertiseClientUrls: string[];
  readonly listenPeerUrls: string[];
  readonly initialAdvertisePeerUrls: string[];
  /** name=peerURL,… */
  readonly initialCluster: string;
  readonly initialClusterState: "new" | "existing";
  readonly initialClusterToken: string;
  /** 0: etcd's default (2 GiB). */
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  /** "0" disables; periodic mode: a duration ("1h", "30m") or hours as a number; revision mode: a count. */
  readonly autoCompactionRetention: string;
  readonly autoCompactionMode: "periodic" | "revision";
  readonly snapshotCount: number;
  /** etcd's --experimental-snapshot-catchup-entries: entries kept behind a snapshot for slow followers (default 5000). */
  readonly snapshotCatchUpEntries: number;
  /** etcd's --heartbeat-interval: the Raft tick, in ms (default 100). */
  readonly heartbeatIntervalMs: number;
  /** etcd's --election-timeout in ms (default 1000): a follower campaigns after 1–2× this without a leader. */
  readonly electionTimeoutMs: number;
  /** etcd's --experimental-watch-progress-notify-interval (default 10 minutes). */
  readonly watchProgressNotifyIntervalMs: number;
}

/** etcd's DefaultQuotaBytes. */
export const QUOTA_BACKEND_BYTES_DEFAULT = 2 * 1024 * 1024 * 1024;
/** etcd's default --max-request-bytes (1.5 MiB): the largest request the log accepts. */
export const MAX_REQUEST_BYTES_DEFAULT = 1.5 * 1024 * 1024;
/** etcd's default --max-txn-ops. */
export const MAX_TXN_OPS_DEFAULT = 128;
/** etcd 3.4's default --snapshot-count. */
export const SNAPSHOT_COUNT_DEFAULT = 100_000;
/** etcd's SnapshotCatchUpEntries. */
export const SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT = 5000;
/** etcd's default --heartbeat-interval and --election-timeout. */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 100;
export const ELECTION_TIMEOUT_MS_DEFAULT = 1000;
/** etcd's default watch progress-notify interval. */
export const WATCH_PROGRESS_NOTIFY_INTERVAL_MS_DEFAULT = 10 * 60_000;
/** gRPC's receive limit sits above the request limit, as etcd's does, so oversize requests get etcd's error, not gRPC's. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export function defaultConfig(overrides: Partial<DatastoreConfig> = {}): DatastoreConfig {
  const name = overrides.name ?? "default";
  const peer = overrides.initialAdvertisePeerUrls ?? ["http://localhost:2380"];
  return {
    name,
    dataDir: `${name}.etcd`,
    listenClientUrls: ["http://localhost:2379"],
    advertiseClientUrls: ["http://localhost:2379"],
    // Embedded members (tk8s server, tests) do not listen for peers unless asked; the CLI's default is etcd's.
    listenPeerUrls: [],
    initialAdvertisePeerUrls: peer,
    initialCluster: `${name}=${peer.join(`,${name}=`)}`,
    initialClusterState: "new",
    initialClusterToken: "etcd-cluster",
    quotaBackendBytes: 0,
    maxRequestBytes: MAX_REQUEST_BYTES_DEFAULT,
    maxTxnOps: MAX_TXN_OPS_DEFAULT,
    autoCompactionRetention: "0",
    autoCompactionMode: "periodic",
    snapshotCount: SNAPSHOT_COUNT_DEFAULT,
    snapshotCatchUpEntries: SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS_DEFAULT,
    electionTimeoutMs: ELECTION_TIMEOUT_MS_DEFAULT,
    watchProgressNotifyIntervalMs: WATCH_PROGRESS_NOTIFY_INTERVAL_MS_DEFAULT,
    ...overrides,
  };
}

/** Parses "name=url,name=url" into members in order. */
export function parseInitialCluster(s: string): { name: string; peerUrls: string[] }[] {
  const byName = new Map<string, string[]>();
  for (const part of s.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`Cannot parse --initial-cluster: "${part}" is not name=url`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    new URL(url);
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  return [...byName].map(([name, peerUrls]) => ({ name, peerUrls }));
}

/** Parses --auto-compaction-retention for periodic mode into milliseconds (a bare number means hours, as etcd). */
export function parseRetentionMs(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 3600_000;
  return parseDurationMs(s, "--auto-compaction-retention");
}

/** Parses a Go-style duration ("10m", "1h30m", "500ms", "2s") into milliseconds. */
export function parseDurationMs(s: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === "h" ? n * 3600_000 : m[2] === "m" ? n * 60_000 : m[2] === "s" ? n * 1000 : n;
    consumed += m[0].length;
  }
  if (consumed !== s.length || consumed === 0) throw new Error(`Cannot parse ${flag}: "${s}" is not a duration like 30m or 500ms`);
  return total;
}

/** etcd's ReqTimeout: how long a proposal or linearizable read may wait (5 s plus two election timeouts). */
export function requestTimeoutMs(c: Pick<DatastoreConfig, "electionTimeoutMs">): number {
  return 5000 + 2 * c.electionTimeoutMs;
}

/** Checks the timing flags as etcd does. */
export function checkRaftTiming(c: Pick<DatastoreConfig, "heartbeatIntervalMs" | "electionTimeoutMs">): void {
  if (!(c.heartbeatIntervalMs > 0)) throw new Error(`--heartbeat-interval must be > 0: current value is ${c.heartbeatIntervalMs}`);
  if (c.electionTimeoutMs < 5 * c.heartbeatIntervalMs) {
    throw new Error(`--election-timeout[${c.electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${c.heartbeatIntervalMs}ms]`);
  }
  if (c.electionTimeoutMs > 50_000) throw new Error(`--election-timeout[${c.electionTimeoutMs}ms] is too long, and should be set less than 50000ms`);
}
