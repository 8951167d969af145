/**
 * The REST client every component uses to reach the API server (client-go's rest.RESTClient plus the
 * dynamic client's per-resource interface). One keep-alive HTTPS agent per client bounds the sockets
 * it opens; every request has a timeout; errors come back as ApiError rebuilt from the server's
 * metav1.Status, so callers test `err.reason === "NotFound"` exactly as on the server side.
 */
import { Agent, request as httpsRequest } from "node:https";
import { createSecureContext } from "node:tls";
import type { IncomingMessage } from "node:http";
import type { DeleteOptions, ListMeta, ObjectMeta, Preconditions } from "kubernetes-types/meta/v1.js";
import { ApiError, type Status, type StatusReason } from "../api/status.js";
import { findResource, findResourceByKind, groupVersionString, type ResourceInfo } from "../api/resources.js";
import type { RestConfig } from "./kubeconfig.js";
import { HttpWatchStream, type WatchStream } from "./watch.js";

/** Default per-request timeout (client-go leaves it to callers; controllers use 30 s-ish contexts). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Sockets one client keeps open for ordinary requests; more requests wait for a free socket. */
export const REQUEST_SOCKETS_MAX = 64;
/** Sockets for watches: each watch holds one for its whole life, so they get their own pool. */
export const WATCH_SOCKETS_MAX = 256;
/** The largest response body read into memory (a full list of a big resource). */
export const RESPONSE_BYTES_MAX = 256 * 1024 * 1024;

/** A request that did not finish within its timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Absolute API path: /api/v1/namespaces/default/pods */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Sent as JSON unless it is already a string. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export interface RestClientOptions {
  readonly timeoutMs?: number;
  readonly socketsMax?: number;
}

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** The ApiError a Status stands for (also used for watch ERROR events). */
export function apiErrorFromStatus(status: Partial<Status>, httpCode: number): ApiError {
  const code = typeof status.code === "number" && status.code !== 0 ? status.code : httpCode;
  const reason = (status.reason as StatusReason | undefined) ?? REASON_BY_CODE[code] ?? "Unknown";
  const message = status.message ?? `the server responded with the status code ${code} but did not return more information`;
  return new ApiError(reason, code, message, status.details);
}

function isStatus(v: unknown): v is Status {
  return v !== null && typeof v === "object" && (v as { kind?: unknown }).kind === "Status";
}

function queryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (query === undefined) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

/** Talks HTTPS + JSON to one API server. */
export class RestClient {
  readonly config: RestConfig;
  readonly #agent: Agent;
  readonly #watchAgent: Agent;
  readonly #timeoutMs: number;
  readonly #base: URL;

  constructor(config: RestConfig, options: RestClientOptions = {}) {
    this.config = config;
    this.#base = new URL(config.server);
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    // One TLS context for every connection: without it each new socket parses the CA, certificate and
    // key again (the agent would pass them to tls.connect, which builds a context per call).
    const secureContext = createSecureContext({
      ...(config.ca === undefined ? {} : { ca: config.ca }),
      ...(config.cert === undefined ? {} : { cert: config.cert }),
      ...(config.key === undefined ? {} : { key: config.key }),
    });
    const tls = { secureContext, rejectUnauthorized: config.insecureSkipTlsVerify !== true };
    const socketsMax = options.socketsMax ?? REQUEST_SOCKETS_MAX;
    // Idle sockets are all kept (the server closes them when it wants): a burst of requests would
    // otherwise open, and handshake, most of its sockets again each time (client-go's transport keeps
    // MaxIdleConnsPerHost sockets for the same reason).
    this.#agent = new Agent({ ...tls, keepAlive: true, maxSockets: socketsMax, maxFreeSockets: socketsMax });
    this.#watchAgent = new Agent({ ...tls, keepAlive: false, maxSockets: WATCH_SOCKETS_MAX });
  }

