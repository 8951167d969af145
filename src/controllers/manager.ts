/**
 * The kube-controller-manager: one process running every controller against the API server, active on
 * one replica only — the holder of the Lease kube-system/kube-controller-manager. On winning the lease
 * it builds a ControllerContext (a fresh shared InformerFactory), constructs the enabled controllers
 * (each registers its informers' handlers), starts the informers, waits for their caches, then runs
 * each controller with upstream's default number of workers (--concurrent-*-syncs). On losing the lease
 * it stops them all and campaigns again with fresh caches (upstream exits and is restarted; inside the
 * all-in-one process we do the same without the restart). It serves nothing: `tk8s server` serves the
 * health endpoints.
 *
 * Controllers are described by a small registry (`ControllerDescriptor`): the built-in table below,
 * plus any the caller adds (`options.extraControllers`), selected like --controllers (`*`, `name`,
 * `-name`).
 */
import type { Env } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { InformerFactory } from "../client/informer_factory.js";
import { LeaderElector } from "../client/leader_election.js";
import type { RestClient } from "../client/rest_client.js";
import type { Controller, ControllerContext } from "./controller.js";
import { ApiEventRecorder, type EventRecorder } from "./events/recorder.js";
import { CsrApprovingController } from "./certificates/csr_approving_controller.js";
import { CsrSigningController } from "./certificates/csr_signing_controller.js";
import type { SigningCa } from "./certificates/signer.js";
import { CronJobController } from "./cronjob/cronjob_controller.js";
import { DaemonSetController } from "./daemonset/daemonset_controller.js";
import { DeploymentController } from "./deployment/deployment_controller.js";
import { DisruptionController } from "./disruption/disruption_controller.js";
import { EndpointsController } from "./endpoints/endpoints_controller.js";
import { EndpointSliceController } from "./endpointslice/endpointslice_controller.js";
import { GarbageCollector } from "./garbagecollector/garbagecollector.js";
import { JobController } from "./job/job_controller.js";
import { TtlAfterFinishedController } from "./job/ttl_after_finished.js";
import { NamespaceController } from "./namespace/namespace_controller.js";
import { NodeIpamController, type NodeIpamOptions } from "./nodeipam/node_ipam_controller.js";
import { NodeLifecycleController, type NodeLifecycleOptions } from "./nodelifecycle/node_lifecycle_controller.js";
import { TaintEvictionController } from "./nodelifecycle/taint_eviction_controller.js";
import { ReplicaSetController, newReplicationManager } from "./replicaset/replica_set_controller.js";
import { ResourceQuotaController, type ResourceQuotaOptions } from "./resourcequota/resource_quota_controller.js";
import { RootCaCertPublisher } from "./serviceaccount/root_ca_publisher.js";
import { ServiceAccountsController } from "./serviceaccount/serviceaccounts_controller.js";
import { StatefulSetController } from "./statefulset/statefulset_controller.js";

export const LEADER_ELECTION_NAMESPACE = "kube-system";
export const LEADER_ELECTION_NAME = "kube-controller-manager";
/** How long the manager waits for the informers' first lists before giving up this term. */
export const CACHE_SYNC_TIMEOUT_MS = 120_000;
/** Terms started in a row without leading for a while: beyond this the manager stops (a crash-loop guard). */
export const TERMS_MAX = 1_000_000;

/** Everything a descriptor's factory may need beyond the context. */
export interface ControllerManagerOptions {
  /** --controllers: `*` (every controller enabled by default), `name`, `-name`. Default ["*"]. */
  readonly controllers?: readonly string[];
  /** Workers per controller, overriding the defaults (`{"deployment-controller": 10}`). */
  readonly workers?: Readonly<Record<string, number>>;
  /** --leader-elect (default true). Without it the controllers start at once. */
  readonly leaderElect?: boolean;
  /** The candidate's identity: upstream's `hostname_uuid`. Default `tk8s-controller-manager_<random hex>`. */
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly cacheSyncTimeoutMs?: number;
  /** The cluster CA (PEM) the root CA publisher puts in kube-root-ca.crt; that controller is off without it. */
  readonly rootCaPem?: string;
  /** --cluster-signing-cert-file/--cluster-signing-key-file: the CA csrsigning signs with; that controller is off without it. */
  readonly clusterSigning?: SigningCa;
  /** --allocate-node-cidrs (default true in tk8s, where the node IPAM controller runs by default). */
  readonly allocateNodeCidrs?: boolean;
  readonly nodeIpam?: Omit<NodeIpamOptions, "recorder">;
  readonly nodeLifecycle?: Omit<NodeLifecycleOptions, "recorder">;
  readonly resourceQuota?: ResourceQuotaOptions;
  /** More controllers (or replacements for built-in ones of the same name). */
  readonly extraControllers?: readonly ControllerDescriptor[];
}

