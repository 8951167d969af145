/**
 * Ages and durations as kubectl shows them: apimachinery's `duration.HumanDuration` (about two
 * significant figures: `45s`, `3m20s`, `15m`, `5h30m`, `2d3h`, `120d`, `3y45d`, `9y`) and the
 * printers' `translateTimestampSince` on top of it.
 */

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Upstream's HumanDuration of a duration in milliseconds. Each unit is the duration truncated toward
 * zero, as Go's integer division of a `time.Duration` is. A duration down to -1.999s prints `0s`:
 * upstream tolerates that much clock skew between the apiserver that stamped an object and this one.
 */
export function humanDuration(durationMs: number): string {
  const seconds = Math.trunc(durationMs / SECOND_MS);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(durationMs / MINUTE_MS);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(durationMs / HOUR_MS);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

// Go's time.Time{}: 0001-01-01T00:00:00Z.
// (Date.UTC would read year 1 as 1901.)
const ZERO_TIME_MS = Date.parse("0001-01-01T00:00:00Z");

/**
 * Milliseconds since the epoch of a `metav1.Time` / `metav1.MicroTime` as it travels in JSON
 * (`2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.123456Z`), or null for the zero time. Go's zero time
 * is serialized as `null`; a literal `0001-01-01T00:00:00Z` is zero too.
 */
export function parseTime(timestamp: unknown): number | null {
  if (typeof timestamp !== "string" || timestamp === "") return null;
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) return null;
  if (ms <= ZERO_TIME_MS) return null;
  return ms;
}

/** Upstream's `translateTimestampSince`: `<unknown>` for the zero time, else the human age at `nowMs`. */
export function translateTimestampSince(timestamp: unknown, nowMs: number): string {
  const ms = parseTime(timestamp);
  if (ms === null) return "<unknown>";
  return humanDuration(nowMs - ms);
}

/** A `metav1.Time` as Go's `Time.UTC().Format(time.RFC3339)`: whole seconds, `Z`; the zero time when unset. */
export function formatRFC3339(timestamp: unknown): string {
  const ms = parseTime(timestamp);
  if (ms === null) return "0001-01-01T00:00:00Z";
  return new Date(Math.floor(ms / SECOND_MS) * SECOND_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
}
