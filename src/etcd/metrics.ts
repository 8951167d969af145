/** Prometheus metrics under etcd's names, so existing dashboards and alerts read them unchanged. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class DatastoreMetrics {
  readonly registry = new Registry();
  readonly hasLeader = new Gauge({ name: "etcd_server_has_leader", help: "Whether or not a leader exists. 1 is existence, 0 is not.", registers: [this.registry] });
  readonly isLeader = new Gauge({ name: "etcd_server_is_leader", help: "Whether or not this member is a leader. 1 if is, 0 otherwise.", registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: "etcd_server_leader_changes_seen_total", help: "The number of leader changes seen.", registers: [this.registry] });
  readonly proposalsCommitted = new Gauge({ name: "etcd_server_proposals_committed_total", help: "The total number of consensus proposals committed.", registers: [this.registry] });
  readonly proposalsApplied = new Gauge({ name: "etcd_server_proposals_applied_total", help: "The total number of consensus proposals applied.", registers: [this.registry] });
  readonly proposalsPending = new Gauge({ name: "etcd_server_proposals_pending", help: "The current number of pending proposals to commit.", registers: [this.registry] });
  readonly proposalsFailed = new Counter({ name: "etcd_server_proposals_failed_total", help: "The total number of failed proposals seen.", registers: [this.registry] });
  readonly quotaBytes = new Gauge({ name: "etcd_server_quota_backend_bytes", help: "Current backend storage quota size in bytes.", registers: [this.registry] });
  readonly dbTotalSize = new Gauge({ name: "etcd_mvcc_db_total_size_in_bytes", help: "Total size of the underlying database physically allocated in bytes.", registers: [this.registry] });
  readonly dbInUseSize = new Gauge({ name: "etcd_mvcc_db_total_size_in_use_in_bytes", help: "Total size of the underlying database logically in use in bytes.", registers: [this.registry] });
  readonly keysTotal = new Gauge({ name: "etcd_debugging_mvcc_keys_total", help: "Total number of keys.", registers: [this.registry] });
  readonly currentRevision = new Gauge({ name: "etcd_debugging_mvcc_current_revision", help: "The current revision of store.", registers: [this.registry] });
  readonly compactRevision = new Gauge({ name: "etcd_debugging_mvcc_compact_revision", help: "The revision of the last compaction in store.", registers: [this.registry] });
  readonly watchersTotal = new Gauge({ name: "etcd_debugging_mvcc_watcher_total", help: "Total number of watchers.", registers: [this.registry] });
  readonly slowWatchers = new Gauge({ name: "etcd_debugging_mvcc_slow_watcher_total", help: "Total number of unsynced slow watchers.", registers: [this.registry] });
  readonly putTotal = new Counter({ name: "etcd_mvcc_put_total", help: "Total number of puts seen by this member.", registers: [this.registry] });
  readonly deleteTotal = new Counter({ name: "etcd_mvcc_delete_total", help: "Total number of deletes seen by this member.", registers: [this.registry] });
  readonly rangeTotal = new Counter({ name: "etcd_mvcc_range_total", help: "Total number of ranges seen by this member.", registers: [this.registry] });
  readonly txnTotal = new Counter({ name: "etcd_mvcc_txn_total", help: "Total number of txns seen by this member.", registers: [this.registry] });
  readonly walFsync = new Histogram({
    name: "etcd_disk_wal_fsync_duration_seconds",
    help: "The latency distributions of fsync called by WAL.",
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
    registers: [this.registry],
  });
  readonly snapshotSave = new Histogram({
    name: "etcd_debugging_snap_save_total_duration_seconds",
    help: "The total latency distributions of save called by snapshot.",
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
    registers: [this.registry],
  });
  readonly grpcHandled = new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