/** What the manager hands a controller factory. */
export interface ControllerInitContext extends ControllerContext {
  readonly options: ControllerManagerOptions;
  /** A recorder with upstream's source.component for the controller; stopped with the term. */
  recorder(component: string): EventRecorder;
}

/** One controller the manager knows: upstream's name, its default workers, how to build it. */
export interface ControllerDescriptor {
  readonly name: string;
  /** --concurrent-*-syncs default (or the fixed worker count upstream uses). */
  readonly workers: number;
  /** Part of `*`? (upstream disables a few by default). */
  readonly enabledByDefault: boolean;
  /** Builds the controller; null when its configuration turns it off (e.g. no CA for the publisher). */
  create(ctx: ControllerInitContext): Controller | null;
}

/** The built-in controllers, with upstream's names (1.32 names.go) and default workers. */
export const BUILTIN_CONTROLLERS: readonly ControllerDescriptor[] = [
  { name: "deployment-controller", workers: 5, enabledByDefault: true, create: (c) => new DeploymentController(c, { recorder: c.recorder("deployment-controller") }) },
  { name: "replicaset-controller", workers: 5, enabledByDefault: true, create: (c) => new ReplicaSetController(c, undefined, { recorder: c.recorder("replicaset-controller") }) },
  { name: "replicationcontroller-controller", workers: 5, enabledByDefault: true, create: (c) => newReplicationManager(c, { recorder: c.recorder("replication-controller") }) },
  { name: "statefulset-controller", workers: 5, enabledByDefault: true, create: (c) => new StatefulSetController(c, { recorder: c.recorder("statefulset-controller") }) },
  { name: "daemonset-controller", workers: 2, enabledByDefault: true, create: (c) => new DaemonSetController(c, { recorder: c.recorder("daemonset-controller") }) },
  { name: "job-controller", workers: 5, enabledByDefault: true, create: (c) => new JobController(c, { recorder: c.recorder("job-controller") }) },
  { name: "cronjob-controller", workers: 5, enabledByDefault: true, create: (c) => new CronJobController(c, { recorder: c.recorder("cronjob-controller") }) },
  { name: "ttl-after-finished-controller", workers: 5, enabledByDefault: true, create: (c) => new TtlAfterFinishedController(c) },
  { name: "endpoints-controller", workers: 5, enabledByDefault: true, create: (c) => new EndpointsController(c, { recorder: c.recorder("endpoint-controller") }) },
  { name: "endpointslice-controller", workers: 5, enabledByDefault: true, create: (c) => new EndpointSliceController(c, { recorder: c.recorder("endpoint-slice-controller") }) },
  { name: "namespace-controller", workers: 10, enabledByDefault: true, create: (c) => new NamespaceController(c) },
  { name: "garbage-collector-controller", workers: 20, enabledByDefault: true, create: (c) => new GarbageCollector(c) },
  { name: "serviceaccount-controller", workers: 1, enabledByDefault: true, create: (c) => new ServiceAccountsController(c) },
  {
    name: "root-ca-certificate-publisher-controller",
    workers: 1,
    enabledByDefault: true,
    create: (c) => (c.options.rootCaPem === undefined ? null : new RootCaCertPublisher(c, c.options.rootCaPem)),
  },
  { name: "certificatesigningrequest-signing-controller", workers: 5, enabledByDefault: true, create: (c) => (c.options.clusterSigning === undefined ? null : new CsrSigningController(c, c.options.clusterSigning)) },
  { name: "certificatesigningrequest-approving-controller", workers: 5, enabledByDefault: true, create: (c) => new CsrApprovingController(c) },
  { name: "resourcequota-controller", workers: 5, enabledByDefault: true, create: (c) => new ResourceQuotaController(c, c.options.resourceQuota) },
  { name: "disruption-controller", workers: 1, enabledByDefault: true, create: (c) => new DisruptionController(c, { recorder: c.recorder("controllermanager") }) },
  // Upstream's nodeUpdateWorkerSize / UpdateWorkerSize / cidrUpdateWorkers.
  { name: "node-lifecycle-controller", workers: 8, enabledByDefault: true, create: (c) => new NodeLifecycleController(c, { ...c.options.nodeLifecycle, recorder: c.recorder("node-controller") }) },
  { name: "taint-eviction-controller", workers: 8, enabledByDefault: true, create: (c) => new TaintEvictionController(c, { recorder: c.recorder("taint-eviction-controller") }) },
  {
    name: "node-ipam-controller",
    workers: 30,
    enabledByDefault: true,
    create: (c) => (c.options.allocateNodeCidrs === false ? null : new NodeIpamController(c, { ...c.options.nodeIpam, recorder: c.recorder("cidrAllocator") })),
  },
];

