/**
 * The event correlator (client-go tools/record/events_cache.go), pure: given an event about to be
 * written and the clock, it decides whether to drop it (spam filter), to fold it into a "combined"
 * event (aggregator), or to bump the count of an identical earlier event with a patch (logger).
 *
 *   event ─▶ spam filter (token bucket per source+object: burst 25, one token per 5 minutes)
 *         ─▶ aggregator  (same source/object/type/reason, >= 10 different messages in 10 minutes
 *                          → message "(combined from similar events): <message>", one shared key)
 *         ─▶ logger      (same key seen before → count+1, same name, patch count/lastTimestamp/message)
 */
import type { Event, ObjectReference } from "kubernetes-types/core/v1.js";

/** As upstream's maxLruCacheEntries: bounds every cache of the correlator. */
export const CORRELATOR_CACHE_ENTRIES_MAX = 4096;
/** As upstream: distinct messages of one aggregate key before events are combined. */
export const AGGREGATE_MAX_EVENTS = 10;
/** As upstream: the window in which similar events are combined. */
export const AGGREGATE_INTERVAL_MS = 600_000;
/** As upstream's spam filter: burst of events per object, and one more token every 5 minutes. */
export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 300_000;

export const COMBINED_MESSAGE_PREFIX = "(combined from similar events): ";

/** A cache that forgets its least recently used entry beyond `max`. */
export class LruCache<V> {
  readonly #m = new Map<string, V>();
  constructor(readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.#m.get(key);
    if (v !== undefined) {
      this.#m.delete(key);
      this.#m.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#m.delete(key);
    this.#m.set(key, v);
    while (this.#m.size > this.max) this.#m.delete(this.#m.keys().next().value as string);
  }
  get size(): number {
    return this.#m.size;
  }
}

function refKey(o: ObjectReference | undefined): string[] {
  return [o?.kind ?? "", o?.namespace ?? "", o?.name ?? "", o?.uid ?? "", o?.apiVersion ?? ""];
}

/** upstream getSpamKey: source + involved object. */
export function spamKey(e: Event): string {
  return [e.source?.component ?? "", e.source?.host ?? "", ...refKey(e.involvedObject)].join("\u0000");
}

/** upstream EventAggregatorByReasonFunc: everything but the message. */
export function aggregateKey(e: Event): string {
  return [e.source?.component ?? "", e.source?.host ?? "", ...refKey(e.involvedObject), e.type ?? "", e.reason ?? "", e.reportingComponent ?? "", e.reportingInstance ?? ""].join("\u0000");
}

/** upstream getEventKey: identical events share it. */
export function eventKey(e: Event): string {
  return [
    e.source?.component ?? "",
    e.source?.host ?? "",
    ...refKey(e.involvedObject),
    e.involvedObject?.fieldPath ?? "",
    e.type ?? "",
    e.reason ?? "",
    e.message ?? "",
  ].join("\u0000");
}

/** What to do with one event. */
export type CorrelationResult =
  | { readonly action: "drop" }
  /** Create `event` (a new object). */
  | { readonly action: "create"; readonly event: Event; readonly key: string }
  /** Patch the existing `event.metadata.name` with `patch`; create `event` if it is gone. */
  | { readonly action: "patch"; readonly event: Event; readonly key: string; readonly patch: { count: number; lastTimestamp: string; message: string } };

interface Observed {
  readonly name: string;
  readonly count: number;
  readonly firstTimestamp: string;
  readonly resourceVersion: string;
}

interface Bucket {
  tokens: number;
  lastRefillMs: number;
}

interface AggregateRecord {
  readonly messages: Set<string>;
  lastMs: number;
}

export class EventCorrelator {
  readonly #spam = new LruCache<Bucket>(CORRELATOR_CACHE_ENTRIES_MAX);
  readonly #aggregate = new LruCache<AggregateRecord>(CORRELATOR_CACHE_ENTRIES_MAX);
  readonly #observed = new LruCache<Observed>(CORRELATOR_CACHE_ENTRIES_MAX);

  /**
   * Correlates `event` (fully made: name, timestamps, count 1) at monotonic time `nowMs`.
   * `newName()` names a combined event when the aggregator makes one.
   */
  correlate(event: Event, nowMs: number, newName: () => string): CorrelationResult {
    if (!this.#allow(spamKey(event), nowMs)) return { action: "drop" };
    let ev = event;
    let key = eventKey(event);
    const aggKey = aggregateKey(event);
    let rec = this.#aggregate.get(aggKey);
    if (rec === undefined || nowMs - rec.lastMs > AGGREGATE_INTERVAL_MS) {
      rec = { messages: new Set(), lastMs: nowMs };
      this.#aggregate.set(aggKey, rec);
    }
    rec.lastMs = nowMs;
    if (rec.messages.size < AGGREGATE_MAX_EVENTS || rec.messages.has(event.message ?? "")) {
      rec.messages.add(event.message ?? "");
    } else {
      // Too many different messages about the same thing: one combined event, counted.
      ev = { ...event, metadata: { ...event.metadata, name: newName() }, message: COMBINED_MESSAGE_PREFIX + (event.message ?? "") };
      key = aggKey;
    }
    const seen = this.#observed.get(key);
    if (seen === undefined) return { action: "create", event: ev, key };
    const count = seen.count + 1;
    const merged: Event = {
      ...ev,
      metadata: { ...ev.metadata, name: seen.name, resourceVersion: seen.resourceVersion },
      count,
      firstTimestamp: seen.firstTimestamp,
    };
    return { action: "patch", event: merged, key, patch: { count, lastTimestamp: ev.lastTimestamp ?? "", message: ev.message ?? "" } };
  }

  /** Remembers what the server stored, so the next identical event patches it. */
  observed(key: string, stored: Event): void {
    const name = stored.metadata?.name;
    if (name === undefined) return;
    this.#observed.set(key, {
      name,
      count: stored.count ?? 1,
      firstTimestamp: stored.firstTimestamp ?? "",
      resourceVersion: stored.metadata?.resourceVersion ?? "",
    });
  }

  #allow(key: string, nowMs: number): boolean {
    let b = this.#spam.get(key);
    if (b === undefined) {
      b = { tokens: SPAM_BURST, lastRefillMs: nowMs };
      this.#spam.set(key, b);
    }
    const refills = Math.floor((nowMs - b.lastRefillMs) / SPAM_REFILL_MS);
    if (refills > 0) {
      b.tokens = Math.min(SPAM_BURST, b.tokens + refills);
      b.lastRefillMs += refills * SPAM_REFILL_MS;
    }
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }
}
