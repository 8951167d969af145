/**
 * The kubelet's events (upstream's record.EventRecorder with the kubelet's source): written through
 * the API as core/v1 Events in the pod's namespace. A repeat of the same event (same object, field,
 * reason and message) within 10 minutes bumps `count` and `lastTimestamp` instead of adding one, as
 * upstream's correlator does. Fire and forget: a failed write is logged, never retried.
 */
import type { Event, ObjectReference } from "kubernetes-types/core/v1.js";
import type { Clock, Logger, Rng } from "../env/env.js";
import type { RestClient } from "../client/rest_client.js";
import { rfc3339 } from "./pod_status.js";

/** Event writes in flight; beyond it events are dropped (and counted), not queued. */
export const EVENTS_INFLIGHT_MAX = 64;
/** Recent events remembered for aggregation. */
const RECENT_MAX = 1024;
const AGGREGATE_WINDOW_MS = 10 * 60_000;

export interface InvolvedObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
  readonly apiVersion?: string;
  readonly resourceVersion?: string;
  readonly fieldPath?: string;
}

export class EventRecorder {
  #inflight = 0;
  dropped = 0;
  readonly #recent = new Map<string, { name: string; namespace: string; count: number; firstMs: number; lastMs: number; pending: Promise<void> }>();

  constructor(
    private readonly client: RestClient,
    private readonly env: { clock: Clock; rng: Rng; log: Logger },
    private readonly source: { component: string; host: string },
  ) {}

  event(obj: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void {
    const namespace = obj.namespace ?? "default";
    const key = `${obj.kind}/${namespace}/${obj.name}/${obj.uid ?? ""}/${obj.fieldPath ?? ""}/${type}/${reason}/${message}`;
    const now = this.env.clock.wallMs();
    const recent = this.#recent.get(key);
    if (this.#inflight >= EVENTS_INFLIGHT_MAX) {
      this.dropped++;
      return;
    }
    const events = this.client.resource<Event>("", "v1", "events").namespace(namespace);
    if (recent !== undefined && now - recent.lastMs < AGGREGATE_WINDOW_MS) {
      recent.count++;
      recent.lastMs = now;
      const count = recent.count;
      recent.pending = recent.pending.then(() => this.#track(events.patch(recent.name, "merge", { count, lastTimestamp: rfc3339(now) }).then(() => undefined), reason));
      return;
    }
    const name = `${obj.name}.${(this.env.rng.nextU32().toString(16) + this.env.rng.nextU32().toString(16)).padStart(16, "0").slice(0, 16)}`;
    const involvedObject: ObjectReference = {
      kind: obj.kind, namespace, name: obj.name,
      ...(obj.uid === undefined ? {} : { uid: obj.uid }),
      apiVersion: obj.apiVersion ?? "v1",
      ...(obj.resourceVersion === undefined ? {} : { resourceVersion: obj.resourceVersion }),
      ...(obj.fieldPath === undefined ? {} : { fieldPath: obj.fieldPath }),
    };
    const ev: Event = {
      apiVersion: "v1", kind: "Event",
      metadata: { name, namespace },
      involvedObject, reason, message, type,
      source: { component: this.source.component, host: this.source.host },
      firstTimestamp: rfc3339(now), lastTimestamp: rfc3339(now), count: 1,
      reportingComponent: this.source.component, reportingInstance: this.source.host,
    };
    if (this.#recent.size >= RECENT_MAX) this.#recent.delete(this.#recent.keys().next().value as string);
    const pending = this.#track(events.create(ev).then(() => undefined), reason);
    this.#recent.set(key, { name, namespace, count: 1, firstMs: now, lastMs: now, pending });
  }

  #track(p: Promise<void>, reason: string): Promise<void> {
    this.#inflight++;
    return p.catch((err: Error) => this.env.log.warn("cannot write event", { reason, error: err.message })).finally(() => void this.#inflight--);
  }
}
