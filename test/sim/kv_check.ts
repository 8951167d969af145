import type { History } from "./history.js";
import type { KvInput, KvOutput, KvState, KvWrite } from "./kv_model.js";
import { claimedRevisionsOf, KV_INITIAL_REVISION, newKvKeyModel, newKvModel } from "./kv_model.js";
import type { CheckOptions, CheckResult, LinearizedOp, Model } from "./linearizability.js";
import { CHECK_STEPS_MAX, checkLinearizability, formatExplanation } from "./linearizability.js";
import type { RevisionViolation } from "./revision_checker.js";
import { checkRevisions } from "./revision_checker.js";
import type { RecordedWatch, WatchViolation } from "./watch_checker.js";
import { checkWatches, resolveUnknownWrites, watchedWritesOf } from "./watch_checker.js";

/**
 * - `exact`: one search over the whole history with the global-revision model: sound and complete
 *   for it, including cross-key anomalies that only revisions reveal; exponential in total concurrency.
 * - `partitioned`: one search per key (values exact, per-key revisions) plus `checkRevisions` for
 *   the global revision properties. Scales with keys, but is weaker: it cannot see, for example, a
 *   client reading key x after rev 5 and then key y before rev 4.
 * - `auto` (default): `exact`, and `partitioned` only if the exact search runs out of budget (the
 *   result says which ran).
 */
export type KvCheckMode = "exact" | "partitioned" | "auto";

export interface KvCheckOptions extends CheckOptions {
  readonly mode?: KvCheckMode;
  readonly initialRevision?: number;
  /**
   * Watches recorded in the same run. Their events settle timed-out writes (`resolveUnknownWrites`);
   * in exact mode they also constrain the search (a revision a watch saw holds that write), then
   * every watch is checked against the linearization's writes; in partitioned mode they are checked
   * against the acknowledged writes only.
   */
  readonly watches?: readonly RecordedWatch[];
}

export interface KvCheckResult {
  readonly verdict: "ok" | "illegal" | "unknown";
  /** The mode that produced the verdict. */
  readonly mode: "exact" | "partitioned";
  readonly steps: number;
  /** In exact mode on success: every write in revision order, the log a watch must match. */
  readonly writes: readonly KvWrite[] | null;
  readonly revisionViolations: readonly RevisionViolation[];
  readonly watchViolations: readonly WatchViolation[];
  /** What happened, for a failing simulation to print; "" when ok. */
  readonly text: string;
}

/**
 * The exact search's budget in `auto` mode before it falls back to the partitioned check: about 1-4 s.
 * Exact checks of 2,000 operations over 10 keys and 5 clients take ~20k steps; many timed-out writes
 * without watches to place them, or 10,000+ operations, can take millions.
 */
export const AUTO_EXACT_STEPS_MAX = 2_000_000;

/** Checks a client-visible KV history: linearizable, with revisions and watches as the datastore promises. */
export function checkKvHistory(history: History<KvInput, KvOutput>, options: KvCheckOptions = {}): KvCheckResult {
  const mode = options.mode ?? "auto";
  const watches = options.watches ?? [];
  // Timed-out writes that watches settle (happened at revision r, or never) no longer branch the search.
  if (watches.length > 0) history = resolveUnknownWrites(history, watches, { initialRevision: options.initialRevision });
  let exactGaveUp: string | null = null;
  if (mode !== "partitioned") {
    const model = newKvModel({
      initialRevision: options.initialRevision,
      claimedRevisions: claimedRevisionsOf(history),
      watchedWrites: watchedWritesOf(watches),
    });
    const r = checkExact(model, history, mode === "auto" && options.stepsMax === undefined ? { ...options, stepsMax: AUTO_EXACT_STEPS_MAX } : options);
    const base = { mode: "exact" as const, steps: r.steps, revisionViolations: [], watchViolations: [] };
    if (r.verdict === "ok") {
      const writes = writesOf(r.linearizations[0] ?? [], options.initialRevision);
      const watchViolations = checkWatches(watches, writes);
      const text = watchViolations.map(formatWatchViolation).join("\n");
      return { ...base, verdict: watchViolations.length > 0 ? "illegal" : "ok", writes, watchViolations, text };
    }
    if (r.verdict === "illegal") {
      const text = formatExplanation(r.explanation) + (watches.length > 0 ? "\n(watch events constrained this search: a watch that delivered a wrong write shows up here too)" : "");
      return { ...base, verdict: "illegal", writes: null, text };
    }
    if (mode === "exact") return { ...base, verdict: "unknown", writes: null, text: r.reason };
    exactGaveUp = `exact check gave up (${r.reason}); partitioned check:`;
  }
  const revisionViolations = checkRevisions(history, { initialRevision: options.initialRevision });
  const watchViolations = checkWatches(watches, acknowledgedWritesOf(history), { logComplete: false });
  const r = checkLinearizability(newKvKeyModel(), history, options);
  const texts = [
    ...revisionViolations.map((v) => `revision ${v.kind}: ${v.message}`),
    ...watchViolations.map(formatWatchViolation),
  ];
  if (r.verdict === "illegal") texts.unshift(formatExplanation(r.explanation));
  if (r.verdict === "unknown") texts.unshift(r.reason);
  const verdict = r.verdict === "illegal" || revisionViolations.length > 0 || watchViolations.length > 0 ? "illegal" : r.verdict;
  if (verdict !== "ok" && exactGaveUp !== null) texts.unshift(exactGaveUp);
  return { verdict, mode: "partitioned", steps: r.steps, writes: null, revisionViolations, watchViolations, text: texts.join("\n") };
}

