/**
 * ResourceQuota usage, pure (pkg/quota/v1/evaluator/core and generic's object-count evaluator): what
 * a namespace uses of each resource a quota limits. Pods count while they are not terminal; their
 * compute resources are upstream's PodRequests/PodLimits (containers summed, the largest init
 * container when it is larger, restartable init containers (sidecars) added, plus pod overhead).
 *
 *   hard {pods: 10, requests.cpu: 2, count/deployments.apps: 5}, two running pods asking 250m each,
 *   one Succeeded pod, one Deployment  →  used {pods: 2, requests.cpu: 500m, count/deployments.apps: 1}
 */
import { parseTimeMs } from "../time.js";
import type { PersistentVolumeClaim, Pod, ResourceQuota, ScopedResourceSelectorRequirement, Service } from "kubernetes-types/core/v1.js";
import { BUILTIN_RESOURCES, type ResourceInfo } from "../resources.js";
import { addQuantities, compareQuantities, parseQuantity, quantityString, type Quantity } from "../validation/quantity.js";

export type ResourceList = Record<string, string>;

/** The legacy names of object counts and the resources they count (core group). */
const LEGACY_COUNTS: Record<string, string> = {
  pods: "pods",
  services: "services",
  configmaps: "configmaps",
  secrets: "secrets",
  persistentvolumeclaims: "persistentvolumeclaims",
  replicationcontrollers: "replicationcontrollers",
  resourcequotas: "resourcequotas",
};

const POD_COMPUTE: Record<string, { kind: "requests" | "limits"; resource: string }> = {
  cpu: { kind: "requests", resource: "cpu" },
  memory: { kind: "requests", resource: "memory" },
  "ephemeral-storage": { kind: "requests", resource: "ephemeral-storage" },
  "requests.cpu": { kind: "requests", resource: "cpu" },
  "requests.memory": { kind: "requests", resource: "memory" },
  "requests.ephemeral-storage": { kind: "requests", resource: "ephemeral-storage" },
  "limits.cpu": { kind: "limits", resource: "cpu" },
  "limits.memory": { kind: "limits", resource: "memory" },
  "limits.ephemeral-storage": { kind: "limits", resource: "ephemeral-storage" },
};

/** The API resource an object-count quota name refers to, or undefined for names that are not counts. */
export function countedResource(name: string): ResourceInfo | undefined {
  let group = "";
  let resource: string;
  const legacy = LEGACY_COUNTS[name];
  if (legacy !== undefined) resource = legacy;
  else if (name.startsWith("count/")) {
    const rest = name.slice("count/".length);
    const dot = rest.indexOf(".");
    resource = dot < 0 ? rest : rest.slice(0, dot);
    group = dot < 0 ? "" : rest.slice(dot + 1);
  } else return undefined;
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.resource === resource && r.namespaced);
}

/** QuotaV1Pod: terminal pods, and pods past their deletion grace period, are not charged. */
export function podIsCharged(pod: Pod, wallMs: number): boolean {
  const phase = pod.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") return false;
  const deletion = parseTimeMs(pod.metadata?.deletionTimestamp);
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (deletion !== undefined && grace !== undefined && grace !== null && wallMs > deletion + grace * 1000) return false;
  return true;
}

function add(into: Map<string, Quantity>, name: string, q: Quantity): void {
  const cur = into.get(name);
  into.set(name, cur === undefined ? q : addQuantities(cur, q));
}

function maxInto(into: Map<string, Quantity>, from: Map<string, Quantity>): void {
  for (const [k, v] of from) {
    const cur = into.get(k);
    if (cur === undefined || compareQuantities(v, cur) > 0) into.set(k, v);
  }
}

function listOf(rl: Record<string, unknown> | undefined): Map<string, Quantity> {
  const m = new Map<string, Quantity>();
  for (const [k, v] of Object.entries(rl ?? {})) if (typeof v === "string" || typeof v === "number") m.set(k, parseQuantity(v));
  return m;
}

/** resourcehelper.PodRequests / PodLimits. */
export function podResources(pod: Pod, kind: "requests" | "limits"): Map<string, Quantity> {
  const sum = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) for (const [k, v] of listOf(c.resources?.[kind])) add(sum, k, v);
  // Init containers run one at a time before the app containers: the pod needs the largest of them,
  // plus the sidecars (restartPolicy Always) started before it, which keep running alongside.
  const sidecars = new Map<string, Quantity>();
  const initMax = new Map<string, Quantity>();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = listOf(c.resources?.[kind]);
    if (c.restartPolicy === "Always") {
      for (const [k, v] of r) {
        add(sum, k, v);
        add(sidecars, k, v);
      }
      continue;
    }
    const withSidecars = new Map(sidecars);
    for (const [k, v] of r) add(withSidecars, k, v);
    maxInto(initMax, withSidecars);
  }
  maxInto(sum, initMax);
  for (const [k, v] of listOf(pod.spec?.overhead)) add(sum, k, v);
  return sum;
}

function isBestEffort(pod: Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].every(
    (c) => Object.keys(c.resources?.requests ?? {}).length === 0 && Object.keys(c.resources?.limits ?? {}).length === 0,
  );
}

