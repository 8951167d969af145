/**
 * The kubelet: runs the pods the API server binds to its node, on a CRI runtime, and reports back.
 * It talks only to the API server (through RestClient and informers) and only to its runtime through
 * the CRI interface. Wiring:
 *
 *   pods informer (spec.nodeName=<node>) ──► pod workers ──► CRI runtime
 *   PLEG (runtime relist, 1 s) ───────────►      │  ├─► volume manager (host dirs)
 *   probe manager (results) ──────────────►      │  └─► status manager ──► pods/status
 *   node status (10 s / 5 min) ──► nodes/status;  node lease (10 s) ──► kube-node-lease
 *   events ──► queue ──► one writer ──► core/v1 Events
 *
 * start() registers the Node (retrying until the API answers), starts the loops and waits for the pod
 * cache; stop() ends every loop and closes the watches. Containers keep running across a stop (as a
 * restarted kubelet adopts them); the caller decides whether to stop them through the runtime.
 */
import * as path from "node:path";
import type { ConfigMap, Container, Pod, Secret } from "kubernetes-types/core/v1.js";
import type { Env, Timer } from "../env/env.js";
import { ApiError } from "../api/status.js";
import { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import type { SharedIndexInformer } from "../client/shared_informer.js";
import { objectOfDelete } from "../client/store.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { ApiEventRecorder } from "../controllers/events/recorder.js";
import type { ContainerRuntime, DNSConfig } from "./cri/cri.js";
import { removePodCgroup } from "./pod_cgroups.js";
import { KUBEPODS_CGROUP } from "./linux_resources.js";
import { CrashLoopBackOff } from "./backoff.js";
import { readMachineInfo, type MachineInfo } from "./machine_info.js";
import { NodeLeaseController } from "./node_lease.js";
import { NodeStatusReporter } from "./node_registration.js";
import { allocatableOf, KUBELET_PORT_DEFAULT, type NodeStatusInput } from "./node_status.js";
import { Pleg } from "./pleg.js";
import { PodWorkers } from "./pod_workers.js";
import { ProbeManager } from "./probes/probe_manager.js";
import { latestContainer, previousContainer, readRuntimePod, readRuntimePods } from "./runtime_pod.js";
import { StatusManager } from "./status_manager.js";
import { VolumeManager, type VolumeSources } from "./volumes/volume_manager.js";
import { WatchedObjects } from "./watched_objects.js";

/** How often runtime pods no API pod accounts for are looked for (upstream's housekeeping period). */
export const HOUSEKEEPING_PERIOD_MS = 2_000;
/** Registration retries back off up to this. */
const REGISTER_BACKOFF_MAX_MS = 7_000;

export interface KubeletOptions {
  readonly nodeName: string;
  readonly client: RestClient;
  readonly runtime: ContainerRuntime;
  readonly env: Pick<Env, "clock" | "rng" | "log">;
  /** The kubelet's root directory (upstream's /var/lib/kubelet): pods/<uid>/volumes/… */
  readonly rootDir: string;
  /** Where memory-backed volumes go (pods/<uid>/volumes/… under it): see memory_dir.ts. Default: rootDir. */
  readonly memoryDir?: string | null;
  /** Where container logs go (upstream's /var/log/pods); default `<rootDir>/logs/pods`. */
  readonly logRoot?: string;
  readonly nodeIP?: string;
  /** The port of the kubelet's HTTPS server as the Node advertises it. */
  readonly kubeletPort?: number;
  /** Machine facts; read from this host by default. */
  readonly machine?: MachineInfo;
  /** Share informers with other components of the process; else the kubelet makes its own. */
  readonly informers?: InformerFactory;
  /** Overrides of the loop periods (tests). */
  readonly nodeStatusUpdateFrequencyMs?: number;
  readonly leaseRenewIntervalMs?: number;
  readonly relistPeriodMs?: number;
  /**
   * Pods go under /kubepods/<qos>/pod<uid> with their CPU and memory applied there by the runtime (a runtime
   * with cgroups: containerd). The process runtime enforces no limits, so it is off by default.
   */
  readonly cgroupsPerQos?: boolean;
  /** The pod's resolv.conf for its sandbox (cluster DNS); undefined: the runtime gives the host's. */
  readonly dnsConfig?: (pod: Pod) => DNSConfig | undefined;
  /** The runtime's name in status container IDs (upstream: `containerd://<id>`); default `tk8s`. */
  readonly containerIdScheme?: string;
}

export class Kubelet {
  readonly nodeName: string;
  readonly machine: MachineInfo;
  readonly logRoot: string;
  readonly events: ApiEventRecorder;
  readonly statusManager: StatusManager;
  readonly podWorkers: PodWorkers;
  readonly probes: ProbeManager;
  readonly nodeStatus: NodeStatusReporter;
  readonly lease: NodeLeaseController;
  readonly pleg: Pleg;
  readonly volumes: VolumeManager;
  readonly #o: KubeletOptions;
  readonly #factory: InformerFactory;
  readonly #ownFactory: boolean;
  /** Volumes' ConfigMaps and Secrets, each read through a watch of just that object. */
  readonly #configMaps: WatchedObjects<ConfigMap>;
  readonly #secrets: WatchedObjects<Secret>;
  readonly #pods: SharedIndexInformer<Pod>;
  #housekeeping: Timer | null = null;
  #housekeepingRun: Promise<void> | null = null;
  #stopped = false;
  #started = false;

  constructor(options: KubeletOptions) {
    this.#o = options;
    const { clock, log } = options.env;
    this.nodeName = options.nodeName;
    this.machine = options.machine ?? readMachineInfo({ hostname: options.nodeName, ...(options.nodeIP === undefined ? {} : { nodeIP: options.nodeIP }), rootDir: options.rootDir });
    this.logRoot = options.logRoot ?? path.join(options.rootDir, "logs", "pods");
    // Upstream's recorder: a bounded queue with one writer and the correlator (count patches, spam
    // filter, aggregation), so a burst of pod starts does not put its events on the pods' hot path.
    this.events = new ApiEventRecorder(options.env, options.client, { component: "kubelet", host: options.nodeName });
    this.statusManager = new StatusManager(options.client, log);
    this.#configMaps = new WatchedObjects<ConfigMap>(options.env, (ns) => options.client.resource<ConfigMap>("", "v1", "configmaps").namespace(ns));
    this.#secrets = new WatchedObjects<Secret>(options.env, (ns) => options.client.resource<Secret>("", "v1", "secrets").namespace(ns));
    const sources = apiVolumeSources(options.client, () => clock.wallMs(), { configMaps: this.#configMaps, secrets: this.#secrets });
    this.volumes = new VolumeManager({ root: options.rootDir, ...(options.memoryDir == null ? {} : { memoryRoot: options.memoryDir }), sources, log, wallMs: () => clock.wallMs(), nodeAllocatable: () => allocatableOf(this.machine) });
    this.probes = new ProbeManager({
      clock,
      runtime: options.runtime,
      onChange: (uid) => this.podWorkers.sync(uid),
      event: (pod, c, type, reason, message) => this.#event(pod, c, type, reason, message),
    });
    this.podWorkers = new PodWorkers({
      clock,
      log,
      runtime: options.runtime,
      volumes: this.volumes,
      sources,
      statusManager: this.statusManager,
      probes: this.probes,
      backoff: new CrashLoopBackOff(),
      nodeIP: this.machine.internalIP,
      logRoot: this.logRoot,
      nodeAllocatable: () => allocatableOf(this.machine),
      baseEnv: serviceEnv(options.client.config.server),
      memoryCapacityBytes: this.machine.memoryBytes,
      cgroupsPerQos: options.cgroupsPerQos === true,
      ...(options.containerIdScheme === undefined ? {} : { containerIdScheme: options.containerIdScheme }),
      removePodCgroup: (parent) => removePodCgroup(parent, log),
      ...(options.dnsConfig === undefined ? {} : { dnsConfig: options.dnsConfig }),
      event: (pod, c, type, reason, message) => this.#event(pod, c, type, reason, message),
      deletePod: async (pod) => {
        const m = pod.metadata ?? {};
        try {
          await options.client.resource<Pod>("", "v1", "pods").namespace(m.namespace ?? "default").delete(m.name ?? "", { gracePeriodSeconds: 0, preconditions: { uid: m.uid ?? "" } });
        } catch (err) {
          if (err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict")) return; // gone, or a new pod took the name
          throw err;
        }
      },
    });
    this.nodeStatus = new NodeStatusReporter({
      client: options.client, clock, log, input: () => this.#statusInput(),
      ...(options.nodeStatusUpdateFrequencyMs === undefined ? {} : { updateFrequencyMs: options.nodeStatusUpdateFrequencyMs }),
    });
    this.lease = new NodeLeaseController({
      client: options.client, clock, log, nodeName: options.nodeName, nodeUid: () => this.nodeStatus.node?.metadata?.uid,
      ...(options.leaseRenewIntervalMs === undefined ? {} : { renewIntervalMs: options.leaseRenewIntervalMs }),
    });
    this.pleg = new Pleg({
      clock, log, runtime: options.runtime, onPodChanged: (uid) => this.podWorkers.sync(uid),
      ...(options.relistPeriodMs === undefined ? {} : { relistPeriodMs: options.relistPeriodMs }),
    });
    this.#ownFactory = options.informers === undefined;
    this.#factory = options.informers ?? new InformerFactory(options.env, options.client);
    this.#pods = this.#factory.informerFor<Pod>("", "v1", "pods", { fieldSelector: `spec.nodeName=${options.nodeName}` });
  }

  async #statusInput(): Promise<NodeStatusInput> {
    const v = await this.#o.runtime.version("v1");
    let runtimeReady = false;
    let runtimeMessage = "container runtime status check may not have completed yet";
    try {
      const st = await this.#o.runtime.status();
      const down = st.status.conditions.filter((c) => (c.type === "RuntimeReady" || c.type === "NetworkReady") && !c.status);
      runtimeReady = down.length === 0;
      if (!runtimeReady) runtimeMessage = `container runtime is down: ${down.map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`).join(", ")}`;
    } catch (err) {
      rethrowIfAssertion(err);
      runtimeMessage = `container runtime is down: ${(err as Error).message}`;
    }
    return {
      machine: this.machine,
      nodeName: this.nodeName,
      containerRuntimeVersion: `${v.runtimeName}://${v.runtimeVersion}`,
      kubeletPort: this.#o.kubeletPort ?? KUBELET_PORT_DEFAULT,
      nowMs: this.#o.env.clock.wallMs(),
      runtimeReady,
      runtimeMessage,
    };
  }

  #event(pod: Pod, c: Container | null, type: "Normal" | "Warning", reason: string, message: string): void {
    const m = pod.metadata ?? {};
    let fieldPath: string | undefined;
    if (c !== null) fieldPath = (pod.spec?.initContainers ?? []).some((x) => x.name === c.name) ? `spec.initContainers{${c.name}}` : `spec.containers{${c.name}}`;
    this.events.event({ kind: "Pod", namespace: m.namespace ?? "default", name: m.name ?? "", ...(m.uid === undefined ? {} : { uid: m.uid }), apiVersion: "v1", ...(fieldPath === undefined ? {} : { fieldPath }) }, type, reason, message);
  }

  /** Records an event on a pod (DNS config warnings and the like, from outside the pod workers). */
  recordPodEvent(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): void {
    this.#event(pod, null, type, reason, message);
  }

  /** Registers the node, starts every loop, waits for the pod cache. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { clock, log } = this.#o.env;
    let delayMs = 100;
    // Registration is retried until it succeeds (the API server may still be coming up) or stop().
    for (;;) {
      if (this.#stopped) return;
      try {
        await this.nodeStatus.register();
        break;
      } catch (err) {
        rethrowIfAssertion(err);
        log.warn("cannot register node; retrying", { node: this.nodeName, error: (err as Error).message, retryInMs: delayMs });
        await new Promise<void>((r) => clock.setTimer(delayMs, r));
        delayMs = Math.min(delayMs * 2, REGISTER_BACKOFF_MAX_MS);
      }
    }
    this.nodeStatus.start();
    this.lease.start();
    this.#pods.addEventHandler({
      onAdd: (pod) => this.podWorkers.update(pod),
      onUpdate: (_old, pod) => this.podWorkers.update(pod),
      onDelete: (obj) => this.podWorkers.remove(objectOfDelete(obj)),
    });
    this.#factory.start();
    await this.#factory.waitForCacheSync();
    this.pleg.start();
    this.#scheduleHousekeeping();
    log.info("kubelet started", { node: this.nodeName, nodeIP: this.machine.internalIP, root: this.#o.rootDir });
  }

  #scheduleHousekeeping(): void {
    if (this.#stopped) return;
    this.#housekeeping = this.#o.env.clock.setTimer(HOUSEKEEPING_PERIOD_MS, () => {
      this.#housekeeping = null;
      this.#housekeepingRun = this.housekeeping().finally(() => {
        this.#housekeepingRun = null;
        this.#scheduleHousekeeping();
      });
    });
  }

  /** Removes what the runtime runs for pods neither the API nor a worker knows (an earlier run's). */
  async housekeeping(): Promise<void> {
    try {
      const known = new Set(this.podWorkers.uids());
      for (const p of this.#pods.indexer.list()) known.add(p.metadata?.uid ?? "");
      for (const [uid, rp] of await readRuntimePods(this.#o.runtime)) {
        if (known.has(uid)) continue;
        this.#o.env.log.info("removing orphaned pod", { pod: `${rp.namespace}/${rp.name}`, podUid: uid });
        for (const c of rp.containers) if (c.state === "CONTAINER_RUNNING") await this.#o.runtime.stopContainer(c.id, 2);
        for (const s of rp.sandboxes) await this.#o.runtime.removePodSandbox(s.id);
        this.volumes.tearDown(uid);
        // Its QoS class is not known without the pod: each place its cgroup could be is tried.
        if (this.#o.cgroupsPerQos === true) for (const qos of ["", "burstable/", "besteffort/"]) removePodCgroup(`${KUBEPODS_CGROUP}/${qos}pod${uid}`, this.#o.env.log);
      }
    } catch (err) {
      rethrowIfAssertion(err);
      this.#o.env.log.warn("housekeeping failed", { error: (err as Error).message });
    }
  }

  /** The pods this kubelet has in its cache (bound to its node). */
  pods(): Pod[] {
    return this.#pods.indexer.list();
  }

  /**
   * The host path of a container's log (the newest instance, or the one before with `previous`), for
   * the kubelet's containerLogs endpoint; null when there is no such pod, container or instance.
   */
  async containerLogPath(namespace: string, podName: string, container: string, previous = false): Promise<string | null> {
    const pod = this.#pods.indexer.getByKey(`${namespace}/${podName}`) ?? this.podWorkers.podByName(namespace, podName);
    if (pod === undefined) return null;
    const rp = await readRuntimePod(this.#o.runtime, pod.metadata?.uid ?? "", namespace, podName);
    const c = previous ? previousContainer(rp, container) : latestContainer(rp, container);
    return c === undefined || c.logPath === "" ? null : c.logPath;
  }

  /** The runtime container ID of a pod's container (newest instance), for exec/attach. */
  async containerId(namespace: string, podName: string, container: string): Promise<string | null> {
    const pod = this.#pods.indexer.getByKey(`${namespace}/${podName}`) ?? this.podWorkers.podByName(namespace, podName);
    if (pod === undefined) return null;
    const rp = await readRuntimePod(this.#o.runtime, pod.metadata?.uid ?? "", namespace, podName);
    return latestContainer(rp, container)?.id ?? null;
  }

  /** The pod's current sandbox ID (for port-forward), null when it has none. */
  async podSandboxId(namespace: string, podName: string): Promise<string | null> {
    const pod = this.#pods.indexer.getByKey(`${namespace}/${podName}`) ?? this.podWorkers.podByName(namespace, podName);
    if (pod === undefined) return null;
    const rp = await readRuntimePod(this.#o.runtime, pod.metadata?.uid ?? "", namespace, podName);
    return rp.sandboxes.find((s) => s.state === "SANDBOX_READY")?.id ?? null;
  }

  /** Ends every loop and closes the watches; containers keep running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#housekeeping?.cancel();
    this.#housekeeping = null;
    await this.#housekeepingRun;
    await this.pleg.stop();
    this.probes.stop();
    await Promise.all([this.nodeStatus.stop(), this.lease.stop()]);
    if (this.#ownFactory) await this.#factory.shutdown();
    await this.podWorkers.stop();
    await Promise.all([this.#configMaps.stop(), this.#secrets.stop()]);
    this.events.stop();
  }
}

/** The volume plugins' API reads: configmaps/secrets (watched, else a GET), POST serviceaccounts/<sa>/token. */
export function apiVolumeSources(client: RestClient, wallMs: () => number, watched?: { configMaps: WatchedObjects<ConfigMap>; secrets: WatchedObjects<Secret> }): VolumeSources {
  const getOrNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return null;
      throw err;
    }
  };
  return {
    getConfigMap: (ns, name) => watched?.configMaps.get(ns, name) ?? getOrNull(client.resource<ConfigMap>("", "v1", "configmaps").namespace(ns).get(name)),
    getSecret: (ns, name) => watched?.secrets.get(ns, name) ?? getOrNull(client.resource<Secret>("", "v1", "secrets").namespace(ns).get(name)),
    async requestToken(ns, sa, o) {
      const body = {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          ...(o.audiences === undefined ? {} : { audiences: o.audiences }),
          expirationSeconds: o.expirationSeconds,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: o.podName, uid: o.podUid },
        },
      };
      const r = await client.resource("", "v1", "serviceaccounts").namespace(ns).createSubresource<{ status: { token: string; expirationTimestamp: string } }>(sa, "token", body);
      const exp = Date.parse(r.status.expirationTimestamp);
      return { token: r.status.token, expiresAtMs: Number.isFinite(exp) ? exp : wallMs() + o.expirationSeconds * 1000 };
    },
  };
}

/**
 * The `kubernetes` service variables every container gets. Pods share the host network under the
 * process runtime, so they name the API server's own address rather than a service IP.
 */
export function serviceEnv(server: string): Map<string, string> {
  const u = new URL(server);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port !== "" ? u.port : "443";
  return new Map([
    ["KUBERNETES_SERVICE_HOST", host],
    ["KUBERNETES_SERVICE_PORT", port],
    ["KUBERNETES_SERVICE_PORT_HTTPS", port],
    ["KUBERNETES_PORT", `tcp://${host}:${port}`],
    [`KUBERNETES_PORT_${port}_TCP`, `tcp://${host}:${port}`],
    [`KUBERNETES_PORT_${port}_TCP_PROTO`, "tcp"],
    [`KUBERNETES_PORT_${port}_TCP_PORT`, port],
    [`KUBERNETES_PORT_${port}_TCP_ADDR`, host],
  ]);
}

