import { test } from "node:test";
import assert from "node:assert/strict";
import { UnknownReasonError, unprocessablePatch } from "./patch_errors.js";

test("unprocessablePatch: the client sees upstream's fixed sentence and empty details; the cause stays with us", () => {
  const err = unprocessablePatch("testing value /a failed: test failed");
  assert.deepEqual(JSON.parse(JSON.stringify(err.toStatus())), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "the server rejected our request due to an error in our request",
    reason: "Invalid",
    details: {},
    code: 422,
  });
  assert.equal((err.cause as Error).message, "testing value /a failed: test failed");
});

test("UnknownReasonError: a passed-through error is 500 with no reason on the wire", () => {
  const status = new UnknownReasonError("map: map[] does not contain declared merge key: name").toStatus();
  assert.deepEqual(JSON.parse(JSON.stringify(status)), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "map: map[] does not contain declared merge key: name",
    code: 500,
  });
});
