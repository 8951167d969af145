/**
 * Per-resource rules of the generic store (upstream's registry strategies): which resources keep a
 * `metadata.generation`, what a create resets (status), what an update of the main resource may not
 * change (status) and what a status update may not change (everything else), and how long a graceful
 * deletion waits.
 */
import type { ResourceInfo } from "../../api/resources.js";
import { deepCopy, jsonEqual, type KubeObject } from "./codec.js";

export interface Strategy {
  /** `metadata.generation` starts at 1 and grows on every change outside metadata and status. */
  readonly tracksGeneration: boolean;
  /** The object has a `status` owned by the status subresource. */
  readonly hasStatus: boolean;
  /** DELETE answers with the object (as pods and services do) rather than a Success Status. */
  readonly returnDeletedObject: boolean;
  prepareForCreate(obj: KubeObject): void;
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** The object a status (or CSR approval) update stores: the old object with the new status. */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject, subresource?: string): KubeObject;
  /** Seconds a DELETE waits (0: delete now), given the client's gracePeriodSeconds if any. */
  gracePeriodSeconds(obj: KubeObject, requested: number | undefined): number;
}

const GENERATION_RESOURCES = new Set([
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "jobs",
  "cronjobs",
  "replicationcontrollers",
  "poddisruptionbudgets",
  "priorityclasses",
]);

/** Kinds whose status updates may not change labels (upstream's apps status strategies reset them). */
const STATUS_KEEPS_LABELS = new Set(["deployments", "replicasets", "statefulsets", "daemonsets"]);

const RETURN_DELETED_OBJECT = new Set(["pods", "services", "namespaces", "nodes", "persistentvolumes", "persistentvolumeclaims"]);

/** The part of an object its generation tracks: everything but metadata and status. */
function specOf(obj: KubeObject): KubeObject {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** Upstream's pod QoS class from the containers' requests and limits (after defaulting). */
export function podQosClass(pod: KubeObject): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers: KubeObject[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ["cpu", "memory"]) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/**
 * A Job without `manualSelector: true` gets upstream's generated selector on its own uid, and its pod
 * template the labels that match it (both the `batch.kubernetes.io/` ones and the legacy short ones).
 */
function generateJobSelector(job: KubeObject): void {
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return;
  const uid = String(job.metadata.uid);
  const name = String(job.metadata.name);
  spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
  const meta = ((spec.template ??= {}).metadata ??= {});
  meta.labels = {
    ...(meta.labels ?? {}),
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
}

/** The CSR conditions only the approval subresource may add or change. */
const APPROVAL_CONDITIONS = new Set(["Approved", "Denied"]);

/**
 * Upstream's CSR status strategies: `/approval` changes the Approved and Denied conditions and nothing
 * else; `/status` (the signer) changes the certificate and the other conditions but never approval.
 */
function csrStatus(wanted: KubeObject, old: KubeObject, subresource: string): KubeObject {
  const conditions = (s: KubeObject, approval: boolean): KubeObject[] =>
    ((s.conditions ?? []) as KubeObject[]).filter((c) => APPROVAL_CONDITIONS.has(String(c.type)) === approval);
  const approval = subresource === "approval";
  const next: KubeObject = { ...deepCopy(old) };
  next.conditions = approval ? [...conditions(wanted, true), ...conditions(old, false)] : [...conditions(old, true), ...conditions(wanted, false)];
  if (next.conditions.length === 0) delete next.conditions;
  if (!approval) {
    if (wanted.certificate === undefined) delete next.certificate;
    else next.certificate = wanted.certificate;
  }
  return next;
}

export function strategyFor(info: ResourceInfo): Strategy {
  const hasStatus = info.subresources.some((s) => s.name === "status");
  const tracksGeneration = GENERATION_RESOURCES.has(info.resource);
  const resource = info.resource;
  return {
    tracksGeneration,
    hasStatus,
    returnDeletedObject: RETURN_DELETED_OBJECT.has(resource),
    prepareForCreate(obj) {
      if (tracksGeneration) obj.metadata.generation = 1;
      else delete obj.metadata.generation;
      if (hasStatus && resource !== "nodes" && resource !== "persistentvolumes" && resource !== "persistentvolumeclaims") delete obj.status;
      if (resource === "pods") obj.status = { phase: "Pending", qosClass: podQosClass(obj) };
      if (resource === "namespaces") {
        obj.spec = { ...(obj.spec ?? {}), finalizers: obj.spec?.finalizers ?? ["kubernetes"] };
        obj.status = { phase: "Active" };
      }
      if (resource === "jobs") generateJobSelector(obj);
      if (resource === "persistentvolumes") obj.status = { phase: "Pending" };
      if (resource === "persistentvolumeclaims") obj.status = { phase: "Pending" };
    },
    prepareForUpdate(obj, old) {
      if (hasStatus) {
        if (old.status === undefined) delete obj.status;
        else obj.status = deepCopy(old.status);
      }
      if (resource === "namespaces") obj.spec = deepCopy(old.spec ?? {});
      // A CertificateSigningRequest's spec is what was signed for: only its metadata may change.
      if (resource === "certificatesigningrequests") obj.spec = deepCopy(old.spec ?? {});
      if (tracksGeneration) {
        const gen = Number(old.metadata?.generation ?? 1);
        obj.metadata.generation = jsonEqual(specOf(obj), specOf(old)) ? gen : gen + 1;
      } else if (old.metadata?.generation !== undefined) {
        obj.metadata.generation = old.metadata.generation;
      }
    },
    prepareForStatusUpdate(obj, old, subresource) {
      const next = deepCopy(old);
      next.status = resource === "certificatesigningrequests" ? csrStatus(obj.status ?? {}, old.status ?? {}, subresource ?? "status") : obj.status;
      next.metadata.resourceVersion = obj.metadata?.resourceVersion;
      // Upstream's status strategies reset the spec (and, for the apps kinds, the labels) but keep the
      // writer's other metadata: annotations such as deployment.kubernetes.io/revision travel with status.
      if (obj.metadata?.annotations !== undefined) next.metadata.annotations = obj.metadata.annotations;
      else delete next.metadata.annotations;
      if (!STATUS_KEEPS_LABELS.has(resource) && obj.metadata?.labels !== undefined) next.metadata.labels = obj.metadata.labels;
      return next;
    },
    gracePeriodSeconds(obj, requested) {
      if (resource !== "pods") return 0;
      // An unscheduled pod has no kubelet to stop it, and a finished one nothing to stop: both go at once.
      if (obj.spec?.nodeName === undefined || obj.spec.nodeName === "") return 0;
      if (obj.status?.phase === "Succeeded" || obj.status?.phase === "Failed") return 0;
      const grace = requested ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
      return Math.max(0, grace);
    },
  };
}
