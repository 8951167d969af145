import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { checkSelectableFields, matchesFields, parseFieldSelector, selectedName } from "./field_selector.js";

const pod = { metadata: { name: "web", namespace: "default" }, spec: { nodeName: "n1" }, status: { phase: "Running" } };

test("field selector: metadata and pod fields match with = and !=", () => {
  assert.equal(matchesFields("pods", parseFieldSelector("metadata.name=web,spec.nodeName=n1"), pod), true);
  assert.equal(matchesFields("pods", parseFieldSelector("status.phase!=Running"), pod), false);
  assert.equal(matchesFields("pods", parseFieldSelector("spec.nodeName=="), { metadata: {}, spec: {} }), true);
});

test("field selector: an unsupported field is upstream's 400, worded per kind", () => {
  assert.throws(() => checkSelectableFields("pods", parseFieldSelector("spec.foo=x")), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === "field label not supported: spec.foo");
  assert.throws(
    () => checkSelectableFields("configmaps", parseFieldSelector("spec.nodeName=x")),
    (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === '"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
});

test("field selector: escaped commas stay in the value, and the pinned name is found", () => {
  const sel = parseFieldSelector("metadata.name=a\\,b");
  assert.deepEqual(sel, [{ field: "metadata.name", operator: "=", value: "a,b" }]);
  assert.equal(selectedName(sel), "a,b");
  assert.throws(() => parseFieldSelector("nonsense"), ApiError);
});
