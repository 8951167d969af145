/**
 * REST handlers for resource requests (upstream's endpoints/handlers): get, list, watch, create,
 * update, patch (all four kinds), delete, deletecollection, and the subresources status, scale,
 * binding, eviction and finalize. Each decodes and checks its input, calls the store, and encodes
 * the answer; errors propagate as ApiError and become a Status in one place (the server).
 */
import { formatTime } from "../api/time.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { stringify as stringifyYaml } from "yaml";
import { ApiError, badRequest, type Status } from "../api/status.js";
import { findResource, groupVersionString, type ResourceInfo } from "../api/resources.js";
import { decodeBody, mediaType, readBody } from "./http/body.js";
import { duplicateFields } from "./http/duplicate_fields.js";
import { negotiate, type Negotiated } from "./http/negotiation.js";
import type { Machinery, PatchKind } from "./machinery.js";
import type { RequestInfo } from "./request/request_info.js";
import { deepCopy, type KubeObject } from "./registry/codec.js";
import type { DeleteOptions, ResourceStore, WatchEventType, WriteContext } from "./registry/store.js";
import type { UserInfo } from "./auth/authenticator.js";
import { fromLabelSelectorObject, matchesLabels } from "./selectors/label_selector.js";
import { TOKEN_EXPIRATION_DEFAULT_S, TOKEN_EXPIRATION_MIN_S, SERVICE_ACCOUNT_ISSUER, type ServiceAccountTokens } from "./serviceaccount/token_issuer.js";

/** Bytes a watch response may have queued for a slow client before the server ends it (the client relists). */
export const WATCH_BUFFER_BYTES_MAX = 32 * 1024 * 1024;
/** Upstream's --min-request-timeout: a watch without timeoutSeconds lasts 1800–3600 s. */
const WATCH_TIMEOUT_MIN_S = 1800;
/** Upper bound of `?limit=` (keeps one page's work bounded). */
const LIST_LIMIT_MAX = 100_000;

const BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
/** Watch lines already serialized, per shared event object (see the store's decoded-event sharing). */
const encodedEvents = new WeakMap<KubeObject, Map<string, string>>();
const PATCH_TYPES: Record<string, PatchKind> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+cbor": "apply",
};

export interface HandlerContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly info: RequestInfo;
  readonly query: URLSearchParams;
  readonly resource: ResourceInfo;
  readonly store: ResourceStore;
  readonly stores: (group: string, resource: string) => ResourceStore | undefined;
  readonly machinery: Machinery;
  readonly now: () => Date;
  readonly bookmarkIntervalMs: number;
  readonly onWatchStart: () => () => void;
  /** The authenticated requester. */
  readonly user?: UserInfo;
  /** Issues ServiceAccount tokens (serviceaccounts/token); absent when the server has no signing key. */
  readonly tokens?: ServiceAccountTokens;
}

/** Writes a JSON (or YAML) object with the status code. */
export function writeObject(res: ServerResponse, code: number, obj: unknown, contentType: string = "application/json"): void {
  const body = contentType.startsWith("application/yaml") ? stringifyYaml(obj) : JSON.stringify(obj);
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function successStatus(details: Record<string, unknown>, code = 200): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code } as unknown as Status;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0" || v === "") return false;
  throw badRequest(`Invalid value for ${name}: "${v}" is not a boolean`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`Invalid value for ${name}: "${v}" is not an integer`);
  return Number(v);
}

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values) if (v !== "All") throw badRequest(`Invalid dry run value: dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

type FieldValidation = "Strict" | "Warn" | "Ignore";

/** The options kind a write's query parameters are validated as. */
const OPTIONS_KIND: Record<string, string> = { create: "CreateOptions", update: "UpdateOptions", patch: "PatchOptions" };

function fieldValidationOf(q: URLSearchParams, verb: string): FieldValidation {
  const v = q.get("fieldValidation") ?? "";
  if (v === "") return "Warn";
  if (v !== "Strict" && v !== "Warn" && v !== "Ignore") {
    const kind = OPTIONS_KIND[verb] ?? "CreateOptions";
    const detail = `Unsupported value: "${v}": supported values: "", "Ignore", "Strict", "Warn"`;
    throw new ApiError("Invalid", 422, `${kind}.meta.k8s.io "" is invalid: fieldValidation: ${detail}`, {
      group: "meta.k8s.io",
      kind,
      causes: [{ reason: "FieldValueNotSupported", message: detail, field: "fieldValidation" }],
    });
  }
  return v;
}

/** kubectl names its field managers itself; other clients are named after their user agent's product token. */
function managerOf(req: IncomingMessage, q: URLSearchParams): string {
  const m = q.get("fieldManager");
  if (m !== null && m !== "") {
    if (m.length > 128) throw badRequest("fieldManager: Too long: may not be longer than 128");
    return m;
  }
  const ua = req.headers["user-agent"] ?? "unknown";
  return ua.split("/")[0]!.trim().slice(0, 128) || "unknown";
}

function writeContext(h: HandlerContext): WriteContext {
  return { dryRun: dryRunOf(h.query), now: h.now(), manager: managerOf(h.req, h.query), warnings: [], ...(h.user === undefined ? {} : { user: h.user }) };
}

function setWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    "Warning",
    warnings.map((w) => `299 - "${w.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`),
  );
}

