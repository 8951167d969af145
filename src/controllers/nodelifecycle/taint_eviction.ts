/**
 * The taint eviction controller's decision for one pod, pure (pkg/controller/tainteviction
 * processPodOnNode). Given the NoExecute taints of the pod's node, its tolerations and what is already
 * scheduled for it, it says whether to delete it now, at a time, or not at all.
 *
 *   taints [unreachable:NoExecute], no tolerations                     → evict now
 *   taints [unreachable:NoExecute], tolerates it for 300 s, at t=5 s   → evict at 305 s
 *   the same at t=9 s with an eviction already scheduled               → keep (the earlier time wins)
 *   taints []                                                          → cancel
 */
import type { Taint, Toleration } from "kubernetes-types/core/v1.js";
import { getMatchingTolerations, minTolerationTimeMs } from "./taints.js";

/** What is pending for a pod: a timed eviction, or "done" (evicted; upstream keeps the key so it is not re-added). */
export type ScheduledEviction = { readonly createdAtMs: number; readonly fireAtMs: number } | "done";

export type EvictionDecision =
  | { readonly kind: "cancel" }
  | { readonly kind: "evictNow" }
  | { readonly kind: "schedule"; readonly createdAtMs: number; readonly fireAtMs: number }
  | { readonly kind: "keep" };

export function noExecuteTaints(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => t.effect === "NoExecute");
}

export function decidePodEviction(input: {
  readonly taints: readonly Taint[];
  readonly tolerations: readonly Toleration[];
  readonly scheduled: ScheduledEviction | undefined;
  readonly nowMs: number;
}): EvictionDecision {
  const { taints, tolerations, scheduled, nowMs } = input;
  if (taints.length === 0) return { kind: "cancel" };
  // Already evicted: nothing more until the pod is gone or the taints are (which cancels).
  if (scheduled === "done") return { kind: "keep" };
  const { allTolerated, used } = getMatchingTolerations(taints, tolerations);
  if (!allTolerated) return { kind: "evictNow" };
  const minMs = minTolerationTimeMs(used);
  if (minMs < 0) return { kind: "cancel" };
  // A pending eviction keeps its time: repeated pod or node updates must not push it into the future
  // (upstream keeps the earlier start as well).
  if (scheduled !== undefined) return { kind: "keep" };
  if (minMs === 0) return { kind: "evictNow" };
  return { kind: "schedule", createdAtMs: nowMs, fireAtMs: nowMs + minMs };
}
