/**
 * The event recorder controllers report with (client-go tools/record: EventRecorder + broadcaster +
 * the sink that writes core/v1 Events through the API). `event()` never throws and never waits: it
 * makes the Event (name `<object>.<hex nanoseconds>`, involvedObject with uid and resourceVersion,
 * source.component, count 1, first/lastTimestamp), puts it on a bounded queue, and one writer sends
 * the queue in order. The correlator turns a repeat of an identical event into a patch of the first
 * one's count and lastTimestamp, as upstream does, so `kubectl describe` shows "(x3 over 2m)".
 */
import type { Event, ObjectReference } from "kubernetes-types/core/v1.js";
import type { Env } from "../../env/env.js";
import { ApiError } from "../../api/status.js";
import { rethrowIfAssertion } from "../../util/assert.js";
import type { KubeObject, ResourceClient, RestClient } from "../../client/rest_client.js";
import { EventCorrelator, type CorrelationResult } from "./event_correlator.js";

export type EventType = "Normal" | "Warning";

/** As upstream's broadcaster queue (maxQueuedEvents): beyond it new events are dropped and counted. */
export const EVENT_QUEUE_MAX = 1000;
/** As upstream's maxTriesPerEvent: writes that fail on the network are retried this many times. */
export const EVENT_WRITE_TRIES_MAX = 12;
/** As upstream's sleepDuration between tries. */
export const EVENT_RETRY_INTERVAL_MS = 10_000;

/** What controllers call. */
export interface EventRecorder {
  /** Records an event about `object` (an object with kind/apiVersion/metadata, or a reference). Never throws. */
  event(object: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  /** source.component, e.g. "replicaset-controller", "deployment-controller", "default-scheduler". */
  readonly component: string;
  /** source.host (kubelets set their node name). */
  readonly host?: string;
  readonly queueMax?: number;
  readonly retryIntervalMs?: number;
}

export interface EventRecorderStats {
  readonly written: number;
  readonly patched: number;
  readonly dropped: number;
  readonly failed: number;
}

/** The reference an Event points at (upstream reference.GetReference). */
export function objectReference(object: KubeObject | ObjectReference): ObjectReference {
  if (!("metadata" in object) || object.metadata === undefined) {
    const r = object as ObjectReference;
    return { ...r };
  }
  const o = object as KubeObject;
  const m = o.metadata ?? {};
  return {
    ...(o.kind === undefined ? {} : { kind: o.kind }),
    ...(m.namespace === undefined || m.namespace === "" ? {} : { namespace: m.namespace }),
    ...(m.name === undefined ? {} : { name: m.name }),
    ...(m.uid === undefined ? {} : { uid: m.uid }),
    ...(o.apiVersion === undefined ? {} : { apiVersion: o.apiVersion }),
    ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
  };
}

/** metav1.Time's wire form: RFC 3339 with whole seconds. */
// metav1.Time formatting lives in one place; the name stays for this module\'s importers.
import { formatTime as rfc3339 } from "../../api/time.js";
export { rfc3339 };

/** Records events through the API; one per component (it is also the sink and the correlator). */
export class ApiEventRecorder implements EventRecorder {
  readonly #env: Pick<Env, "clock" | "log">;
  readonly #events: ResourceClient<Event>;
  readonly #o: EventRecorderOptions;
  readonly #queueMax: number;
  readonly #correlator = new EventCorrelator();
  readonly #queue: Event[] = [];
  #lastNanos = 0n;
  #pumping: Promise<void> | null = null;
  #stopped = false;
  #written = 0;
  #patched = 0;
  #dropped = 0;
  #failed = 0;

  constructor(env: Pick<Env, "clock" | "log">, client: RestClient, options: EventRecorderOptions) {
    this.#env = env;
    this.#events = client.resource<Event>("", "v1", "events");
    this.#o = options;
    this.#queueMax = options.queueMax ?? EVENT_QUEUE_MAX;
  }

