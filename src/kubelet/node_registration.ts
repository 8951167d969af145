/**
 * Registers the kubelet's Node and keeps its status posted (upstream's registerWithAPIServer and
 * syncNodeStatus): create the Node; if it exists already (a restart, or a re-join), adopt it, bringing
 * its labels up to date. Then every 10 s compute the status and write it through nodes/status when it
 * changed, or every 5 min regardless. Time from the injected clock.
 */
import type { Node, NodeStatus } from "kubernetes-types/core/v1.js";
import type { Clock, Logger, Timer } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { ApiError } from "../api/status.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { buildNodeStatus, initialNode, nodeLabels, nodeStatusNeedsWrite, NODE_STATUS_UPDATE_FREQUENCY_MS, type NodeStatusInput } from "./node_status.js";

export interface NodeStatusReporterOptions {
  readonly client: RestClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** The inputs of the status as of now (machine, runtime version and readiness). */
  readonly input: () => Promise<NodeStatusInput>;
  readonly updateFrequencyMs?: number;
}

export class NodeStatusReporter {
  readonly #o: NodeStatusReporterOptions;
  #timer: Timer | null = null;
  #stopped = false;
  #lastReportMs: number | null = null;
  #current: NodeStatus | undefined;
  #running: Promise<void> | null = null;
  node: Node | null = null;
  writes = 0;

  constructor(options: NodeStatusReporterOptions) {
    this.#o = options;
  }

  #nodes() {
    return this.#o.client.resource<Node>("", "v1", "nodes");
  }

  /** Creates or adopts the Node; throws when the API cannot be reached (the caller retries). */
  async register(): Promise<Node> {
    const input = await this.#o.input();
    const want = initialNode(input);
    try {
      this.node = await this.#nodes().create(want);
      this.#o.log.info("registered node", { node: input.nodeName });
    } catch (err) {
      if (!(err instanceof ApiError) || err.reason !== "AlreadyExists") throw err;
      const existing = await this.#nodes().get(input.nodeName);
      const labels = { ...existing.metadata?.labels, ...nodeLabels(input.machine, input.nodeName) };
      if (JSON.stringify(labels) !== JSON.stringify(existing.metadata?.labels ?? {})) {
        this.node = await this.#nodes().patch(input.nodeName, "merge", { metadata: { labels } });
      } else {
        this.node = existing;
      }
      this.#o.log.info("node already registered; adopted it", { node: input.nodeName });
    }
    this.#current = this.node.status;
    await this.syncNodeStatus();
    return this.node;
  }

  /** Starts the update loop (it never ends until stop()). */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.updateFrequencyMs ?? NODE_STATUS_UPDATE_FREQUENCY_MS, () => {
      this.#timer = null;
      this.#running = this.syncNodeStatus().finally(() => {
        this.#running = null;
        this.#schedule();
      });
    });
  }

  /** One round: compute, and write if needed. Errors are logged; the next round retries. */
  async syncNodeStatus(): Promise<void> {
    try {
      const input = await this.#o.input();
      // Compare with the Node as the API server has it (from its cache, as upstream's kubelet reads it
      // each round): when the node controller marked it Unknown, the next round puts it right at once.
      const live = await this.#nodes().get(input.nodeName, { resourceVersion: "0" });
      const current = live.status ?? this.#current;
      const next = buildNodeStatus(input, current);
      const now = this.#o.clock.nowMs();
      if (!nodeStatusNeedsWrite(current, next, this.#lastReportMs, now)) return;
      this.node = await this.#nodes().patch(input.nodeName, "merge", { status: next }, { subresource: "status" });
      this.#current = this.node.status ?? next;
      this.#lastReportMs = now;
      this.writes++;
    } catch (err) {
      rethrowIfAssertion(err);
      this.#o.log.warn("cannot update node status", { error: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }
}
