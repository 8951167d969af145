/**
 * The generic registry store (upstream's `genericregistry.Store`): CRUD, list and watch of one resource
 * over the storage contract, with the API's rules — uid, creationTimestamp, generation, generateName,
 * optimistic concurrency on resourceVersion, status kept apart from spec, graceful deletion and
 * finalizers, paged consistent lists, and watches served by the resource's watch cache.
 */
import { formatTime } from "../../api/time.js";
import { ApiError, alreadyExists, badRequest, conflict, notFound, type GroupResource } from "../../api/status.js";
import { groupVersionString, type ResourceInfo } from "../../api/resources.js";
import type { Storage, StorageEvent, StoredItem } from "../storage/contract.js";
import { StorageCompactedError, StorageConflictError, StorageKeyExistsError, StorageNotFoundError } from "../storage/contract.js";
import type { WatchCache } from "../watchcache/watch_cache.js";
import { checkSelectableFields, matchesFields, parseFieldSelector, type FieldSelector } from "../selectors/field_selector.js";
import { matchesLabels, parseLabelSelector, type LabelSelector } from "../selectors/label_selector.js";
import { deepCopy, decodeItem, decodeStored, encodeObject, jsonEqual, type KubeObject } from "./codec.js";
import { decodeContinue, encodeContinue, expiredContinue } from "./continue_token.js";
import type { Strategy } from "./strategy.js";
import type { UserInfo } from "../auth/authenticator.js";

/** Retries of a read-modify-write (patch, delete) that lost a race to another writer. */
const GUARANTEED_UPDATE_ATTEMPTS_MAX = 64;
/** How long a list or watch at a future resourceVersion waits for the cache before a 504 (upstream: 3 s). */
const WAIT_FOR_REVISION_MS = 3_000;
/** Storage pages fetched per list call when a selector filters most items out. */
const LIST_PAGE_ITEMS = 500;

/** The per-request inputs of a write: who, when, and whether to persist. */
export interface WriteContext {
  readonly dryRun: boolean;
  /** RFC 3339 with second precision, as metav1.Time serializes. */
  readonly now: Date;
  readonly manager: string;
  /** Warnings for the response's `Warning` headers. */
  readonly warnings: string[];
  /** Who is writing (admission plugins that record or restrict by requester); absent for the server's own writes. */
  readonly user?: UserInfo;
}

/** The steps the store runs on every object it writes, supplied by the API server (defaulting, validation, managed fields, admission). */
export interface WritePipeline {
  /** After the body is decoded and before anything else: defaulting, mutating admission. */
  mutate(info: ResourceInfo, obj: KubeObject, old: KubeObject | null, ctx: WriteContext): Promise<void>;
  /** After the strategy prepared the object: validation, validating admission. Throws ApiError. */
  validate(info: ResourceInfo, obj: KubeObject, old: KubeObject | null, ctx: WriteContext, subresource: string): Promise<void>;
  /** Last: records which manager set which fields. */
  trackManagedFields(info: ResourceInfo, obj: KubeObject, old: KubeObject | null, ctx: WriteContext, subresource: string): KubeObject;
}

export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: string;
}

export interface ListResult {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  readonly continue?: string;
  /** Objects after this page, when the server knows (a list without selectors), as upstream's remainingItemCount. */
  readonly remainingItemCount?: number;
}

export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: string;
  readonly orphanDependents?: boolean;
  readonly preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  readonly object: KubeObject;
  /** False when the object only got a deletionTimestamp (finalizers or a grace period remain). */
  readonly deleted: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchSink {
  send(type: WatchEventType, object: KubeObject): void;
  close(): void;
}

export interface WatchQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly sendInitialEvents?: boolean;
}

export interface StoreDeps {
  readonly storage: Storage;
  readonly cache: WatchCache;
  readonly strategy: Strategy;
  readonly pipeline: WritePipeline;
  readonly newUid: () => string;
  readonly randomSuffix: () => string;
  readonly sleep: (ms: number) => Promise<void>;
  /** Converts between the stored shape and the served shape (events.k8s.io/v1 Events are stored as core/v1). */
  readonly toStored?: (obj: KubeObject) => KubeObject;
  readonly fromStored?: (obj: KubeObject) => KubeObject;
}

