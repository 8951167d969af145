/**
 * Authorization until RBAC lands (a later issue). `system:masters` may do everything — upstream's
 * privileged group, which even RBAC never restricts. Nodes and bootstrapping nodes get the rules of
 * upstream's default ClusterRoles that kubeadm binds to them (`system:node` for the `system:nodes`
 * group, `system:node-bootstrapper` and the node-client approval role for `system:bootstrappers`);
 * which Node, Lease and pods a node may touch is narrowed further by NodeRestriction admission
 * (admission/node_restriction.ts). Everyone else is denied with upstream's 403 text.
 */
import { ApiError } from "../../api/status.js";
import type { RequestInfo } from "../request/request_info.js";
import type { UserInfo } from "./authenticator.js";

export const MASTERS_GROUP = "system:masters";
export const NODES_GROUP = "system:nodes";
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";

/**
 * Non-resource paths every authenticated user may read (upstream's system:discovery and
 * system:public-info-viewer roles, which RBAC grants to system:authenticated by default).
 */
const DISCOVERY_PATHS = /^\/(api|apis|openapi|version)(\/.*)?$|^\/(healthz|livez|readyz)(\/.*)?$/;

/** An RBAC PolicyRule over resources: `resource` or `resource/subresource`, as RBAC spells them. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

const READ = ["get", "list", "watch"] as const;

/** upstream's `system:node` ClusterRole (bootstrappolicy NodeRules), for the verbs the kubelet uses. */
export const SYSTEM_NODE_RULES: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["create", "get", "list", "watch", "update", "patch"] },
  { apiGroups: [""], resources: ["nodes/status"], verbs: ["update", "patch"] },
  // create and delete: mirror pods, and pods the kubelet finished terminating.
  { apiGroups: [""], resources: ["pods"], verbs: [...READ, "create", "delete"] },
  { apiGroups: [""], resources: ["pods/status"], verbs: ["update", "patch"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "update", "patch"] },
  // Upstream's node authorizer narrows these to the objects its pods reference (a graph of pods,
  // volumes and service accounts); here a node may read them all.
  { apiGroups: [""], resources: ["configmaps", "secrets", "persistentvolumeclaims", "persistentvolumes", "serviceaccounts"], verbs: READ },
  { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
  { apiGroups: [""], resources: ["services", "endpoints"], verbs: READ },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update", "patch", "delete"] },
  { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["create", ...READ] },
  { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/selfnodeclient"], verbs: ["create"] },
  { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csidrivers", "csinodes", "volumeattachments"], verbs: READ },
  { apiGroups: ["node.k8s.io"], resources: ["runtimeclasses"], verbs: READ },
];

/** `system:node-bootstrapper` plus kubeadm's auto-approval binding (`…:nodeclient`). */
export const NODE_BOOTSTRAPPER_RULES: readonly PolicyRule[] = [
  { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["create", ...READ] },
  { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/nodeclient"], verbs: ["create"] },
];

const GROUP_RULES: ReadonlyMap<string, readonly PolicyRule[]> = new Map([
  [NODES_GROUP, SYSTEM_NODE_RULES],
  [BOOTSTRAPPERS_GROUP, NODE_BOOTSTRAPPER_RULES],
]);

function ruleAllows(rule: PolicyRule, info: RequestInfo): boolean {
  const resource = info.subresource === "" ? info.resource : `${info.resource}/${info.subresource}`;
  return rule.apiGroups.includes(info.apiGroup) && rule.resources.includes(resource) && rule.verbs.includes(info.verb);
}

/** Whether `user` may do `info` (a resource request or a non-resource path). */
export function allowed(user: UserInfo, info: RequestInfo): boolean {
  if (user.groups.includes(MASTERS_GROUP)) return true;
  if (!info.isResourceRequest) return info.verb === "get" && DISCOVERY_PATHS.test(info.path);
  return user.groups.some((g) => GROUP_RULES.get(g)?.some((rule) => ruleAllows(rule, info)) ?? false);
}

export function authorize(user: UserInfo, info: RequestInfo): void {
  if (!allowed(user, info)) throw forbidden(user, info);
}

/** upstream's `forbiddenMessage`: `pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbidden(user: UserInfo, info: RequestInfo): ApiError {
  if (!info.isResourceRequest) {
    return new ApiError("Forbidden", 403, `forbidden: User "${user.name}" cannot ${info.verb} path "${info.path}"`, {});
  }
  const resource = info.subresource === "" ? info.resource : `${info.resource}/${info.subresource}`;
  const qualified = info.apiGroup === "" ? resource : `${resource}.${info.apiGroup}`;
  const subject = info.name === "" ? qualified : `${qualified} "${info.name}"`;
  const scope = info.namespace === "" ? "at the cluster scope" : `in the namespace "${info.namespace}"`;
  return new ApiError(
    "Forbidden",
    403,
    `${subject} is forbidden: User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" ${scope}`,
    { ...(info.name === "" ? {} : { name: info.name }), ...(info.apiGroup === "" ? {} : { group: info.apiGroup }), kind: info.resource },
  );
}
