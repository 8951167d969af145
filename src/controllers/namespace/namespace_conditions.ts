/**
 * The status conditions a terminating namespace carries (upstream's namespace_condition_updater.go):
 * five types, each False with an "ok" reason and message until a deletion pass finds the failure it
 * names. Every pass rebuilds them from what it saw, so a condition goes back to False once the
 * problem is gone.
 */
import type { NamespaceCondition } from "kubernetes-types/core/v1.js";

/** In upstream's order: the order they appear in status.conditions. */
export const NAMESPACE_CONDITION_TYPES = [
  "NamespaceDeletionDiscoveryFailure",
  "NamespaceDeletionGroupVersionParsingFailure",
  "NamespaceDeletionContentFailure",
  "NamespaceContentRemaining",
  "NamespaceFinalizersRemaining",
] as const;
export type NamespaceConditionType = (typeof NAMESPACE_CONDITION_TYPES)[number];

const OK: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: "ResourcesDiscovered", message: "All resources successfully discovered" },
  NamespaceDeletionGroupVersionParsingFailure: { reason: "ParsedGroupVersions", message: "All legacy kube types successfully parsed" },
  NamespaceDeletionContentFailure: { reason: "ContentDeleted", message: "All content successfully deleted, may be waiting on finalization" },
  NamespaceContentRemaining: { reason: "ContentRemoved", message: "All content successfully removed" },
  NamespaceFinalizersRemaining: { reason: "ContentHasNoFinalizers", message: "All content-preserving finalizers finished" },
};

/** What one deletion pass observed, per resource (`pods.`, `deployments.apps`: upstream's spelling). */
export interface DeletionTotals {
  /** "pods." → instances still listed after the delete. */
  readonly remainingByResource: ReadonlyMap<string, number>;
  /** finalizer → instances still carrying it. */
  readonly remainingByFinalizer: ReadonlyMap<string, number>;
  /** Errors deleting content, as messages. */
  readonly deleteErrors: readonly string[];
  /** Errors discovering resources (ours are static, so normally none). */
  readonly discoveryErrors: readonly string[];
}

/** The failure conditions a pass's totals call for (types absent here are "ok"). */
export function failureConditions(t: DeletionTotals): Map<NamespaceConditionType, { reason: string; message: string }> {
  const out = new Map<NamespaceConditionType, { reason: string; message: string }>();
  if (t.discoveryErrors.length > 0) {
    out.set("NamespaceDeletionDiscoveryFailure", {
      reason: "DiscoveryFailed",
      message: `Discovery failed for some groups, ${t.discoveryErrors.length} failing: ${aggregate(t.discoveryErrors)}`,
    });
  }
  if (t.deleteErrors.length > 0) {
    out.set("NamespaceDeletionContentFailure", {
      reason: "ContentDeletionFailed",
      message: `Failed to delete all resource types, ${t.deleteErrors.length} remaining: ${aggregate(t.deleteErrors)}`,
    });
  }
  if (t.remainingByResource.size > 0) {
    const parts = [...t.remainingByResource].map(([r, n]) => `${r} has ${n} resource instances`).sort();
    out.set("NamespaceContentRemaining", { reason: "SomeResourcesRemain", message: `Some resources are remaining: ${parts.join(", ")}` });
  }
  if (t.remainingByFinalizer.size > 0) {
    const parts = [...t.remainingByFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
    out.set("NamespaceFinalizersRemaining", {
      reason: "SomeFinalizersRemain",
      message: `Some content in the namespace has finalizers remaining: ${parts.join(", ")}`,
    });
  }
  return out;
}

/** utilerrors.NewAggregate's text: one error as is, several as `[a, b]`. */
function aggregate(errors: readonly string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`;
}

/**
 * The conditions after a pass: each type keeps its old entry when status, reason and message are
 * unchanged; lastTransitionTime moves only when the status flips (as upstream's updateConditions).
 * Returns null when nothing changed, so the caller skips the write.
 */
export function updatedConditions(current: readonly NamespaceCondition[] | undefined, totals: DeletionTotals, nowRfc3339: string): NamespaceCondition[] | null {
  const failures = failureConditions(totals);
  const next: NamespaceCondition[] = (current ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of NAMESPACE_CONDITION_TYPES) {
    const failure = failures.get(type);
    const want = { type, status: failure === undefined ? "False" : "True", ...(failure ?? OK[type]) };
    const old = next.find((c) => c.type === type);
    if (old === undefined) {
      next.push({ ...want, lastTransitionTime: nowRfc3339 });
      changed = true;
    } else if (old.status !== want.status || old.reason !== want.reason || old.message !== want.message) {
      if (old.status !== want.status) old.lastTransitionTime = nowRfc3339;
      old.status = want.status;
      old.reason = want.reason;
      old.message = want.message;
      changed = true;
    }
  }
  return changed ? next : null;
}
