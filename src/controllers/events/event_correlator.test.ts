import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.js";
import { AGGREGATE_MAX_EVENTS, COMBINED_MESSAGE_PREFIX, EventCorrelator, SPAM_BURST, SPAM_REFILL_MS } from "./event_correlator.js";

let seq = 0;
function ev(message: string, reason = "SuccessfulCreate"): Event {
  seq++;
  return {
    metadata: { name: `web.${seq}`, namespace: "default" },
    involvedObject: { kind: "ReplicaSet", namespace: "default", name: "web", uid: "u1", apiVersion: "apps/v1" },
    reason,
    message,
    type: "Normal",
    source: { component: "replicaset-controller" },
    firstTimestamp: `2026-01-01T00:00:0${seq % 10}Z`,
    lastTimestamp: `2026-01-01T00:00:0${seq % 10}Z`,
    count: 1,
  };
}

test("the first event is created and an identical one patches its count", () => {
  const c = new EventCorrelator();
  const first = c.correlate(ev("Created pod: a"), 0, () => "x");
  assert.equal(first.action, "create");
  if (first.action !== "create") return;
  c.observed(first.key, { ...first.event, metadata: { ...first.event.metadata, resourceVersion: "7" } });
  const second = c.correlate(ev("Created pod: a"), 1000, () => "x");
  assert.equal(second.action, "patch");
  if (second.action !== "patch") return;
  assert.equal(second.event.metadata?.name, first.event.metadata?.name);
  assert.equal(second.patch.count, 2);
  assert.equal(second.event.firstTimestamp, first.event.firstTimestamp);
});

test("a different message is a different event", () => {
  const c = new EventCorrelator();
  const a = c.correlate(ev("Created pod: a"), 0, () => "x");
  if (a.action === "create") c.observed(a.key, a.event);
  assert.equal(c.correlate(ev("Created pod: b"), 0, () => "x").action, "create");
});

test("similar events with many messages are combined into one counted event", () => {
  const c = new EventCorrelator();
  for (let i = 0; i < AGGREGATE_MAX_EVENTS; i++) {
    const r = c.correlate(ev(`Created pod: p${i}`), i, () => "x");
    assert.equal(r.action, "create");
  }
  const combined = c.correlate(ev("Created pod: p10"), 20, () => "web.combined");
  assert.equal(combined.action, "create");
  if (combined.action !== "create") return;
  assert.equal(combined.event.message, `${COMBINED_MESSAGE_PREFIX}Created pod: p10`);
  assert.equal(combined.event.metadata?.name, "web.combined");
  c.observed(combined.key, combined.event);
  const next = c.correlate(ev("Created pod: p11"), 30, () => "web.other");
  assert.equal(next.action, "patch");
  if (next.action === "patch") assert.equal(next.event.metadata?.name, "web.combined");
});

test("the spam filter drops events about one object beyond its burst until tokens refill", () => {
  const c = new EventCorrelator();
  for (let i = 0; i < SPAM_BURST; i++) assert.notEqual(c.correlate(ev("same"), 0, () => "x").action, "drop");
  assert.equal(c.correlate(ev("same"), 0, () => "x").action, "drop");
  assert.notEqual(c.correlate(ev("same"), SPAM_REFILL_MS, () => "x").action, "drop");
  assert.equal(c.correlate(ev("same"), SPAM_REFILL_MS, () => "x").action, "drop");
});