function withoutRevision(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

/** Decoded cache items, shared by every list and watch of a resource (entries go with their items). */
const decodedItems = new WeakMap<StoredItem, KubeObject>();
/** Decoded watch events, shared by every watcher of a resource (entries go with their events). */
const decodedEvents = new WeakMap<StorageEvent, { obj: KubeObject; prev: KubeObject | null }>();

export function parseResourceVersion(rv: string, what = "resourceVersion"): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`Invalid value: "${rv}": ${what} must be an integer`);
  return Number(rv);
}

export class ResourceStore {
  readonly info: ResourceInfo;
  readonly gr: GroupResource;
  readonly #d: StoreDeps;

  constructor(info: ResourceInfo, deps: StoreDeps) {
    this.info = info;
    this.gr = { group: info.group, resource: info.resource };
    this.#d = deps;
  }

  get strategy(): Strategy {
    return this.#d.strategy;
  }

  get cache(): WatchCache {
    return this.#d.cache;
  }

  /** The datastore key of an object. */
  key(namespace: string, name: string): string {
    if (name === "" || name.includes("/") || name === "." || name === "..") throw badRequest(`Cannot use "${name}" as a name: it may not be empty, "." or "..", or contain "/"`);
    return this.info.namespaced ? `${this.info.storagePrefix}/${namespace}/${name}` : `${this.info.storagePrefix}/${name}`;
  }

  /** The key prefix a list or watch in `namespace` ("" = all) covers. */
  prefix(namespace: string): string {
    return this.info.namespaced && namespace !== "" ? `${this.info.storagePrefix}/${namespace}/` : `${this.info.storagePrefix}/`;
  }

  /** Sets apiVersion and kind, converting from the stored shape when the served one differs. */
  present(obj: KubeObject): KubeObject {
    const out = this.#d.fromStored === undefined ? obj : this.#d.fromStored(obj);
    const { apiVersion: _a, kind: _k, ...rest } = out;
    return { kind: this.info.kind, apiVersion: groupVersionString(this.info.group, this.info.version), ...rest };
  }

