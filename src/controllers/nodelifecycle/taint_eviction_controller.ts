/**
 * The taint eviction controller (pkg/controller/tainteviction, upstream's "taint manager"): pods on a
 * node with NoExecute taints they do not tolerate are deleted at once; pods that tolerate every taint
 * for a while (tolerationSeconds; the DefaultTolerationSeconds admission gives 300 s for not-ready and
 * unreachable) are deleted when the shortest of those runs out, unless the taints go first. Before the
 * delete the pod gets the DisruptionTarget condition (reason DeletionByTaintManager), as in 1.32.
 *
 * Node and pod changes are queued as `node:<name>` and `pod:<namespace>/<name>` keys; the decision
 * for each pod is `decidePodEviction`; timed evictions are timers on the injected clock.
 */
import type { Node, Pod, PodCondition } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import { rethrowIfAssertion } from "../../util/assert.js";
import type { Timer } from "../../env/env.js";
import { NODE_NAME_INDEX } from "../../client/informer_factory.js";
import { Lister } from "../../client/lister.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { objectOfDelete, splitMetaNamespaceKey } from "../../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { rfc3339 } from "./node_health.js";
import { decidePodEviction, noExecuteTaints } from "./taint_eviction.js";

/** As upstream's retries in addConditionAndDeletePod. */
export const EVICTION_TRIES_MAX = 5;

export interface TaintEvictionOptions {
  /** Defaults to an API recorder with source.component "taint-eviction-controller". */
  readonly recorder?: EventRecorder;
}

interface Pending {
  readonly createdAtMs: number;
  readonly fireAtMs: number;
  readonly timer: Timer;
}

export class TaintEvictionController extends QueueController {
  readonly #nodes: Lister<Node>;
  readonly #pods: Lister<Pod>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  /** Per pod key: a pending timed eviction, or "done" once deleted (cleared when the pod goes). */
  readonly #work = new Map<string, Pending | "done">();
  readonly #evicting = new Set<Promise<void>>();
  /** Pods deleted by this controller (tests and metrics). */
  evictions = 0;

  constructor(ctx: ControllerContext, options: TaintEvictionOptions = {}) {
    super(ctx, "taint-eviction-controller");
    this.#nodes = new Lister(ctx.informers.nodes().indexer);
    this.#pods = new Lister(ctx.informers.pods().indexer);
    this.#podClient = ctx.client.resource<Pod>("", "v1", "pods");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "taint-eviction-controller" });
  }

  init(): void {
    this.ctx.informers.nodes().addEventHandler({
      onAdd: (n) => this.#enqueueNode(n),
      onUpdate: (o, n) => {
        if (JSON.stringify(noExecuteTaints(o.spec?.taints)) !== JSON.stringify(noExecuteTaints(n.spec?.taints))) this.#enqueueNode(n);
      },
      onDelete: (obj) => this.#enqueueNode(objectOfDelete(obj)),
    });
    this.ctx.informers.pods().addEventHandler({
      onAdd: (p) => this.#enqueuePod(p),
      onUpdate: (_o, p) => this.#enqueuePod(p),
      onDelete: (obj) => {
        const pod = objectOfDelete(obj);
        this.#cancel(`${pod.metadata?.namespace}/${pod.metadata?.name}`, pod, false);
      },
    });
  }