/**
 * Neither order for timed-out writes wins everywhere (see `CheckOptions.timedOutOrder`), so unless
 * the caller picked one, half the budget goes to each: call order first, then deferred. Both are
 * complete, so either one's verdict stands.
 */
function checkExact(
  model: Model<KvState, KvInput, KvOutput>, history: History<KvInput, KvOutput>, options: CheckOptions,
): CheckResult<KvState, KvInput, KvOutput> {
  if (options.timedOutOrder !== undefined) return checkLinearizability(model, history, options);
  const stepsMax = options.stepsMax ?? CHECK_STEPS_MAX;
  const first = checkLinearizability(model, history, { ...options, stepsMax: Math.ceil(stepsMax / 2), timedOutOrder: "call" });
  if (first.verdict !== "unknown") return first;
  const second = checkLinearizability(model, history, { ...options, stepsMax: Math.floor(stepsMax / 2), timedOutOrder: "deferred" });
  return { ...second, steps: first.steps + second.steps } as CheckResult<KvState, KvInput, KvOutput>;
}

function formatWatchViolation(v: WatchViolation): string {
  return `watch ${v.watchId} ${v.kind}: ${v.message}`;
}

/** The writes clients saw acknowledged with their revisions: a partial log of the store. */
export function acknowledgedWritesOf(history: History<KvInput, KvOutput>): KvWrite[] {
  const writes: KvWrite[] = [];
  for (const op of history) {
    if (op.outcome !== "ok") continue;
    const o = op.output!;
    const i = op.input;
    if (o.kind === "put" && i.kind === "put") writes.push({ revision: o.revision, key: i.key, type: "put", value: i.value });
    else if (o.kind === "cas" && i.kind === "cas" && o.succeeded && o.revision !== undefined) writes.push({ revision: o.revision, key: i.key, type: "put", value: i.value });
    else if (o.kind === "delete" && o.deleted > 0 && o.revision !== undefined) writes.push({ revision: o.revision, key: i.key, type: "delete", value: null });
  }
  return writes.sort((a, b) => a.revision - b.revision);
}

/** The writes of an exact linearization, each at the revision the model gave it. */
export function writesOf(
  linearization: readonly LinearizedOp<KvState, KvInput, KvOutput>[], initialRevision: number = KV_INITIAL_REVISION,
): KvWrite[] {
  const writes: KvWrite[] = [];
  let revision = initialRevision;
  for (const { op, stateAfter } of linearization) {
    if (stateAfter.revision === revision) continue; // a read, a failed cas, or a delete of nothing
    revision = stateAfter.revision;
    const input = op.input;
    const deletes = input.kind === "delete" || input.kind === "revoke";
    writes.push({ revision, key: input.key, type: deletes ? "delete" : "put", value: deletes || input.kind === "get" ? null : input.value });
  }
  return writes;
}
