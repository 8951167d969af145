/**
 * Defaulting for apps/v1, as pkg/apis/apps/v1/defaults.go in Kubernetes 1.32 plus the pod template
 * and claim-template defaults the generated walk adds. ControllerRevision has none.
 *
 * Templates get the pod spec defaults only (no enableServiceLinks, no requests from limits): those
 * are Pod-only, see pod_spec.ts.
 */

import { defaultPodTemplateSpec } from "./pod_spec.js";
import { defaultPersistentVolumeClaim } from "./volume.js";
import { child, defaultNil, defaultZero, isEmpty, items, struct, type JsonObject } from "./fields.js";

/** Kept old ReplicaSets / ControllerRevisions per workload, as upstream. */
export const REVISION_HISTORY_LIMIT_DEFAULT = 10;
/** A rollout with no progress for this long is reported as failed (ProgressDeadlineExceeded). */
export const PROGRESS_DEADLINE_SECONDS_DEFAULT = 600;

/** SetObjectDefaults_Deployment. */
export function defaultDeployment(deployment: JsonObject): void {
  const spec = struct(deployment, "spec");
  if (spec === undefined) return;
  defaultNil(spec, "replicas", 1);
  const strategy = struct(spec, "strategy");
  if (strategy !== undefined) {
    defaultZero(strategy, "type", "RollingUpdate");
    if (strategy["type"] === "RollingUpdate") {
      const rollingUpdate = struct(strategy, "rollingUpdate");
      if (rollingUpdate !== undefined) {
        defaultNil(rollingUpdate, "maxUnavailable", "25%");
        defaultNil(rollingUpdate, "maxSurge", "25%");
      }
    }
  }
  defaultNil(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT_DEFAULT);
  defaultNil(spec, "progressDeadlineSeconds", PROGRESS_DEADLINE_SECONDS_DEFAULT);
  defaultTemplate(spec);
}

/** SetObjectDefaults_ReplicaSet: unlike the RC, apps/v1 copies neither selector nor labels. */
export function defaultReplicaSet(replicaSet: JsonObject): void {
  const spec = struct(replicaSet, "spec");
  if (spec === undefined) return;
  defaultNil(spec, "replicas", 1);
  defaultTemplate(spec);
}

/** SetObjectDefaults_StatefulSet. */
export function defaultStatefulSet(statefulSet: JsonObject): void {
  const spec = struct(statefulSet, "spec");
  if (spec === undefined) return;
  if (isEmpty(spec["podManagementPolicy"])) spec["podManagementPolicy"] = "OrderedReady";
  const updateStrategy = struct(spec, "updateStrategy");
  if (updateStrategy !== undefined) {
    // Only a strategy that was defaulted to RollingUpdate gets a rollingUpdate block; an explicit
    // RollingUpdate without one keeps none (the controller treats nil as partition 0).
    if (isEmpty(updateStrategy["type"])) {
      updateStrategy["type"] = "RollingUpdate";
      struct(updateStrategy, "rollingUpdate");
    }
    const rollingUpdate = child(updateStrategy, "rollingUpdate");
    if (updateStrategy["type"] === "RollingUpdate" && rollingUpdate !== undefined) {
      // maxUnavailable is defaulted only under the MaxUnavailableStatefulSet gate, alpha and off in 1.32.
      defaultNil(rollingUpdate, "partition", 0);
    }
  }
  // StatefulSetAutoDeletePVC is GA in 1.32: claims are kept on both delete and scale-down.
  const retention = struct(spec, "persistentVolumeClaimRetentionPolicy");
  if (retention !== undefined) {
    if (isEmpty(retention["whenDeleted"])) retention["whenDeleted"] = "Retain";
    if (isEmpty(retention["whenScaled"])) retention["whenScaled"] = "Retain";
  }
  defaultNil(spec, "replicas", 1);
  defaultNil(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT_DEFAULT);
  defaultTemplate(spec);
  // Claim templates are whole PersistentVolumeClaims, so they get a claim's defaults, status included.
  for (const claim of items(spec, "volumeClaimTemplates")) defaultPersistentVolumeClaim(claim);
}

/** SetObjectDefaults_DaemonSet. */
export function defaultDaemonSet(daemonSet: JsonObject): void {
  const spec = struct(daemonSet, "spec");
  if (spec === undefined) return;
  const updateStrategy = struct(spec, "updateStrategy");
  if (updateStrategy !== undefined) {
    defaultZero(updateStrategy, "type", "RollingUpdate");
    if (updateStrategy["type"] === "RollingUpdate") {
      const rollingUpdate = struct(updateStrategy, "rollingUpdate");
      if (rollingUpdate !== undefined) {
        defaultNil(rollingUpdate, "maxUnavailable", 1);
        defaultNil(rollingUpdate, "maxSurge", 0);
      }
    }
  }
  defaultNil(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT_DEFAULT);
  defaultTemplate(spec);
}

function defaultTemplate(spec: JsonObject): void {
  const template = struct(spec, "template");
  if (template !== undefined) defaultPodTemplateSpec(template);
}
