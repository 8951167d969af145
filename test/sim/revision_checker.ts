import type { History, Operation } from "./history.js";
import type { KvInput, KvOutput } from "./kv_model.js";
import { formatOperation } from "./linearizability.js";
import { describeKvOperation, KV_INITIAL_REVISION } from "./kv_model.js";

/** A broken global revision property, with the operations that show it. */
export interface RevisionViolation {
  readonly kind: "duplicate" | "out-of-order" | "gap" | "stale-header";
  readonly message: string;
  readonly operations: readonly Operation<KvInput, KvOutput>[];
}

/** Stops one broken run from printing thousands of lines. */
export const REVISION_VIOLATIONS_MAX = 20;

/**
 * The global revision properties that the per-key partitioned check cannot see, in O(n log n):
 * - every acknowledged write has its own revision (no two share one);
 * - revisions follow real time: a write that returned before another was called has the lower revision;
 * - no gaps: revisions after the initial one up to the highest seen are all accounted for, by a known
 *   write or by one that may have happened without telling us (unknown outcome, or no revision recorded);
 * - a read's header revision follows real time: at least every write that returned before the read
 *   was called, less than every write called after the read returned.
 * These are necessary conditions only; `newKvModel` (exact) checks the full global order.
 */
export function checkRevisions(
  history: History<KvInput, KvOutput>, options: { initialRevision?: number } = {},
): RevisionViolation[] {
  const initialRevision = options.initialRevision ?? KV_INITIAL_REVISION;
  const violations: RevisionViolation[] = [];
  const report = (v: RevisionViolation): void => {
    if (violations.length < REVISION_VIOLATIONS_MAX) violations.push(v);
  };
  const fmt = (op: Operation<KvInput, KvOutput>): string => formatOperation({ describeOperation: describeKvOperation }, op);

  const writes: { op: Operation<KvInput, KvOutput>; revision: number }[] = [];
  let silentWrites = 0; // writes that may hold a revision we never learned
  for (const op of history) {
    if (op.outcome === "failed" || op.input.kind === "get") continue;
    const revision = op.outcome === "ok" ? writeRevision(op.output!) : null;
    if (revision === null) {
      if (op.outcome === "unknown" || mayHaveWritten(op.output!)) silentWrites++;
      continue;
    }
    writes.push({ op, revision });
  }
  writes.sort((a, b) => a.revision - b.revision);

  for (let i = 1; i < writes.length; i++) {
    if (writes[i]!.revision === writes[i - 1]!.revision) {
      report({ kind: "duplicate", message: `two writes got revision ${writes[i]!.revision}: ${fmt(writes[i - 1]!.op)} and ${fmt(writes[i]!.op)}`, operations: [writes[i - 1]!.op, writes[i]!.op] });
    }
  }
  for (const w of writes) {
    if (w.revision <= initialRevision) report({ kind: "out-of-order", message: `a write got revision ${w.revision}, not after the initial revision ${initialRevision}: ${fmt(w.op)}`, operations: [w.op] });
  }

  // suffixMinReturn[i]: the earliest-returning write among writes[i..]; prefixMaxCall[i]: the
  // latest-called write among writes[0..i].
  const suffixMinReturn: number[] = new Array(writes.length + 1);
  const suffixMinAt: number[] = new Array(writes.length + 1);
  suffixMinReturn[writes.length] = Infinity;
  suffixMinAt[writes.length] = -1;
  for (let i = writes.length - 1; i >= 0; i--) {
    const r = writes[i]!.op.returnTime;
    const better = r < suffixMinReturn[i + 1]!;
    suffixMinReturn[i] = better ? r : suffixMinReturn[i + 1]!;
    suffixMinAt[i] = better ? i : suffixMinAt[i + 1]!;
  }
  const prefixMaxCall: number[] = [];
  const prefixMaxAt: number[] = [];
  for (let i = 0; i < writes.length; i++) {
    const c = writes[i]!.op.callTime;
    const better = i === 0 || c > prefixMaxCall[i - 1]!;
    prefixMaxCall.push(better ? c : prefixMaxCall[i - 1]!);
    prefixMaxAt.push(better ? i : prefixMaxAt[i - 1]!);
  }
  // First index whose revision is > r.
  const upperBound = (r: number): number => {
    let lo = 0;
    let hi = writes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (writes[mid]!.revision <= r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    const j = upperBound(w.revision);
    if (suffixMinReturn[j]! < w.op.callTime) {
      const later = writes[suffixMinAt[j]!]!;
      report({ kind: "out-of-order", message: `revision ${later.revision} returned before revision ${w.revision} was called: ${fmt(later.op)} then ${fmt(w.op)}`, operations: [later.op, w.op] });
    }
  }

  for (const op of history) {
    if (op.outcome !== "ok" || op.output!.kind !== "get" || op.output!.revision === undefined) continue;
    const g = op.output!.revision;
    const j = upperBound(g);
    if (suffixMinReturn[j]! < op.callTime) {
      const w = writes[suffixMinAt[j]!]!;
      report({ kind: "stale-header", message: `a read at revision ${g} was called after revision ${w.revision} had returned: ${fmt(w.op)} then ${fmt(op)}`, operations: [w.op, op] });
    }
    if (j > 0 && prefixMaxCall[j - 1]! > op.returnTime) {
      const w = writes[prefixMaxAt[j - 1]!]!;
      report({ kind: "stale-header", message: `a read at revision ${g} returned before revision ${w.revision} was called: ${fmt(op)} then ${fmt(w.op)}`, operations: [op, w.op] });
    }
  }

  const highest = writes.length > 0 ? writes[writes.length - 1]!.revision : initialRevision;
  const distinct = new Set(writes.map((w) => w.revision)).size;
  const missing = highest - initialRevision - distinct;
  if (missing > silentWrites) {
    report({ kind: "gap", message: `revisions ${initialRevision + 1}..${highest} have ${missing} unaccounted for, but only ${silentWrites} writes could have taken them silently`, operations: [] });
  }
  return violations;
}

// The revision an acknowledged write is known to have taken, or null if it took none or we do not know.
function writeRevision(out: KvOutput): number | null {
  switch (out.kind) {
    case "put": return out.revision;
    case "delete": return out.deleted > 0 && out.revision !== undefined ? out.revision : null;
    case "cas": return out.succeeded && out.revision !== undefined ? out.revision : null;
    case "get": return null;
    // A revoke's header revision is its delete's only if its key was still attached: unknown here.
    case "revoke": return null;
  }
}

function mayHaveWritten(out: KvOutput): boolean {
  return (out.kind === "delete" && out.deleted > 0) || (out.kind === "cas" && out.succeeded) || out.kind === "revoke";
}
