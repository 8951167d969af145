import { test } from "node:test";
import assert from "node:assert/strict";
import { failureConditions, updatedConditions, type DeletionTotals } from "./namespace_conditions.js";

const clean: DeletionTotals = { remainingByResource: new Map(), remainingByFinalizer: new Map(), deleteErrors: [], discoveryErrors: [] };

test("a clean pass sets all five conditions False with upstream's ok reasons", () => {
  const got = updatedConditions(undefined, clean, "2024-01-01T00:00:00Z")!;
  assert.deepEqual(
    got.map((c) => [c.type, c.status, c.reason]),
    [
      ["NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered"],
      ["NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions"],
      ["NamespaceDeletionContentFailure", "False", "ContentDeleted"],
      ["NamespaceContentRemaining", "False", "ContentRemoved"],
      ["NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers"],
    ],
  );
  assert.equal(got[3]!.message, "All content successfully removed");
});

const cases = [
  {
    name: "remaining resources are listed sorted as `<resource>.<group> has N resource instances`",
    totals: { ...clean, remainingByResource: new Map([["pods.", 2], ["deployments.apps", 1]]) },
    type: "NamespaceContentRemaining",
    want: { reason: "SomeResourcesRemain", message: "Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances" },
  },
  {
    name: "remaining finalizers are listed as `<finalizer> in N resource instances`",
    totals: { ...clean, remainingByFinalizer: new Map([["example.com/hold", 3]]) },
    type: "NamespaceFinalizersRemaining",
    want: { reason: "SomeFinalizersRemain", message: "Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances" },
  },
  {
    name: "delete errors are counted and aggregated",
    totals: { ...clean, deleteErrors: ["a failed", "b failed"] },
    type: "NamespaceDeletionContentFailure",
    want: { reason: "ContentDeletionFailed", message: "Failed to delete all resource types, 2 remaining: [a failed, b failed]" },
  },
  {
    name: "discovery errors are counted",
    totals: { ...clean, discoveryErrors: ["x"] },
    type: "NamespaceDeletionDiscoveryFailure",
    want: { reason: "DiscoveryFailed", message: "Discovery failed for some groups, 1 failing: x" },
  },
] as const;
for (const c of cases) {
  test(`failureConditions: ${c.name}`, () => {
    assert.deepEqual(failureConditions(c.totals).get(c.type), c.want);
  });
}

test("an unchanged pass writes nothing, and a flip moves lastTransitionTime only for the flipped type", () => {
  const first = updatedConditions(undefined, clean, "T1")!;
  assert.equal(updatedConditions(first, clean, "T2"), null);
  const remaining = { ...clean, remainingByResource: new Map([["pods.", 1]]) };
  const second = updatedConditions(first, remaining, "T2")!;
  const byType = new Map(second.map((c) => [c.type, c]));
  assert.equal(byType.get("NamespaceContentRemaining")!.status, "True");
  assert.equal(byType.get("NamespaceContentRemaining")!.lastTransitionTime, "T2");
  assert.equal(byType.get("NamespaceFinalizersRemaining")!.lastTransitionTime, "T1");
  const third = updatedConditions(second, { ...clean, remainingByResource: new Map([["pods.", 2]]) }, "T3")!;
  // Same status, new message: the message changes, the transition time does not.
  assert.equal(new Map(third.map((c) => [c.type, c])).get("NamespaceContentRemaining")!.lastTransitionTime, "T2");
});
