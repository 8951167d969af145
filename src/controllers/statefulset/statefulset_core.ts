/**
 * The pure part of the StatefulSet controller (pkg/controller/statefulset, Kubernetes 1.32): pod
 * identity (`<set>-<ordinal>`, hostname, subdomain, claims `<template>-<set>-<ordinal>`) and the
 * step plan of one sync (defaultStatefulSetControl.updateStatefulSet):
 *
 *   1. ordinals 0..N-1 in order: replace failed or succeeded pods, create missing ones; with
 *      OrderedReady stop at the first pod that was just created, is terminating, or is not Running
 *      and Ready (Parallel goes on);
 *   2. condemned ordinals (>= N) from the highest: delete; OrderedReady deletes one at a time and
 *      waits for unhealthy ones;
 *   3. RollingUpdate: from the highest ordinal down to the partition, delete the first pod not at the
 *      update revision (it is re-created at the new one by step 1 of a later sync), waiting for each
 *      to be healthy again.
 */
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from "kubernetes-types/core/v1.js";
import type { StatefulSet, StatefulSetStatus } from "kubernetes-types/apps/v1.js";
import { isPodAvailable, isPodReady } from "../util/pod_util.js";
import { newControllerRef, type GroupVersionKind } from "../util/controller_ref.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "./controller_revision.js";

export const STATEFULSET_KIND: GroupVersionKind = { group: "apps", version: "v1", kind: "StatefulSet" };
export const STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

