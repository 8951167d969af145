import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { ProxierHealth } from "./proxier_health.js";

test("the proxy is healthy at start, while a change is younger than the timeout, and after a sync", () => {
  const clock = new ManualClock();
  const h = new ProxierHealth(clock, 60_000);
  assert.equal(h.status().healthy, true);
  h.queuedUpdate();
  clock.advance(59_999);
  assert.equal(h.status().healthy, true);
  clock.advance(1);
  assert.equal(h.status().healthy, false, "a change waiting for the whole timeout is unhealthy");
  h.updated();
  assert.equal(h.status().healthy, true);
  assert.equal(h.status().lastUpdatedWallMs, clock.wallMs());
});

test("later changes do not reset the age of the oldest waiting one", () => {
  const clock = new ManualClock();
  const h = new ProxierHealth(clock, 1000);
  h.queuedUpdate();
  clock.advance(600);
  h.queuedUpdate();
  clock.advance(600);
  assert.equal(h.status().healthy, false);
});

test("the body carries lastUpdated and currentTime as upstream's", () => {
  const clock = new ManualClock();
  const h = new ProxierHealth(clock, 1000);
  h.updated();
  const body = JSON.parse(h.body()) as { lastUpdated: string; currentTime: string };
  assert.equal(body.lastUpdated, new Date(clock.wallMs()).toISOString());
  assert.equal(body.currentTime, new Date(clock.wallMs()).toISOString());
});
