/**
 * Defaulting for the smaller groups served: certificates.k8s.io, discovery.k8s.io, scheduling.k8s.io and storage.k8s.io
 * have defaulters in Kubernetes 1.32; policy/v1 (PodDisruptionBudget), coordination.k8s.io/v1 (Lease)
 * and events.k8s.io/v1 (Event) have none, so they are absent from the dispatch table.
 */

import { child, defaultNil, defaultZero, items, type JsonObject } from "./fields.js";

/** SetObjectDefaults_EndpointSlice: each port gets name "" and protocol TCP (both are pointers). */
export function defaultEndpointSlice(slice: JsonObject): void {
  for (const port of items(slice, "ports")) {
    defaultNil(port, "name", "");
    defaultNil(port, "protocol", "TCP");
  }
}

/** SetObjectDefaults_PriorityClass: pods of this class may preempt lower-priority ones. */
export function defaultPriorityClass(priorityClass: JsonObject): void {
  defaultNil(priorityClass, "preemptionPolicy", "PreemptLowerPriority");
}

/** SetObjectDefaults_StorageClass: dynamically provisioned volumes are deleted with their claim, bound at once. */
export function defaultStorageClass(storageClass: JsonObject): void {
  defaultNil(storageClass, "reclaimPolicy", "Delete");
  defaultNil(storageClass, "volumeBindingMode", "Immediate");
}

/** SetDefaults_CertificateSigningRequestCondition: a condition without a status is True. */
export function defaultCertificateSigningRequest(csr: JsonObject): void {
  const status = child(csr, "status");
  if (status === undefined) return;
  for (const condition of items(status, "conditions")) defaultZero(condition, "status", "True");
}