/** The ordinal of a pod of `set`, or -1 (getParentNameAndOrdinal). */
export function getOrdinal(setName: string, pod: Pod): number {
  const name = pod.metadata?.name ?? "";
  if (!name.startsWith(`${setName}-`)) return -1;
  const rest = name.slice(setName.length + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(rest)) return -1;
  const n = Number(rest);
  return Number.isSafeInteger(n) ? n : -1;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name}-${ordinal}`;
}

export function claimName(set: StatefulSet, templateName: string, ordinal: number): string {
  return `${templateName}-${set.metadata?.name}-${ordinal}`;
}

/** The claims of one ordinal (getPersistentVolumeClaims): template labels plus the set's selector labels. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claimName(set, t.metadata?.name ?? "", ordinal),
      namespace: set.metadata?.namespace,
      labels: { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector.matchLabels ?? {}) },
      ...(t.metadata?.annotations === undefined ? {} : { annotations: { ...t.metadata.annotations } }),
    },
    spec: structuredClone(t.spec ?? {}),
  }));
}

/** The pod of `ordinal` from `template` at revision `hash` (newVersionedStatefulSetPod). */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec, ordinal: number, hash: string): Pod {
  const name = podName(set, ordinal);
  const tm = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata?.namespace,
      labels: { ...(tm.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ...(tm.annotations === undefined ? {} : { annotations: { ...tm.annotations } }),
      ...(tm.finalizers === undefined ? {} : { finalizers: [...tm.finalizers] }),
      ownerReferences: [newControllerRef(set, STATEFULSET_KIND)],
    },
    spec,
  };
  // Claims replace template volumes of the same name.
  const claims = (set.spec?.volumeClaimTemplates ?? []).map(
    (t): Volume => ({ name: t.metadata?.name ?? "", persistentVolumeClaim: { claimName: claimName(set, t.metadata?.name ?? "", ordinal) } }),
  );
  if (claims.length > 0) {
    const names = new Set(claims.map((c) => c.name));
    spec.volumes = [...(spec.volumes ?? []).filter((v) => !names.has(v.name)), ...claims];
  }
  updateIdentity(set, pod);
  return pod;
}

/** Whether the pod's name-derived identity is in place (identityMatches). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const ord = getOrdinal(set.metadata?.name ?? "", pod);
  const l = pod.metadata?.labels ?? {};
  return (
    ord >= 0 &&
    pod.metadata?.namespace === set.metadata?.namespace &&
    l[STATEFULSET_POD_NAME_LABEL] === pod.metadata?.name &&
    l[POD_INDEX_LABEL] === String(ord) &&
    pod.spec?.hostname === pod.metadata?.name &&
    (pod.spec?.subdomain ?? "") === (set.spec?.serviceName ?? "")
  );
}

/** Sets the labels, hostname and subdomain a pod's name gives it (updateIdentity). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const meta = (pod.metadata ??= {});
  const ord = getOrdinal(set.metadata?.name ?? "", pod);
  meta.labels = { ...(meta.labels ?? {}), [STATEFULSET_POD_NAME_LABEL]: meta.name ?? "", [POD_INDEX_LABEL]: String(ord) };
  const spec = (pod.spec ??= { containers: [] });
  spec.hostname = meta.name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  else delete spec.subdomain;
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod);
}

function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp != null;
}

function isFinished(pod: Pod): boolean {
  return pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded";
}

function revisionOf(pod: Pod): string {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "";
}

export type StatefulSetStep =
  | { readonly kind: "create"; readonly ordinal: number; readonly pod: Pod }
  | { readonly kind: "delete"; readonly pod: Pod; readonly why: "condemned" | "failed" | "succeeded" | "update" }
  | { readonly kind: "updateIdentity"; readonly pod: Pod };

export interface StatefulSetPlanInput {
  readonly set: StatefulSet;
  /** The set's pods (owned). */
  readonly pods: readonly Pod[];
  /** Templates and hashes of the current and update revisions. */
  readonly current: { readonly template: PodTemplateSpec; readonly hash: string; readonly name: string };
  readonly update: { readonly template: PodTemplateSpec; readonly hash: string; readonly name: string };
  /** Wall-clock now (minReadySeconds). */
  readonly nowMs: number;
}

export interface StatefulSetPlan {
  readonly steps: StatefulSetStep[];
  readonly status: StatefulSetStatus;
  /** A pod is Ready but not yet available: look again after this long. */
  readonly requeueAfterMs: number | undefined;
}

/** One sync's steps and the status they lead to. */
export function planStatefulSet(input: StatefulSetPlanInput): StatefulSetPlan {
  const { set, pods, current, update, nowMs } = input;
  const setName = set.metadata?.name ?? "";
  const replicaCount = set.spec?.replicas ?? 1;
  const start = set.spec?.ordinals?.start ?? 0;
  const end = start + replicaCount;
  const minReadySeconds = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== "Parallel";
  const rolling = (set.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
  const partition = rolling ? (set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;

  const replicas: (Pod | undefined)[] = new Array<Pod | undefined>(replicaCount).fill(undefined);
  const condemned: Pod[] = [];
  for (const p of pods) {
    const ord = getOrdinal(setName, p);
    if (ord < 0) continue;
    if (ord >= start && ord < end) replicas[ord - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => getOrdinal(setName, b) - getOrdinal(setName, a));

  // Status of what exists now, adjusted below for what this sync creates.
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation ?? 0,
    replicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    currentRevision: current.name,
    updateRevision: update.name,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  for (const p of pods) {
    status.replicas++;
    if (isRunningAndReady(p)) {
      status.readyReplicas = (status.readyReplicas ?? 0) + 1;
      if (isPodAvailable(p, minReadySeconds, nowMs)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
    }
    if (!isTerminating(p)) {
      if (revisionOf(p) === current.hash) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (revisionOf(p) === update.hash) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
    }
  }

  const steps: StatefulSetStep[] = [];
  let requeueAfterMs: number | undefined;
  const done = (): StatefulSetPlan => ({ steps, status: completeRollingUpdate(rolling, status), requeueAfterMs });
  if (set.metadata?.deletionTimestamp != null) return done();

  // The first unhealthy pod, in processing order: it may be deleted even under OrderedReady.
  const unhealthy = [...replicas, ...condemned].find((p) => p !== undefined && (!isRunningAndReady(p) || isTerminating(p)));

  // 1. ordinals in range, ascending.
  for (let i = 0; i < replicaCount; i++) {
    const ordinal = start + i;
    const pod = replicas[i];
    if (pod === undefined) {
      // Below the partition a new pod is made at the current revision (newVersionedStatefulSetPod).
      const useCurrent = rolling && ordinal < start + partition;
      const rev = useCurrent ? current : update;
      const created = newStatefulSetPod(set, rev.template, ordinal, rev.hash);
      steps.push({ kind: "create", ordinal, pod: created });
      status.replicas++;
      if (rev.hash === current.hash) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (rev.hash === update.hash) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
      if (monotonic) return done();
      continue;
    }
    if (isFinished(pod)) {
      if (!isTerminating(pod)) steps.push({ kind: "delete", pod, why: pod.status?.phase === "Failed" ? "failed" : "succeeded" });
      if (monotonic) return done();
      continue;
    }
    if (isTerminating(pod)) {
      if (monotonic) return done();
      continue;
    }
    if (!isRunningAndReady(pod)) {
      if (monotonic) return done();
      continue;
    }
    if (!isPodAvailable(pod, minReadySeconds, nowMs)) {
      const since = Date.parse(pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? "");
      const wait = Number.isNaN(since) ? minReadySeconds * 1000 : since + minReadySeconds * 1000 - nowMs + 1;
      requeueAfterMs = Math.max(1, Math.min(requeueAfterMs ?? Infinity, wait));
      if (monotonic) return done();
      continue;
    }
    if (!identityMatches(set, pod)) steps.push({ kind: "updateIdentity", pod });
  }

  // 2. condemned, from the highest ordinal.
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done();
      continue;
    }
    if (monotonic && !isRunningAndReady(pod) && pod !== unhealthy) return done();
    steps.push({ kind: "delete", pod, why: "condemned" });
    if (monotonic) return done();
  }

  // 3. RollingUpdate, from the highest ordinal down to the partition.
  if (!rolling) return done();
  if (steps.some((s) => s.kind !== "updateIdentity")) return done();
  for (let i = replicaCount - 1; i >= partition; i--) {
    const pod = replicas[i];
    if (pod === undefined) continue;
    if (revisionOf(pod) !== update.hash && !isTerminating(pod)) {
      steps.push({ kind: "delete", pod, why: "update" });
      status.currentReplicas = Math.max(0, (status.currentReplicas ?? 0) - 1);
      return done();
    }
    if (!isRunningAndReady(pod) || isTerminating(pod)) return done();
  }
  return done();
}

/** A finished RollingUpdate makes the update revision current (completeRollingUpdate). */
function completeRollingUpdate(rolling: boolean, status: StatefulSetStatus): StatefulSetStatus {
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    return { ...status, currentReplicas: status.updatedReplicas, currentRevision: status.updateRevision };
  }
  return status;
}
