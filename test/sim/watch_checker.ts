import type { History, Operation } from "./history.js";
import type { KvInput, KvOutput, KvWrite } from "./kv_model.js";
import { KV_INITIAL_REVISION } from "./kv_model.js";

/** One event as a watch delivered it. `deliveredTime` (optional) is when the client saw it. */
export interface WatchEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  /** The value put; null for a delete. */
  readonly value: string | null;
  readonly modRevision: number;
  readonly deliveredTime?: number;
}

/**
 * One watch as a simulated client recorded it. The range follows etcd: no `rangeEnd` is one key,
 * `rangeEnd` "\0" is every key >= `key`, otherwise [key, rangeEnd).
 */
export interface RecordedWatch {
  readonly id: number;
  readonly key: string;
  readonly rangeEnd?: string;
  readonly startRevision: number;
  readonly events: readonly WatchEvent[];
  /**
   * The revision through which the watch claims to be complete even without an event there (a
   * progress notification, or the store's final revision once the run has quiesced and the watch
   * drained). Without it, completeness is checked up to the last delivered event.
   */
  readonly completeThroughRevision?: number;
}

export interface WatchViolation {
  readonly watchId: number;
  readonly kind: "out-of-order" | "duplicate" | "before-start" | "out-of-range" | "phantom" | "mismatch" | "missed";
  readonly message: string;
}

/** Stops one broken run from printing thousands of lines. */
export const WATCH_VIOLATIONS_MAX = 50;

/**
 * Checks each watch against the log of writes (from an exact linearization, `checkKvHistory(...).writes`,
 * or from a member's applied log): events come in strictly increasing revision order, each once, none
 * before the start revision or outside the range, each equal to the write at its revision, and none
 * missing from the start revision through the last delivered (or `completeThroughRevision`).
 * Events delivered for the same revision by several watches must agree (each is compared to the log).
 */
export function checkWatches(
  watches: readonly RecordedWatch[], writes: readonly KvWrite[], options: { logComplete?: boolean } = {},
): WatchViolation[] {
  // With a partial log (only the writes clients saw acknowledged with their revisions) an event at a
  // revision missing from the log proves nothing; everything else still holds.
  const logComplete = options.logComplete ?? true;
  const violations: WatchViolation[] = [];
  const report = (v: WatchViolation): boolean => {
    if (violations.length < WATCH_VIOLATIONS_MAX) violations.push(v);
    return violations.length < WATCH_VIOLATIONS_MAX;
  };
  const byRevision = new Map<number, KvWrite>();
  for (const w of writes) byRevision.set(w.revision, w);
  const sortedWrites = [...writes].sort((a, b) => a.revision - b.revision);

  for (const watch of watches) {
    const inRange = rangeMatcher(watch.key, watch.rangeEnd);
    const delivered = new Set<number>();
    let last = -Infinity;
    for (const e of watch.events) {
      const at = `event ${fmtEvent(e)}`;
      if (e.modRevision === last || delivered.has(e.modRevision)) {
        if (!report({ watchId: watch.id, kind: "duplicate", message: `${at} delivered again` })) return violations;
      } else if (e.modRevision < last) {
        if (!report({ watchId: watch.id, kind: "out-of-order", message: `${at} after revision ${last}` })) return violations;
      }
      if (e.modRevision < watch.startRevision) {
        if (!report({ watchId: watch.id, kind: "before-start", message: `${at} is before the start revision ${watch.startRevision}` })) return violations;
      }
      if (!inRange(e.key)) {
        if (!report({ watchId: watch.id, kind: "out-of-range", message: `${at} is outside ${fmtRange(watch)}` })) return violations;
      }
      const w = byRevision.get(e.modRevision);
      if (w === undefined) {
        if (logComplete && !report({ watchId: watch.id, kind: "phantom", message: `${at} matches no write in the history` })) return violations;
      } else if (w.key !== e.key || w.type !== e.type || w.value !== e.value) {
        if (!report({ watchId: watch.id, kind: "mismatch", message: `${at} but revision ${w.revision} was ${fmtWrite(w)}` })) return violations;
      }
      delivered.add(e.modRevision);
      last = Math.max(last, e.modRevision);
    }
    const through = Math.max(last, watch.completeThroughRevision ?? -Infinity);
    for (const w of sortedWrites) {
      if (w.revision > through) break;
      if (w.revision < watch.startRevision || !inRange(w.key) || delivered.has(w.revision)) continue;
      if (!report({ watchId: watch.id, kind: "missed", message: `${fmtWrite(w)} at revision ${w.revision} was never delivered (watch ${fmtRange(watch)} from ${watch.startRevision}, complete through ${through})` })) return violations;
    }
  }
  return violations;
}