/** Checks a decoded body is an object of this resource's kind and version. */
function checkKind(h: HandlerContext, body: unknown, expect: { group: string; version: string; kind: string } = h.resource): KubeObject {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("the body of the request is not a JSON object");
  const obj = body as KubeObject;
  const gv = groupVersionString(expect.group, expect.version);
  if (obj.kind !== undefined && obj.kind !== expect.kind) {
    const internal = expect.group === "" ? "core" : expect.group.split(".")[0];
    const version = String(obj.apiVersion ?? gv).split("/").pop();
    throw badRequest(`${String(obj.kind)} in version "${version}" cannot be handled as a ${expect.kind}: converting (${version}.${String(obj.kind)}) to (${internal}.${expect.kind}): unknown conversion`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`);
  }
  if (obj.metadata !== undefined && (obj.metadata === null || typeof obj.metadata !== "object" || Array.isArray(obj.metadata))) {
    throw badRequest(`${expect.kind} in version "${expect.version}" cannot be handled as a ${expect.kind}: metadata must be an object`);
  }
  return obj;
}

/**
 * Strict / Warn / Ignore for fields the schema does not know and keys given twice (upstream's strict
 * decoding errors). Under Warn and Ignore the unknown fields are dropped, as upstream's typed decoding
 * drops them: they are never stored. `raw` is the JSON text, when the body was JSON.
 */
function checkUnknownFields(h: HandlerContext, obj: KubeObject, mode: FieldValidation, warnings: string[], raw?: string): void {
  if (isProtobuf(h)) return;
  const unknown = h.machinery.unknownFields(h.resource, obj);
  const duplicates = raw === undefined || mode === "Ignore" ? [] : duplicateFields(raw);
  if (unknown.length > 0) h.machinery.pruneUnknownFields(h.resource, obj);
  if (mode === "Ignore") return;
  const problems = [...duplicates.map((f) => `duplicate field "${f}"`), ...unknown.map((f) => `unknown field "${f}"`)];
  if (problems.length === 0) return;
  if (mode === "Warn") {
    warnings.push(...problems);
    return;
  }
  throw badRequest(`${h.resource.kind} in version "${h.resource.version}" cannot be handled as a ${h.resource.kind}: strict decoding error: ${problems.join(", ")}`);
}

const PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf";

/** Whether the request body is protobuf (whose unknown fields upstream never reports). */
function isProtobuf(h: HandlerContext): boolean {
  return mediaType(h.req.headers["content-type"]) === PROTOBUF_TYPE;
}

/** The JSON text of the last body read, for duplicate-key checks (null when not JSON). */
const bodyText = new WeakMap<IncomingMessage, string>();

async function readObjectBody(h: HandlerContext, expect: { group: string; version: string; kind: string } = h.resource): Promise<unknown> {
  const body = await readBody(h.req);
  if (isProtobuf(h)) return h.machinery.decodeProtobuf(body, expect);
  const value = decodeBody(body, h.req.headers["content-type"], BODY_TYPES, expect.kind);
  if (mediaType(h.req.headers["content-type"]) !== "application/yaml") bodyText.set(h.req, body.toString("utf8"));
  return value;
}

/** Serves one resource request; throws ApiError for the server to turn into a Status. */
export async function handleResource(h: HandlerContext): Promise<void> {
  const { info } = h;
  const sub = info.subresource;
  if (sub !== "" && !h.resource.subresources.some((s) => s.name === sub)) {
    throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
  }
  if (info.name === "" && (info.verb === "update" || info.verb === "patch")) {
    throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  }
  if (sub === "" && !h.resource.verbs.includes(info.verb as never)) {
    throw new ApiError("MethodNotAllowed", 405, `${info.verb} is not supported on resources of kind "${h.resource.resource}"`, {});
  }
  if (h.resource.namespaced && info.namespace === "" && info.name !== "" && h.resource.resource !== "namespaces") {
    throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
  }
  switch (sub) {
    case "":
      return handleMain(h);
    case "status":
    case "approval":
    case "finalize":
      return handleStatus(h);
    case "scale":
      return handleScale(h);
    case "binding":
      return handleBinding(h);
    case "eviction":
      return handleEviction(h);
    case "token":
      return handleTokenRequest(h);
    default:
      throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
  }
}

function respondObject(h: HandlerContext, code: number, obj: KubeObject): void {
  const n = negotiate(h.req.headers.accept, true);
  if (n.transform === "table") {
    const table = h.machinery.toTable(h.resource, [obj], { nowMs: h.now().getTime(), includeObject: includeObjectOf(h.query) });
    writeObject(h.res, code, withTableVersion(table, n.transformVersion), transformedType(n, "Table"));
  } else if (n.transform === "partial") {
    writeObject(h.res, code, { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${n.transformVersion}`, metadata: obj.metadata }, transformedType(n, "PartialObjectMetadata"));
  } else writeObject(h.res, code, obj, n.contentType);
}