  event(object: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    try {
      if (this.#stopped) return;
      const ref = objectReference(object);
      if (ref.name === undefined || ref.name === "") {
        this.#env.log.warn("cannot record an event about an object without a name", { reason });
        return;
      }
      if (this.#queue.length >= this.#queueMax) {
        this.#dropped++;
        this.#env.log.warn("event queue full; event dropped", { object: `${ref.namespace ?? ""}/${ref.name}`, reason, limit: this.#queueMax });
        return;
      }
      this.#queue.push(this.#makeEvent(ref, type, reason, message));
      if (this.#pumping === null) this.#pumping = this.#pump().finally(() => (this.#pumping = null));
    } catch (err) {
      rethrowIfAssertion(err);
      this.#env.log.warn("cannot record event", { reason, error: String(err) });
    }
  }

  /** Resolves when every event queued so far has been written (or given up on). For tests and shutdown. */
  async flush(): Promise<void> {
    while (this.#pumping !== null) await this.#pumping;
  }

  /** Drops queued events and ignores new ones. */
  stop(): void {
    this.#stopped = true;
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
  }

  stats(): EventRecorderStats {
    return { written: this.#written, patched: this.#patched, dropped: this.#dropped, failed: this.#failed };
  }

  #makeEvent(ref: ObjectReference, type: EventType, reason: string, message: string): Event {
    const wallMs = this.#env.clock.wallMs();
    const now = rfc3339(wallMs);
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${ref.name}.${this.#nextHex(wallMs)}`, namespace: ref.namespace ?? "default" },
      involvedObject: ref,
      reason,
      message,
      type,
      source: { component: this.#o.component, ...(this.#o.host === undefined ? {} : { host: this.#o.host }) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.#o.component,
      reportingInstance: this.#o.host ?? "",
    };
  }

  /** Unix nanoseconds in hex, strictly increasing per recorder so two events in one ms get two names. */
  #nextHex(wallMs: number): string {
    let n = BigInt(Math.floor(wallMs)) * 1_000_000n;
    if (n <= this.#lastNanos) n = this.#lastNanos + 1n;
    this.#lastNanos = n;
    return n.toString(16);
  }

  /** Writes queued events one at a time, in order, until the queue is empty. */
  async #pump(): Promise<void> {
    for (let ev = this.#queue.shift(); ev !== undefined && !this.#stopped; ev = this.#queue.shift()) {
      const r = this.#correlator.correlate(ev, this.#env.clock.nowMs(), () => `${ev!.involvedObject.name}.${this.#nextHex(this.#env.clock.wallMs())}`);
      if (r.action === "drop") {
        this.#dropped++;
        continue;
      }
      await this.#write(r);
    }
  }

  async #write(r: Exclude<CorrelationResult, { action: "drop" }>): Promise<void> {
    const ns = r.event.metadata?.namespace ?? "default";
    for (let attempt = 1; attempt <= EVENT_WRITE_TRIES_MAX && !this.#stopped; attempt++) {
      try {
        let stored: Event | undefined;
        if (r.action === "patch") {
          try {
            stored = await this.#events.namespace(ns).patch(r.event.metadata!.name!, "strategic", r.patch);
            this.#patched++;
          } catch (err) {
            // The event may have been deleted (TTL): write it again as a new object, as upstream does.
            if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
          }
        }
        if (stored === undefined) {
          const { resourceVersion: _rv, ...meta } = r.event.metadata ?? {};
          stored = await this.#events.namespace(ns).create({ ...r.event, metadata: meta });
          this.#written++;
        }
        this.#correlator.observed(r.key, stored);
        return;
      } catch (err) {
        rethrowIfAssertion(err);
        // A refusal by the server will not change on retry (upstream gives up on any status error
        // but a server timeout); a network error might.
        const retriable = !(err instanceof ApiError) || err.reason === "Timeout" || err.reason === "ServiceUnavailable" || err.reason === "TooManyRequests";
        if (!retriable || attempt === EVENT_WRITE_TRIES_MAX) {
          this.#failed++;
          this.#env.log.warn("cannot write event; dropped", { event: `${ns}/${r.event.metadata?.name}`, reason: r.event.reason, attempt, error: String(err) });
          return;
        }
        await new Promise<void>((resolve) => this.#env.clock.setTimer(this.#o.retryIntervalMs ?? EVENT_RETRY_INTERVAL_MS, resolve));
      }
    }
  }
}

/** A recorder that only remembers what it was told: for tests of pure code that emits events. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { object: ObjectReference; type: EventType; reason: string; message: string }[] = [];
  event(object: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    this.events.push({ object: objectReference(object), type, reason, message });
  }
  /** "Normal ScalingReplicaSet Scaled up …" lines, in order. */
  lines(): string[] {
    return this.events.map((e) => `${e.type} ${e.reason} ${e.message}`);
  }
}
