/** metav1.Time on the wire: RFC 3339 in UTC with whole seconds (`2026-01-02T03:04:05Z`), as Go marshals it. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Milliseconds since the epoch of an RFC 3339 time; undefined when absent or unparseable. */
export function parseTimeMs(t: string | null | undefined): number | undefined {
  if (t === undefined || t === null || t === "") return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