function scopeMatches(pod: Pod, scope: string, req?: ScopedResourceSelectorRequirement): boolean {
  switch (scope) {
    case "Terminating":
      return pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null && pod.spec.activeDeadlineSeconds >= 0;
    case "NotTerminating":
      return !scopeMatches(pod, "Terminating");
    case "BestEffort":
      return isBestEffort(pod);
    case "NotBestEffort":
      return !isBestEffort(pod);
    case "PriorityClass": {
      const pc = pod.spec?.priorityClassName ?? "";
      const values = req?.values ?? [];
      switch (req?.operator ?? "Exists") {
        case "In":
          return values.includes(pc);
        case "NotIn":
          return !values.includes(pc);
        case "Exists":
          return pc !== "";
        case "DoesNotExist":
          return pc === "";
        default:
          return false;
      }
    }
    case "CrossNamespacePodAffinity":
      return false;
    default:
      return false;
  }
}

/** Whether a pod falls under every scope of the quota (spec.scopes and spec.scopeSelector). */
export function podMatchesScopes(pod: Pod, quota: ResourceQuota): boolean {
  for (const s of quota.spec?.scopes ?? []) if (!scopeMatches(pod, s)) return false;
  for (const r of quota.spec?.scopeSelector?.matchExpressions ?? []) if (!scopeMatches(pod, r.scopeName, r)) return false;
  return true;
}

function hasScopes(quota: ResourceQuota): boolean {
  return (quota.spec?.scopes ?? []).length > 0 || (quota.spec?.scopeSelector?.matchExpressions ?? []).length > 0;
}

export interface NamespaceObjects {
  /** The namespace's pods (all of them; charging is decided here). */
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  readonly persistentVolumeClaims: readonly PersistentVolumeClaim[];
  /** Object counts by quota name (`configmaps`, `count/deployments.apps` …); undefined: not known yet. */
  countOf(name: string): number | undefined;
}

function intQuantity(n: number | bigint): string {
  return String(n);
}

/**
 * quota.CalculateUsage masked to the quota's hard names: the usage of every hard resource this
 * package knows how to measure. Names it does not know are left out (the caller keeps old values).
 */
export function calculateUsage(quota: ResourceQuota, objects: NamespaceObjects, wallMs: number): ResourceList {
  const used: ResourceList = {};
  const hard = Object.keys(quota.spec?.hard ?? {});
  const scoped = hasScopes(quota);
  let pods: Pod[] | undefined;
  const chargedPods = (): Pod[] => (pods ??= objects.pods.filter((p) => podIsCharged(p, wallMs) && podMatchesScopes(p, quota)));
  for (const name of hard) {
    const compute = POD_COMPUTE[name];
    if (compute !== undefined) {
      let total: Quantity = parseQuantity(0);
      for (const p of chargedPods()) {
        const q = podResources(p, compute.kind).get(compute.resource);
        if (q !== undefined) total = total.mantissa === 0n ? q : addQuantities(total, q);
      }
      used[name] = quantityString(total);
      continue;
    }
    if (name === "pods" || name === "count/pods") {
      used[name] = intQuantity(chargedPods().length);
      continue;
    }
    // Only pods are scoped: a scoped quota measures nothing else.
    if (scoped) continue;
    if (name === "services.loadbalancers") {
      used[name] = intQuantity(objects.services.filter((s) => s.spec?.type === "LoadBalancer").length);
      continue;
    }
    if (name === "services.nodeports") {
      let n = 0;
      for (const s of objects.services) if (s.spec?.type === "NodePort" || s.spec?.type === "LoadBalancer") n += (s.spec.ports ?? []).filter((p) => p.nodePort !== undefined && p.nodePort !== 0).length;
      used[name] = intQuantity(n);
      continue;
    }
    if (name === "requests.storage") {
      let total: Quantity = parseQuantity(0);
      for (const c of objects.persistentVolumeClaims) {
        const r = c.spec?.resources?.requests?.["storage"];
        if (r !== undefined) total = total.mantissa === 0n ? parseQuantity(r) : addQuantities(total, parseQuantity(r));
      }
      used[name] = quantityString(total);
      continue;
    }
    if (countedResource(name) !== undefined) {
      const n = objects.countOf(name);
      if (n !== undefined) used[name] = intQuantity(n);
    }
  }
  return used;
}

/** quota.Equals: the same names with equal quantities. */
export function resourceListsEqual(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const vb = b?.[k];
    if (vb === undefined) return false;
    if (compareQuantities(parseQuantity(a![k]!), parseQuantity(vb)) !== 0) return false;
  }
  return true;
}

/**
 * The status a quota should have (syncResourceQuota): hard copied from spec.hard; used from the new
 * usage, the previous value for names without one, restricted to the hard names. null: up to date.
 */
export function desiredQuotaStatus(quota: ResourceQuota, usage: ResourceList): ResourceQuota["status"] | null {
  const hard: ResourceList = { ...(quota.spec?.hard ?? {}) } as ResourceList;
  const prev = (quota.status?.used ?? {}) as ResourceList;
  const used: ResourceList = {};
  for (const name of Object.keys(hard)) {
    const v = usage[name] ?? prev[name];
    if (v !== undefined) used[name] = v;
  }
  const dirty =
    quota.status?.hard === undefined ||
    quota.status.used === undefined ||
    !resourceListsEqual(hard, quota.status.hard as ResourceList) ||
    !resourceListsEqual(used, prev);
  return dirty ? { hard, used } : null;
}
