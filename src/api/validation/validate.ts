/**
 * The validation step of kube-apiserver: after defaulting, every create and update runs its kind's
 * validation and a non-empty result becomes a 422 (`invalidError` in field_errors.ts). One entry per
 * served kind; a kind without one gets the ObjectMeta checks only.
 */

import { findResourceByKind } from "../resources.js";
import { type FieldError } from "./field_errors.js";
import * as apps from "./apps_v1.js";
import * as batch from "./batch_v1.js";
import * as core from "./core_v1.js";
import * as certificates from "./certificates_v1.js";
import { nameIsDNSSubdomain, objectMeta, validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from "./name_validation.js";
import * as others from "./other_groups.js";

type Obj = Record<string, unknown>;

interface KindValidation {
  readonly create: (obj: Obj) => FieldError[];
  readonly update: (obj: Obj, old: Obj) => FieldError[];
}

const KINDS: ReadonlyMap<string, KindValidation> = new Map<string, KindValidation>([
  ["/Binding", { create: core.validateBinding, update: core.updateWith(core.validateBinding) }],
  ["/ConfigMap", { create: core.validateConfigMap, update: core.validateConfigMapUpdate }],
  ["/Endpoints", { create: core.validateEndpoints, update: core.updateWith(core.validateEndpoints) }],
  ["/Event", { create: core.validateEvent, update: core.updateWith(core.validateEvent) }],
  ["/LimitRange", { create: core.validateLimitRange, update: core.updateWith(core.validateLimitRange) }],
  ["/Namespace", { create: core.validateNamespace, update: core.validateNamespaceUpdate }],
  ["/Node", { create: core.validateNode, update: core.validateNodeUpdate }],
  ["/PersistentVolume", { create: core.validatePersistentVolume, update: core.validatePersistentVolumeUpdate }],
  ["/PersistentVolumeClaim", { create: core.validatePersistentVolumeClaim, update: core.validatePersistentVolumeClaimUpdate }],
  ["/Pod", { create: core.validatePodCreate, update: core.validatePodUpdate }],
  ["/PodTemplate", { create: core.validatePodTemplate, update: core.validatePodTemplateUpdate }],
  ["/ReplicationController", { create: core.validateReplicationController, update: core.validateReplicationControllerUpdate }],
  ["/ResourceQuota", { create: core.validateResourceQuota, update: core.updateWith(core.validateResourceQuota) }],
  ["/Secret", { create: core.validateSecret, update: core.validateSecretUpdate }],
  ["/ServiceAccount", { create: core.validateServiceAccount, update: core.updateWith(core.validateServiceAccount) }],
  ["/Service", { create: core.validateService, update: core.validateServiceUpdate }],
  ["apps/ControllerRevision", { create: apps.validateControllerRevision, update: apps.validateControllerRevisionUpdate }],
  ["apps/DaemonSet", { create: apps.validateDaemonSet, update: apps.validateDaemonSetUpdate }],
  ["apps/Deployment", { create: apps.validateDeployment, update: apps.validateDeploymentUpdate }],
  ["apps/ReplicaSet", { create: apps.validateReplicaSet, update: apps.validateReplicaSetUpdate }],
  ["apps/StatefulSet", { create: apps.validateStatefulSet, update: apps.validateStatefulSetUpdate }],
  ["batch/CronJob", { create: batch.validateCronJob, update: batch.validateCronJobUpdate }],
  ["batch/Job", { create: batch.validateJob, update: batch.validateJobUpdate }],
  ["certificates.k8s.io/CertificateSigningRequest", { create: certificates.validateCertificateSigningRequest, update: certificates.validateCertificateSigningRequestUpdate }],
  ["coordination.k8s.io/Lease", { create: others.validateLease, update: others.validateLeaseUpdate }],
  ["discovery.k8s.io/EndpointSlice", { create: others.validateEndpointSlice, update: others.validateEndpointSliceUpdate }],
  ["events.k8s.io/Event", { create: others.validateEventsV1Event, update: others.validateEventsV1EventUpdate }],
  ["policy/PodDisruptionBudget", { create: others.validatePodDisruptionBudget, update: others.validatePodDisruptionBudgetUpdate }],
  ["scheduling.k8s.io/PriorityClass", { create: others.validatePriorityClass, update: others.validatePriorityClassUpdate }],
  ["storage.k8s.io/StorageClass", { create: others.validateStorageClass, update: others.validateStorageClassUpdate }],
]);

function genericCreate(group: string, version: string, kind: string, obj: Obj): FieldError[] {
  const namespaced = findResourceByKind(group, version, kind)?.namespaced ?? true;
  return validateObjectMeta(objectMeta(obj), namespaced, nameIsDNSSubdomain);
}

/** Validation of an object about to be created (already defaulted). Empty means valid. */
export function validateCreate(group: string, version: string, kind: string, obj: Obj): FieldError[] {
  const v = KINDS.get(`${group}/${kind}`);
  return v === undefined ? genericCreate(group, version, kind, obj) : v.create(obj);
}

/**
 * Validation of an update from `old` to `obj`. For the `status` subresource the strategy has already
 * put back the old spec, so only the metadata rules apply (upstream's status strategies add checks of
 * status fields that we do not have yet); `scale` checks the replica count.
 */
export function validateUpdate(group: string, version: string, kind: string, obj: Obj, old: Obj, subresource?: string): FieldError[] {
  if (subresource === "status" || subresource === "finalize" || subresource === "approval") {
    const errs = validateObjectMetaUpdate(objectMeta(obj), objectMeta(old));
    if (group === "certificates.k8s.io" && kind === "CertificateSigningRequest") errs.push(...certificates.validateCsrStatus(obj));
    if (subresource === "finalize") errs.push(...core.validateNamespace(obj).filter((e) => !e.field.startsWith("metadata.")));
    return errs;
  }
  if (subresource === "scale") {
    const replicas = (obj["spec"] as Obj | undefined)?.["replicas"];
    return [...validateObjectMetaUpdate(objectMeta(obj), objectMeta(old)), ...validateNonnegativeField(typeof replicas === "number" ? replicas : 0, "spec.replicas")];
  }
  const v = KINDS.get(`${group}/${kind}`);
  if (v === undefined) return validateObjectMetaUpdate(objectMeta(obj), objectMeta(old));
  return v.update(obj, old);
}
