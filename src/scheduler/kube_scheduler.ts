/**
 * kube-scheduler's shell: informers feed the cache (nodes, assigned pods, namespaces) and the
 * scheduling queue (this scheduler's unassigned pods, plus the cluster events that may make a pod
 * fit); one loop pops a pod, runs the pure `Scheduler` over a snapshot, and carries out its decision
 * through the API — `pods/binding` for a fit, the PodScheduled=False condition and a
 * `FailedScheduling` event for a misfit, victim deletion for a preemption. The loop never ends
 * until stop(). As upstream's scheduleOne, the scheduling cycle is one pod at a time but the binding
 * cycle is not: the pod is assumed in the cache (so the next cycle sees its node's room taken) and
 * its pods/binding call goes out while the next pod is scheduled, at most BINDINGS_IN_FLIGHT_MAX at
 * once; a failed binding forgets the assumed pod and sends it back to the queue to retry after backoff.
 */
import { formatTime } from "../api/time.js";
import type { Namespace, Node, Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { Env } from "../env/env.js";
import type { InformerFactory } from "../client/informer_factory.js";
import type { RestClient } from "../client/rest_client.js";
import { objectOfDelete } from "../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../controllers/events/recorder.js";
import { SchedulerCache } from "./cache/cache.js";
import { defaultProfile } from "./plugins/registry.js";
import { EVENT_ASSIGNED_POD_DELETE, EVENT_NODE_ADD, EVENT_NODE_DELETE, nodeUpdateEvents } from "./queue/events.js";
import { SchedulingQueue } from "./queue/scheduling_queue.js";
import { Scheduler, type ScheduleDecision } from "./scheduler.js";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";
/**
 * Binding cycles running at once (upstream runs one goroutine per pod, unbounded): when this many
 * pods/binding calls are outstanding the scheduling loop waits for one to finish before the next cycle.
 */
export const BINDINGS_IN_FLIGHT_MAX = 64;
/**
 * Scheduling cycles run back to back for at most this long before the loop yields to the event loop,
 * so binding responses, informer events and everything else sharing the process are not starved
 * while a long queue drains (upstream's goroutines get this from Go's preemptive scheduler).
 */
export const SCHEDULING_SLICE_MS = 5;

/** Lets pending I/O callbacks run: a macrotask turn (a resolved promise would not let I/O in). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface KubeSchedulerOptions {
  readonly env: Env;
  readonly client: RestClient;
  readonly informers: InformerFactory;
  readonly schedulerName?: string;
  readonly recorder?: EventRecorder;
}

type QueuedPod = NonNullable<ReturnType<SchedulingQueue["pop"]>>;

function isAssigned(pod: Pod): boolean {
  return (pod.spec?.nodeName ?? "") !== "";
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export class KubeScheduler {
  readonly #o: KubeSchedulerOptions;
  readonly #cache = new SchedulerCache();
  readonly #queue: SchedulingQueue;
  readonly #scheduler: Scheduler;
  readonly #recorder: EventRecorder;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  /** Binding cycles under way; the loop never lets it grow past BINDINGS_IN_FLIGHT_MAX. */
  readonly #bindings = new Set<Promise<void>>();

  constructor(options: KubeSchedulerOptions) {
    this.#o = options;
    this.#queue = new SchedulingQueue({ clock: options.env.clock }, { log: options.env.log });
    this.#scheduler = new Scheduler({
      profiles: [defaultProfile({ rng: options.env.rng, schedulerName: options.schedulerName ?? DEFAULT_SCHEDULER_NAME })],
      rng: options.env.rng,
      nominator: (n) => this.#queue.nominatedPodsForNode(n),
    });
    this.#recorder = options.recorder ?? new ApiEventRecorder(options.env, options.client, { component: options.schedulerName ?? DEFAULT_SCHEDULER_NAME });
  }

  /** Registers the informer handlers; call before the informer factory starts. */
  init(): void {
    const { informers } = this.#o;
    informers.nodes().addEventHandler({
      onAdd: (node) => {
        this.#cache.addNode(node);
        this.#queue.moveAllToActiveOrBackoffQueue(EVENT_NODE_ADD);
      },
      onUpdate: (oldNode, newNode) => {
        this.#cache.updateNode(newNode);
        for (const e of nodeUpdateEvents(oldNode, newNode)) this.#queue.moveAllToActiveOrBackoffQueue(e);
      },
      onDelete: (obj) => {
        this.#cache.removeNode(objectOfDelete<Node>(obj));
        this.#queue.moveAllToActiveOrBackoffQueue(EVENT_NODE_DELETE);
      },
    });
    informers.pods().addEventHandler({
      onAdd: (pod) => this.#podAdded(pod),
      onUpdate: (oldPod, newPod) => this.#podUpdated(oldPod, newPod),
      onDelete: (obj) => this.#podDeleted(objectOfDelete<Pod>(obj)),
    });
    informers.namespaces().addEventHandler({
      onAdd: (ns: Namespace) => this.#cache.setNamespaceLabels(ns.metadata?.name ?? "", ns.metadata?.labels ?? null),
      onUpdate: (_o: Namespace, ns: Namespace) => this.#cache.setNamespaceLabels(ns.metadata?.name ?? "", ns.metadata?.labels ?? null),
      onDelete: (obj) => this.#cache.setNamespaceLabels(objectOfDelete<Namespace>(obj).metadata?.name ?? "", null),
    });
    const pdbs = informers.informerFor<PodDisruptionBudget>("policy", "v1", "poddisruptionbudgets");
    pdbs.addEventHandler({
      onAdd: (pdb) => this.#cache.setPodDisruptionBudget(pdb),
      onUpdate: (_o, pdb) => this.#cache.setPodDisruptionBudget(pdb),
      onDelete: (obj) => this.#cache.setPodDisruptionBudget(objectOfDelete<PodDisruptionBudget>(obj), true),
    });
  }

  #podAdded(pod: Pod): void {
    if (isAssigned(pod)) {
      if (!isTerminal(pod)) {
        this.#cache.addPod(pod);
        this.#queue.assignedPodAdded(pod);
      }
    } else if (this.#scheduler.responsibleFor(pod)) {
      this.#queue.add(pod);
    }
  }

  #podUpdated(oldPod: Pod, newPod: Pod): void {
    if (isAssigned(newPod)) {
      if (!isAssigned(oldPod)) {
        // Bound (by us or someone else): it leaves the queue and counts on its node.
        this.#queue.delete(newPod);
        this.#cache.addPod(newPod);
        this.#queue.assignedPodAdded(newPod);
      } else if (isTerminal(newPod)) {
        this.#cache.removePod(newPod);
        this.#queue.moveAllToActiveOrBackoffQueue(EVENT_ASSIGNED_POD_DELETE);
      } else {
        this.#cache.updatePod(oldPod, newPod);
        this.#queue.assignedPodUpdated(oldPod, newPod);
      }
    } else if (this.#scheduler.responsibleFor(newPod)) {
      this.#queue.update(oldPod, newPod);
    } else {
      this.#queue.delete(newPod);
    }
  }

  #podDeleted(pod: Pod): void {
    if (isAssigned(pod)) {
      this.#cache.removePod(pod);
      this.#queue.assignedPodDeleted(pod);
      this.#queue.moveAllToActiveOrBackoffQueue(EVENT_ASSIGNED_POD_DELETE);
    } else {
      this.#queue.delete(pod);
    }
  }

  /** Runs the scheduling loop until stop(). */
  run(): Promise<void> {
    this.#queue.onActive(() => {
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
    });
    this.#queue.run();
    this.#o.env.log.info("scheduler started", { schedulerName: this.#o.schedulerName ?? DEFAULT_SCHEDULER_NAME });
    this.#loop = this.#runLoop();
    return this.#loop;
  }

  stop(): void {
    this.#stopped = true;
    this.#queue.close();
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Binding cycles still running (for tests and benchmarks). */
  get bindingsInFlight(): number {
    return this.#bindings.size;
  }

  async #runLoop(): Promise<void> {
    const clock = this.#o.env.clock;
    let sliceStartMs = clock.nowMs();
    // Ends only when stop() is called; each turn schedules one pod or waits for one.
    while (!this.#stopped) {
      if (clock.nowMs() - sliceStartMs >= SCHEDULING_SLICE_MS) {
        await yieldToEventLoop();
        sliceStartMs = clock.nowMs();
        continue;
      }
      if (this.#bindings.size >= BINDINGS_IN_FLIGHT_MAX) {
        await Promise.race(this.#bindings);
        sliceStartMs = clock.nowMs();
        continue;
      }
      const q = this.#queue.pop();
      if (q === null) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        sliceStartMs = clock.nowMs();
        continue;
      }
      const cycle = this.#queue.schedulingCycle;
      const pod = q.podInfo.pod;
      let binding = false;
      try {
        const decision = this.#scheduler.schedulePod(pod, this.#cache.snapshot());
        if (decision.kind === "bind") {
          this.#startBinding(pod, decision.nodeName, decision.event.note, q, cycle);
          binding = true;
        } else {
          await this.#recordFailure(pod, decision, q, cycle);
        }
      } catch (err) {
        this.#retryAfterError(pod, err, q, cycle);
      } finally {
        // A pod being bound stays in flight until its binding cycle ends (upstream: Done in the binding goroutine).
        if (!binding) this.#queue.done(pod);
      }
    }
    // Stopped: let the bindings already sent finish, so their pods are not left assumed.
    await Promise.allSettled([...this.#bindings]);
  }

  #retryAfterError(pod: Pod, err: unknown, q: QueuedPod, cycle: number): void {
    this.#o.env.log.warn("scheduling attempt failed; will retry", { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: err instanceof Error ? err.message : String(err) });
    // An error is no plugin's verdict: the pod goes to backoffQ, not to wait for an event.
    q.unschedulablePlugins = new Set();
    this.#queue.addUnschedulableIfNotPresent(q, cycle);
  }

  /**
   * The scheduling cycle's end for a fit: assume the pod on its node so the next cycle counts it, then
   * run the binding cycle (pods/binding) in the background.
   */
  #startBinding(pod: Pod, nodeName: string, note: string, q: QueuedPod, cycle: number): void {
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    this.#cache.assumePod(assumed);
    this.#queue.deleteNominatedPodIfExists(pod);
    const ns = pod.metadata?.namespace ?? "default";
    const pods = this.#o.client.resource<Pod>("", "v1", "pods").namespace(ns);
    const binding = (async () => {
      try {
        await pods.bind(pod.metadata?.name ?? "", nodeName, { ...(pod.metadata?.uid === undefined ? {} : { uid: pod.metadata.uid }) });
        this.#cache.finishBinding(assumed);
        this.#recorder.event(pod, "Normal", "Scheduled", note);
      } catch (err) {
        // The informer may have confirmed the pod meanwhile (bound by an earlier try): only an assumed pod is forgotten.
        if (this.#cache.isAssumedPod(assumed)) this.#cache.forgetPod(assumed);
        // As upstream's handleSchedulingFailure: a pod deleted or bound meanwhile is not requeued.
        const current = this.#o.informers.pods().indexer.getByKey(`${ns}/${pod.metadata?.name ?? ""}`);
        if (current === undefined || isAssigned(current) || current.metadata?.uid !== pod.metadata?.uid) {
          this.#o.env.log.debug("binding failed for a pod that is gone or bound; not retrying", { pod: `${ns}/${pod.metadata?.name}`, error: err instanceof Error ? err.message : String(err) });
        } else {
          this.#retryAfterError(pod, err, q, cycle);
        }
      } finally {
        this.#queue.done(pod);
      }
    })();
    this.#bindings.add(binding);
    void binding.then(() => this.#bindings.delete(binding));
  }

  /** No node fits (or preemption chose victims): requeue, record the condition and event, evict victims. */
  async #recordFailure(pod: Pod, decision: Exclude<ScheduleDecision, { kind: "bind" }>, q: QueuedPod, cycle: number): Promise<void> {
    const ns = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const pods = this.#o.client.resource<Pod>("", "v1", "pods").namespace(ns);
    q.unschedulablePlugins = new Set(decision.unschedulablePlugins);
    this.#queue.addUnschedulableIfNotPresent(q, cycle, decision.kind === "preempt" ? decision.nominatedNode : decision.nominatedNodeName);
    const condition = { ...decision.condition, lastProbeTime: null, lastTransitionTime: formatTime(this.#o.env.clock.wallMs()) };
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== "PodScheduled"), condition];
    const status: Record<string, unknown> = { conditions };
    if (decision.kind === "preempt") status.nominatedNodeName = decision.nominatedNode;
    await pods.patch(name, "merge", { status }, { subresource: "status" }).catch((err: unknown) => {
      this.#o.env.log.debug("could not record the pod's scheduling condition", { pod: `${ns}/${name}`, error: err instanceof Error ? err.message : String(err) });
    });
    this.#recorder.event(pod, "Warning", decision.event.reason, decision.event.note);
    if (decision.kind === "preempt") {
      for (const victim of decision.victims) {
        const vns = victim.metadata?.namespace ?? "default";
        const vpods = this.#o.client.resource<Pod>("", "v1", "pods").namespace(vns);
        await vpods
          .patch(victim.metadata?.name ?? "", "merge", { status: { conditions: [decision.victimCondition] } }, { subresource: "status" })
          .catch(() => undefined);
        await vpods.delete(victim.metadata?.name ?? "", { ...(victim.metadata?.uid ? { preconditions: { uid: victim.metadata.uid } } : {}) }).catch(() => undefined);
      }
      for (const e of decision.victimEvents) this.#recorder.event(e.regarding, e.type, e.reason, e.note);
    }
  }
}
