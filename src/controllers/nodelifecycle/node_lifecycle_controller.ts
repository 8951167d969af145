/**
 * The node lifecycle controller (pkg/controller/nodelifecycle): every nodeMonitorPeriod it looks at
 * each Node and its Lease in kube-node-lease; a node silent for longer than nodeMonitorGracePeriod gets
 * its conditions set to Unknown (Kubelet stopped posting node status.), its pods marked NotReady, and
 * then the NoExecute taint for its Ready status (unreachable / not-ready), which the taint eviction
 * controller turns into pod deletions. A node that comes back loses the taint. On every node change it
 * also keeps the NoSchedule taints that mirror the node's conditions (doNoScheduleTaintingPass).
 *
 * Upstream's zone-based rate limiting of tainting (--node-eviction-rate, large-cluster thresholds) is
 * not here: a node is tainted on the pass after it was seen unhealthy.
 */
import type { Node, Pod, PodCondition } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { ApiError } from "../../api/status.js";
import { rethrowIfAssertion } from "../../util/assert.js";
import type { Timer } from "../../env/env.js";
import { NODE_NAME_INDEX } from "../../client/informer_factory.js";
import { Lister } from "../../client/lister.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { objectOfDelete } from "../../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { QueueController, type ControllerContext } from "../controller.js";
import {
  NODE_LEASE_NAMESPACE,
  NODE_MONITOR_GRACE_PERIOD_MS,
  NODE_MONITOR_PERIOD_MS,
  NODE_STARTUP_GRACE_PERIOD_MS,
  noExecuteTaintChange,
  noScheduleTaintChange,
  rfc3339,
  tryUpdateNodeHealth,
  type NodeHealth,
  type TaintChange,
} from "./node_health.js";
import { applyTaintChange } from "./taints.js";

/** As upstream's nodeStatusUpdateRetry: tries of one status or taint write before giving up this pass. */
export const NODE_UPDATE_TRIES_MAX = 5;

export interface NodeLifecycleOptions {
  readonly nodeMonitorPeriodMs?: number;
  readonly nodeMonitorGracePeriodMs?: number;
  readonly nodeStartupGracePeriodMs?: number;
  /** Defaults to an API recorder with source.component "node-controller". */
  readonly recorder?: EventRecorder;
}

export class NodeLifecycleController extends QueueController {
  readonly #nodes: Lister<Node>;
  readonly #leases: Lister<Lease>;
  readonly #pods: Lister<Pod>;
  readonly #nodeClient: ResourceClient<Node>;
  readonly #podClient: ResourceClient<Pod>;
  readonly #recorder: EventRecorder;
  readonly #periodMs: number;
  readonly #graceMs: number;
  readonly #startupGraceMs: number;
  readonly #health = new Map<string, NodeHealth>();
  /** Nodes whose pods could not all be marked NotReady: retried on the next pass (upstream's nodesToRetry). */
  readonly #retryPods = new Set<string>();
  #timer: Timer | null = null;
  #stopped = false;
  #pass: Promise<void> | null = null;
  /** Monitor passes finished (tests wait on it). */
  passes = 0;

  constructor(ctx: ControllerContext, options: NodeLifecycleOptions = {}) {
    super(ctx, "node-lifecycle");
    this.#nodes = new Lister(ctx.informers.nodes().indexer);
    this.#leases = new Lister(ctx.informers.leases().indexer);
    this.#pods = new Lister(ctx.informers.pods().indexer);
    this.#nodeClient = ctx.client.resource<Node>("", "v1", "nodes");
    this.#podClient = ctx.client.resource<Pod>("", "v1", "pods");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "node-controller" });
    this.#periodMs = options.nodeMonitorPeriodMs ?? NODE_MONITOR_PERIOD_MS;
    this.#graceMs = options.nodeMonitorGracePeriodMs ?? NODE_MONITOR_GRACE_PERIOD_MS;
    this.#startupGraceMs = options.nodeStartupGracePeriodMs ?? NODE_STARTUP_GRACE_PERIOD_MS;
  }

  init(): void {
    this.ctx.informers.nodes().addEventHandler({
      onAdd: (n) => this.queue.add(n.metadata?.name ?? ""),
      onUpdate: (_o, n) => this.queue.add(n.metadata?.name ?? ""),
      onDelete: (obj) => {
        const name = objectOfDelete(obj).metadata?.name ?? "";
        this.#health.delete(name);
        this.#retryPods.delete(name);
      },
    });
  }

  override async run(workers: number): Promise<void> {
    this.#schedulePass(0);
    await super.run(workers);
    await this.#pass;
  }

