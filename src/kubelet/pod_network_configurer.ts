/**
 * Writes this node's pod network config (a CNI conflist for the node's `spec.podCIDR`, through
 * src/cni) where containerd reads it, once the controller-manager has given the node a CIDR, and again
 * if the CIDR changes. Until then containerd reports NetworkReady=false and the node stays NotReady, as
 * upstream's kubelet with a CNI plugin that has not written its config yet.
 */
import type { Node } from "kubernetes-types/core/v1.js";
import type { Clock, Logger, Timer } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { ensurePodNetworkConfig } from "../cni/pod_network.js";

/** How often the Node is read while it has no podCIDR (the IPAM controller assigns one within a second). */
export const POD_CIDR_POLL_MS = 1_000;
/** How often the config is checked again once written (a changed CIDR, a deleted file). */
export const POD_NETWORK_RESYNC_MS = 30_000;

export interface PodNetworkConfigurerOptions {
  readonly client: RestClient;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** containerd's CNI conf_dir. */
  readonly confDir: string;
  /** containerd's CNI bin_dir. */
  readonly binDir: string;
}

export class PodNetworkConfigurer {
  readonly #o: PodNetworkConfigurerOptions;
  #timer: Timer | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  #podCIDR: string | null = null;

  constructor(options: PodNetworkConfigurerOptions) {
    this.#o = options;
  }

  /** The CIDR of the config written last (null before). */
  get podCIDR(): string | null {
    return this.#podCIDR;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(ms, () => {
      this.#timer = null;
      this.#running = this.syncOnce().then((next) => this.#schedule(next)).finally(() => (this.#running = null));
    });
  }

  /** One check; returns when to check again. */
  async syncOnce(): Promise<number> {
    let node: Node;
    try {
      node = await this.#o.client.resource<Node>("", "v1", "nodes").get(this.#o.nodeName);
    } catch (err) {
      rethrowIfAssertion(err);
      return POD_CIDR_POLL_MS;
    }
    const podCIDR = node.spec?.podCIDR;
    if (podCIDR === undefined || podCIDR === "") return POD_CIDR_POLL_MS;
    try {
      const r = ensurePodNetworkConfig({ confDir: this.#o.confDir, binDir: this.#o.binDir, podCIDR });
      if (r.changed) this.#o.log.info("wrote the pod network config", { path: r.path, podCIDR, replacedPodCIDR: r.replacedPodCIDR });
      if (r.precedingConfigs.length > 0) this.#o.log.warn("other CNI configs sort before ours; containerd uses the first", { configs: r.precedingConfigs });
      this.#podCIDR = podCIDR;
    } catch (err) {
      rethrowIfAssertion(err);
      this.#o.log.error("cannot write the pod network config", { podCIDR, error: (err as Error).message });
      return POD_NETWORK_RESYNC_MS;
    }
    return POD_NETWORK_RESYNC_MS;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }
}
