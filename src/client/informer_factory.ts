/**
 * One informer per resource for a whole process (client-go's SharedInformerFactory): the scheduler and
 * every controller ask the factory, so ten controllers watching pods cost one list and one watch.
 * Ask for informers first, then start() (later requests start on the next start()), then
 * waitForCacheSync() before acting on the caches.
 */
import type { Pod, Node, Namespace, Service, Endpoints, ServiceAccount, ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import type { Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision } from "kubernetes-types/apps/v1.js";
import type { Job, CronJob } from "kubernetes-types/batch/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Env } from "../env/env.js";
import { qualifiedResource } from "../api/status.js";
import type { Indexers } from "./indexer.js";
import { Lister } from "./lister.js";
import type { RestClient, KubeObject } from "./rest_client.js";
import { SharedIndexInformer, waitForCacheSync } from "./shared_informer.js";

export interface InformerFactoryOptions {
  /** The default resync period of informers made here; 0: none. */
  readonly resyncPeriodMs?: number;
  /** Watch one namespace only (upstream's WithNamespace); default all. */
  readonly namespace?: string;
  /** Reflector backoff overrides (tests). */
  readonly backoffInitialMs?: number;
}

export interface InformerRequest<T> {
  readonly indexers?: Indexers<T>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Pods by the node they are bound to: the kubelet's and the scheduler's most common lookup. */
export const NODE_NAME_INDEX = "spec.nodeName";
export function podNodeNameIndexFunc(pod: Pod): string[] {
  return pod.spec?.nodeName === undefined || pod.spec.nodeName === "" ? [] : [pod.spec.nodeName];
}

export class InformerFactory {
  readonly #env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>;
  readonly #client: RestClient;
  readonly #o: InformerFactoryOptions;
  readonly #informers = new Map<string, SharedIndexInformer<KubeObject>>();
  readonly #started = new Set<string>();

  constructor(env: Pick<Env, "clock" | "log"> & Partial<Pick<Env, "rng">>, client: RestClient, options: InformerFactoryOptions = {}) {
    this.#env = env;
    this.#client = client;
    this.#o = options;
  }

  /** The shared informer of a resource (made on first request); indexers asked for are added to it. */
  informerFor<T extends KubeObject>(group: string, version: string, resource: string, request: InformerRequest<T> = {}): SharedIndexInformer<T> {
    const key = `${group}/${version}/${resource}?l=${request.labelSelector ?? ""}&f=${request.fieldSelector ?? ""}`;
    let informer = this.#informers.get(key) as SharedIndexInformer<T> | undefined;
    if (informer === undefined) {
      let rc = this.#client.resource<T>(group, version, resource);
      if (this.#o.namespace !== undefined && rc.info.namespaced) rc = rc.namespace(this.#o.namespace);
      informer = new SharedIndexInformer<T>(this.#env, rc, {
        name: qualifiedResource({ group, resource }),
        resyncPeriodMs: this.#o.resyncPeriodMs ?? 0,
        ...(request.labelSelector === undefined ? {} : { labelSelector: request.labelSelector }),
        ...(request.fieldSelector === undefined ? {} : { fieldSelector: request.fieldSelector }),
        ...(this.#o.backoffInitialMs === undefined ? {} : { backoffInitialMs: this.#o.backoffInitialMs }),
      });
      this.#informers.set(key, informer as unknown as SharedIndexInformer<KubeObject>);
    }
    if (request.indexers !== undefined) informer.addIndexers(request.indexers);
    return informer;
  }

  /** A lister over the resource's shared informer. */
  listerFor<T extends KubeObject>(group: string, version: string, resource: string, request: InformerRequest<T> = {}): Lister<T> {
    return new Lister<T>(this.informerFor<T>(group, version, resource, request).indexer);
  }

  // Typed shorthands for the resources the control plane watches.
  pods(): SharedIndexInformer<Pod> {
    return this.informerFor<Pod>("", "v1", "pods", { indexers: { [NODE_NAME_INDEX]: podNodeNameIndexFunc } });
  }
  nodes(): SharedIndexInformer<Node> {
    return this.informerFor<Node>("", "v1", "nodes");
  }
  namespaces(): SharedIndexInformer<Namespace> {
    return this.informerFor<Namespace>("", "v1", "namespaces");
  }
  services(): SharedIndexInformer<Service> {
    return this.informerFor<Service>("", "v1", "services");
  }
  endpoints(): SharedIndexInformer<Endpoints> {
    return this.informerFor<Endpoints>("", "v1", "endpoints");
  }
  serviceAccounts(): SharedIndexInformer<ServiceAccount> {
    return this.informerFor<ServiceAccount>("", "v1", "serviceaccounts");
  }
  configMaps(): SharedIndexInformer<ConfigMap> {
    return this.informerFor<ConfigMap>("", "v1", "configmaps");
  }
  secrets(): SharedIndexInformer<Secret> {
    return this.informerFor<Secret>("", "v1", "secrets");
  }
  deployments(): SharedIndexInformer<Deployment> {
    return this.informerFor<Deployment>("apps", "v1", "deployments");
  }
  replicaSets(): SharedIndexInformer<ReplicaSet> {
    return this.informerFor<ReplicaSet>("apps", "v1", "replicasets");
  }
  statefulSets(): SharedIndexInformer<StatefulSet> {
    return this.informerFor<StatefulSet>("apps", "v1", "statefulsets");
  }
  daemonSets(): SharedIndexInformer<DaemonSet> {
    return this.informerFor<DaemonSet>("apps", "v1", "daemonsets");
  }
  controllerRevisions(): SharedIndexInformer<ControllerRevision> {
    return this.informerFor<ControllerRevision>("apps", "v1", "controllerrevisions");
  }
  jobs(): SharedIndexInformer<Job> {
    return this.informerFor<Job>("batch", "v1", "jobs");
  }
  cronJobs(): SharedIndexInformer<CronJob> {
    return this.informerFor<CronJob>("batch", "v1", "cronjobs");
  }
  leases(): SharedIndexInformer<Lease> {
    return this.informerFor<Lease>("coordination.k8s.io", "v1", "leases");
  }

  /** Starts every informer asked for so far that is not running yet. */
  start(): void {
    for (const [key, informer] of this.#informers) {
      if (this.#started.has(key)) continue;
      this.#started.add(key);
      informer.run();
    }
  }

  /** Waits for every started informer's first list; false on timeout (injected clock) or abort. */
  waitForCacheSync(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const started = [...this.#informers].filter(([k]) => this.#started.has(k)).map(([, i]) => i);
    return waitForCacheSync(started, { clock: this.#env.clock, ...options });
  }

  /** Stops every informer (their watches close). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }
}
