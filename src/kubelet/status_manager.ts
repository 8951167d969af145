/**
 * Writes pod statuses through the pods/status subresource (upstream's status manager), only when they
 * changed from what was last written (or what the API already holds). The patch carries the pod's
 * uid, so a status never lands on a new pod that took the name. Writes for one pod are serialized.
 */
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import type { Logger } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { podStatusEqual } from "./pod_status.js";

export class StatusManager {
  /** Last status written per pod uid. Bounded by the pods the kubelet runs (entries go with them). */
  readonly #written = new Map<string, PodStatus>();
  readonly #chains = new Map<string, Promise<void>>();
  writes = 0;

  constructor(private readonly client: RestClient, private readonly log: Logger) {}

  /** Queues a write of `status` for `pod` unless it is what the API has; resolves when done. */
  setPodStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const last = this.#written.get(uid) ?? pod.status;
    if (podStatusEqual(last, status)) return this.#chains.get(uid) ?? Promise.resolve();
    this.#written.set(uid, status);
    const prev = this.#chains.get(uid) ?? Promise.resolve();
    const next = prev.then(() => this.#write(pod, status));
    this.#chains.set(uid, next);
    void next.finally(() => {
      if (this.#chains.get(uid) === next) this.#chains.delete(uid);
    });
    return next;
  }

  /** The status last written for a pod (what the kubelet believes the API shows). */
  lastStatus(uid: string): PodStatus | undefined {
    return this.#written.get(uid);
  }

  async #write(pod: Pod, status: PodStatus): Promise<void> {
    const m = pod.metadata ?? {};
    try {
      // A merge patch replaces lists whole: the status is complete, so that is what we want.
      await this.client.resource<Pod>("", "v1", "pods").namespace(m.namespace ?? "default").patch(m.name ?? "", "merge", { metadata: { uid: m.uid }, status }, { subresource: "status" });
      this.writes++;
    } catch (err) {
      rethrowIfAssertion(err);
      // Forget it: the next sync computes the status again and retries.
      this.#written.delete(m.uid ?? "");
      this.log.warn("cannot update pod status", { pod: `${m.namespace}/${m.name}`, error: (err as Error).message });
    }
  }

  forget(uid: string): void {
    this.#written.delete(uid);
  }
}