/** Which descriptors `--controllers` selects (upstream's IsControllerEnabled). */
export function selectControllers(all: readonly ControllerDescriptor[], selection: readonly string[]): ControllerDescriptor[] {
  const known = new Set(all.map((d) => d.name));
  for (const s of selection) {
    const name = s.startsWith("-") ? s.slice(1) : s;
    if (name !== "*" && !known.has(name)) throw new Error(`"${name}" is not in the list of known controllers`);
  }
  const star = selection.includes("*");
  return all.filter((d) => {
    if (selection.includes(`-${d.name}`)) return false;
    if (selection.includes(d.name)) return true;
    return star && d.enabledByDefault;
  });
}

/** The built-in table with extras added (an extra of the same name replaces the built-in). */
export function controllerDescriptors(extra: readonly ControllerDescriptor[] = []): ControllerDescriptor[] {
  const byName = new Map<string, ControllerDescriptor>();
  for (const d of [...BUILTIN_CONTROLLERS, ...extra]) byName.set(d.name, d);
  return [...byName.values()];
}

/** One term of leadership: its caches, controllers and recorders. */
class Term {
  readonly informers: InformerFactory;
  readonly controllers: { name: string; controller: Controller; workers: number }[] = [];
  readonly #recorders: ApiEventRecorder[] = [];
  readonly #runs: Promise<void>[] = [];
  /** Aborts the cache-sync wait when the term is stopped before it got going. */
  readonly #abort = new AbortController();
  #stopped = false;

  constructor(
    readonly env: Env,
    readonly client: RestClient,
    readonly options: ControllerManagerOptions,
  ) {
    this.informers = new InformerFactory(env, client);
  }

