/**
 * kube-apiserver: HTTPS with client-certificate and bearer-token authentication, the request filters
 * of upstream's handler chain (authentication → in-flight limit → authorization → routing), health
 * and metrics endpoints, discovery, OpenAPI, and the REST handlers over one store per resource.
 */
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ApiError, badRequest, internalError } from "../api/status.js";
import { BUILTIN_RESOURCES, findResource, type ResourceInfo } from "../api/resources.js";
import type { Logger } from "../env/env.js";
import { Authenticator, type UserInfo } from "./auth/authenticator.js";
import { authorize } from "./auth/authorizer.js";
import { BOOTSTRAP_TOKEN_SECRET_PREFIX, bootstrapTokenUser, parseBootstrapToken } from "./auth/bootstrap_token.js";
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1, aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList, apiVersions } from "./discovery.js";
import type { Machinery } from "./machinery.js";
import { parseRequestInfo, type RequestInfo } from "./request/request_info.js";
import { coreToEventsV1, eventsV1ToCore } from "./registry/event_conversion.js";
import { ResourceStore, type WritePipeline } from "./registry/store.js";
import { admitNamespaceLifecycle, mutatePodOnCreate, type AdmissionLookups } from "./admission/admission.js";
import { formatTime } from "../api/time.js";
import { mutateCsrOnCreate, populateCsrConditionTimestamps } from "./admission/certificate_requests.js";
import { admitNodeRequest, nodeIdentity } from "./admission/node_restriction.js";
import { ServiceAllocator } from "./admission/service_allocator.js";
import { podQuotaDelta, quotaAdmission } from "../api/quota/quota_admission.js";
import { decodeItem, deepCopy, type KubeObject } from "./registry/codec.js";
import { strategyFor } from "./registry/strategy.js";
import { handleResource, storeLookup, writeObject } from "./resource_handler.js";
import { kubeletEndpoint, kubeletPath, proxyLogs, tunnelUpgrade, type KubeletClientCredentials } from "./proxy/kubelet_proxy.js";
import type { Duplex } from "node:stream";
import type { ServiceAccountTokens } from "./serviceaccount/token_issuer.js";
import type { Storage } from "./storage/contract.js";
import { WatchCache } from "./watchcache/watch_cache.js";
import { ifNoneMatchHits, openApiV2Representation } from "../api/openapi/openapi_v2_representation.js";
import { OPENAPI_V2_PROTOBUF } from "../api/openapi/openapi_v2_proto.js";

/** upstream's --max-requests-inflight and --max-mutating-requests-inflight defaults. */
export const MAX_REQUESTS_INFLIGHT = 400;
export const MAX_MUTATING_REQUESTS_INFLIGHT = 200;
/** How often a watch that allows bookmarks gets one (upstream: about once a minute). */
export const BOOKMARK_INTERVAL_MS = 60_000;

export const KUBERNETES_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0-tk8s" };

export interface OpenApiServer {
  v2(): object;
  v3Index(): object;
  /** The document for `api/v1` or `apis/apps/v1`, or null. */
  v3(path: string): object | null;
}

export interface ApiServerOptions {
  readonly storage: Storage;
  readonly log: Logger;
  readonly machinery: Machinery;
  readonly openapi: OpenApiServer;
  readonly tls: { certPem: string; keyPem: string; caPem: string };
  readonly bindAddress?: string;
  readonly port?: number;
  readonly authenticator?: Authenticator;
  readonly maxRequestsInflight?: number;
  readonly maxMutatingRequestsInflight?: number;
  readonly bookmarkIntervalMs?: number;
  readonly now?: () => Date;
  /** The server's client certificate towards kubelets (pod logs, exec, attach, port-forward). */
  readonly kubeletClient?: KubeletClientCredentials;
  /** Issues and verifies ServiceAccount tokens (TokenRequest, bearer authentication). */
  readonly serviceAccountTokens?: ServiceAccountTokens;
  /** --enable-bootstrap-token-auth: bearer tokens backed by kube-system bootstrap-token Secrets (node joins). */
  readonly enableBootstrapTokenAuth?: boolean;
}

