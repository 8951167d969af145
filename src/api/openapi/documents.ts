/**
 * The OpenAPI documents the API server serves, built from the definitions and the served
 * resources: `/openapi/v2` (swagger 2.0), the `/openapi/v3` index and one OpenAPI 3.0 document
 * per group/version (`/openapi/v3/apis/apps/v1`).
 *
 * What clients read from them (kubectl 1.32):
 * - `kubectl explain` fetches the v3 index, then the group/version document; it finds the kind by
 *   the `x-kubernetes-group-version-kind` of an operation on `/apis/<g>/<v>[/namespaces/{namespace}]/<resource>[/{name}]`,
 *   then the schema in `components.schemas` whose GVK list contains it, and prints descriptions,
 *   types (following `$ref`/`allOf`/`items`/`additionalProperties`) and `required`.
 * - `kubectl apply` computes its strategic merge patch from the same document only if some PATCH
 *   operation tagged with the kind accepts `application/strategic-merge-patch+json`; it then reads
 *   `x-kubernetes-patch-merge-key`/`-strategy` from the schemas it reaches through `#/components/schemas/` refs.
 * - kubectl's field validation asks the server to validate (`fieldValidation=Strict`) only if that
 *   PATCH operation declares a `fieldValidation` query parameter; otherwise it falls back to
 *   client-side validation over `/openapi/v2` in protobuf.
 */

import { createHash } from "node:crypto";
import { BUILTIN_RESOURCES, type ResourceInfo, type SubresourceInfo } from "../resources.js";
import { refsOf, type Definitions, type GroupVersionKind, type Schema } from "./schema.js";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

/** Options for the document builders. */
export interface OpenApiOptions {
  /** The resources to document; BUILTIN_RESOURCES by default. */
  readonly resources?: readonly ResourceInfo[];
  /** `info.version`: the server's gitVersion (upstream serves e.g. "v1.32.0"). */
  readonly version?: string;
}

type Action = "get" | "list" | "watch" | "watchlist" | "post" | "put" | "patch" | "delete" | "deletecollection";
type Method = "get" | "put" | "post" | "delete" | "patch";

interface Parameter {
  readonly name: string;
  readonly in: "path" | "query";
  readonly description: string;
  readonly type: "string" | "integer" | "boolean";
  readonly required?: boolean;
}

interface Operation {
  readonly method: Method;
  readonly action: Action;
  readonly operationId: string;
  readonly description: string;
  readonly tag: string;
  readonly gvk: GroupVersionKind | undefined;
  readonly parameters: readonly Parameter[];
  /** Definition name of the request body, if any. */
  readonly body?: string;
  /** The content types the body may have (PATCH: the four patch types). */
  readonly consumes?: readonly string[];
  /** Definition name of the response and the status codes that carry it. */
  readonly response: string;
  readonly codes: readonly string[];
  readonly watch?: boolean;
}

interface PathItem {
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly operations: Operation[];
}

const PATCH_TYPES = [
  "application/apply-patch+yaml",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
] as const;
const PRODUCES = ["application/json", "application/yaml"] as const;
const PRODUCES_WATCH = ["application/json", "application/yaml", "application/json;stream=watch"] as const;

function q(name: string, type: Parameter["type"], description: string): Parameter {
  return { name, in: "query", type, description };
}