  async start(descriptors: readonly ControllerDescriptor[], signal: AbortSignal): Promise<boolean> {
    const { env, client, informers, options } = this;
    const ctx: ControllerInitContext = {
      env,
      client,
      informers,
      options,
      recorder: (component) => {
        const r = new ApiEventRecorder(env, client, { component });
        this.#recorders.push(r);
        return r;
      },
    };
    for (const d of descriptors) {
      const controller = d.create(ctx);
      if (controller === null) {
        env.log.info("controller is disabled by its configuration", { controller: d.name });
        continue;
      }
      controller.init();
      this.controllers.push({ name: d.name, controller, workers: options.workers?.[d.name] ?? d.workers });
    }
    informers.start();
    const synced = await informers.waitForCacheSync({ timeoutMs: options.cacheSyncTimeoutMs ?? CACHE_SYNC_TIMEOUT_MS, signal: AbortSignal.any([signal, this.#abort.signal]) });
    if (!synced || this.#stopped) return false;
    for (const c of this.controllers) {
      env.log.info("started controller", { controller: c.name, workers: c.workers });
      this.#runs.push(
        c.controller.run(c.workers).catch((err: unknown) => {
          rethrowIfAssertion(err);
          env.log.error("controller failed", { controller: c.name, error: err instanceof Error ? err.message : String(err) });
        }),
      );
    }
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    for (const c of this.controllers) c.controller.stop();
    await Promise.all(this.#runs);
    await this.informers.shutdown();
    for (const r of this.#recorders) r.stop();
  }
}

export class ControllerManager {
  readonly #env: Env;
  readonly #client: RestClient;
  readonly #o: ControllerManagerOptions;
  readonly #descriptors: ControllerDescriptor[];
  readonly #identity: string;
  #elector: LeaderElector | null = null;
  #term: Term | null = null;
  #termStopping: Promise<void> | null = null;
  #loop: Promise<void> | null = null;
  #stopped = false;
  /** Terms led so far (tests wait on it). */
  terms = 0;

  constructor(env: Env, client: RestClient, options: ControllerManagerOptions = {}) {
    this.#env = env;
    this.#client = client;
    this.#o = options;
    // Fails fast on unknown names, as kube-controller-manager does at startup.
    this.#descriptors = selectControllers(controllerDescriptors(options.extraControllers), options.controllers ?? ["*"]);
    const hex = [env.rng.nextU32(), env.rng.nextU32()].map((n) => n.toString(16).padStart(8, "0")).join("");
    this.#identity = options.identity ?? `tk8s-controller-manager_${hex}`;
  }

  get identity(): string {
    return this.#identity;
  }

  /** Names of the controllers running in the current term ([] when not leading). */
  runningControllers(): string[] {
    return this.#term?.controllers.map((c) => c.name) ?? [];
  }

  /** The controller of that name in the current term (tests). */
  controller(name: string): Controller | undefined {
    return this.#term?.controllers.find((c) => c.name === name)?.controller;
  }

  isLeader(): boolean {
    return this.#o.leaderElect === false ? this.#term !== null : (this.#elector?.isLeader() ?? false);
  }

  /** Starts campaigning (or, without leader election, the controllers). Resolves once started; does not wait for leadership. */
  start(): void {
    if (this.#loop !== null) return;
    this.#env.log.info("starting controller manager", { identity: this.#identity, controllers: this.#descriptors.map((d) => d.name) });
    this.#loop = this.#o.leaderElect === false ? this.#runUnelected() : this.#campaignLoop();
  }

  /** Stops the controllers, gives up the lease, and resolves when all is stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#elector?.stop();
    await this.#stopTerm();
    await this.#loop;
  }

  async #runUnelected(): Promise<void> {
    this.#beginTerm(new AbortController().signal);
  }

  /** Campaigns until stop(): each lost lease ends a term and starts a new campaign. */
  async #campaignLoop(): Promise<void> {
    for (let i = 0; i < TERMS_MAX && !this.#stopped; i++) {
      const elector = new LeaderElector(this.#env, this.#client, {
        namespace: LEADER_ELECTION_NAMESPACE,
        name: LEADER_ELECTION_NAME,
        identity: this.#identity,
        releaseOnCancel: true,
        ...(this.#o.leaseDurationMs === undefined ? {} : { leaseDurationMs: this.#o.leaseDurationMs }),
        ...(this.#o.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: this.#o.renewDeadlineMs }),
        ...(this.#o.retryPeriodMs === undefined ? {} : { retryPeriodMs: this.#o.retryPeriodMs }),
        callbacks: {
          onStartedLeading: (signal) => this.#beginTerm(signal),
          onStoppedLeading: () => {
            this.#env.log.info("leaderelection lost", { identity: this.#identity });
            void this.#stopTerm();
          },
        },
      });
      this.#elector = elector;
      await elector.run();
      await this.#stopTerm();
    }
  }

  #beginTerm(signal: AbortSignal): void {
    if (this.#stopped) return;
    const term = new Term(this.#env, this.#client, this.#o);
    this.#term = term;
    this.terms++;
    term.start(this.#descriptors, signal).then(
      (ok) => {
        if (!ok && !signal.aborted && !this.#stopped) this.#env.log.error("cannot start controllers: timed out waiting for caches to sync", {});
      },
      (err: unknown) => {
        rethrowIfAssertion(err);
        this.#env.log.error("cannot start controllers", { error: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  #stopTerm(): Promise<void> {
    const term = this.#term;
    if (term === null) return this.#termStopping ?? Promise.resolve();
    this.#term = null;
    this.#termStopping = term.stop().finally(() => (this.#termStopping = null));
    return this.#termStopping;
  }
}