/** How often a pod create retries charging a quota that changed under it before giving up with 409. */
const QUOTA_CHARGE_ATTEMPTS_MAX = 5;

/** Pod subresources served by the pod's kubelet through this server. */
const KUBELET_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward"]);

interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<string>;
  readonly duration: Histogram<string>;
  readonly watchers: Gauge<string>;
  readonly inflight: Gauge<string>;
}

function newMetrics(): Metrics {
  const registry = new Registry();
  const labelNames = ["verb", "group", "version", "resource", "subresource", "scope", "component", "code"];
  return {
    registry,
    requests: new Counter({ name: "apiserver_request_total", help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.", labelNames, registers: [registry] }),
    duration: new Histogram({
      name: "apiserver_request_duration_seconds",
      help: "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
      labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component"],
      buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
      registers: [registry],
    }),
    watchers: new Gauge({ name: "apiserver_registered_watchers", help: "Number of currently registered watchers for a given resources", labelNames: ["group", "version", "kind"], registers: [registry] }),
    inflight: new Gauge({ name: "apiserver_current_inflight_requests", help: "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.", labelNames: ["request_kind"], registers: [registry] }),
  };
}

function scopeOf(info: RequestInfo): string {
  if (info.name !== "") return "resource";
  return info.namespace !== "" ? "namespace" : "cluster";
}

const PUBLIC_PATHS = /^\/(healthz|livez|readyz)(\/.*)?$|^\/version\/?$/;
const MUTATING = new Set(["create", "update", "patch", "delete", "deletecollection"]);

export class ApiServer {
  readonly #o: ApiServerOptions;
  readonly #authn: Authenticator;
  readonly #stores = new Map<string, ResourceStore>();
  readonly #caches = new Map<string, WatchCache>();
  readonly #metrics = newMetrics();
  #server: https.Server | null = null;
  #inflight = 0;
  #mutatingInflight = 0;
  #ready = false;
  readonly #openSockets = new Set<import("node:stream").Duplex>();
  readonly #services = new ServiceAllocator();

  constructor(options: ApiServerOptions) {
    this.#o = options;
    this.#authn = options.authenticator ?? new Authenticator();
    const tokens = options.serviceAccountTokens;
    if (tokens !== undefined) {
      const uidOf = async (resource: string, ns: string, name: string): Promise<string | null> => {
        const store = this.store("", "v1", resource);
        const cached = store.cache.get(store.key(ns, name));
        if (cached !== undefined) return decodeItem(cached).metadata?.uid ?? null;
        try {
          return (await store.get(ns, name)).metadata?.uid ?? null;
        } catch (err) {
          if (err instanceof ApiError && err.code === 404) return null;
          throw err;
        }
      };
      this.#authn.addTokenAuthenticator((token) =>
        tokens.authenticate(token, { serviceAccountUid: (ns, name) => uidOf("serviceaccounts", ns, name), podUid: (ns, name) => uidOf("pods", ns, name) }),
      );
    }
    if (options.enableBootstrapTokenAuth === true) {
      this.#authn.addTokenAuthenticator(async (token) => {
        const parsed = parseBootstrapToken(token);
        if (parsed === null) return null;
        const secrets = this.store("", "v1", "secrets");
        const cached = secrets.cache.get(secrets.key("kube-system", `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${parsed.id}`));
        return bootstrapTokenUser(token, cached === undefined ? null : decodeItem(cached), Date.now());
      });
    }
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const pipeline = this.#admissionPipeline(options.machinery.pipeline);
    for (const info of BUILTIN_RESOURCES) {
      if (info.resource === "bindings") continue;
      let cache = this.#caches.get(info.storagePrefix);
      if (cache === undefined) {
        cache = new WatchCache({ log: options.log }, options.storage, `${info.storagePrefix}/`);
        this.#caches.set(info.storagePrefix, cache);
      }
      const isEventsV1 = info.group === "events.k8s.io";
      this.#stores.set(`${info.group}/${info.version}/${info.resource}`, new ResourceStore(info, {
        storage: options.storage,
        cache,
        strategy: strategyFor(info),
        pipeline,
        newUid: () => randomUUID(),
        randomSuffix: () => randomNameSuffix(),
        sleep,
        ...(isEventsV1 ? { toStored: eventsV1ToCore, fromStored: coreToEventsV1 } : {}),
      }));
    }
  }

  /** Cached objects of a resource, straight from its watch cache (admission lookups). */
  #cached(group: string, resource: string): KubeObject[] {
    const info = BUILTIN_RESOURCES.find((r) => r.group === group && r.resource === resource)!;
    return this.#caches.get(info.storagePrefix)!.list().items.map(decodeItem);
  }

  /** Wraps the machinery's pipeline with the admission plugins, which need this server's stores. */
  #admissionPipeline(base: WritePipeline): WritePipeline {
    const lookups: AdmissionLookups = {
      namespace: async (name) => {
        // The cache answers almost every time; a namespace created a moment ago may not be in it yet.
        const namespaces = this.store("", "v1", "namespaces");
        const cached = namespaces.cache.get(namespaces.key("", name));
        if (cached !== undefined) return decodeItem(cached);
        try {
          return await namespaces.get("", name);
        } catch (err) {
          if (err instanceof ApiError && err.code === 404) return null;
          throw err;
        }
      },
      priorityClasses: async () => this.#cached("scheduling.k8s.io", "priorityclasses"),
      serviceAccount: async (ns, name) => {
        const sas = this.store("", "v1", "serviceaccounts");
        const cached = sas.cache.get(sas.key(ns, name));
        return cached === undefined ? null : decodeItem(cached);
      },
      randomSuffix: () => randomNameSuffix(),
    };
    return {
      mutate: async (info, obj, old, ctx) => {
        const isCsr = info.group === "certificates.k8s.io" && info.resource === "certificatesigningrequests";
        if (old === null) {
          await admitNamespaceLifecycle("CREATE", info, String(obj.metadata?.namespace ?? ""), String(obj.metadata?.name ?? ""), lookups);
          if (info.group === "" && info.resource === "pods") await mutatePodOnCreate(obj, lookups);
          if (isCsr) mutateCsrOnCreate(obj, ctx.user);
        }
        if (isCsr) populateCsrConditionTimestamps(obj, formatTime(ctx.now.getTime()));
        await base.mutate(info, obj, old, ctx);
        if (old === null && info.group === "" && info.resource === "services") {
          const existing = this.#cached("", "services");
          this.#services.settle(existing);
          this.#services.allocate(obj, existing);
          // A dry run shows the addresses it would get but keeps none of them.
          if (ctx.dryRun) this.#services.release(obj);
        }
      },
      validate: async (info, obj, old, ctx, sub) => {
        const node = nodeIdentity(ctx.user);
        if (node !== null) admitNodeRequest(node, old === null ? "CREATE" : "UPDATE", info, String(obj.metadata?.name ?? ""), obj, old);
        await base.validate(info, obj, old, ctx, sub);
        if (old === null && info.group === "" && info.resource === "pods") await this.#admitPodQuota(obj, ctx.dryRun);
      },
      trackManagedFields: (info, obj, old, ctx, sub) => base.trackManagedFields(info, obj, old, ctx, sub),
    };
  }

  /**
   * ResourceQuota admission for a pod being created, as upstream's quota evaluator does it: every quota
   * of its namespace must have room for what the pod is charged, or the create is refused with
   * upstream's `exceeded quota` 403; then the charge is written into each quota's status.used with the
   * quota's resourceVersion as precondition (a lost race re-reads and re-checks), so concurrent creates
   * cannot overshoot. A create that fails after its charge leaves usage high until the resource quota
   * controller recomputes it, as upstream.
   */
  async #admitPodQuota(pod: KubeObject, dryRun: boolean): Promise<void> {
    const ns = String(pod.metadata?.namespace ?? "");
    const quotas = this.store("", "v1", "resourcequotas");
    for (const cached of this.#cached("", "resourcequotas").filter((q) => q.metadata?.namespace === ns)) {
      const name = String(cached.metadata?.name ?? "");
      for (let attempt = 0; ; attempt++) {
        const quota = attempt === 0 ? cached : await quotas.get(ns, name);
        const verdict = quotaAdmission(quota as never, podQuotaDelta(quota as never, pod as never));
        if (!verdict.allowed) {
          throw new ApiError("Forbidden", 403, `pods "${String(pod.metadata?.name ?? "")}" is forbidden: ${verdict.message}`, { name: pod.metadata?.name, kind: "pods" });
        }
        if (dryRun || Object.keys(verdict.newUsed).length === 0) break;
        const charged = deepCopy(quota);
        charged.status = { ...(charged.status ?? {}), used: { ...(charged.status?.used ?? {}), ...verdict.newUsed } };
        try {
          await quotas.update(ns, name, charged, { dryRun: false, now: new Date(), manager: "resource-quota-admission", warnings: [] }, "status");
          break;
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409) || attempt >= QUOTA_CHARGE_ATTEMPTS_MAX) throw err;
        }
      }
    }
  }

  /** The store for a resource (for bootstrapping and the in-process components). */
  store(group: string, version: string, resource: string): ResourceStore {
    const s = this.#stores.get(`${group}/${version}/${resource}`);
    if (s === undefined) throw new Error(`Cannot find the store of ${resource} in ${group}/${version}`);
    return s;
  }

  get authenticator(): Authenticator {
    return this.#authn;
  }

  /** Starts the watch caches and the HTTPS listener; resolves with the bound port. */
  async start(): Promise<number> {
    await Promise.all([...this.#caches.values()].map((c) => c.start()));
    const server = https.createServer({
      // The chain includes the CA: a joining node finds it there and accepts it only if it matches
      // the public-key pin in its join token (join/tls_bootstrap.ts).
      cert: `${this.#o.tls.certPem.trimEnd()}\n${this.#o.tls.caPem.trimEnd()}\n`,
      key: this.#o.tls.keyPem,
      ca: this.#o.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      // Watches are long-lived by design; idle keep-alive connections are not.
      requestTimeout: 0,
      keepAliveTimeout: 65_000,
    });
    server.on("request", (req, res) => void this.#serve(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#serveUpgrade(req, socket, head));
    server.on("connection", (s) => {
      this.#openSockets.add(s);
      s.on("close", () => this.#openSockets.delete(s));
    });
    server.on("tlsClientError", (err) => this.#o.log.debug("TLS handshake failed", { error: err.message }));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#o.port ?? 6443, this.#o.bindAddress ?? "0.0.0.0", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.#o.log.info("serving securely", { address: this.#o.bindAddress ?? "0.0.0.0", port });
    return port;
  }

  /** Marks the server ready (after bootstrap objects exist). */
  setReady(): void {
    this.#ready = true;
  }

  async close(): Promise<void> {
    for (const c of this.#caches.values()) c.stop();
    const server = this.#server;
    if (server === null) return;
    for (const s of this.#openSockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = null;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "https://localhost");
    let info: RequestInfo;
    try {
      info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    } catch {
      info = parseRequestInfo("GET", "/", url.searchParams);
    }
    const verb = info.isResourceRequest ? info.verb.toUpperCase() : (req.method ?? "GET");
    const labels = {
      verb: info.verb === "watch" ? "WATCH" : info.verb === "list" ? "LIST" : verb === "CREATE" ? "POST" : verb === "UPDATE" ? "PUT" : verb,
      group: info.apiGroup,
      version: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      scope: info.isResourceRequest ? scopeOf(info) : "",
      component: "apiserver",
    };
    res.on("finish", () => {
      this.#metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (info.verb !== "watch") this.#metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    let release: (() => void) | null = null;
    try {
      if (PUBLIC_PATHS.test(url.pathname)) {
        await this.#servePublic(url, res);
        return;
      }
      const user = await this.#authn.authenticate(req);
      if (user === null) throw new ApiError("Unauthorized", 401, "Unauthorized", {});
      release = this.#admit(info);
      authorize(user, info);
      await this.#route(req, res, url, info, user);
    } catch (err) {
      this.#writeError(res, err, info);
    } finally {
      release?.();
    }
  }

  #kubeletCredentials(): KubeletClientCredentials {
    if (this.#o.kubeletClient === undefined) throw new ApiError("ServiceUnavailable", 503, "the API server has no kubelet client credentials configured");
    return this.#o.kubeletClient;
  }

  /** The kubelet endpoint and path serving a pod subresource request. */
  async #kubeletTarget(info: RequestInfo, query: URLSearchParams): Promise<{ endpoint: ReturnType<typeof kubeletEndpoint>; path: string }> {
    const pod = await this.store("", "v1", "pods").get(info.namespace, info.name);
    const nodeName = pod.spec?.nodeName;
    if (typeof nodeName !== "string" || nodeName === "") throw badRequest(`pod ${info.name} does not have a host assigned`);
    const node = await this.store("", "v1", "nodes").get("", nodeName);
    return { endpoint: kubeletEndpoint(node), path: kubeletPath(info.subresource, pod, query) };
  }

  /** Upgrade requests: exec, attach and port-forward, tunnelled to the pod's kubelet. Everything else is refused. */
  async #serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "https://localhost");
    const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    const refuse = (err: unknown) => {
      const apiErr = err instanceof ApiError ? err : internalError(err);
      const body = JSON.stringify(apiErr.toStatus());
      socket.end(`HTTP/1.1 ${apiErr.code} ${apiErr.reason ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    socket.on("error", () => socket.destroy());
    try {
      const user = await this.#authn.authenticate(req);
      if (user === null) throw new ApiError("Unauthorized", 401, "Unauthorized", {});
      // A connect request is authorized as `create` on the subresource, as upstream does for POST and GET alike.
      const connectInfo = { ...info, verb: "create" };
      authorize(user, connectInfo);
      if (!(info.isResourceRequest && info.apiGroup === "" && info.resource === "pods" && ["exec", "attach", "portforward"].includes(info.subresource))) {
        throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
      }
      const { endpoint, path } = await this.#kubeletTarget(info, url.searchParams);
      await tunnelUpgrade(req, socket, head, endpoint, path, this.#kubeletCredentials());
      this.#metrics.requests.inc({ verb: "CONNECT", group: "", version: info.apiVersion, resource: "pods", subresource: info.subresource, scope: "resource", component: "apiserver", code: "101" });
    } catch (err) {
      refuse(err);
    }
  }

  /** The in-flight limit (upstream's maxinflight filter): long-running watches are exempt. */
  #admit(info: RequestInfo): (() => void) | null {
    if (info.verb === "watch") return null;
    const mutating = MUTATING.has(info.verb);
    const limit = mutating ? (this.#o.maxMutatingRequestsInflight ?? MAX_MUTATING_REQUESTS_INFLIGHT) : (this.#o.maxRequestsInflight ?? MAX_REQUESTS_INFLIGHT);
    const current = mutating ? this.#mutatingInflight : this.#inflight;
    if (limit > 0 && current >= limit) {
      throw new ApiError("TooManyRequests", 429, "Too many requests, please try again later.", { retryAfterSeconds: 1 });
    }
    if (mutating) this.#mutatingInflight++;
    else this.#inflight++;
    this.#metrics.inflight.set({ request_kind: mutating ? "mutating" : "readOnly" }, mutating ? this.#mutatingInflight : this.#inflight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mutating) this.#mutatingInflight--;
      else this.#inflight--;
    };
  }

  #writeError(res: ServerResponse, err: unknown, info: RequestInfo): void {
    // A configuration server-side apply cannot type is upstream's reason-less 500 with the message as is.
    const apiErr = err instanceof ApiError ? err : err instanceof Error && err.name === "FieldManagerError" ? new ApiError("Unknown", 500, err.message) : internalError(err);
    if (!(err instanceof ApiError)) this.#o.log.error("request failed", { path: info.path, verb: info.verb, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    if (res.headersSent) {
      res.end();
      return;
    }
    if (apiErr.code === 429) res.setHeader("Retry-After", "1");
    writeObject(res, apiErr.code, apiErr.toStatus());
  }

  async #servePublic(url: URL, res: ServerResponse): Promise<void> {
    const path = url.pathname.replace(/\/$/, "");
    if (path === "/version") {
      writeObject(res, 200, {
        ...KUBERNETES_VERSION,
        gitCommit: "tk8s",
        gitTreeState: "clean",
        buildDate: "2026-11-24T00:00:00Z",
        goVersion: `node${process.versions.node}`,
        compiler: "tsc",
        platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
      });
      return;
    }
    const [, endpoint, single] = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(path) ?? [];
    const checks = await this.#healthChecks(endpoint === "readyz");
    const selected = single === undefined ? checks : checks.filter((c) => c.name === single);
    if (selected.length === 0) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("404 page not found\n");
      return;
    }
    const failed = selected.filter((c) => !c.ok);
    const verbose = url.searchParams.has("verbose") || failed.length > 0;
    let body: string;
    if (!verbose) body = "ok";
    else {
      body = selected.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: reason withheld`)).join("\n") + "\n";
      body += failed.length === 0 ? `${endpoint} check passed\n` : `${endpoint} check failed\n`;
    }
    res.writeHead(failed.length === 0 ? 200 : 500, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    res.end(body);
  }

  async #healthChecks(readiness: boolean): Promise<{ name: string; ok: boolean }[]> {
    const etcdOk = await Promise.race([
      this.#o.storage.currentRevision().then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref()),
    ]);
    const checks = [
      { name: "ping", ok: true },
      { name: "log", ok: true },
      { name: "etcd", ok: etcdOk },
      { name: "poststarthook/start-apiserver-admission-initializer", ok: true },
      { name: "poststarthook/bootstrap-controller", ok: this.#ready },
    ];
    if (readiness) checks.push({ name: "informer-sync", ok: this.#ready }, { name: "shutdown", ok: this.#server !== null });
    return checks;
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL, info: RequestInfo, user: UserInfo): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (!info.isResourceRequest) {
      if (req.method !== "GET" && req.method !== "HEAD") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
      return this.#serveNonResource(req, res, path);
    }
    const resource = findResource(info.apiGroup, info.apiVersion, info.resource);
    const store = this.#stores.get(`${info.apiGroup}/${info.apiVersion}/${info.resource}`);
    if (resource === undefined || store === undefined) {
      throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
    }
    if (resource.group === "" && resource.resource === "pods" && KUBELET_SUBRESOURCES.has(info.subresource)) {
      if (info.subresource !== "log") throw badRequest("Upgrade request required");
      if (req.method !== "GET") throw new ApiError("MethodNotAllowed", 405, "the server does not allow this method on the requested resource", {});
      const { endpoint, path: kpath } = await this.#kubeletTarget(info, url.searchParams);
      await proxyLogs(res, endpoint, kpath, this.#kubeletCredentials());
      return;
    }
    if (info.verb === "delete") {
      await admitNamespaceLifecycle("DELETE", resource, info.namespace, info.name, { namespace: async () => null, priorityClasses: async () => [] });
      const node = nodeIdentity(user);
      if (node !== null) admitNodeRequest(node, "DELETE", resource as ResourceInfo, info.name, null, await store.get(info.namespace, info.name));
    }
    await handleResource({
      req,
      res,
      info,
      query: url.searchParams,
      user,
      resource: resource as ResourceInfo,
      store,
      stores: storeLookup(this.#stores),
      machinery: this.#o.machinery,
      now: this.#o.now ?? (() => new Date()),
      bookmarkIntervalMs: this.#o.bookmarkIntervalMs ?? BOOKMARK_INTERVAL_MS,
      ...(this.#o.serviceAccountTokens === undefined ? {} : { tokens: this.#o.serviceAccountTokens }),
      onWatchStart: () => {
        const labels = { group: resource.group, version: resource.version, kind: resource.kind };
        this.#metrics.watchers.inc(labels);
        return () => this.#metrics.watchers.dec(labels);
      },
    });
  }

  async #serveNonResource(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const accept = req.headers.accept ?? "";
    if (path === "/metrics") {
      const text = await this.#metrics.registry.metrics();
      res.writeHead(200, { "Content-Type": this.#metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path === "/api" || path === "/apis") {
      const legacy = path === "/api";
      const wantsV2 = accept.includes("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
      const wantsV2beta1 = accept.includes("g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
      if (wantsV2 || wantsV2beta1) {
        const doc = aggregatedDiscovery(legacy, wantsV2 ? "apidiscovery.k8s.io/v2" : "apidiscovery.k8s.io/v2beta1");
        const body = JSON.stringify(doc);
        res.writeHead(200, { "Content-Type": wantsV2 ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1, "Content-Length": Buffer.byteLength(body), Vary: "Accept" });
        res.end(body);
        return;
      }
      writeObject(res, 200, legacy ? apiVersions(`${req.headers.host ?? "localhost"}`) : apiGroupList());
      return;
    }
    if (path === "/openapi/v2") {
      // client-go asks for v2 in protobuf only (kubectl's client-side validation of a `kind: List`).
      const rep = openApiV2Representation(this.#o.openapi.v2(), accept);
      if (rep === null) {
        throw new ApiError("NotAcceptable", 406, `only the following media types are accepted: application/json, ${OPENAPI_V2_PROTOBUF}`, {});
      }
      const headers = { "Content-Type": rep.contentType, ETag: rep.etag, Vary: "Accept" };
      if (ifNoneMatchHits(req.headers["if-none-match"], rep.etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, "Content-Length": rep.body.byteLength });
      res.end(req.method === "HEAD" ? undefined : rep.body);
      return;
    }
    if (path === "/openapi/v3") {
      writeObject(res, 200, this.#o.openapi.v3Index());
      return;
    }
    if (path.startsWith("/openapi/v3/")) {
      const doc = this.#o.openapi.v3(path.slice("/openapi/v3/".length));
      if (doc === null) throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
      res.setHeader("Cache-Control", "public, immutable");
      writeObject(res, 200, doc);
      return;
    }
    const parts = path.split("/").filter((p) => p !== "");
    if (parts[0] === "api" && parts.length === 2) {
      const doc = apiResourceList("", parts[1]!);
      if (doc !== null) return writeObject(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const doc = apiGroupDocument(parts[1]!);
      if (doc !== null) return writeObject(res, 200, doc);
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const doc = apiResourceList(parts[1]!, parts[2]!);
      if (doc !== null) return writeObject(res, 200, doc);
    }
    if (path === "/") {
      writeObject(res, 200, { paths: ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v2", "/openapi/v3", "/readyz", "/version"] });
      return;
    }
    throw new ApiError("NotFound", 404, "the server could not find the requested resource", {});
  }
}

/** generateName's suffix: five characters from upstream's alphabet (no vowels, no look-alikes). */
function randomNameSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const bytes = randomBytes(5);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
