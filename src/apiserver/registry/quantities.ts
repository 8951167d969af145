/**
 * Quantities as upstream stores them: decoded into resource.Quantity and written back in canonical form
 * (`0.5` → `500m`, `1024Mi` → `1Gi`), so `kubectl get -o yaml` shows what a Kubernetes user expects. A
 * value that is not a quantity is a 400 at decoding, as upstream's, not a 422 at validation.
 */
import { badRequest } from "../../api/status.js";
import { canonicalQuantity, QuantityError } from "../../api/validation/quantity.js";
import type { KubeObject } from "./codec.js";

type ResourceMap = Record<string, unknown>;

function canonicalMap(m: unknown, kind: string, version: string): void {
  if (m === null || typeof m !== "object" || Array.isArray(m)) return;
  const map = m as ResourceMap;
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== "string" && typeof v !== "number") continue;
    try {
      map[k] = canonicalQuantity(v);
    } catch (err) {
      if (!(err instanceof QuantityError)) throw err;
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${err.message}`);
    }
  }
}

function podSpec(spec: KubeObject | undefined, kind: string, version: string): void {
  if (spec === undefined || spec === null) return;
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of Array.isArray(list) ? list : []) {
      canonicalMap(c?.resources?.requests, kind, version);
      canonicalMap(c?.resources?.limits, kind, version);
    }
  }
  canonicalMap(spec.overhead, kind, version);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (v?.emptyDir?.sizeLimit !== undefined) {
      const holder = { sizeLimit: v.emptyDir.sizeLimit };
      canonicalMap(holder, kind, version);
      v.emptyDir.sizeLimit = holder.sizeLimit;
    }
  }
}

/** Canonicalizes the quantities of the kinds that hold them, in place. */
export function canonicalizeQuantities(kind: string, version: string, obj: KubeObject): void {
  switch (kind) {
    case "Pod":
      podSpec(obj.spec, kind, version);
      break;
    case "PodTemplate":
      podSpec(obj.template?.spec, kind, version);
      break;
    case "Deployment":
    case "ReplicaSet":
    case "StatefulSet":
    case "DaemonSet":
    case "Job":
    case "ReplicationController":
      podSpec(obj.spec?.template?.spec, kind, version);
      for (const t of Array.isArray(obj.spec?.volumeClaimTemplates) ? obj.spec.volumeClaimTemplates : []) {
        canonicalMap(t?.spec?.resources?.requests, kind, version);
      }
      break;
    case "CronJob":
      podSpec(obj.spec?.jobTemplate?.spec?.template?.spec, kind, version);
      break;
    case "PersistentVolumeClaim":
      canonicalMap(obj.spec?.resources?.requests, kind, version);
      canonicalMap(obj.spec?.resources?.limits, kind, version);
      break;
    case "PersistentVolume":
      canonicalMap(obj.spec?.capacity, kind, version);
      break;
    case "ResourceQuota":
      canonicalMap(obj.spec?.hard, kind, version);
      break;
    case "LimitRange":
      for (const l of Array.isArray(obj.spec?.limits) ? obj.spec.limits : []) {
        for (const f of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) canonicalMap(l?.[f], kind, version);
      }
      break;
    case "Node":
      canonicalMap(obj.status?.capacity, kind, version);
      canonicalMap(obj.status?.allocatable, kind, version);
      break;
  }
}
