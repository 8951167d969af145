/**
 * The node's heartbeat Lease in `kube-node-lease` (upstream's nodelease controller): created with the
 * Node as owner, `holderIdentity` the node name, `leaseDurationSeconds` 40, and `renewTime` renewed
 * every 10 s. The node lifecycle controller marks the node NotReady when renewals stop.
 */
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Clock, Logger, Timer } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { ApiError } from "../api/status.js";
import { rethrowIfAssertion } from "../util/assert.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";
export const LEASE_DURATION_SECONDS = 40;
export const LEASE_RENEW_INTERVAL_MS = 10_000;
/** Retries of one renewal after a conflict before waiting for the next interval. */
const RENEW_ATTEMPTS_MAX = 3;

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface NodeLeaseOptions {
  readonly client: RestClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly nodeName: string;
  /** The Node's uid, for the owner reference (unknown before registration: then none). */
  readonly nodeUid: () => string | undefined;
  readonly renewIntervalMs?: number;
}

export class NodeLeaseController {
  readonly #o: NodeLeaseOptions;
  #timer: Timer | null = null;
  #stopped = false;
  #running: Promise<void> | null = null;
  lease: Lease | null = null;
  renewals = 0;

  constructor(options: NodeLeaseOptions) {
    this.#o = options;
  }

  #leases() {
    return this.#o.client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace(NODE_LEASE_NAMESPACE);
  }

  start(): void {
    this.#stopped = false;
    this.#running = this.renew().finally(() => {
      this.#running = null;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.renewIntervalMs ?? LEASE_RENEW_INTERVAL_MS, () => {
      this.#timer = null;
      this.#running = this.renew().finally(() => {
        this.#running = null;
        this.#schedule();
      });
    });
  }

  #desired(base: Lease | null): Lease {
    const uid = this.#o.nodeUid();
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      ...base,
      metadata: {
        ...base?.metadata,
        name: this.#o.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(uid === undefined ? {} : { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.#o.nodeName, uid }] }),
      },
      spec: {
        ...base?.spec,
        holderIdentity: this.#o.nodeName,
        leaseDurationSeconds: LEASE_DURATION_SECONDS,
        renewTime: microTime(this.#o.clock.wallMs()),
      },
    };
  }

  /** One renewal (creating the Lease if needed); errors are logged and retried next interval. */
  async renew(): Promise<void> {
    for (let attempt = 0; attempt < RENEW_ATTEMPTS_MAX; attempt++) {
      try {
        if (this.lease === null) {
          try {
            this.lease = await this.#leases().get(this.#o.nodeName);
          } catch (err) {
            if (!(err instanceof ApiError) || err.reason !== "NotFound") throw err;
            this.lease = await this.#leases().create(this.#desired(null));
            this.renewals++;
            return;
          }
        }
        this.lease = await this.#leases().update(this.#desired(this.lease));
        this.renewals++;
        return;
      } catch (err) {
        rethrowIfAssertion(err);
        this.lease = null; // read it again: a conflict means someone else wrote it
        if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "AlreadyExists")) continue;
        this.#o.log.warn("cannot renew node lease", { node: this.#o.nodeName, error: (err as Error).message });
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }
}
