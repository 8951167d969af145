/** kube-proxy's Prometheus metrics under upstream's names (pkg/proxy/metrics), so dashboards read them unchanged. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Upstream's buckets: exponential from 1 ms, doubling, 15 of them (up to ~16 s). */
const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly syncProxyRulesLatency = new Histogram({
    name: "kubeproxy_sync_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds",
    buckets: SYNC_BUCKETS,
    registers: [this.registry],
  });
  readonly syncFullProxyRulesLatency = new Histogram({
    name: "kubeproxy_sync_full_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds for full resyncs",
    buckets: SYNC_BUCKETS,
    registers: [this.registry],
  });
  readonly syncPartialProxyRulesLatency = new Histogram({
    name: "kubeproxy_sync_partial_proxy_rules_duration_seconds",
    help: "SyncProxyRules latency in seconds for partial resyncs",
    buckets: SYNC_BUCKETS,
    registers: [this.registry],
  });
  readonly syncProxyRulesLastTimestamp = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
    help: "The last time proxy rules were successfully synced",
    registers: [this.registry],
  });
  readonly syncProxyRulesLastQueuedTimestamp = new Gauge({
    name: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
    help: "The last time a sync of proxy rules was queued",
    registers: [this.registry],
  });
  readonly iptablesRestoreFailures = new Counter({
    name: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
    help: "Cumulative proxy iptables restore failures",
    registers: [this.registry],
  });
  readonly iptablesRulesTotal = new Gauge({
    name: "kubeproxy_sync_proxy_rules_iptables_total",
    help: "Total number of iptables rules owned by kube-proxy",
    labelNames: ["table"],
    registers: [this.registry],
  });
  readonly serviceChangesTotal = new Counter({
    name: "kubeproxy_sync_proxy_rules_service_changes_total",
    help: "Cumulative proxy rules Service changes",
    registers: [this.registry],
  });
  readonly endpointChangesTotal = new Counter({
    name: "kubeproxy_sync_proxy_rules_endpoint_changes_total",
    help: "Cumulative proxy rules Endpoint changes",
    registers: [this.registry],
  });
  readonly userspaceConnectionsTotal = new Counter({
    name: "kubeproxy_userspace_connections_total",
    help: "Connections the userspace proxy accepted, by result (tk8s-only: upstream removed its userspace mode)",
    labelNames: ["result"],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
