/** Figures of one measured phase: throughput and per-pod latency, from timestamps the runner took. */

/** The q-quantile (0..1) by nearest rank; NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface PhaseTimes {
  /** When each measured pod's create was sent (ms, monotonic). */
  readonly createdMs: ReadonlyMap<string, number>;
  /** When the bench's watch first saw each pod bound. */
  readonly boundMs: ReadonlyMap<string, number>;
}

export interface PhaseFigures {
  readonly pods: number;
  readonly bound: number;
  readonly elapsedMs: number;
  /** Bound pods over first create → last binding seen. */
  readonly podsPerSecond: number;
  /**
   * scheduler_perf's SchedulingThroughput Average: bindings counted per 1 s window over the phase
   * (the last partial window left out unless it is the only one).
   */
  readonly windowAveragePodsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function phaseFigures(t: PhaseTimes): PhaseFigures {
  const created = [...t.createdMs.values()];
  const start = created.length === 0 ? 0 : Math.min(...created);
  const latencies: number[] = [];
  let end = start;
  for (const [name, b] of t.boundMs) {
    const c = t.createdMs.get(name);
    if (c === undefined) continue;
    latencies.push(b - c);
    if (b > end) end = b;
  }
  const elapsedMs = end - start;
  const windows = Math.floor(elapsedMs / 1000);
  let windowAverage: number;
  if (windows === 0) windowAverage = elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : 0;
  else {
    let inFull = 0;
    for (const [name, b] of t.boundMs) if (t.createdMs.has(name) && b - start < windows * 1000) inFull++;
    windowAverage = inFull / windows;
  }
  return {
    pods: t.createdMs.size,
    bound: latencies.length,
    elapsedMs,
    podsPerSecond: elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : 0,
    windowAveragePodsPerSecond: windowAverage,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}