/**
 * Settles timed-out writes with what the watches saw. Requires unique written values (the simulator
 * writes them); deletes carry no value to match and stay unknown.
 * - A put or cas whose (key, value) a watch delivered happened: it becomes `ok` with that event's
 *   revision, returning no later than the event was delivered (only if exactly one operation wrote
 *   that value, so no order is invented).
 * - A put or cas whose key a complete watch covers (from the first revision, complete through the
 *   highest revision anyone saw) and whose value it never delivered did not happen: it becomes
 *   `failed`. A cas whose compare failed had no effect either, so the two are the same.
 */
export function resolveUnknownWrites(
  history: History<KvInput, KvOutput>, watches: readonly RecordedWatch[], options: { initialRevision?: number } = {},
): History<KvInput, KvOutput> {
  const firstRevision = (options.initialRevision ?? KV_INITIAL_REVISION) + 1;
  let highest = 0;
  for (const op of history) highest = Math.max(highest, revisionOf(op.output));
  for (const w of watches) for (const e of w.events) highest = Math.max(highest, e.modRevision);
  const complete = watches
    .filter((w) => w.startRevision <= firstRevision && (w.completeThroughRevision ?? -Infinity) >= highest)
    .map((w) => rangeMatcher(w.key, w.rangeEnd));
  const coveredCompletely = (key: string): boolean => complete.some((inRange) => inRange(key));
  const seen = new Map<string, WatchEvent[]>();
  for (const watch of watches) {
    for (const e of watch.events) {
      if (e.type !== "put") continue;
      const id = JSON.stringify([e.key, e.value]);
      const list = seen.get(id) ?? [];
      if (!list.some((x) => x.modRevision === e.modRevision)) list.push(e);
      seen.set(id, list);
    }
  }
  const candidates = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of history) {
    if (op.outcome !== "unknown" || (op.input.kind !== "put" && op.input.kind !== "cas")) continue;
    const id = JSON.stringify([op.input.key, op.input.value]);
    candidates.set(id, [...(candidates.get(id) ?? []), op]);
  }
  return history.map((op) => {
    if (op.outcome !== "unknown" || (op.input.kind !== "put" && op.input.kind !== "cas")) return op;
    const id = JSON.stringify([op.input.key, op.input.value]);
    const events = seen.get(id);
    if (events === undefined) return coveredCompletely(op.input.key) ? { ...op, outcome: "failed" } : op;
    if (events.length !== 1 || candidates.get(id)!.length !== 1) return op;
    const e = events[0]!;
    const output: KvOutput = op.input.kind === "put"
      ? { kind: "put", revision: e.modRevision }
      : { kind: "cas", succeeded: true, revision: e.modRevision };
    const returnTime = e.deliveredTime !== undefined && e.deliveredTime >= op.callTime ? e.deliveredTime : Infinity;
    return { ...op, outcome: "ok", output, returnTime };
  });
}

function revisionOf(out: KvOutput | undefined): number {
  if (out === undefined) return 0;
  return out.kind === "put" ? out.revision : out.kind === "get" ? Math.max(out.modRevision, out.revision ?? 0) : out.revision ?? 0;
}

function rangeMatcher(key: string, rangeEnd: string | undefined): (k: string) => boolean {
  if (rangeEnd === undefined) return (k) => k === key;
  if (rangeEnd === "\0") return (k) => k >= key;
  return (k) => k >= key && k < rangeEnd;
}

function fmtRange(w: RecordedWatch): string {
  if (w.rangeEnd === undefined) return `key ${JSON.stringify(w.key)}`;
  if (w.rangeEnd === "\0") return `keys >= ${JSON.stringify(w.key)}`;
  return `keys [${JSON.stringify(w.key)}, ${JSON.stringify(w.rangeEnd)})`;
}

function fmtEvent(e: WatchEvent): string {
  return `${e.type} ${e.key}${e.value === null ? "" : `=${JSON.stringify(e.value)}`}@${e.modRevision}`;
}

function fmtWrite(w: KvWrite): string {
  return `${w.type} ${w.key}${w.value === null ? "" : `=${JSON.stringify(w.value)}`}`;
}

/** Every write the watches delivered, by revision (the first event wins; `checkWatches` reports disagreements). */
export function watchedWritesOf(watches: readonly RecordedWatch[]): Map<number, KvWrite> {
  const writes = new Map<number, KvWrite>();
  for (const watch of watches) {
    for (const e of watch.events) {
      if (!writes.has(e.modRevision)) writes.set(e.modRevision, { revision: e.modRevision, key: e.key, type: e.type, value: e.value });
    }
  }
  return writes;
}