const P = {
  pretty: q("pretty", "string", "If 'true', then the output is pretty printed."),
  dryRun: q(
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
  ),
  fieldManager: q(
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
  ),
  fieldValidation: q(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
  ),
  force: q(
    "force",
    "boolean",
    "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
  ),
  gracePeriodSeconds: q(
    "gracePeriodSeconds",
    "integer",
    "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
  ),
  orphanDependents: q(
    "orphanDependents",
    "boolean",
    "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
  ),
  propagationPolicy: q(
    "propagationPolicy",
    "string",
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  ),
  allowWatchBookmarks: q("allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion."),
  continue: q("continue", "string", "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue)."),
  fieldSelector: q("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
  labelSelector: q("labelSelector", "string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
  limit: q("limit", "integer", "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results."),
  resourceVersion: q("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
  resourceVersionMatch: q("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
  sendInitialEvents: q("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection."),
  timeoutSeconds: q("timeoutSeconds", "integer", "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."),
  watch: q("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."),
};

const LIST_PARAMS = [
  P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit,
  P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch,
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [...WRITE_PARAMS, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [...DELETE_PARAMS, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

function pathParam(name: string, description: string): Parameter {
  return { name, in: "path", type: "string", description, required: true };
}
const NAMESPACE_PARAM = pathParam("namespace", "object name and auth scope, such as for teams and projects");

/** The Go package path OpenAPI names a group/version's types after. */
function definitionPackage(group: string, version: string): string {
  if (group === "") return `io.k8s.api.core.${version}`;
  return `io.k8s.api.${group.replace(/\.k8s\.io$/, "")}.${version}`;
}

function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** Upstream's operation-id spelling of a group: "" → Core, rbac.authorization.k8s.io → RbacAuthorization. */
function groupWord(group: string): string {
  if (group === "") return "Core";
  return group.replace(/\.k8s\.io$/, "").split(/[.-]/).map(capitalize).join("");
}

/** Upstream's tag of a group/version: core_v1, apps_v1, coordination_v1. */
function tagOf(group: string, version: string): string {
  const g = groupWord(group);
  return `${g[0]!.toLowerCase()}${g.slice(1)}_${version}`;
}

/** `/api/v1` or `/apis/apps/v1`. */
function prefixOf(group: string, version: string): string {
  return group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The v3 index key of a group/version: `api/v1`, `apis/apps/v1`. */
export function v3PathOf(group: string, version: string): string {
  return prefixOf(group, version).slice(1);
}

/** The paths and operations of one resource, as upstream lays them out. */
function resourcePaths(r: ResourceInfo): PathItem[] {
  const prefix = prefixOf(r.group, r.version);
  const gv = `${groupWord(r.group)}${capitalize(r.version)}`;
  const tag = tagOf(r.group, r.version);
  const ns = r.namespaced ? "Namespaced" : "";
  const gvk: GroupVersionKind = { group: r.group, version: r.version, kind: r.kind };
  const pkg = definitionPackage(r.group, r.version);
  const def = r.definition;
  const listDef = `${pkg}.${r.listKind}`;
  const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
  const scope = r.namespaced ? [NAMESPACE_PARAM] : [];
  const nameParam = pathParam("name", `name of the ${r.kind}`);
  const has = (v: string): boolean => r.verbs.includes(v as never);
  const out: PathItem[] = [];

  const collection: Operation[] = [];
  if (has("list")) {
    collection.push({
      method: "get", action: "list", operationId: `list${gv}${ns}${r.kind}`, description: `list or watch objects of kind ${r.kind}`,
      tag, gvk, parameters: LIST_PARAMS, response: listDef, codes: ["200"], watch: true,
    });
  }
  if (has("create")) {
    collection.push({
      method: "post", action: "post", operationId: `create${gv}${ns}${r.kind}`, description: `create ${article(r.kind)} ${r.kind}`,
      tag, gvk, parameters: WRITE_PARAMS, body: def, response: def, codes: ["200", "201", "202"],
    });
  }
  if (has("deletecollection")) {
    collection.push({
      method: "delete", action: "deletecollection", operationId: `delete${gv}Collection${ns}${r.kind}`, description: `delete collection of ${r.kind}`,
      tag, gvk, parameters: DELETE_COLLECTION_PARAMS, body: `${META}.DeleteOptions`, response: `${META}.Status`, codes: ["200"],
    });
  }
  if (collection.length > 0) out.push({ path: base, parameters: [...scope, P.pretty], operations: collection });

  const item: Operation[] = [];
  if (has("get")) {
    item.push({ method: "get", action: "get", operationId: `read${gv}${ns}${r.kind}`, description: `read the specified ${r.kind}`, tag, gvk, parameters: [], response: def, codes: ["200"] });
  }
  if (has("update")) {
    item.push({ method: "put", action: "put", operationId: `replace${gv}${ns}${r.kind}`, description: `replace the specified ${r.kind}`, tag, gvk, parameters: WRITE_PARAMS, body: def, response: def, codes: ["200", "201"] });
  }
  if (has("patch")) {
    item.push({
      method: "patch", action: "patch", operationId: `patch${gv}${ns}${r.kind}`, description: `partially update the specified ${r.kind}`,
      tag, gvk, parameters: PATCH_PARAMS, body: `${META}.Patch`, consumes: PATCH_TYPES, response: def, codes: ["200", "201"],
    });
  }
  if (has("delete")) {
    item.push({
      method: "delete", action: "delete", operationId: `delete${gv}${ns}${r.kind}`, description: `delete ${article(r.kind)} ${r.kind}`,
      tag, gvk, parameters: DELETE_PARAMS, body: `${META}.DeleteOptions`, response: `${META}.Status`, codes: ["200", "202"],
    });
  }
  if (item.length > 0) out.push({ path: `${base}/{name}`, parameters: [nameParam, ...scope, P.pretty], operations: item });

  for (const s of r.subresources) out.push(...subresourcePaths(r, s, { base, gv, ns, tag, scope, nameParam }));

  if (has("list") && r.namespaced) {
    out.push({
      path: `${prefix}/${r.resource}`,
      parameters: [...LIST_PARAMS, P.pretty],
      operations: [{ method: "get", action: "list", operationId: `list${gv}${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${r.kind}`, tag, gvk, parameters: [], response: listDef, codes: ["200"], watch: true }],
    });
  }
  if (has("watch")) {
    const wbase = r.namespaced ? `${prefix}/watch/namespaces/{namespace}/${r.resource}` : `${prefix}/watch/${r.resource}`;
    const watchEvent = `${META}.WatchEvent`;
    out.push({
      path: wbase,
      parameters: [...LIST_PARAMS, ...scope, P.pretty],
      operations: [{ method: "get", action: "watchlist", operationId: `watch${gv}${ns}${r.kind}List`, description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, tag, gvk, parameters: [], response: watchEvent, codes: ["200"], watch: true }],
    });
    out.push({
      path: `${wbase}/{name}`,
      parameters: [...LIST_PARAMS, nameParam, ...scope, P.pretty],
      operations: [{ method: "get", action: "watch", operationId: `watch${gv}${ns}${r.kind}`, description: `watch changes to an object of kind ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, tag, gvk, parameters: [], response: watchEvent, codes: ["200"], watch: true }],
    });
    if (r.namespaced) {
      out.push({
        path: `${prefix}/watch/${r.resource}`,
        parameters: [...LIST_PARAMS, P.pretty],
        operations: [{ method: "get", action: "watchlist", operationId: `watch${gv}${r.kind}ListForAllNamespaces`, description: `watch individual changes to a list of ${r.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, tag, gvk, parameters: [], response: watchEvent, codes: ["200"], watch: true }],
      });
    }
  }
  return out;
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? "an" : "a";
}

const CONNECT_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);

function subresourcePaths(
  r: ResourceInfo,
  s: SubresourceInfo,
  c: { base: string; gv: string; ns: string; tag: string; scope: Parameter[]; nameParam: Parameter },
): PathItem[] {
  // The streaming subresources (log, exec, attach, portforward) are proxied to the kubelet and carry no
  // object bodies; their connect operations are left out of the documents.
  if (CONNECT_SUBRESOURCES.has(s.name)) return [];
  const kind = s.kind ?? { group: r.group, version: r.version, kind: r.kind };
  const def = s.kind === undefined ? r.definition : `${definitionPackage(s.kind.group, s.kind.version)}.${s.kind.kind}`;
  const word = capitalize(s.name);
  const subject = `${s.name} of the specified ${r.kind}`;
  const ops: Operation[] = [];
  // Upstream names a subresource the body names (`binding`, `eviction`) and a name parameter for it.
  const nameParam = pathParam("name", `name of the ${kind.kind}`);
  if (s.verbs.includes("create")) {
    ops.push({
      method: "post", action: "post", operationId: `create${c.gv}${c.ns}${r.kind}${word}`, description: `create ${s.name} of ${article(r.kind)} ${r.kind}`,
      tag: c.tag, gvk: kind, parameters: WRITE_PARAMS, body: def, response: def, codes: ["200", "201", "202"],
    });
  }
  if (s.verbs.includes("get")) {
    ops.push({ method: "get", action: "get", operationId: `read${c.gv}${c.ns}${r.kind}${word}`, description: `read ${subject}`, tag: c.tag, gvk: kind, parameters: [], response: def, codes: ["200"] });
  }
  if (s.verbs.includes("update")) {
    ops.push({ method: "put", action: "put", operationId: `replace${c.gv}${c.ns}${r.kind}${word}`, description: `replace ${subject}`, tag: c.tag, gvk: kind, parameters: WRITE_PARAMS, body: def, response: def, codes: ["200", "201"] });
  }
  if (s.verbs.includes("patch")) {
    ops.push({
      method: "patch", action: "patch", operationId: `patch${c.gv}${c.ns}${r.kind}${word}`, description: `partially update ${subject}`,
      tag: c.tag, gvk: kind, parameters: PATCH_PARAMS, body: `${META}.Patch`, consumes: PATCH_TYPES, response: def, codes: ["200", "201"],
    });
  }
  return ops.length === 0 ? [] : [{ path: `${c.base}/{name}/${s.name}`, parameters: [s.kind === undefined ? c.nameParam : nameParam, ...c.scope, P.pretty], operations: ops }];
}

/** The discovery path of a group/version: `GET /apis/apps/v1/` → APIResourceList. */
function resourceListPath(group: string, version: string): PathItem {
  return {
    path: `${prefixOf(group, version)}/`,
    parameters: [],
    operations: [{
      method: "get", action: "get", operationId: `get${groupWord(group)}${capitalize(version)}APIResources`, description: "get available resources",
      tag: tagOf(group, version), gvk: undefined, parameters: [], response: `${META}.APIResourceList`, codes: ["200"],
    }],
  };
}

/** Every v3 document: its index key and the paths it holds. */
function v3Documents(resources: readonly ResourceInfo[]): Map<string, PathItem[]> {
  const docs = new Map<string, PathItem[]>();
  const core = { method: "get" as const, action: "get" as const, gvk: undefined, parameters: [], codes: ["200"] };
  docs.set("api", [{ path: "/api/", parameters: [], operations: [{ ...core, operationId: "getCoreAPIVersions", description: "get available API versions", tag: "core", response: `${META}.APIVersions` }] }]);
  docs.set("apis", [{ path: "/apis/", parameters: [], operations: [{ ...core, operationId: "getAPIVersions", description: "get available API versions", tag: "apis", response: `${META}.APIGroupList` }] }]);
  for (const r of resources) {
    if (r.group !== "" && !docs.has(`apis/${r.group}`)) {
      const g = groupWord(r.group);
      docs.set(`apis/${r.group}`, [{
        path: `/apis/${r.group}/`, parameters: [],
        operations: [{ ...core, operationId: `get${g}APIGroup`, description: "get information of a group", tag: `${g[0]!.toLowerCase()}${g.slice(1)}`, response: `${META}.APIGroup` }],
      }]);
    }
    const key = v3PathOf(r.group, r.version);
    let paths = docs.get(key);
    if (paths === undefined) {
      paths = [resourceListPath(r.group, r.version)];
      docs.set(key, paths);
    }
    paths.push(...resourcePaths(r));
  }
  docs.set("version", [{ path: "/version/", parameters: [], operations: [{ ...core, operationId: "getCodeVersion", description: "get the code version", tag: "version", response: "io.k8s.apimachinery.pkg.version.Info" }] }]);
  return docs;
}

/** The definitions reachable from `roots`, by name, in name order. */
export function reachableDefinitions(roots: Iterable<string>, defs: Definitions): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  // Bounded by the number of definitions: each is expanded once.
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const def = defs[name];
    if (def === undefined) throw new Error(`Cannot build OpenAPI document: no definition ${name}`);
    seen.add(name);
    for (const ref of refsOf(def)) if (!seen.has(ref)) stack.push(ref);
  }
  return [...seen].sort();
}

/** A deep copy of `schema` with `#/definitions/` refs pointing into `#/components/schemas/`. */
export function toV3Schema(schema: Schema): Schema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"#/components/schemas/')) as Schema;
}

function operationRoots(paths: readonly PathItem[]): Set<string> {
  const roots = new Set<string>();
  for (const p of paths) {
    for (const op of p.operations) {
      roots.add(op.response);
      if (op.body !== undefined) roots.add(op.body);
    }
  }
  return roots;
}

function v3Parameter(p: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, in: p.in, description: p.description };
  if (p.required === true) out.required = true;
  out.schema = { type: p.type, uniqueItems: true };
  return out;
}

function v3Operation(op: Operation): Record<string, unknown> {
  const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
  const produces = op.watch === true ? PRODUCES_WATCH : PRODUCES;
  const responses: Record<string, unknown> = {};
  for (const code of op.codes) {
    const content: Record<string, unknown> = {};
    for (const mime of produces) content[mime] = { schema: ref(op.response) };
    responses[code] = { description: code === "200" ? "OK" : code === "201" ? "Created" : "Accepted", content };
  }
  const out: Record<string, unknown> = { tags: [op.tag], description: op.description, operationId: op.operationId };
  if (op.parameters.length > 0) out.parameters = op.parameters.map(v3Parameter);
  if (op.body !== undefined) {
    const content: Record<string, unknown> = {};
    for (const mime of op.consumes ?? ["*/*"]) content[mime] = { schema: ref(op.body) };
    out.requestBody = { content, required: op.action !== "delete" && op.action !== "deletecollection" };
  }
  out.responses = responses;
  out["x-kubernetes-action"] = op.action;
  if (op.gvk !== undefined) out["x-kubernetes-group-version-kind"] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

function v3Document(paths: readonly PathItem[], defs: Definitions, options: OpenApiOptions): Record<string, unknown> {
  const schemas: Record<string, Schema> = {};
  for (const name of reachableDefinitions(operationRoots(paths), defs)) schemas[name] = toV3Schema(defs[name]!);
  const outPaths: Record<string, unknown> = {};
  for (const p of paths) {
    const item: Record<string, unknown> = {};
    for (const op of p.operations) item[op.method] = v3Operation(op);
    if (p.parameters.length > 0) item.parameters = p.parameters.map(v3Parameter);
    outPaths[p.path] = item;
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: options.version ?? "unversioned" },
    paths: outPaths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: "apiKey", description: "Bearer Token authentication", name: "authorization", in: "header" } },
    },
    security: [{ BearerToken: [] }],
  };
}