  #decode(item: StoredItem): KubeObject {
    return this.present(decodeItem(item));
  }

  /**
   * A cached item decoded once for every list and watch that reads it (the cache keeps the same item
   * object until the key changes). Readers share it, so they must not mutate it; writers deep-copy.
   */
  #decodeCached(item: StoredItem): KubeObject {
    let obj = decodedItems.get(item);
    if (obj === undefined) {
      obj = this.#decode(item);
      decodedItems.set(item, obj);
    }
    return obj;
  }

  #encode(obj: KubeObject): Uint8Array {
    return encodeObject(this.#d.toStored === undefined ? obj : this.#d.toStored(obj));
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const item = await this.#d.storage.get(this.key(namespace, name));
    if (item === null) throw notFound(this.gr, name);
    return this.#decode(item);
  }

  async #getOrNull(namespace: string, name: string): Promise<KubeObject | null> {
    const item = await this.#d.storage.get(this.key(namespace, name));
    return item === null ? null : this.#decode(item);
  }

  // ---- list ----

  #selectors(q: { labelSelector?: string; fieldSelector?: string }): { labels: LabelSelector; fields: FieldSelector } {
    const labels = parseLabelSelector(q.labelSelector ?? "");
    const fields = parseFieldSelector(q.fieldSelector ?? "");
    checkSelectableFields(this.info.resource, fields);
    return { labels, fields };
  }

  #matches(obj: KubeObject, sel: { labels: LabelSelector; fields: FieldSelector }): boolean {
    return matchesLabels(sel.labels, obj.metadata?.labels) && matchesFields(this.info.resource, sel.fields, obj);
  }

  /** Waits until the watch cache has seen `revision`; 504 as upstream when it does not arrive in time. */
  async #waitForCache(revision: number): Promise<void> {
    const deadline = Date.now() + WAIT_FOR_REVISION_MS;
    while (this.#d.cache.revision < revision) {
      if (Date.now() > deadline) {
        throw new ApiError("Timeout", 504, `Too large resource version: ${revision}, current: ${this.#d.cache.revision}`, {
          causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
          retryAfterSeconds: 1,
        });
      }
      await this.#d.sleep(10);
    }
  }

  async list(namespace: string, q: ListQuery): Promise<ListResult> {
    const sel = this.#selectors(q);
    const limit = q.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw badRequest(`Cannot list: limit must be >= 0: current value is ${q.limit}`);
    const match = q.resourceVersionMatch ?? "";
    if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    }
    if (match !== "" && (q.resourceVersion === undefined || q.resourceVersion === "")) {
      throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
    }
    if (q.continue !== undefined && q.continue !== "") {
      if (q.resourceVersion !== undefined && q.resourceVersion !== "" && q.resourceVersion !== "0") {
        throw badRequest("specifying resource version is not allowed when using continue");
      }
      const point = decodeContinue(q.continue);
      const base = this.prefix(namespace);
      return this.#listFromStorage(namespace, sel, limit, point.revision, base + point.startKey.replace(/\u0000$/, ""), true);
    }
    const rv = q.resourceVersion ?? "";
    if (rv === "" ) return this.#listFromStorage(namespace, sel, limit, 0, null, false);
    const revision = parseResourceVersion(rv);
    if (match === "Exact") {
      if (revision === 0) throw badRequest("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
      return this.#listFromStorage(namespace, sel, limit, revision, null, false);
    }
    // "0" (any) and NotOlderThan: the watch cache, once it has caught up to the revision asked for.
    await this.#d.cache.start();
    if (revision > 0) await this.#waitForCache(revision);
    const snapshot = this.#d.cache.list();
    const base = this.prefix(namespace);
    const items: KubeObject[] = [];
    for (const item of snapshot.items) {
      if (!item.key.startsWith(base)) continue;
      const obj = this.#decodeCached(item);
      if (this.#matches(obj, sel)) items.push(obj);
    }
    return { items, resourceVersion: String(snapshot.revision) };
  }

  async #listFromStorage(
    namespace: string,
    sel: { labels: LabelSelector; fields: FieldSelector },
    limit: number,
    revision: number,
    after: string | null,
    fromContinue: boolean,
  ): Promise<ListResult> {
    const base = this.prefix(namespace);
    const items: KubeObject[] = [];
    let readAt = revision;
    let cursor = after;
    let lastKey: string | null = null;
    let more = false;
    let firstPageCount = -1;
    let firstPageReturned = 0;
    // Bounded by the keys under the prefix: every turn advances the cursor past a non-empty page.
    for (;;) {
      const pageLimit = limit === 0 ? 0 : Math.max(limit - items.length + 1, Math.min(LIST_PAGE_ITEMS, limit * 2));
      let page;
      try {
        page = await this.#d.storage.list(base, {
          limit: pageLimit,
          ...(cursor === null ? {} : { after: cursor }),
          revision: readAt,
        });
      } catch (err) {
        if (err instanceof StorageCompactedError) {
          if (fromContinue) throw expiredContinue();
          throw new ApiError("Expired", 410, `The resourceVersion for the provided list is too old.`);
        }
        throw err;
      }
      readAt = page.revision;
      if (firstPageCount < 0) firstPageCount = page.count;
      let stoppedEarly = false;
      for (let i = 0; i < page.items.length; i++) {
        const item = page.items[i]!;
        const obj = this.#decode(item);
        if (this.#matches(obj, sel)) {
          if (limit > 0 && items.length === limit) {
            more = true;
            stoppedEarly = true;
            break;
          }
          items.push(obj);
          lastKey = item.key;
        }
      }
      if (stoppedEarly) break;
      if (!page.more || page.items.length === 0) break;
      cursor = page.items[page.items.length - 1]!.key;
      if (limit > 0 && items.length === limit) {
        // A full page and more keys: whether any of them match is for the next page to find out.
        more = true;
        lastKey = items.length > 0 ? lastKey : cursor;
        break;
      }
    }
    firstPageReturned = items.length;
    const result: ListResult = { items, resourceVersion: String(readAt) };
    if (more && lastKey !== null) {
      // Without selectors every key is an item, so the range's count says how many remain (upstream
      // leaves the count out when a selector could filter them).
      const unfiltered = sel.labels.length === 0 && sel.fields.length === 0;
      return {
        ...result,
        continue: encodeContinue(readAt, lastKey.slice(base.length)),
        ...(unfiltered && firstPageCount >= firstPageReturned ? { remainingItemCount: firstPageCount - firstPageReturned } : {}),
      };
    }
    return result;
  }

  // ---- create ----

  #prepareMetaForCreate(obj: KubeObject, namespace: string, ctx: WriteContext): void {
    const meta = (obj.metadata ??= {});
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
      throw new ApiError("InternalError", 500, "resourceVersion should not be set on objects to be created");
    }
    if (this.info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if ((meta.name === undefined || meta.name === "") && typeof meta.generateName === "string" && meta.generateName !== "") {
      meta.name = `${meta.generateName}${this.#d.randomSuffix()}`;
    }
    meta.uid = this.#d.newUid();
    meta.creationTimestamp = formatTime(ctx.now.getTime());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
  }

  async create(namespace: string, body: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const obj = deepCopy(body);
    obj.metadata ??= {};
    this.#prepareMetaForCreate(obj, namespace, ctx);
    await this.#d.pipeline.mutate(this.info, obj, null, ctx);
    this.#d.strategy.prepareForCreate(obj);
    await this.#d.pipeline.validate(this.info, obj, null, ctx, "");
    const stored = this.#d.pipeline.trackManagedFields(this.info, obj, null, ctx, "");
    const name = String(stored.metadata.name);
    const key = this.key(namespace, name);
    if (ctx.dryRun) {
      if ((await this.#d.storage.get(key)) !== null) throw alreadyExists(this.gr, name);
      return this.present(stored);
    }
    try {
      const revision = await this.#d.storage.create(key, this.#encode(stored));
      return this.present(decodeStored(this.#encode(stored), revision));
    } catch (err) {
      if (err instanceof StorageKeyExistsError) {
        if (body.metadata?.generateName && !body.metadata?.name) {
          const e = alreadyExists(this.gr, name);
          throw new ApiError("AlreadyExists", 409, `${e.message}, the server was not able to generate a unique name for the object`, e.details);
        }
        throw alreadyExists(this.gr, name);
      }
      throw err;
    }
  }

  // ---- update ----

  /**
   * Replaces the object (PUT). `subresource` "status" stores only the status; "" stores everything
   * but the status. An empty resourceVersion is an unconditional update, as upstream allows.
   */
  async update(namespace: string, name: string, body: KubeObject, ctx: WriteContext, subresource = ""): Promise<KubeObject> {
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (this.info.namespaced && body.metadata?.namespace !== undefined && body.metadata.namespace !== "" && body.metadata.namespace !== namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    const wanted = body.metadata?.resourceVersion;
    return this.guaranteedUpdate(namespace, name, ctx, subresource, async (current) => {
      const next = deepCopy(body);
      next.metadata ??= {};
      next.metadata.name = name;
      if (wanted === undefined || wanted === "") next.metadata.resourceVersion = current.metadata.resourceVersion;
      return next;
    });
  }

  /**
   * Read-modify-write with retries on a lost race: `mutate` gets the current object and returns the
   * desired one; if the returned resourceVersion differs from the current one (the client's
   * precondition), the update fails with 409 instead of retrying.
   */
  async guaranteedUpdate(
    namespace: string,
    name: string,
    ctx: WriteContext,
    subresource: string,
    mutate: (current: KubeObject) => Promise<KubeObject>,
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < GUARANTEED_UPDATE_ATTEMPTS_MAX; attempt++) {
      const current = await this.#getOrNull(namespace, name);
      if (current === null) throw notFound(this.gr, name);
      let next = await mutate(deepCopy(current));
      if (String(next.metadata?.resourceVersion ?? "") !== current.metadata.resourceVersion) throw conflict(this.gr, name);
      next = this.present(next);
      next.metadata ??= {};
      if (this.info.namespaced) next.metadata.namespace = namespace;
      if (subresource === "status" || subresource === "approval") {
        await this.#d.pipeline.mutate(this.info, next, current, ctx);
        next = this.#d.strategy.prepareForStatusUpdate(next, current, subresource);
      } else {
        await this.#d.pipeline.mutate(this.info, next, current, ctx);
        // Fields only the server sets come from the stored object.
        for (const f of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"]) {
          if (current.metadata[f] === undefined) delete next.metadata[f];
          else next.metadata[f] = current.metadata[f];
        }
        // binding and finalize write exactly what their handler built from the stored object (a binding
        // sets the node and a status condition; finalize the namespace's spec finalizers).
        if (subresource !== "binding" && subresource !== "finalize") this.#d.strategy.prepareForUpdate(next, current);
      }
      await this.#d.pipeline.validate(this.info, next, current, ctx, subresource);
      next = this.#d.pipeline.trackManagedFields(this.info, next, current, ctx, subresource);
      const revision = Number(current.metadata.resourceVersion);
      if (ctx.dryRun) return next;
      // Nothing changed: upstream skips the write, so the resourceVersion stays and no watcher wakes.
      if (jsonEqual(withoutRevision(next), withoutRevision(current))) return current;
      // The last finalizer removed from an object that is being deleted: the update is the deletion.
      const finalizers: unknown[] = next.metadata.finalizers ?? [];
      // A namespace also waits for its spec finalizers (the namespace controller's `kubernetes`).
      const specFinalizers: unknown[] = this.info.resource === "namespaces" ? (next.spec?.finalizers ?? []) : [];
      if (next.metadata.deletionTimestamp !== undefined && finalizers.length === 0 && specFinalizers.length === 0 && Number(next.metadata.deletionGracePeriodSeconds ?? 0) === 0) {
        try {
          await this.#d.storage.delete(key, revision);
          return next;
        } catch (err) {
          if (err instanceof StorageConflictError) continue;
          if (err instanceof StorageNotFoundError) throw notFound(this.gr, name);
          throw err;
        }
      }
      try {
        const newRevision = await this.#d.storage.update(key, this.#encode(next), revision);
        next.metadata.resourceVersion = String(newRevision);
        return next;
      } catch (err) {
        if (err instanceof StorageConflictError) continue;
        if (err instanceof StorageNotFoundError) throw notFound(this.gr, name);
        throw err;
      }
    }
    throw conflict(this.gr, name);
  }

  // ---- delete ----

  async delete(namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<DeleteResult> {
    if (opts.gracePeriodSeconds !== undefined && (!Number.isSafeInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw badRequest(`gracePeriodSeconds: Invalid value: ${opts.gracePeriodSeconds}: must be >= 0`);
    }
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? "Orphan" : undefined);
    if (policy !== undefined && !["Orphan", "Background", "Foreground"].includes(policy)) {
      throw new ApiError("Invalid", 422, `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < GUARANTEED_UPDATE_ATTEMPTS_MAX; attempt++) {
      const current = await this.#getOrNull(namespace, name);
      if (current === null) throw notFound(this.gr, name);
      const pre = opts.preconditions ?? {};
      if (pre.uid !== undefined && pre.uid !== current.metadata.uid) {
        throw new ApiError("Conflict", 409, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`, {
          name,
          ...(this.gr.group === "" ? {} : { group: this.gr.group }),
          kind: this.gr.resource,
        });
      }
      if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw new ApiError(
          "Conflict",
          409,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
          { name, ...(this.gr.group === "" ? {} : { group: this.gr.group }), kind: this.gr.resource },
        );
      }
      const next = deepCopy(current);
      const finalizers: string[] = [...(next.metadata.finalizers ?? [])];
      const addFinalizer = (f: string) => {
        if (!finalizers.includes(f)) finalizers.push(f);
      };
      if (policy === "Orphan") addFinalizer("orphan");
      if (policy === "Foreground") addFinalizer("foregroundDeletion");
      if (policy === "Background") {
        const i = finalizers.indexOf("orphan");
        if (i >= 0) finalizers.splice(i, 1);
      }
      const grace = this.#d.strategy.gracePeriodSeconds(current, opts.gracePeriodSeconds);
      const namespaceFinalizers: unknown[] = this.info.resource === "namespaces" ? (current.spec?.finalizers ?? []) : [];
      const graceful = grace > 0 || finalizers.length > 0 || namespaceFinalizers.length > 0;
      if (graceful) {
        if (current.metadata.deletionTimestamp !== undefined) {
          // Already being deleted: only a shorter grace period changes anything.
          const left = Number(current.metadata.deletionGracePeriodSeconds ?? 0);
          if (!(grace < left) && finalizers.length === (current.metadata.finalizers ?? []).length) return { object: current, deleted: false };
        }
        next.metadata.finalizers = finalizers.length > 0 ? finalizers : undefined;
        if (next.metadata.finalizers === undefined) delete next.metadata.finalizers;
        next.metadata.deletionTimestamp = formatTime(ctx.now.getTime() + grace * 1000);
        next.metadata.deletionGracePeriodSeconds = grace;
        if (this.#d.strategy.tracksGeneration && next.metadata.generation !== undefined) next.metadata.generation = Number(next.metadata.generation) + 1;
        if (this.info.resource === "namespaces") next.status = { ...(next.status ?? {}), phase: "Terminating" };
        if (ctx.dryRun) return { object: next, deleted: false };
        try {
          const revision = await this.#d.storage.update(key, this.#encode(next), Number(current.metadata.resourceVersion));
          next.metadata.resourceVersion = String(revision);
          return { object: next, deleted: false };
        } catch (err) {
          if (err instanceof StorageConflictError) continue;
          if (err instanceof StorageNotFoundError) throw notFound(this.gr, name);
          throw err;
        }
      }
      if (ctx.dryRun) return { object: current, deleted: true };
      try {
        const item = await this.#d.storage.delete(key, Number(current.metadata.resourceVersion));
        return { object: this.#decode(item), deleted: true };
      } catch (err) {
        if (err instanceof StorageConflictError) continue;
        if (err instanceof StorageNotFoundError) throw notFound(this.gr, name);
        throw err;
      }
    }
    throw conflict(this.gr, name);
  }

  // ---- watch ----

  /**
   * Streams changes to `sink` until `stop()`. Unset or "0" resourceVersion: first an ADDED per
   * current object, then changes; a resourceVersion N: changes after N, or an ERROR event with
   * 410 Expired when N is older than the cache keeps. Selectors filter, turning an object that
   * moves out of (into) the selection into DELETED (ADDED), as upstream.
   */
  async watch(namespace: string, q: WatchQuery, sink: WatchSink): Promise<{ stop(): void; bookmark(): void }> {
    const sel = this.#selectors(q);
    const rv = q.resourceVersion ?? "";
    const fromRevision = rv === "" ? 0 : parseResourceVersion(rv);
    await this.#d.cache.start();
    const base = this.prefix(namespace);
    const cache = this.#d.cache;
    const sendInitial = q.sendInitialEvents ?? fromRevision === 0;
    let lastRevision = fromRevision;
    const deliver = (e: StorageEvent) => {
      if (!e.key.startsWith(base)) return;
      lastRevision = e.revision;
      const { obj, prev } = this.#decodeEvent(e);
      const now = this.#matches(obj, sel);
      const before = prev === null ? false : this.#matches(prev, sel);
      if (e.type === "DELETED") {
        if (now) sink.send("DELETED", obj);
      } else if (e.type === "ADDED") {
        if (now) sink.send("ADDED", obj);
      } else if (now && before) sink.send("MODIFIED", obj);
      else if (now && !before) sink.send("ADDED", obj);
      else if (!now && before) sink.send("DELETED", obj);
    };
    let handle;
    if (fromRevision === 0 || sendInitial) {
      if (fromRevision > 0) await this.#waitForCache(fromRevision);
      const snapshot = cache.list();
      for (const item of snapshot.items) {
        if (!item.key.startsWith(base)) continue;
        const obj = this.#decodeCached(item);
        if (this.#matches(obj, sel)) sink.send("ADDED", obj);
      }
      lastRevision = snapshot.revision;
      if (q.sendInitialEvents === true && q.allowWatchBookmarks === true) {
        sink.send("BOOKMARK", this.#bookmarkObject(snapshot.revision, true));
      }
      handle = cache.watch(snapshot.revision, deliver, () => sink.close());
    } else {
      try {
        handle = cache.watch(fromRevision, deliver, () => sink.close());
      } catch (err) {
        if (err instanceof ApiError) {
          sink.send("ERROR", err.toStatus() as unknown as KubeObject);
          sink.close();
          return { stop() {}, bookmark() {} };
        }
        throw err;
      }
    }
    return {
      stop: () => handle.stop(),
      bookmark: () => {
        if (q.allowWatchBookmarks === true) sink.send("BOOKMARK", this.#bookmarkObject(Math.max(lastRevision, cache.revision), false));
      },
    };
  }

  /**
   * The event's object (and previous object), decoded once however many watchers receive it: the
   * cache hands the same event to every subscriber, so the decode is shared. Receivers must not
   * mutate what they get.
   */
  #decodeEvent(e: StorageEvent): { obj: KubeObject; prev: KubeObject | null } {
    let d = decodedEvents.get(e);
    if (d === undefined) {
      d = {
        obj: this.present(decodeStored(e.value, e.revision)),
        prev: e.prevValue === undefined ? null : this.present(decodeStored(e.prevValue, e.revision)),
      };
      decodedEvents.set(e, d);
    }
    return d;
  }

  #bookmarkObject(revision: number, initialEventsEnd: boolean): KubeObject {
    return {
      kind: this.info.kind,
      apiVersion: groupVersionString(this.info.group, this.info.version),
      metadata: {
        resourceVersion: String(revision),
        ...(initialEventsEnd ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}),
      },
    };
  }
}
