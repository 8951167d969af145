/**
 * The ResourceQuota controller (pkg/controller/resourcequota): keeps each quota's status.hard equal to
 * spec.hard and status.used equal to what its namespace uses, counted from the informer caches. A quota
 * is recalculated when it changes, when an object it measures changes in its namespace (upstream's
 * replenishment, which we also do for creates since usage must follow them without the admission's
 * help), and every resyncPeriod (--resource-quota-sync-period, 5 minutes).
 *
 * Informers for counted resources (`count/deployments.apps`) are started the first time a quota names
 * them; until their cache is synced the quota's sync is retried.
 */
import type { PersistentVolumeClaim, Pod, ResourceQuota, Service } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import type { ResourceInfo } from "../../api/resources.js";
import type { Timer } from "../../env/env.js";
import { Lister } from "../../client/lister.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";
import type { SharedIndexInformer } from "../../client/shared_informer.js";
import { objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { calculateUsage, countedResource, desiredQuotaStatus } from "../../api/quota/quota_usage.js";

/** Upstream --resource-quota-sync-period. */
export const RESOURCE_QUOTA_SYNC_PERIOD_MS = 5 * 60_000;
/** Distinct resources whose informers quotas may start (bounds what a quota's names can cost us). */
export const COUNTED_RESOURCES_MAX = 64;

export interface ResourceQuotaOptions {
  readonly resyncPeriodMs?: number;
}

export class ResourceQuotaController extends QueueController {
  readonly #quotas: Lister<ResourceQuota>;
  readonly #quotaClient: ResourceClient<ResourceQuota>;
  readonly #resyncPeriodMs: number;
  /** Informers of measured resources by `group/resource`. */
  readonly #measured = new Map<string, SharedIndexInformer<KubeObject>>();
  #timer: Timer | null = null;
  #stopped = false;

  constructor(ctx: ControllerContext, options: ResourceQuotaOptions = {}) {
    super(ctx, "resourcequota");
    this.#quotas = ctx.informers.listerFor<ResourceQuota>("", "v1", "resourcequotas");
    this.#quotaClient = ctx.client.resource<ResourceQuota>("", "v1", "resourcequotas");
    this.#resyncPeriodMs = options.resyncPeriodMs ?? RESOURCE_QUOTA_SYNC_PERIOD_MS;
  }

  init(): void {
    this.ctx.informers.informerFor<ResourceQuota>("", "v1", "resourcequotas").addEventHandler({
      onAdd: (q) => this.#enqueue(q),
      onUpdate: (_o, q) => this.#enqueue(q),
    });
    // The resources nearly every quota measures are watched from the start.
    this.#measure(this.ctx.informers.pods() as unknown as SharedIndexInformer<KubeObject>, "/pods");
    this.#measure(this.ctx.informers.services() as unknown as SharedIndexInformer<KubeObject>, "/services");
  }

  override async run(workers: number): Promise<void> {
    this.#scheduleResync();
    await super.run(workers);
  }

  override stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    super.stop();
  }

  #scheduleResync(): void {
    if (this.#stopped) return;
    this.#timer = this.ctx.env.clock.setTimer(this.#resyncPeriodMs, () => {
      for (const q of this.#quotas.list()) this.#enqueue(q);
      this.#scheduleResync();
    });
  }

  #enqueue(q: ResourceQuota): void {
    this.queue.add(`${q.metadata?.namespace}/${q.metadata?.name}`);
  }

  /** Any change of a measured object recalculates the quotas of its namespace. */
  #measure(informer: SharedIndexInformer<KubeObject>, key: string): void {
    if (this.#measured.has(key)) return;
    this.#measured.set(key, informer);
    const touch = (o: KubeObject): void => {
      const ns = o.metadata?.namespace;
      if (ns === undefined) return;
      for (const q of this.#quotas.namespace(ns).list()) this.#enqueue(q);
    };
    informer.addEventHandler({ onAdd: touch, onUpdate: (_o, n) => touch(n), onDelete: (o) => touch(objectOfDelete(o)) });
  }

  #informerOf(info: ResourceInfo): SharedIndexInformer<KubeObject> {
    const key = `${info.group}/${info.resource}`;
    const existing = this.#measured.get(key);
    if (existing !== undefined) return existing;
    if (this.#measured.size >= COUNTED_RESOURCES_MAX) throw new Error(`Cannot measure ${key}: already measuring ${COUNTED_RESOURCES_MAX} resources`);
    const informer = this.ctx.informers.informerFor<KubeObject>(info.group, info.version, info.resource);
    this.#measure(informer, key);
    this.ctx.informers.start();
    return informer;
  }

  protected async sync(key: string): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const quota = this.#quotas.get(ns, name);
    if (quota === undefined) return;
    const hardNames = Object.keys(quota.spec?.hard ?? {});
    const needs = new Map<string, SharedIndexInformer<KubeObject>>();
    for (const n of hardNames) {
      const info = countedResource(n);
      if (info !== undefined) needs.set(n, this.#informerOf(info));
    }
    const pvcs = hardNames.includes("requests.storage") ? this.#informerOf(countedResource("persistentvolumeclaims")!) : undefined;
    const notSynced = [...needs.values(), ...(pvcs === undefined ? [] : [pvcs])].filter((i) => !i.hasSynced());
    if (notSynced.length > 0) throw new Error(`Cannot measure quota ${key}: waiting for the caches of ${notSynced.map((i) => i.name).join(", ")}`);

    const inNs = <T extends KubeObject>(i: SharedIndexInformer<KubeObject> | undefined): T[] => (i === undefined ? [] : (new Lister(i.indexer).namespace(ns).list() as T[]));
    const usage = calculateUsage(
      quota,
      {
        pods: inNs<Pod>(this.#measured.get("/pods")),
        services: inNs<Service>(this.#measured.get("/services")),
        persistentVolumeClaims: inNs<PersistentVolumeClaim>(pvcs),
        countOf: (n) => {
          const i = needs.get(n);
          return i === undefined ? undefined : inNs(i).length;
        },
      },
      this.ctx.env.clock.wallMs(),
    );
    const status = desiredQuotaStatus(quota, usage);
    if (status === null) return;
    try {
      await this.#quotaClient.updateStatus({ ...quota, status });
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return;
      throw err;
    }
  }
}
