/**
 * Until RBAC lands (a later issue), the authorizer allows `system:masters` everything — as upstream's
 * privileged group, which even RBAC never restricts — and denies everyone else with upstream's 403 text.
 */
import { ApiError } from "../../api/status.js";
import type { RequestInfo } from "../request/request_info.js";
import type { UserInfo } from "./authenticator.js";

export const MASTERS_GROUP = "system:masters";

/**
 * Non-resource paths every authenticated user may read (upstream's system:discovery and
 * system:public-info-viewer roles, which RBAC grants to system:authenticated by default).
 */
const DISCOVERY_PATHS = /^\/(api|apis|openapi|version)(\/.*)?$|^\/(healthz|livez|readyz)(\/.*)?$/;

export function authorize(user: UserInfo, info: RequestInfo): void {
  if (user.groups.includes(MASTERS_GROUP)) return;
  if (!info.isResourceRequest && info.verb === "get" && DISCOVERY_PATHS.test(info.path)) return;
  throw forbidden(user, info);
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
