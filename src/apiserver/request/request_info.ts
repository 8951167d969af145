/**
 * What a request is about, parsed from its method and path as upstream's RequestInfoFactory does:
 * `/api/v1/namespaces/default/pods/web/status` → {verb, group "", version v1, namespace default,
 * resource pods, name web, subresource status}. Authorization, metrics and routing all read this.
 */

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  readonly path: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (or the HTTP method, lower case, for non-resource paths). */
  readonly verb: string;
  readonly apiPrefix: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  readonly parts: readonly string[];
}

/** Namespace subresources that must not be read as a resource inside the namespace. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function nonResource(path: string, method: string): RequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    parts: [],
  };
}

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  let parts = path.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  if (parts.length < 2) return nonResource(path, method);
  const apiPrefix = parts[0]!;
  let apiGroup = "";
  if (apiPrefix === "api") {
    parts = parts.slice(1);
  } else if (apiPrefix === "apis") {
    if (parts.length < 3) return nonResource(path, method);
    apiGroup = parts[1]!;
    parts = parts.slice(2);
  } else {
    return nonResource(path, method);
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length === 0) return nonResource(path, method);

  let verb: string;
  switch (method) {
    case "POST":
      verb = "create";
      break;
    case "GET":
    case "HEAD":
      verb = "get";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = "delete";
      break;
    default:
      verb = method.toLowerCase();
  }
  // The deprecated `/watch/` path prefix: /api/v1/watch/namespaces/default/pods.
  if (parts[0] === "watch") {
    verb = "watch";
    parts = parts.slice(1);
  }

  let namespace = "";
  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  const resource = parts[0] ?? "";
  const name = parts.length >= 2 ? parts[1]! : "";
  const subresource = parts.length >= 3 ? parts[2]! : "";
  // `/namespaces/foo` names the namespace itself: no namespace scoping for it.
  if (resource === "namespaces") namespace = name === "" ? "" : name;

  if (name === "") {
    if (verb === "get") verb = isWatchQuery(query) ? "watch" : "list";
    if (verb === "delete") verb = "deletecollection";
  } else if (verb === "get" && isWatchQuery(query)) {
    verb = "watch";
  }
  return {
    isResourceRequest: true,
    path,
    verb,
    apiPrefix,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
    parts,
  };
}

function isWatchQuery(query: URLSearchParams): boolean {
  const w = query.get("watch");
  return w === "true" || w === "1";
}
