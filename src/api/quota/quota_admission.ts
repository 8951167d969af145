/**
 * The check the ResourceQuota admission plugin makes for one quota (apiserver's quota evaluator
 * CheckRequest), pure: the request's usage delta, masked to what the quota limits, added to the quota's
 * status.used, must stay within status.hard. The message is upstream's; the admission wraps it as
 * `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=10, limited: pods=10`.
 */
import type { Pod, ResourceQuota } from "kubernetes-types/core/v1.js";
import { addQuantities, compareQuantities, parseQuantity, quantityString } from "../validation/quantity.js";
import { calculateUsage, type ResourceList } from "./quota_usage.js";

const NOT_POD_NAMES = ["services.loadbalancers", "services.nodeports", "requests.storage"];

export type QuotaAdmissionResult =
  | { readonly allowed: true; /** status.used after charging the request (only the names it changed). */ readonly newUsed: ResourceList }
  | { readonly allowed: false; readonly message: string };

/** prettyPrint: `a=1,b=2`, names sorted. */
function prettyPrint(rl: ResourceList): string {
  return Object.keys(rl)
    .sort()
    .map((k) => `${k}=${rl[k]}`)
    .join(",");
}

function mask(rl: ResourceList, names: readonly string[]): ResourceList {
  const out: ResourceList = {};
  for (const n of names) if (rl[n] !== undefined) out[n] = rl[n]!;
  return out;
}

/** Checks one quota against a request's usage delta (e.g. `{pods: "1", "requests.cpu": "250m"}`). */
export function quotaAdmission(quota: ResourceQuota, usedDelta: ResourceList): QuotaAdmissionResult {
  const name = quota.metadata?.name ?? "";
  const hard = (quota.status?.hard ?? {}) as ResourceList;
  const used = (quota.status?.used ?? {}) as ResourceList;
  const requested = mask(usedDelta, Object.keys(hard));
  const names = Object.keys(requested);
  if (names.length === 0) return { allowed: true, newUsed: {} };
  const unknown = names.filter((n) => used[n] === undefined).sort();
  if (unknown.length > 0) return { allowed: false, message: `status unknown for quota: ${name}, resource: ${unknown.join(",")}` };
  const newUsed: ResourceList = {};
  const exceeded: string[] = [];
  for (const n of names) {
    const total = addQuantities(parseQuantity(used[n]!), parseQuantity(requested[n]!));
    newUsed[n] = quantityString(total);
    if (compareQuantities(total, parseQuantity(hard[n]!)) > 0) exceeded.push(n);
  }
  if (exceeded.length > 0) {
    return {
      allowed: false,
      message: `exceeded quota: ${name}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
    };
  }
  return { allowed: true, newUsed };
}

/** The usage a new pod adds to a quota (the pod evaluator's Usage for the quota's hard names). */
export function podQuotaDelta(quota: ResourceQuota, pod: Pod): ResourceList {
  const usage = calculateUsage(quota, { pods: [pod], services: [], persistentVolumeClaims: [], countOf: () => undefined }, 0);
  // Only what a pod is charged for: the other evaluators' names measure other objects.
  for (const n of NOT_POD_NAMES) delete usage[n];
  return usage;
}
