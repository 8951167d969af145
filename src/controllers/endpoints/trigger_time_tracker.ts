/**
 * When did the change an Endpoints (or EndpointSlice) write reflects happen? (upstream's
 * pkg/controller/util/endpoint/trigger_time_tracker.go). Per service it remembers the trigger times it
 * last saw: each pod's Ready-condition transition and the service's creation. A sync returns the
 * earliest trigger time that changed since the previous sync (undefined when none did), or the
 * service's creation time the first time the service is seen. The result goes into the
 * `endpoints.kubernetes.io/last-change-trigger-time` annotation, which the SLI for endpoint latency reads.
 */
import type { Pod, Service } from "kubernetes-types/core/v1.js";

interface ServiceState {
  lastPodTriggerTimes: Map<string, number>;
  lastServiceTriggerTime: number | undefined;
}

function parseMs(t: string | undefined | null): number | undefined {
  if (t === undefined || t === null || t === "") return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The pod's trigger time: its Ready condition's last transition. */
export function podTriggerTimeMs(pod: Pod): number | undefined {
  return parseMs(pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime);
}

export class TriggerTimeTracker {
  readonly #states = new Map<string, ServiceState>();

  /** The trigger time for this sync of `namespace/name`, in wall ms; undefined: nothing new. */
  compute(service: Service, pods: readonly Pod[]): number | undefined {
    const key = `${service.metadata?.namespace ?? ""}/${service.metadata?.name ?? ""}`;
    const state = this.#states.get(key);
    const podTimes = new Map<string, number>();
    let minChanged: number | undefined;
    for (const pod of pods) {
      const t = podTriggerTimeMs(pod);
      if (t === undefined) continue;
      const name = pod.metadata?.name ?? "";
      podTimes.set(name, t);
      const last = state?.lastPodTriggerTimes.get(name);
      if (last === undefined || t > last) minChanged = minChanged === undefined ? t : Math.min(minChanged, t);
    }
    const serviceTime = parseMs(service.metadata?.creationTimestamp);
    if (serviceTime !== undefined && (state?.lastServiceTriggerTime === undefined || serviceTime > state.lastServiceTriggerTime)) {
      minChanged = minChanged === undefined ? serviceTime : Math.min(minChanged, serviceTime);
    }
    this.#states.set(key, { lastPodTriggerTimes: podTimes, lastServiceTriggerTime: serviceTime });
    // A service seen for the first time: its creation is the trigger.
    if (state === undefined) return serviceTime;
    return minChanged;
  }

  /** Forgets a deleted service. */
  deleteService(namespace: string, name: string): void {
    this.#states.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.#states.size;
  }
}
