/**
 * The node IPAM controller with upstream's RangeAllocator (pkg/controller/nodeipam): every Node gets a
 * spec.podCIDR / spec.podCIDRs subnet of --cluster-cidr (10.244.0.0/16 here, /24 per node). CIDRs
 * nodes already have are marked used as the informer delivers them (before any worker runs, since
 * workers start after the cache sync), so a restart never hands out a subnet twice; a deleted node's
 * subnet is released.
 */
import type { Node } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import type { ResourceClient } from "../../client/rest_client.js";
import { objectOfDelete } from "../../client/store.js";
import { ApiEventRecorder, type EventRecorder } from "../events/recorder.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { CidrError, CidrSet } from "./cidr_set.js";

/** tk8s's default --cluster-cidr (flannel's, which most single-node distributions use). */
export const DEFAULT_CLUSTER_CIDR = "10.244.0.0/16";
/** Upstream --node-cidr-mask-size-ipv4. */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface NodeIpamOptions {
  readonly clusterCidr?: string;
  readonly nodeCidrMaskSize?: number;
  /** --service-cluster-ip-range: occupied so no node gets pod addresses that collide with services. */
  readonly serviceCidr?: string;
  /** Defaults to an API recorder with source.component "cidrAllocator" (upstream's). */
  readonly recorder?: EventRecorder;
}

function podCidrsOf(node: Node): string[] {
  const cidrs = node.spec?.podCIDRs ?? [];
  if (cidrs.length > 0) return cidrs;
  return node.spec?.podCIDR === undefined || node.spec.podCIDR === "" ? [] : [node.spec.podCIDR];
}

export class NodeIpamController extends QueueController {
  readonly cidrs: CidrSet;
  readonly #nodes: Lister<Node>;
  readonly #nodeClient: ResourceClient<Node>;
  readonly #recorder: EventRecorder;

  constructor(ctx: ControllerContext, options: NodeIpamOptions = {}) {
    super(ctx, "nodeipam");
    this.cidrs = new CidrSet(options.clusterCidr ?? DEFAULT_CLUSTER_CIDR, options.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
    if (options.serviceCidr !== undefined) this.cidrs.occupy(options.serviceCidr);
    this.#nodes = new Lister(ctx.informers.nodes().indexer);
    this.#nodeClient = ctx.client.resource<Node>("", "v1", "nodes");
    this.#recorder = options.recorder ?? new ApiEventRecorder(ctx.env, ctx.client, { component: "cidrAllocator" });
  }

  init(): void {
    this.ctx.informers.nodes().addEventHandler({
      onAdd: (n) => this.#observe(n),
      onUpdate: (_o, n) => this.#observe(n),
      onDelete: (obj) => {
        const node = objectOfDelete(obj);
        for (const c of podCidrsOf(node)) if (this.cidrs.contains(c)) this.cidrs.release(c);
        this.ctx.env.log.info("released node pod CIDR", { node: node.metadata?.name, podCIDRs: podCidrsOf(node) });
      },
    });
  }

  #observe(node: Node): void {
    const cidrs = podCidrsOf(node);
    if (cidrs.length === 0) {
      this.queue.add(node.metadata?.name ?? "");
      return;
    }
    for (const c of cidrs) if (this.cidrs.contains(c)) this.cidrs.occupy(c);
  }

  /** AllocateOrOccupyCIDR + updateCIDRsAllocation for one node. */
  protected async sync(name: string): Promise<void> {
    const cached = this.#nodes.get("", name);
    if (cached === undefined || cached.metadata?.deletionTimestamp !== undefined || podCidrsOf(cached).length > 0) return;
    // The cache may lag our own last write: read the node before giving it another subnet.
    let fresh: Node;
    try {
      fresh = await this.#nodeClient.get(name);
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return;
      throw err;
    }
    if (podCidrsOf(fresh).length > 0) {
      this.#observe(fresh);
      return;
    }
    let cidr: string;
    try {
      cidr = this.cidrs.allocateNext();
    } catch (err) {
      if (!(err instanceof CidrError)) throw err;
      this.#recorder.event({ kind: "Node", name, ...(fresh.metadata?.uid === undefined ? {} : { uid: fresh.metadata.uid }) }, "Normal", "CIDRNotAvailable", `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`failed to allocate cidr from cluster cidr at idx:0: ${err.message}`, { cause: err });
    }
    try {
      await this.#nodeClient.patch(name, "merge", { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.ctx.env.log.info("set node pod CIDR", { node: name, podCIDR: cidr });
    } catch (err) {
      this.cidrs.release(cidr);
      if (err instanceof ApiError && err.reason === "NotFound") return;
      this.#recorder.event({ kind: "Node", name, ...(fresh.metadata?.uid === undefined ? {} : { uid: fresh.metadata.uid }) }, "Normal", "CIDRAssignmentFailed", `Node ${name} status is now: CIDRAssignmentFailed`);
      throw err;
    }
  }
}