  override stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    super.stop();
  }

  #schedulePass(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.ctx.env.clock.setTimer(delayMs, () => {
      this.#pass = this.monitorNodeHealth()
        .catch((err: unknown) => {
          rethrowIfAssertion(err);
          this.ctx.env.log.warn("node health pass failed", { error: String(err) });
        })
        .finally(() => {
          this.#pass = null;
          this.#schedulePass(this.#periodMs);
        });
    });
  }

  /** One monitorNodeHealth pass over every cached node. */
  async monitorNodeHealth(): Promise<void> {
    for (const node of this.#nodes.list()) {
      if (this.#stopped) return;
      try {
        await this.#monitorNode(node);
      } catch (err) {
        rethrowIfAssertion(err);
        this.ctx.env.log.warn("cannot update node health", { node: node.metadata?.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.passes++;
  }

  async #monitorNode(cached: Node): Promise<void> {
    const name = cached.metadata?.name ?? "";
    const { clock } = this.ctx.env;
    let node = cached;
    let result = this.#decide(node);
    for (let attempt = 1; result.statusUpdate !== null; attempt++) {
      try {
        await this.#nodeClient.updateStatus(result.statusUpdate);
        break;
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "Conflict") || attempt >= NODE_UPDATE_TRIES_MAX) throw err;
        node = await this.#nodeClient.get(name);
        result = this.#decide(node);
      }
    }
    this.#health.set(name, result.health);
    const { observedReady, currentReady } = result;

    if (currentReady !== undefined) {
      const becameNotReady = currentReady.status !== "True" && observedReady.status === "True";
      if (becameNotReady) {
        this.ctx.env.log.info("node became not ready", { node: name, status: currentReady.status });
        this.#recorder.event({ kind: "Node", name, ...(node.metadata?.uid === undefined ? {} : { uid: node.metadata.uid }) }, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
      }
      // Pods on a node that is not Ready are not Ready either; pods that (re)appear Ready on it are
      // marked again on later passes (upstream does this from its pod update queue).
      if (currentReady.status !== "True" || this.#retryPods.has(name)) {
        if (await this.#markPodsNotReady(name)) this.#retryPods.delete(name);
        else this.#retryPods.add(name);
      }
    }
    const change = noExecuteTaintChange(node, observedReady.status, clock.wallMs());
    if (change !== null) {
      await this.#updateTaints(name, () => change);
      this.ctx.env.log.info(change.add.length > 0 ? "tainted node" : "removed node taints", { node: name, add: change.add.map((t) => t.key), remove: change.remove.map((t) => t.key) });
    }
  }

  #decide(node: Node): ReturnType<typeof tryUpdateNodeHealth> {
    const name = node.metadata?.name ?? "";
    const { clock } = this.ctx.env;
    return tryUpdateNodeHealth({
      node,
      lease: this.#leases.get(NODE_LEASE_NAMESPACE, name),
      saved: this.#health.get(name),
      nowMs: clock.nowMs(),
      wallMs: clock.wallMs(),
      gracePeriodMs: this.#graceMs,
      startupGracePeriodMs: this.#startupGraceMs,
    });
  }

  /** MarkPodsNotReady: each pod on the node whose Ready is True gets Ready False; true if all writes worked. */
  async #markPodsNotReady(nodeName: string): Promise<boolean> {
    let ok = true;
    const now = rfc3339(this.ctx.env.clock.wallMs());
    for (const pod of this.#pods.byIndex(NODE_NAME_INDEX, nodeName)) {
      const conditions = pod.status?.conditions ?? [];
      const ready = conditions.find((c) => c.type === "Ready");
      if (ready === undefined || ready.status === "False") continue;
      const next: PodCondition[] = conditions.map((c) => (c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: now } : c));
      try {
        await this.#podClient.updateStatus({ ...pod, status: { ...pod.status, conditions: next } });
        this.#recorder.event(pod, "Warning", "NodeNotReady", "Node is not ready");
      } catch (err) {
        rethrowIfAssertion(err);
        if (err instanceof ApiError && err.reason === "NotFound") continue;
        ok = false;
        this.ctx.env.log.warn("cannot mark pod not ready", { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: (err as Error).message });
      }
    }
    return ok;
  }

  /** Reads the node fresh and writes its taints changed by `decide` (retried on conflicts). */
  async #updateTaints(name: string, decide: (node: Node) => TaintChange | null): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const node = await this.#nodeClient.get(name);
      const change = decide(node);
      if (change === null) return;
      const taints = applyTaintChange(node.spec?.taints, change.add, change.remove);
      if (taints === null) return;
      try {
        await this.#nodeClient.update({ ...node, spec: { ...node.spec, taints } });
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "Conflict") || attempt >= NODE_UPDATE_TRIES_MAX) throw err;
      }
    }
  }

  /** doNoScheduleTaintingPass for one node. */
  protected async sync(key: string): Promise<void> {
    const cached = this.#nodes.get("", key);
    if (cached === undefined || noScheduleTaintChange(cached) === null) return;
    try {
      await this.#updateTaints(key, noScheduleTaintChange);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return;
      throw err;
    }
  }
}