/** The response media type of a transformed object, naming what it is as upstream does. */
function transformedType(n: Negotiated, as: string): string {
  return `${n.contentType};as=${as};v=${n.transformVersion};g=meta.k8s.io`;
}

function withTableVersion(table: KubeObject, version: string): KubeObject {
  return { ...table, apiVersion: `meta.k8s.io/${version}` };
}

function includeObjectOf(q: URLSearchParams): "None" | "Metadata" | "Object" {
  const v = q.get("includeObject") ?? "Metadata";
  if (v !== "None" && v !== "Metadata" && v !== "Object") throw badRequest(`includeObject: Unsupported value: "${v}": supported values: "Metadata", "None", "Object"`);
  return v;
}

async function handleMain(h: HandlerContext): Promise<void> {
  const { info, store, query } = h;
  switch (info.verb) {
    case "get": {
      respondObject(h, 200, await store.get(info.namespace, info.name));
      return;
    }
    case "list":
      return handleList(h);
    case "watch":
      return handleWatch(h);
    case "create": {
      const ctx = writeContext(h);
      const obj = checkKind(h, await readObjectBody(h));
      checkUnknownFields(h, obj, fieldValidationOf(query, info.verb), ctx.warnings, bodyText.get(h.req));
      const namespace = h.resource.namespaced ? info.namespace : "";
      if (h.resource.namespaced && namespace === "") throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      const created = await store.create(namespace, obj, ctx);
      setWarnings(h.res, ctx.warnings);
      respondObject(h, 201, created);
      return;
    }
    case "update": {
      const ctx = writeContext(h);
      const obj = checkKind(h, await readObjectBody(h));
      checkUnknownFields(h, obj, fieldValidationOf(query, info.verb), ctx.warnings, bodyText.get(h.req));
      const updated = await store.update(info.namespace, info.name, obj, ctx);
      setWarnings(h.res, ctx.warnings);
      respondObject(h, 200, updated);
      return;
    }
    case "patch":
      return handlePatch(h, "");
    case "delete":
      return handleDelete(h);
    case "deletecollection":
      return handleDeleteCollection(h);
    default:
      throw new ApiError("MethodNotAllowed", 405, `the server does not allow this method on the requested resource`, {});
  }
}

function listQuery(q: URLSearchParams) {
  const limit = intParam(q, "limit");
  if (limit !== undefined && (limit < 0 || limit > LIST_LIMIT_MAX)) {
    if (limit < 0) throw badRequest(`Cannot list: limit must be >= 0: current value is ${limit}`);
  }
  return {
    labelSelector: q.get("labelSelector") ?? undefined,
    fieldSelector: q.get("fieldSelector") ?? undefined,
    limit: limit === undefined ? 0 : Math.min(limit, LIST_LIMIT_MAX),
    continue: q.get("continue") ?? undefined,
    resourceVersion: q.get("resourceVersion") ?? undefined,
    resourceVersionMatch: q.get("resourceVersionMatch") ?? undefined,
  };
}