  /** The client for one resource by plural name: `resource("apps", "v1", "deployments")`. */
  resource<T extends KubeObject = KubeObject>(group: string, version: string, resource: string): ResourceClient<T> {
    const info = findResource(group, version, resource);
    if (info === undefined) throw new Error(`Cannot find resource ${resource} in ${groupVersionString(group, version)}: not a served resource`);
    return new ResourceClient<T>(this, info, undefined);
  }

  /** The client for the resource serving a kind: `resourceForKind("apps/v1", "Deployment")`. */
  resourceForKind<T extends KubeObject = KubeObject>(apiVersion: string, kind: string): ResourceClient<T> {
    const slash = apiVersion.indexOf("/");
    const [group, version] = slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const info = findResourceByKind(group, version, kind);
    if (info === undefined) throw new Error(`Cannot find a resource for kind ${kind} in ${apiVersion}: not a served kind`);
    return new ResourceClient<T>(this, info, undefined);
  }

  #headers(opts: { contentType?: string; hasBody: boolean; bodyBytes: number }): Record<string, string | number> {
    const h: Record<string, string | number> = { Accept: "application/json", "User-Agent": this.config.userAgent };
    if (this.config.token !== undefined) h.Authorization = `Bearer ${this.config.token}`;
    if (opts.hasBody) {
      h["Content-Type"] = opts.contentType ?? "application/json";
      h["Content-Length"] = opts.bodyBytes;
    }
    return h;
  }

  /** One request; resolves with the decoded JSON body, rejects with ApiError for a non-2xx status. */
  request<T = unknown>(o: RequestOptions): Promise<T> {
    const body = o.body === undefined ? undefined : Buffer.from(typeof o.body === "string" ? o.body : JSON.stringify(o.body), "utf8");
    const timeoutMs = o.timeoutMs ?? this.#timeoutMs;
    const what = `${o.method} ${o.path}`;
    return new Promise<T>((resolve, reject) => {
      const req = httpsRequest(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          method: o.method,
          path: o.path + queryString(o.query),
          agent: this.#agent,
          headers: this.#headers({ contentType: o.contentType, hasBody: body !== undefined, bodyBytes: body?.length ?? 0 }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on("data", (c: Buffer) => {
            bytes += c.length;
            if (bytes > RESPONSE_BYTES_MAX) {
              req.destroy(new Error(`Cannot read the response to ${what}: larger than ${RESPONSE_BYTES_MAX} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let decoded: unknown = undefined;
            if (text !== "") {
              try {
                decoded = JSON.parse(text);
              } catch {
                decoded = undefined;
              }
            }
            const code = res.statusCode ?? 0;
            if (code < 200 || code > 299) {
              reject(apiErrorFromStatus(isStatus(decoded) ? decoded : { message: text.trim() === "" ? undefined : text.trim() }, code));
              return;
            }
            if (decoded === undefined && text !== "") {
              reject(new Error(`Cannot decode the response to ${what}: not JSON`));
              return;
            }
            resolve(decoded as T);
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new RequestTimeoutError(`Cannot ${what}: no response within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Opens a watch (`?watch=true`); rejects with ApiError when the server refuses it with a status. */
  watch<T>(path: string, query: Readonly<Record<string, QueryValue>>): Promise<WatchStream<T>> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          method: "GET",
          path: path + queryString({ ...query, watch: true }),
          agent: this.#watchAgent,
          headers: this.#headers({ hasBody: false, bodyBytes: 0 }),
        },
        (res: IncomingMessage) => {
          const code = res.statusCode ?? 0;
          if (code !== 200) {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              let decoded: unknown;
              try {
                decoded = JSON.parse(Buffer.concat(chunks).toString("utf8"));
              } catch {
                decoded = undefined;
              }
              reject(apiErrorFromStatus(isStatus(decoded) ? decoded : {}, code));
            });
            return;
          }
          resolve(new HttpWatchStream<T>(res, () => req.destroy()));
        },
      );
      // Only the time to the response headers is bounded here; the watch then lives for timeoutSeconds.
      const timer = setTimeout(() => req.destroy(new RequestTimeoutError(`Cannot watch ${path}: no response within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      timer.unref();
      req.on("response", () => clearTimeout(timer));
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  /** Closes idle sockets and every open watch connection. */
  close(): void {
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }
}

/** What every object has: enough to key, version and list it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: "Exact" | "NotOlderThan";
  readonly timeoutMs?: number;
}

export interface WatchOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly timeoutSeconds?: number;
}

export interface WriteOptions {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
  readonly fieldValidation?: "Ignore" | "Warn" | "Strict";
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take fields other managers own. */
  readonly force?: boolean;
  readonly subresource?: string;
}

export interface DeleteOpts {
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: Preconditions;
  readonly dryRun?: boolean;
}

/** Operations on one resource, cluster-wide or in one namespace (`.namespace("default")`). */
export class ResourceClient<T extends KubeObject = KubeObject> {
  constructor(
    readonly client: RestClient,
    readonly info: ResourceInfo,
    readonly namespaceName: string | undefined,
  ) {}

  /** The same resource, scoped to one namespace. */
  namespace(ns: string): ResourceClient<T> {
    if (!this.info.namespaced) throw new Error(`Cannot scope ${this.info.resource} to namespace "${ns}": it is cluster-scoped`);
    return new ResourceClient<T>(this.client, this.info, ns);
  }

  #collectionPath(ns: string | undefined): string {
    const { group, version, resource, namespaced } = this.info;
    const base = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    return namespaced && ns !== undefined ? `${base}/namespaces/${encodeURIComponent(ns)}/${resource}` : `${base}/${resource}`;
  }

  #objectPath(name: string, ns: string | undefined, subresource?: string): string {
    if (name === "") throw new Error(`Cannot address ${this.info.resource}: resource name may not be empty`);
    if (this.info.namespaced && ns === undefined) throw new Error(`Cannot address ${this.info.resource} "${name}": no namespace given`);
    return `${this.#collectionPath(ns)}/${encodeURIComponent(name)}${subresource === undefined ? "" : `/${subresource}`}`;
  }

  #nsOf(obj: KubeObject): string | undefined {
    if (!this.info.namespaced) return undefined;
    return this.namespaceName ?? obj.metadata?.namespace ?? "default";
  }

  #withTypeMeta(obj: T): T {
    if (obj.kind !== undefined && obj.apiVersion !== undefined) return obj;
    return { ...obj, apiVersion: groupVersionString(this.info.group, this.info.version), kind: this.info.kind };
  }

  get(name: string, options: { resourceVersion?: string } = {}): Promise<T> {
    return this.client.request<T>({ method: "GET", path: this.#objectPath(name, this.namespaceName), query: { resourceVersion: options.resourceVersion } });
  }

  /** One page of the collection; items carry kind/apiVersion (the wire leaves them to the list). */
  async list(options: ListOptions = {}): Promise<ObjectList<T>> {
    const list = await this.client.request<ObjectList<T>>({
      method: "GET",
      path: this.#collectionPath(this.namespaceName),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
      },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    list.items = (list.items ?? []).map((o) => this.#withTypeMeta(o));
    return list;
  }

  watch(options: WatchOptions = {}): Promise<WatchStream<T>> {
    return this.client.watch<T>(this.#collectionPath(this.namespaceName), {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks,
      timeoutSeconds: options.timeoutSeconds,
    });
  }

  create(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: "POST", path: this.#collectionPath(this.#nsOf(obj)), query: writeQuery(options), body: this.#withTypeMeta(obj) });
  }

  update(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: "PUT", path: this.#objectPath(nameOf(obj), this.#nsOf(obj)), query: writeQuery(options), body: this.#withTypeMeta(obj) });
  }

  updateStatus(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ method: "PUT", path: this.#objectPath(nameOf(obj), this.#nsOf(obj), "status"), query: writeQuery(options), body: this.#withTypeMeta(obj) });
  }

  /** A patch of the given type; `apply` is server-side apply and needs a fieldManager. */
  patch(name: string, type: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    if (type === "apply" && options.fieldManager === undefined) throw new Error("Cannot apply: fieldManager is required for apply patch");
    return this.client.request<T>({
      method: "PATCH",
      path: this.#objectPath(name, this.namespaceName, options.subresource),
      query: { ...writeQuery(options), force: type === "apply" ? options.force : undefined },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  /** Deletes one object; resolves with what the server returned (the object while finalizers run, else a Status). */
  delete(name: string, options: DeleteOpts = {}): Promise<T | Status> {
    return this.client.request<T | Status>({ method: "DELETE", path: this.#objectPath(name, this.namespaceName), body: deleteBody(options) });
  }

  deleteCollection(listOptions: Pick<ListOptions, "labelSelector" | "fieldSelector"> = {}, options: DeleteOpts = {}): Promise<unknown> {
    return this.client.request({
      method: "DELETE",
      path: this.#collectionPath(this.namespaceName),
      query: { labelSelector: listOptions.labelSelector, fieldSelector: listOptions.fieldSelector },
      body: deleteBody(options),
    });
  }

  getSubresource<S = unknown>(name: string, subresource: string): Promise<S> {
    return this.client.request<S>({ method: "GET", path: this.#objectPath(name, this.namespaceName, subresource) });
  }

  createSubresource<S = unknown>(name: string, subresource: string, body: unknown, options: WriteOptions = {}): Promise<S> {
    return this.client.request<S>({ method: "POST", path: this.#objectPath(name, this.namespaceName, subresource), query: writeQuery(options), body });
  }

  updateSubresource<S = unknown>(name: string, subresource: string, body: unknown, options: WriteOptions = {}): Promise<S> {
    return this.client.request<S>({ method: "PUT", path: this.#objectPath(name, this.namespaceName, subresource), query: writeQuery(options), body });
  }

  /** pods/binding: assigns a pod to a node (what the scheduler's Bind does). */
  bind(name: string, nodeName: string, options: { uid?: string } = {}): Promise<unknown> {
    const binding = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, ...(this.namespaceName === undefined ? {} : { namespace: this.namespaceName }), ...(options.uid === undefined ? {} : { uid: options.uid }) },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    };
    return this.createSubresource(name, "binding", binding);
  }

  /** pods/eviction: a delete that honours PodDisruptionBudgets (429 when a budget forbids it). */
  evict(name: string, deleteOptions: DeleteOpts = {}): Promise<unknown> {
    const eviction = {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, ...(this.namespaceName === undefined ? {} : { namespace: this.namespaceName }) },
      deleteOptions: deleteBody(deleteOptions),
    };
    return this.createSubresource(name, "eviction", eviction);
  }

  getScale(name: string): Promise<Scale> {
    return this.getSubresource<Scale>(name, "scale");
  }

  updateScale(name: string, scale: Scale): Promise<Scale> {
    return this.updateSubresource<Scale>(name, "scale", scale);
  }
}

/** autoscaling/v1 Scale. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObject["metadata"];
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (name === undefined || name === "") throw new Error("Cannot write an object without metadata.name");
  return name;
}

function writeQuery(o: WriteOptions): Record<string, QueryValue> {
  return { fieldManager: o.fieldManager, dryRun: o.dryRun === true ? "All" : undefined, fieldValidation: o.fieldValidation };
}

function deleteBody(o: DeleteOpts): DeleteOptions {
  return {
    apiVersion: "v1",
    kind: "DeleteOptions",
    ...(o.propagationPolicy === undefined ? {} : { propagationPolicy: o.propagationPolicy }),
    ...(o.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: o.gracePeriodSeconds }),
    ...(o.preconditions === undefined ? {} : { preconditions: o.preconditions }),
    ...(o.dryRun === true ? { dryRun: ["All"] } : {}),
  } as DeleteOptions;
}
