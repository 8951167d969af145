/**
 * The few Prometheus metrics cluster DNS exports, in the text exposition format (version 0.0.4), under
 * CoreDNS's names so dashboards and alerts written for CoreDNS read them unchanged.
 */

/** Label sets are bounded: a metric refuses new series past this (a flood of odd qtypes cannot grow memory). */
const SERIES_PER_METRIC_MAX = 1000;

type Labels = Readonly<Record<string, string>>;

function labelKey(names: readonly string[], labels: Labels): string {
  return names.map((n) => labels[n] ?? "").join("\u0000");
}

function renderLabels(names: readonly string[], key: string, extra = ""): string {
  const values = key.split("\u0000");
  const parts = names.map((n, i) => `${n}="${(values[i] ?? "").replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  if (extra !== "") parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export class Counter {
  readonly #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(this.labelNames, labels);
    if (!this.#values.has(key) && this.#values.size >= SERIES_PER_METRIC_MAX) return;
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, v] of [...this.#values].sort()) lines.push(`${this.name}${renderLabels(this.labelNames, key)} ${v}`);
    return lines.join("\n");
  }
}

export class Histogram {
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly buckets: readonly number[]) {}
  observe(labels: Labels, value: number): void {
    const key = labelKey(this.labelNames, labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      if (this.#series.size >= SERIES_PER_METRIC_MAX) return;
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
  }
  count(labels: Labels): number {
    return this.#series.get(labelKey(this.labelNames, labels))?.count ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of [...this.#series].sort(([a], [b]) => a.localeCompare(b))) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${renderLabels(this.labelNames, key, `le="${b}"`)} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${renderLabels(this.labelNames, key, 'le="+Inf"')} ${s.count}`);
      lines.push(`${this.name}_sum${renderLabels(this.labelNames, key)} ${s.sum}`);
      lines.push(`${this.name}_count${renderLabels(this.labelNames, key)} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/** CoreDNS's request-duration buckets: prometheus.ExponentialBuckets(0.00025, 2, 16), 0.25 ms … 8.2 s. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);

/** Everything the DNS server and forwarder count. */
export class DnsMetrics {
  readonly requests = new Counter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.", ["server", "zone", "view", "proto", "family", "type"]);
  readonly responses = new Counter("coredns_dns_responses_total", "Counter of response status codes.", ["server", "zone", "view", "rcode", "plugin"]);
  readonly requestDuration = new Histogram("coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took per zone.", ["server", "zone", "view", "type"], DURATION_BUCKETS_SECONDS);
  readonly forwardRequests = new Counter("coredns_forward_requests_total", "Counter of requests made per upstream.", ["to"]);
  readonly forwardResponses = new Counter("coredns_forward_responses_total", "Counter of responses received per upstream.", ["to", "rcode"]);
  readonly forwardMaxConcurrentRejects = new Counter("coredns_forward_max_concurrent_rejects_total", "Counter of the number of queries rejected because the concurrent queries were at maximum.", []);
  readonly forwardTimeouts = new Counter("coredns_forward_timeouts_total", "Counter of upstream queries that got no answer in time (tk8s).", ["to"]);

  render(): string {
    return `${[this.requests, this.responses, this.requestDuration, this.forwardRequests, this.forwardResponses, this.forwardMaxConcurrentRejects, this.forwardTimeouts].map((m) => m.render()).join("\n")}\n`;
  }
}