async function handleList(h: HandlerContext): Promise<void> {
  const n = negotiate(h.req.headers.accept, true);
  const result = await h.store.list(h.info.namespace, listQuery(h.query));
  const listMeta = {
    resourceVersion: result.resourceVersion,
    ...(result.continue === undefined ? {} : { continue: result.continue }),
    ...(result.remainingItemCount === undefined ? {} : { remainingItemCount: result.remainingItemCount }),
  };
  if (n.transform === "table") {
    const table = h.machinery.toTable(h.resource, result.items, { nowMs: h.now().getTime(), includeObject: includeObjectOf(h.query), listMeta });
    writeObject(h.res, 200, withTableVersion(table, n.transformVersion), transformedType(n, "Table"));
    return;
  }
  if (n.transform === "partial") {
    writeObject(
      h.res,
      200,
      {
        kind: "PartialObjectMetadataList",
        apiVersion: `meta.k8s.io/${n.transformVersion}`,
        metadata: listMeta,
        items: result.items.map((o) => ({ kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${n.transformVersion}`, metadata: o.metadata })),
      },
      transformedType(n, "PartialObjectMetadataList"),
    );
    return;
  }
  // Items of a list carry no kind/apiVersion on the wire: the list's own say what they are.
  const items = result.items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  writeObject(h.res, 200, { kind: h.resource.listKind, apiVersion: groupVersionString(h.resource.group, h.resource.version), metadata: listMeta, items }, n.contentType);
}

async function handleWatch(h: HandlerContext): Promise<void> {
  const n = negotiate(h.req.headers.accept, true);
  const { res, req, query } = h;
  const timeoutS = intParam(query, "timeoutSeconds") ?? WATCH_TIMEOUT_MIN_S * (1 + Math.random());
  let closed = false;
  let firstTable = true;
  const done = h.onWatchStart();
  const includeObject = includeObjectOf(query);
  const encode = (type: WatchEventType, object: KubeObject): string => {
    let o = object;
    if (type !== "ERROR" && type !== "BOOKMARK") {
      if (n.transform === "table") {
        o = withTableVersion(
          h.machinery.toTable(h.resource, [object], { nowMs: h.now().getTime(), includeObject, noHeaders: !firstTable }),
          n.transformVersion,
        );
        firstTable = false;
      } else if (n.transform === "partial") {
        o = { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${n.transformVersion}`, metadata: object.metadata };
      }
    }
    if (o === object && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
      // The same event object reaches every watcher of the resource: serialize it once per type.
      const key = `${type}`;
      let lines = encodedEvents.get(object);
      if (lines === undefined) encodedEvents.set(object, (lines = new Map()));
      let line = lines.get(key);
      if (line === undefined) lines.set(key, (line = JSON.stringify({ type, object: o }) + "\n"));
      return line;
    }
    return JSON.stringify({ type, object: o }) + "\n";
  };
  let handle: { stop(): void; bookmark(): void } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let bookmarks: NodeJS.Timeout | null = null;
  const close = () => {
    if (closed) return;
    closed = true;
    handle?.stop();
    if (timer !== null) clearTimeout(timer);
    if (bookmarks !== null) clearInterval(bookmarks);
    done();
    res.end();
  };
  const sink = {
    send(type: WatchEventType, object: KubeObject) {
      if (closed) return;
      res.write(encode(type, object));
      if (res.writableLength > WATCH_BUFFER_BYTES_MAX) close();
    },
    close,
  };
  res.writeHead(200, { "Content-Type": n.contentType === "application/json" ? "application/json" : n.contentType, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
  res.flushHeaders();
  req.on("close", close);
  res.on("error", close);
  try {
    handle = await h.store.watch(h.info.namespace, {
      labelSelector: query.get("labelSelector") ?? undefined,
      fieldSelector: query.get("fieldSelector") ?? undefined,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      allowWatchBookmarks: boolParam(query, "allowWatchBookmarks") ?? false,
      sendInitialEvents: boolParam(query, "sendInitialEvents"),
    }, sink);
  } catch (err) {
    if (err instanceof ApiError) {
      sink.send("ERROR", err.toStatus() as unknown as KubeObject);
      close();
      return;
    }
    close();
    throw err;
  }
  if (closed) {
    handle.stop();
    return;
  }
  timer = setTimeout(close, Math.max(0, timeoutS) * 1000);
  bookmarks = setInterval(() => handle?.bookmark(), h.bookmarkIntervalMs);
}

async function handlePatch(h: HandlerContext, subresource: string): Promise<void> {
  const { info, store, query, req } = h;
  const type = mediaType(req.headers["content-type"]);
  const kind = PATCH_TYPES[type];
  if (kind === undefined) {
    throw new ApiError(
      "UnsupportedMediaType",
      415,
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`,
    );
  }
  const raw = (await readBody(req)).toString("utf8");
  const ctx = writeContext(h);
  const mode = fieldValidationOf(query, info.verb);
  if (kind === "apply") {
    let patch: unknown;
    try {
      patch = parseYaml(raw, { strict: true, uniqueKeys: true, maxAliasCount: 100 });
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    const force = boolParam(query, "force") ?? false;
    if (query.get("fieldManager") === null || query.get("fieldManager") === "") {
      throw new ApiError("Invalid", 422, `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`, {
        group: "meta.k8s.io",
        kind: "PatchOptions",
        causes: [{ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" }],
      });
    }
    const config = checkKind(h, patch);
    if (config.metadata?.name !== undefined && config.metadata.name !== info.name) {
      throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${info.name})`);
    }
    checkUnknownFields(h, config, mode, ctx.warnings);
    let result: KubeObject;
    try {
      // Apply records its own managedFields entry; the store must not add an Update entry on top.
      result = await store.guaranteedUpdate(info.namespace, info.name, { ...ctx, manager: "" }, subresource, async (current) =>
        h.machinery.applyConfiguration(h.resource, current, config, { manager: ctx.manager, force, now: ctx.now }),
      );
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404 || subresource !== "") throw err;
      // Apply creates what does not exist yet.
      const created = h.machinery.applyConfiguration(h.resource, null, { ...deepCopy(config), metadata: { ...(config.metadata ?? {}), name: info.name } }, {
        manager: ctx.manager,
        force,
        now: ctx.now,
      });
      const obj = await store.create(h.resource.namespaced ? info.namespace : "", created, { ...ctx, manager: "" });
      setWarnings(h.res, ctx.warnings);
      respondObject(h, 201, obj);
      return;
    }
    setWarnings(h.res, ctx.warnings);
    respondObject(h, 200, result);
    return;
  }
  const result = await store.guaranteedUpdate(info.namespace, info.name, ctx, subresource, async (current) => {
    const patched = h.machinery.applyPatch(kind, h.resource, current, raw);
    if (patched === null || typeof patched !== "object" || Array.isArray(patched)) throw badRequest("the patch produced a value that is not an object");
    checkKind(h, patched);
    checkUnknownFields(h, patched, mode, ctx.warnings);
    if (patched.metadata?.name !== undefined && patched.metadata.name !== info.name) {
      throw badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${info.name})`);
    }
    // A patch without a resourceVersion applies to whatever is current.
    if (patched.metadata?.resourceVersion === undefined || patched.metadata.resourceVersion === "") {
      patched.metadata = { ...(patched.metadata ?? {}), resourceVersion: current.metadata.resourceVersion };
    }
    return patched;
  });
  setWarnings(h.res, ctx.warnings);
  respondObject(h, 200, result);
}

async function deleteOptionsOf(h: HandlerContext): Promise<DeleteOptions> {
  const body = await readBody(h.req);
  let opts: DeleteOptions = {};
  if (body.length > 0 && body.toString("utf8").trim() !== "") {
    const decoded = isProtobuf(h)
      ? h.machinery.decodeProtobuf(body, { group: "meta.k8s.io", version: "v1", kind: "DeleteOptions" })
      : decodeBody(body, h.req.headers["content-type"], BODY_TYPES);
    if (decoded === null || typeof decoded !== "object" || Array.isArray(decoded)) throw badRequest("the body of the request is not a DeleteOptions object");
    opts = decoded as DeleteOptions;
    const kind = (decoded as KubeObject).kind;
    if (kind !== undefined && kind !== "DeleteOptions") throw badRequest(`expected DeleteOptions, got ${String(kind)}`);
  }
  const grace = intParam(h.query, "gracePeriodSeconds");
  const policy = h.query.get("propagationPolicy");
  const orphan = boolParam(h.query, "orphanDependents");
  return {
    ...opts,
    ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
    ...(policy === null ? {} : { propagationPolicy: policy }),
    ...(orphan === undefined ? {} : { orphanDependents: orphan }),
  };
}

async function handleDelete(h: HandlerContext): Promise<void> {
  const opts = await deleteOptionsOf(h);
  const ctx = writeContext(h);
  if ((opts as { dryRun?: string[] }).dryRun?.includes("All")) (ctx as { dryRun: boolean }).dryRun = true;
  const result = await h.store.delete(h.info.namespace, h.info.name, opts, ctx);
  const code = result.deleted || ctx.dryRun ? 200 : 202;
  if (h.store.strategy.returnDeletedObject || !result.deleted) {
    respondObject(h, code, result.object);
    return;
  }
  writeObject(h.res, code, successStatus({
    name: h.info.name,
    ...(h.resource.group === "" ? {} : { group: h.resource.group }),
    kind: h.resource.resource,
    uid: result.object.metadata?.uid,
  }));
}

async function handleDeleteCollection(h: HandlerContext): Promise<void> {
  const opts = await deleteOptionsOf(h);
  const ctx = writeContext(h);
  const listed = await h.store.list(h.info.namespace, { ...listQuery(h.query), limit: 0, continue: undefined });
  const deleted: KubeObject[] = [];
  for (const obj of listed.items) {
    try {
      const r = await h.store.delete(obj.metadata.namespace ?? "", obj.metadata.name, opts, ctx);
      deleted.push(r.object);
    } catch (err) {
      // Deleted by someone else meanwhile: that is what was asked.
      if (err instanceof ApiError && err.code === 404) continue;
      throw err;
    }
  }
  const items = deleted.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  writeObject(h.res, 200, { kind: h.resource.listKind, apiVersion: groupVersionString(h.resource.group, h.resource.version), metadata: { resourceVersion: listed.resourceVersion }, items });
}

// ---- subresources ----

async function handleStatus(h: HandlerContext): Promise<void> {
  const { info, store, query } = h;
  const sub = info.subresource;
  if (sub === "finalize") {
    if (info.verb !== "update") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
    const ctx = writeContext(h);
    const obj = checkKind(h, await readObjectBody(h));
    const result = await store.guaranteedUpdate("", info.name, ctx, "finalize", async (current) => {
      const next = deepCopy(current);
      next.spec = { ...(next.spec ?? {}), finalizers: obj.spec?.finalizers ?? [] };
      if (obj.metadata?.resourceVersion) next.metadata.resourceVersion = obj.metadata.resourceVersion;
      return next;
    });
    respondObject(h, 200, result);
    return;
  }
  switch (info.verb) {
    case "get":
      respondObject(h, 200, await store.get(info.namespace, info.name));
      return;
    case "update": {
      const ctx = writeContext(h);
      const obj = checkKind(h, await readObjectBody(h));
      checkUnknownFields(h, obj, fieldValidationOf(query, info.verb), ctx.warnings);
      if (obj.metadata?.name !== undefined && obj.metadata.name !== info.name) {
        throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`);
      }
      const wanted = obj.metadata?.resourceVersion;
      const result = await store.guaranteedUpdate(info.namespace, info.name, ctx, sub, async (current) => {
        const next = deepCopy(obj);
        next.metadata = { ...(next.metadata ?? {}), name: info.name };
        if (wanted === undefined || wanted === "") next.metadata.resourceVersion = current.metadata.resourceVersion;
        return next;
      });
      setWarnings(h.res, ctx.warnings);
      respondObject(h, 200, result);
      return;
    }
    case "patch":
      return handlePatch(h, sub);
    default:
      throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  }
}