  override stop(): void {
    for (const w of this.#work.values()) if (w !== "done") w.timer.cancel();
    this.#work.clear();
    super.stop();
  }

  override async run(workers: number): Promise<void> {
    await super.run(workers);
    await Promise.all([...this.#evicting]);
  }

  #enqueueNode(n: Node): void {
    this.queue.add(`node:${n.metadata?.name ?? ""}`);
  }

  #enqueuePod(p: Pod): void {
    if ((p.spec?.nodeName ?? "") === "") return;
    this.queue.add(`pod:${p.metadata?.namespace}/${p.metadata?.name}`);
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith("node:")) {
      const nodeName = key.slice("node:".length);
      for (const pod of this.#pods.byIndex(NODE_NAME_INDEX, nodeName)) this.#processPod(pod);
      return;
    }
    const [ns, name] = splitMetaNamespaceKey(key.slice("pod:".length));
    const pod = this.#pods.get(ns, name);
    if (pod === undefined) return;
    this.#processPod(pod);
  }

  /** processPodOnNode: decides for one pod from its node's NoExecute taints. */
  #processPod(pod: Pod): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const nodeName = pod.spec?.nodeName ?? "";
    if (nodeName === "") return;
    const node = this.#nodes.get("", nodeName);
    const taints = noExecuteTaints(node?.spec?.taints);
    const existing = this.#work.get(key);
    const nowMs = this.ctx.env.clock.nowMs();
    const decision = decidePodEviction({
      taints,
      tolerations: pod.spec?.tolerations ?? [],
      scheduled: existing === undefined || existing === "done" ? existing : { createdAtMs: existing.createdAtMs, fireAtMs: existing.fireAtMs },
      nowMs,
    });
    switch (decision.kind) {
      case "keep":
        return;
      case "cancel":
        this.#cancel(key, pod, true);
        return;
      case "evictNow":
        this.#cancel(key, pod, false);
        this.#startEviction(key, pod);
        return;
      case "schedule": {
        this.#cancel(key, pod, false);
        const timer = this.ctx.env.clock.setTimer(decision.fireAtMs - nowMs, () => this.#startEviction(key, pod));
        this.#work.set(key, { createdAtMs: decision.createdAtMs, fireAtMs: decision.fireAtMs, timer });
        this.ctx.env.log.info("scheduled pod eviction", { pod: key, node: nodeName, afterMs: decision.fireAtMs - nowMs });
      }
    }
  }

  /** Drops pending work for a pod; with `withEvent`, says so on the pod when something was pending. */
  #cancel(key: string, pod: Pod, withEvent: boolean): void {
    const w = this.#work.get(key);
    if (w === undefined) return;
    if (w !== "done") w.timer.cancel();
    this.#work.delete(key);
    if (withEvent && w !== "done") {
      this.ctx.env.log.info("cancelled pod eviction", { pod: key });
      this.#recorder.event(pod, "Normal", "TaintManagerEviction", `Cancelling deletion of Pod ${key}`);
    }
  }

  #startEviction(key: string, pod: Pod): void {
    this.#work.set(key, "done");
    const p = this.#evict(key, pod).finally(() => this.#evicting.delete(p));
    this.#evicting.add(p);
  }

  /** addConditionAndDeletePod: DisruptionTarget, then delete; bounded retries; gone counts as done. */
  async #evict(key: string, pod: Pod): Promise<void> {
    const [ns, name] = splitMetaNamespaceKey(key);
    const client = this.#podClient.namespace(ns);
    this.#recorder.event(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    for (let attempt = 1; attempt <= EVICTION_TRIES_MAX; attempt++) {
      try {
        const fresh = await client.get(name);
        if (fresh.metadata?.uid !== pod.metadata?.uid) return;
        const conditions = fresh.status?.conditions ?? [];
        if (!conditions.some((c) => c.type === "DisruptionTarget" && c.status === "True")) {
          const cond: PodCondition = {
            type: "DisruptionTarget",
            status: "True",
            reason: "DeletionByTaintManager",
            message: "Taint manager: deleting due to NoExecute taint",
            lastTransitionTime: rfc3339(this.ctx.env.clock.wallMs()),
          };
          await client.updateStatus({ ...fresh, status: { ...fresh.status, conditions: [...conditions.filter((c) => c.type !== "DisruptionTarget"), cond] } });
        }
        await client.delete(name, pod.metadata?.uid === undefined ? {} : { preconditions: { uid: pod.metadata.uid } });
        this.evictions++;
        this.ctx.env.log.info("evicted pod", { pod: key, node: pod.spec?.nodeName });
        return;
      } catch (err) {
        rethrowIfAssertion(err);
        if (err instanceof ApiError && err.reason === "NotFound") return;
        this.ctx.env.log.warn("cannot evict pod", { pod: key, attempt, error: (err as Error).message });
      }
    }
    // Out of tries: forget, so the next update of the pod or node decides again.
    if (this.#work.get(key) === "done") this.#work.delete(key);
  }
}
