/**
 * Writes pod statuses through the pods/status subresource (upstream's status manager). It keeps the
 * latest status the kubelet set per pod and syncs it: one merge patch per change, none when the status
 * is what was last written (or what the API already holds), and changes that arrive while a write for
 * the pod is in flight coalesce into one more write of the newest status (upstream's versioned
 * podStatuses cache with its sync loop), so a burst of syncs costs one round trip, not one each.
 *
 * The cached status is also the "old status" the next one is generated from (upstream's
 * generateAPIPodStatus reads statusManager.GetPodStatus first): the informer's copy of the pod lags
 * behind our own writes, and generating from it would recompute startTime and lastTransitionTime and
 * flip them back and forth between writes.
 *
 * The patch carries the pod's uid, so a status never lands on a new pod that took the name.
 */
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import type { Logger } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { rethrowIfAssertion } from "../util/assert.js";
import { podStatusEqual } from "./pod_status.js";

/** How a status reaches the API: the pods/status merge patch by default. */
export type PodStatusWriter = (pod: Pod, status: PodStatus) => Promise<void>;

interface Entry {
  /** The pod the status belongs to (namespace, name and uid for the patch). */
  pod: Pod;
  /** The newest status the kubelet set. */
  status: PodStatus;
  /** Bumped on every change of `status`; `synced` is the version the API holds. */
  version: number;
  synced: number;
  /** The write loop for this pod, while one runs. */
  syncing: Promise<void> | null;
}

export class StatusManager {
  /** Per pod uid. Bounded by the pods the kubelet runs: entries go with them (`forget`). */
  readonly #entries = new Map<string, Entry>();
  readonly #write: PodStatusWriter;
  /** Status writes sent (successful or not), for tests and the benchmark. */
  writes = 0;

  constructor(client: RestClient, private readonly log: Logger, writer?: PodStatusWriter) {
    this.#write = writer ?? ((pod, status) => patchPodStatus(client, pod, status));
  }

  /**
   * Sets the pod's status; it is written unless it is what the API has. Resolves once the API holds
   * this status or a newer one (or the write failed: the next sync sets it again and retries).
   */
  setPodStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    let e = this.#entries.get(uid);
    if (e === undefined) {
      // Nothing set yet: what the API shows is the baseline (a restarted kubelet writes nothing new).
      const apiHasIt = podStatusEqual(pod.status, status);
      e = { pod, status, version: 1, synced: apiHasIt ? 1 : 0, syncing: null };
      this.#entries.set(uid, e);
    } else {
      e.pod = pod;
      if (!podStatusEqual(e.status, status)) {
        e.status = status;
        e.version++;
      }
    }
    if (e.syncing !== null) return e.syncing;
    if (e.synced === e.version) return Promise.resolve();
    const entry = e;
    entry.syncing = this.#sync(uid, entry).finally(() => {
      entry.syncing = null;
    });
    return entry.syncing;
  }

  /** Writes the newest status until the API holds it; a failure stops the loop (the next set retries). */
  async #sync(uid: string, e: Entry): Promise<void> {
    while (e.synced < e.version && this.#entries.get(uid) === e) {
      const version = e.version;
      this.writes++;
      try {
        await this.#write(e.pod, e.status);
        e.synced = version;
      } catch (err) {
        rethrowIfAssertion(err);
        const m = e.pod.metadata ?? {};
        this.log.warn("cannot update pod status", { pod: `${m.namespace}/${m.name}`, error: (err as Error).message });
        return;
      }
    }
  }

  /** The status the kubelet last set for a pod (what it believes the API shows, or soon will). */
  lastStatus(uid: string): PodStatus | undefined {
    return this.#entries.get(uid)?.status;
  }

  forget(uid: string): void {
    this.#entries.delete(uid);
  }
}

/** The pods/status merge patch (a merge patch replaces lists whole: the status is complete, as wanted). */
async function patchPodStatus(client: RestClient, pod: Pod, status: PodStatus): Promise<void> {
  const m = pod.metadata ?? {};
  await client.resource<Pod>("", "v1", "pods").namespace(m.namespace ?? "default").patch(m.name ?? "", "merge", { metadata: { uid: m.uid }, status }, { subresource: "status" });
}
