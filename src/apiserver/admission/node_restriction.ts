/**
 * NodeRestriction (upstream's plugin/pkg/admission/noderestriction): a kubelet, authenticated as
 * `system:node:<name>` in `system:nodes`, may change only its own Node and node Lease, the status of pods
 * bound to it, delete only pods bound to it, and create only mirror pods bound to it. The authorizer
 * decides which verbs on which resources a node has; this decides which objects.
 */
import { ApiError } from "../../api/status.js";
import type { ResourceInfo } from "../../api/resources.js";
import type { UserInfo } from "../auth/authenticator.js";
import { NODES_GROUP } from "../auth/authorizer.js";
import type { KubeObject } from "../registry/codec.js";

const NODE_USER_PREFIX = "system:node:";
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/** The node a user is, or null when the user is not a node. */
export function nodeIdentity(user: UserInfo | undefined): string | null {
  if (user === undefined || !user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return null;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name === "" ? null : name;
}

function forbidden(info: ResourceInfo, name: string, message: string): ApiError {
  const resource = info.group === "" ? info.resource : `${info.resource}.${info.group}`;
  return new ApiError("Forbidden", 403, `${resource} "${name}" is forbidden: ${message}`, { name, ...(info.group === "" ? {} : { group: info.group }), kind: info.resource });
}

export type NodeOperation = "CREATE" | "UPDATE" | "DELETE";

/**
 * Throws upstream's 403 when `node` may not do `op` to this object. `obj` is the new object (create,
 * update) and `old` the stored one (update, delete).
 */
export function admitNodeRequest(node: string, op: NodeOperation, info: ResourceInfo, name: string, obj: KubeObject | null, old: KubeObject | null): void {
  if (info.group === "" && info.resource === "nodes") {
    if (name !== node) throw forbidden(info, name, `node "${node}" is not allowed to modify node "${name}"`);
    return;
  }
  if (info.group === "coordination.k8s.io" && info.resource === "leases") {
    const namespace = String((obj ?? old)?.metadata?.namespace ?? "");
    if (namespace === "kube-node-lease" && name !== node) throw forbidden(info, name, `can only access node lease with the same name as the requesting node`);
    return;
  }
  if (info.group === "" && info.resource === "pods") {
    if (op === "CREATE") {
      if (obj?.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
        throw forbidden(info, name, `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
      }
      if (obj.spec?.nodeName !== node) throw forbidden(info, name, `node "${node}" can only create pods with spec.nodeName set to itself`);
      return;
    }
    const boundTo = String(old?.spec?.nodeName ?? "");
    if (op === "UPDATE" && boundTo !== node) throw forbidden(info, name, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    if (op === "DELETE" && boundTo !== node) throw forbidden(info, name, `node "${node}" can only delete pods with spec.nodeName set to itself`);
  }
}