/**
 * The v3 document at `/openapi/v3/<path>` (`api/v1`, `apis/apps/v1`, `apis/apps`, `api`, `apis`,
 * `version`), or undefined when there is none. `components.schemas` holds every definition its
 * operations reach, refs rewritten to `#/components/schemas/`.
 */
export function openApiV3GroupVersion(path: string, defs: Definitions, options: OpenApiOptions = {}): Record<string, unknown> | undefined {
  const paths = v3Documents(options.resources ?? BUILTIN_RESOURCES).get(path);
  return paths === undefined ? undefined : v3Document(paths, defs, options);
}

/** Upstream's content hash of a served document: SHA-512 of its JSON bytes, upper-case hex. */
export function documentHash(json: string): string {
  return createHash("sha512").update(json).digest("hex").toUpperCase();
}

/**
 * The `/openapi/v3` index: for each document its `serverRelativeURL` with the content hash of the
 * JSON that `JSON.stringify(openApiV3GroupVersion(path, defs, options))` gives (clients cache by URL).
 */
export function openApiV3Index(defs: Definitions, options: OpenApiOptions = {}): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, items] of v3Documents(options.resources ?? BUILTIN_RESOURCES)) {
    const hash = documentHash(JSON.stringify(v3Document(items, defs, options)));
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

function v2Parameter(p: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = { uniqueItems: true, type: p.type, description: p.description, name: p.name, in: p.in };
  if (p.required === true) out.required = true;
  return out;
}

function v2Operation(op: Operation): Record<string, unknown> {
  const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
  const params = op.parameters.map(v2Parameter);
  if (op.body !== undefined) params.unshift({ name: "body", in: "body", required: op.action !== "delete" && op.action !== "deletecollection", schema: ref(op.body) });
  const responses: Record<string, unknown> = {};
  for (const code of op.codes) responses[code] = { description: code === "200" ? "OK" : code === "201" ? "Created" : "Accepted", schema: ref(op.response) };
  responses["401"] = { description: "Unauthorized" };
  const out: Record<string, unknown> = {
    description: op.description,
    consumes: op.consumes ?? ["*/*"],
    produces: op.watch === true ? PRODUCES_WATCH : PRODUCES,
    schemes: ["https"],
    tags: [op.tag],
    operationId: op.operationId,
  };
  if (params.length > 0) out.parameters = params;
  out.responses = responses;
  out["x-kubernetes-action"] = op.action;
  if (op.gvk !== undefined) out["x-kubernetes-group-version-kind"] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

/**
 * The swagger 2.0 document of `/openapi/v2`: every definition and every served path.
 * (client-go asks for it in protobuf; this is its JSON form.)
 */
export function openApiV2Document(defs: Definitions, options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const items of v3Documents(options.resources ?? BUILTIN_RESOURCES).values()) {
    for (const p of items) {
      const item: Record<string, unknown> = {};
      for (const op of p.operations) item[op.method] = v2Operation(op);
      if (p.parameters.length > 0) item.parameters = p.parameters.map(v2Parameter);
      paths[p.path] = item;
    }
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: options.version ?? "unversioned" },
    paths,
    definitions: defs,
    securityDefinitions: { BearerToken: { description: "Bearer Token authentication", type: "apiKey", name: "authorization", in: "header" } },
    security: [{ BearerToken: [] }],
  };
}

/** The index keys of every served v3 document (`api`, `api/v1`, `apis`, `apis/apps`, `apis/apps/v1`, …, `version`). */
export function openApiV3Paths(options: OpenApiOptions = {}): string[] {
  return [...v3Documents(options.resources ?? BUILTIN_RESOURCES).keys()];
}
