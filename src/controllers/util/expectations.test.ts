import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../env/manual_clock.js";
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS, UIDTrackingControllerExpectations } from "./expectations.js";

test("a key with no expectations is satisfied", () => {
  const e = new ControllerExpectations(new ManualClock());
  assert.equal(e.satisfiedExpectations("ns/web"), true);
});

test("expected creations block the key until each is observed", () => {
  const e = new ControllerExpectations(new ManualClock());
  e.expectCreations("ns/web", 2);
  assert.equal(e.satisfiedExpectations("ns/web"), false);
  e.creationObserved("ns/web");
  assert.equal(e.satisfiedExpectations("ns/web"), false);
  e.creationObserved("ns/web");
  assert.equal(e.satisfiedExpectations("ns/web"), true);
});

test("unmet expectations expire after five minutes", () => {
  const clock = new ManualClock();
  const e = new ControllerExpectations(clock);
  e.expectDeletions("ns/web", 1);
  clock.advance(EXPECTATIONS_TIMEOUT_MS);
  assert.equal(e.satisfiedExpectations("ns/web"), false);
  clock.advance(1);
  assert.equal(e.satisfiedExpectations("ns/web"), true);
});

test("lowering for failed creates satisfies the key without observations", () => {
  const e = new ControllerExpectations(new ManualClock());
  e.expectCreations("k", 5);
  e.lowerExpectations("k", 5, 0);
  assert.equal(e.satisfiedExpectations("k"), true);
});

test("a deleted pod observed twice lowers the deletion count once", () => {
  const e = new UIDTrackingControllerExpectations(new ManualClock());
  e.expectDeletionsOf("ns/rs", ["ns/a", "ns/b"]);
  e.deletionObservedOf("ns/rs", "ns/a");
  e.deletionObservedOf("ns/rs", "ns/a");
  e.deletionObservedOf("ns/rs", "ns/unrelated");
  assert.equal(e.get("ns/rs")?.del, 1);
  assert.equal(e.satisfiedExpectations("ns/rs"), false);
  e.deletionObservedOf("ns/rs", "ns/b");
  assert.equal(e.satisfiedExpectations("ns/rs"), true);
  e.deleteExpectations("ns/rs");
  assert.equal(e.getUIDs("ns/rs"), undefined);
});
