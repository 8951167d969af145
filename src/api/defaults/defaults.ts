/**
 * The defaulting step of kube-apiserver: before validation, every object the API accepts (create,
 * update, the result of a patch) gets the defaults its type declares, so `kubectl get -o yaml` shows
 * them. One entry per served kind with defaults (src/api/resources.ts); kinds without any, and kinds
 * not served, pass through untouched.
 */

import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from "./apps_v1.js";
import { defaultCronJob, defaultJob } from "./batch_v1.js";
import {
  defaultEndpoints,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPod,
  defaultPodTemplate,
  defaultReplicationController,
  defaultSecret,
  defaultService,
} from "./core_v1.js";
import { defaultCertificateSigningRequest, defaultEndpointSlice, defaultPriorityClass, defaultStorageClass } from "./other_groups.js";
import { defaultPersistentVolumeClaim } from "./volume.js";
import { items, type JsonObject } from "./fields.js";

type Defaulter = (obj: JsonObject) => void;

/** Keyed by `group/version/Kind`, the core group being "". */
const DEFAULTERS: ReadonlyMap<string, Defaulter> = new Map<string, Defaulter>([
  ["/v1/Pod", defaultPod],
  ["/v1/PodTemplate", defaultPodTemplate],
  ["/v1/ReplicationController", defaultReplicationController],
  ["/v1/Service", defaultService],
  ["/v1/Namespace", defaultNamespace],
  ["/v1/Secret", defaultSecret],
  ["/v1/Node", defaultNode],
  ["/v1/PersistentVolume", defaultPersistentVolume],
  ["/v1/PersistentVolumeClaim", defaultPersistentVolumeClaim],
  ["/v1/LimitRange", defaultLimitRange],
  ["/v1/Endpoints", defaultEndpoints],
  ["apps/v1/Deployment", defaultDeployment],
  ["apps/v1/ReplicaSet", defaultReplicaSet],
  ["apps/v1/StatefulSet", defaultStatefulSet],
  ["apps/v1/DaemonSet", defaultDaemonSet],
  ["batch/v1/Job", defaultJob],
  ["batch/v1/CronJob", defaultCronJob],
  ["certificates.k8s.io/v1/CertificateSigningRequest", defaultCertificateSigningRequest],
  ["discovery.k8s.io/v1/EndpointSlice", defaultEndpointSlice],
  ["scheduling.k8s.io/v1/PriorityClass", defaultPriorityClass],
  ["storage.k8s.io/v1/StorageClass", defaultStorageClass],
]);

/**
 * Fills in upstream's defaults, mutating `obj`. A `<Kind>List` defaults each of its items, as the
 * generated SetObjectDefaults_<Kind>List does.
 */
export function applyDefaults(group: string, version: string, kind: string, obj: Record<string, unknown>): void {
  const defaulter = DEFAULTERS.get(`${group}/${version}/${kind}`);
  if (defaulter !== undefined) {
    defaulter(obj);
    return;
  }
  if (!kind.endsWith("List")) return;
  const itemDefaulter = DEFAULTERS.get(`${group}/${version}/${kind.slice(0, -"List".length)}`);
  if (itemDefaulter === undefined) return;
  for (const item of items(obj, "items")) itemDefaulter(item);
}

/** Whether a kind has defaults at all: a caller can skip a deep copy for kinds that have none. */
export function hasDefaults(group: string, version: string, kind: string): boolean {
  return DEFAULTERS.has(`${group}/${version}/${kind}`);
}
