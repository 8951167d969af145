/**
 * The pure decisions of the ReplicaSet controller (pkg/controller/replicaset/replica_set.go and
 * replica_set_utils.go): how many pods to create or delete, the slow-start batches creates go out
 * in, and the status a set of pods adds up to. ReplicationControllers use the same functions.
 */
import type { Pod, PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { ReplicaSetCondition, ReplicaSetStatus } from "kubernetes-types/apps/v1.js";
import { selectorFromSet } from "../../client/label_selector.js";
import { rfc3339 } from "../events/recorder.js";
import { isPodAvailable, isPodReady } from "../util/pod_util.js";

/** As upstream's BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;
/** As upstream's SlowStartInitialBatchSize: the first batch of creates is one pod. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;
/** As upstream's statusUpdateRetries: one re-read and retry of a conflicting status write. */
export const STATUS_UPDATE_RETRIES = 1;

export const REPLICA_FAILURE = "ReplicaFailure";

/** What a sync should do to the pods. */
export type ManageDecision = { readonly action: "none" } | { readonly action: "create"; readonly count: number } | { readonly action: "delete"; readonly count: number };

/** Compares active pods with the desired replicas; each direction capped at `burstReplicas`. */
export function manageDecision(activePods: number, replicas: number, burstReplicas = BURST_REPLICAS): ManageDecision {
  const diff = activePods - replicas;
  if (diff < 0) return { action: "create", count: Math.min(-diff, burstReplicas) };
  if (diff > 0) return { action: "delete", count: Math.min(diff, burstReplicas) };
  return { action: "none" };
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, … (each batch in parallel); stops after the first
 * batch with a failure so a quota or webhook error costs one call, not `count`. Resolves with the
 * successes and the first error (slowStartBatch).
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]!.reason };
    remaining -= batch;
  }
  return { successes, error: undefined };
}

export interface StatusInput {
  readonly status: ReplicaSetStatus | undefined;
  readonly replicas: number;
  readonly minReadySeconds: number;
  readonly template: PodTemplateSpec | undefined;
}

/** The status the active, claimed pods add up to (calculateStatus). `nowMs` is wall time. */
export function calculateStatus(rs: StatusInput, filteredPods: readonly Pod[], manageReplicasErr: unknown, nowMs: number): ReplicaSetStatus {
  const templateLabels = selectorFromSet(rs.template?.metadata?.labels ?? {});
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of filteredPods) {
    if (templateLabels.matches(pod.metadata?.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, rs.minReadySeconds, nowMs)) available++;
    }
  }
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (manageReplicasErr !== undefined && failure === undefined) {
    const diff = filteredPods.length - rs.replicas;
    const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    const message = manageReplicasErr instanceof Error ? manageReplicasErr.message : String(manageReplicasErr);
    conditions.push({ type: REPLICA_FAILURE, status: "True", lastTransitionTime: rfc3339(nowMs), reason, message });
  } else if (manageReplicasErr === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  const { conditions: _old, ...rest } = rs.status ?? {};
  return {
    ...rest,
    replicas: filteredPods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(conditions.length === 0 ? {} : { conditions }),
  };
}

/** True when `next` differs from what the object has (updateReplicaSetStatus's early return). */
export function statusChanged(current: ReplicaSetStatus | undefined, next: ReplicaSetStatus, generation: number): boolean {
  const c = current ?? { replicas: 0 };
  return (
    (c.replicas ?? 0) !== (next.replicas ?? 0) ||
    (c.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0) ||
    (c.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (c.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    (c.observedGeneration ?? 0) !== generation ||
    JSON.stringify(c.conditions ?? []) !== JSON.stringify(next.conditions ?? [])
  );
}
