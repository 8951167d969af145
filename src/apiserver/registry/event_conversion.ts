/**
 * events.k8s.io/v1 Events are core/v1 Events in another shape, stored once under `/registry/events`
 * (as upstream): the new API's `regarding`, `note`, `reportingController`, `deprecated*` fields are the
 * old API's `involvedObject`, `message`, `reportingComponent`, `source`, `firstTimestamp`, … .
 */
import type { KubeObject } from "./codec.js";

const RENAMES: readonly (readonly [events: string, core: string])[] = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function rename(obj: KubeObject, pairs: readonly (readonly [string, string])[]): KubeObject {
  const out: KubeObject = {};
  const map = new Map(pairs);
  for (const [k, v] of Object.entries(obj)) out[map.get(k) ?? k] = v;
  return out;
}

export function eventsV1ToCore(obj: KubeObject): KubeObject {
  const out = rename(obj, RENAMES);
  out.apiVersion = "v1";
  out.kind = "Event";
  return out;
}

export function coreToEventsV1(obj: KubeObject): KubeObject {
  const out = rename(obj, RENAMES.map(([a, b]) => [b, a] as const));
  out.apiVersion = "events.k8s.io/v1";
  out.kind = "Event";
  return out;
}
