/** Peer network metrics under etcd's names and labels (server/etcdserver/api/rafthttp/metrics.go). */
import { Counter, type Registry } from "prom-client";

export class PeerMetrics {
  readonly sentBytes: Counter<"To">;
  readonly receivedBytes: Counter<"From">;
  readonly sentFailures: Counter<"To">;
  readonly receivedFailures: Counter<"From">;
  readonly snapshotSendSuccess: Counter<"To">;
  readonly snapshotSendFailures: Counter<"To">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sentBytes = new Counter({ name: "etcd_network_peer_sent_bytes_total", help: "The total number of bytes sent to peers.", labelNames: ["To"], registers });
    this.receivedBytes = new Counter({ name: "etcd_network_peer_received_bytes_total", help: "The total number of bytes received from peers.", labelNames: ["From"], registers });
    this.sentFailures = new Counter({ name: "etcd_network_peer_sent_failures_total", help: "The total number of send failures from peers.", labelNames: ["To"], registers });
    this.receivedFailures = new Counter({ name: "etcd_network_peer_received_failures_total", help: "The total number of receive failures from peers.", labelNames: ["From"], registers });
    this.snapshotSendSuccess = new Counter({ name: "etcd_network_snapshot_send_success", help: "Total number of successful snapshot sends", labelNames: ["To"], registers });
    this.snapshotSendFailures = new Counter({ name: "etcd_network_snapshot_send_failures", help: "Total number of snapshot send failures", labelNames: ["To"], registers });
  }
}