/** The label selector of a scalable object, as the Scale's status.selector string. */
function selectorString(obj: KubeObject): string {
  const sel = obj.spec?.selector;
  if (sel === undefined || sel === null) return "";
  const labels = obj.kind === "ReplicationController" ? { matchLabels: sel } : sel;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of (labels.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.sort().join(",");
}

function toScale(obj: KubeObject): KubeObject {
  const m = obj.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj) },
  };
}

async function handleScale(h: HandlerContext): Promise<void> {
  const { info, store } = h;
  const scaleKind = { group: "autoscaling", version: "v1", kind: "Scale" };
  if (info.verb === "get") {
    writeObject(h.res, 200, toScale(await store.get(info.namespace, info.name)));
    return;
  }
  if (info.verb !== "update" && info.verb !== "patch") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  const ctx = writeContext(h);
  let scale: KubeObject | null = null;
  let patch = "";
  let patchKind: PatchKind | undefined;
  if (info.verb === "update") {
    scale = checkKind(h, await readObjectBody(h, scaleKind), scaleKind);
  } else {
    patchKind = PATCH_TYPES[mediaType(h.req.headers["content-type"])];
    if (patchKind === undefined || patchKind === "apply") {
      throw new ApiError("UnsupportedMediaType", 415, "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
    }
    patch = (await readBody(h.req)).toString("utf8");
  }
  const result = await store.guaranteedUpdate(info.namespace, info.name, ctx, "scale", async (current) => {
    const currentScale = toScale(current);
    const wanted =
      scale ??
      // A Scale has no lists to merge by key: a strategic patch of it is a merge patch.
      (patchKind === "strategic" || patchKind === "merge"
        ? h.machinery.applyPatch("merge", h.resource, currentScale, patch)
        : h.machinery.applyPatch("json", h.resource, currentScale, patch));
    const replicas = wanted.spec?.replicas;
    if (!Number.isSafeInteger(replicas) || replicas < 0) {
      throw new ApiError("Invalid", 422, `Scale.autoscaling "${info.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        name: info.name,
        group: "autoscaling",
        kind: "Scale",
        causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: "spec.replicas" }],
      });
    }
    const next = deepCopy(current);
    next.spec = { ...(next.spec ?? {}), replicas };
    const rv = wanted.metadata?.resourceVersion;
    if (rv !== undefined && rv !== "") next.metadata.resourceVersion = rv;
    return next;
  });
  writeObject(h.res, 200, toScale(result));
}

async function handleBinding(h: HandlerContext): Promise<void> {
  const { info, store } = h;
  if (info.verb !== "create") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  const bindingKind = { group: "", version: "v1", kind: "Binding" };
  const binding = checkKind(h, await readObjectBody(h, bindingKind), bindingKind);
  const nodeName = binding.target?.name;
  if (typeof nodeName !== "string" || nodeName === "") {
    throw new ApiError("Invalid", 422, `Binding "${info.name}" is invalid: target.name: Required value`, {
      name: info.name,
      kind: "Binding",
      causes: [{ reason: "FieldValueRequired", message: "Required value", field: "target.name" }],
    });
  }
  const ctx = writeContext(h);
  await store.guaranteedUpdate(info.namespace, info.name, ctx, "binding", async (pod) => {
    if (pod.metadata.deletionTimestamp !== undefined) {
      throw new ApiError("Conflict", 409, `Operation cannot be fulfilled on pods/binding "${info.name}": pod ${info.name} is being deleted, cannot be assigned to a host`, { name: info.name, kind: "pods/binding" });
    }
    if (pod.spec?.nodeName !== undefined && pod.spec.nodeName !== "") {
      throw new ApiError("Conflict", 409, `Operation cannot be fulfilled on pods/binding "${info.name}": pod ${info.name} is already assigned to node "${pod.spec.nodeName}"`, {
        name: info.name,
        kind: "pods/binding",
      });
    }
    if (binding.metadata?.uid !== undefined && binding.metadata.uid !== pod.metadata.uid) {
      throw new ApiError("Conflict", 409, `Operation cannot be fulfilled on pods/binding "${info.name}": the UID in the binding does not match the pod`, { name: info.name, kind: "pods/binding" });
    }
    pod.spec.nodeName = nodeName;
    if (binding.metadata?.annotations !== undefined) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...binding.metadata.annotations };
    const conditions: KubeObject[] = (pod.status?.conditions ?? []).filter((c: KubeObject) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: formatTime(ctx.now.getTime()) });
    pod.status = { ...(pod.status ?? {}), conditions };
    return pod;
  });
  writeObject(h.res, 201, successStatus({}, 201));
}

/**
 * pods/eviction: the polite delete that honours PodDisruptionBudgets. A budget that has not been
 * processed (status behind its generation) or allows no disruption refuses with 429, as upstream; an
 * allowed eviction takes one disruption from the budget's status before the pod is deleted.
 */
async function handleEviction(h: HandlerContext): Promise<void> {
  const { info, store } = h;
  if (info.verb !== "create") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  const evictionKind = { group: "policy", version: "v1", kind: "Eviction" };
  const eviction = checkKind(h, await readObjectBody(h, evictionKind), evictionKind);
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== info.name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const ctx = writeContext(h);
  const pod = await store.get(info.namespace, info.name);
  const phase = pod.status?.phase;
  const pdbStore = h.stores("policy", "poddisruptionbudgets");
  if (pdbStore !== undefined && phase !== "Succeeded" && phase !== "Failed" && phase !== "Pending" && pod.metadata.deletionTimestamp === undefined) {
    const pdbs = (await pdbStore.list(info.namespace, {})).items.filter((pdb) => {
      const sel = pdb.spec?.selector;
      if (sel === undefined || sel === null) return false;
      return matchesLabels(fromLabelSelectorObject(sel), pod.metadata.labels);
    });
    if (pdbs.length > 1) {
      throw new ApiError("InternalError", 500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    const pdb = pdbs[0];
    if (pdb !== undefined) {
      const tooMany = (cause: string) =>
        new ApiError("TooManyRequests", 429, "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [{ reason: "DisruptionBudget", message: cause }],
        });
      if (Number(pdb.status?.observedGeneration ?? 0) < Number(pdb.metadata.generation ?? 1)) {
        throw tooMany(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`);
      }
      const allowed = Number(pdb.status?.disruptionsAllowed ?? 0);
      if (allowed <= 0) {
        throw tooMany(
          `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently`,
        );
      }
      if (!ctx.dryRun) {
        await pdbStore.guaranteedUpdate(info.namespace, pdb.metadata.name, ctx, "status", async (cur) => {
          if (Number(cur.status?.disruptionsAllowed ?? 0) <= 0) throw tooMany(`The disruption budget ${pdb.metadata.name} needs more healthy pods`);
          cur.status = {
            ...cur.status,
            disruptionsAllowed: Number(cur.status.disruptionsAllowed) - 1,
            disruptedPods: { ...(cur.status.disruptedPods ?? {}), [info.name]: formatTime(ctx.now.getTime()) },
          };
          return cur;
        });
      }
    }
  }
  await store.delete(info.namespace, info.name, (eviction.deleteOptions ?? {}) as DeleteOptions, ctx);
  writeObject(h.res, 201, successStatus({}, 201));
}

/** The store of another resource by group and plural (for handlers that touch two). */
export function storeLookup(stores: ReadonlyMap<string, ResourceStore>): (group: string, resource: string) => ResourceStore | undefined {
  return (group, resource) => {
    const info = [...stores.values()].find((s) => s.info.group === group && s.info.resource === resource);
    return info ?? (findResource(group, "v1", resource) === undefined ? undefined : stores.get(`${group}/v1/${resource}`));
  };
}

/**
 * serviceaccounts/token (TokenRequest): a signed, expiring token for the ServiceAccount, optionally bound
 * to a pod (then deleting the pod revokes it), as `kubectl create token` and the kubelet ask for.
 */
async function handleTokenRequest(h: HandlerContext): Promise<void> {
  const { info, store } = h;
  if (info.verb !== "create") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
  if (h.tokens === undefined) throw new ApiError("ServiceUnavailable", 503, "the API server has no service account signing key configured");
  const kind = { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" };
  const request = checkKind(h, await readObjectBody(h, kind), kind);
  const sa = await store.get(info.namespace, info.name);
  const spec = request.spec ?? {};
  const expirationSeconds = spec.expirationSeconds ?? TOKEN_EXPIRATION_DEFAULT_S;
  const invalid = (field: string, detail: string) =>
    new ApiError("Invalid", 422, `TokenRequest.authentication.k8s.io "${info.name}" is invalid: ${field}: ${detail}`, {
      name: info.name,
      group: "authentication.k8s.io",
      kind: "TokenRequest",
      causes: [{ reason: "FieldValueInvalid", message: detail, field }],
    });
  if (!Number.isSafeInteger(expirationSeconds) || expirationSeconds < TOKEN_EXPIRATION_MIN_S) {
    throw invalid("spec.expirationSeconds", `Invalid value: ${JSON.stringify(expirationSeconds)}: may not specify a duration less than 10 minutes`);
  }
  let boundObject: { kind: "Pod" | "Secret"; name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref !== undefined && ref !== null) {
    if (ref.kind !== "Pod" && ref.kind !== "Secret") throw invalid("spec.boundObjectRef.kind", `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret"`);
    const target = h.stores("", ref.kind === "Pod" ? "pods" : "secrets");
    const obj = await target!.get(info.namespace, String(ref.name ?? ""));
    if (ref.uid !== undefined && ref.uid !== "" && ref.uid !== obj.metadata.uid) {
      throw new ApiError("Conflict", 409, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    boundObject = { kind: ref.kind, name: obj.metadata.name, uid: obj.metadata.uid };
  }
  const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences : [SERVICE_ACCOUNT_ISSUER];
  const issued = await h.tokens.issue(
    { namespace: info.namespace, name: info.name, uid: sa.metadata.uid, ...(boundObject === undefined ? {} : { boundObject }) },
    { audiences, expirationSeconds },
  );
  writeObject(h.res, 201, {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { name: info.name, namespace: info.namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
  });
}
