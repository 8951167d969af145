import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { calculateStatus, manageDecision, REPLICA_FAILURE, slowStartBatch, statusChanged } from "./replica_set_logic.js";

const decisionCases = [
  { name: "too few pods means create the difference", active: 1, replicas: 3, burst: 500, want: { action: "create", count: 2 } },
  { name: "too many pods means delete the surplus", active: 5, replicas: 3, burst: 500, want: { action: "delete", count: 2 } },
  { name: "the right number means nothing to do", active: 3, replicas: 3, burst: 500, want: { action: "none" } },
  { name: "creates are capped by burstReplicas", active: 0, replicas: 1000, burst: 500, want: { action: "create", count: 500 } },
  { name: "deletes are capped by burstReplicas", active: 800, replicas: 0, burst: 500, want: { action: "delete", count: 500 } },
];
for (const c of decisionCases) test(`manageDecision: ${c.name}`, () => assert.deepEqual(manageDecision(c.active, c.replicas, c.burst), c.want));

test("slowStartBatch sends batches of 1, 2, 4 … and stops after a failing batch", async () => {
  let calls = 0;
  const r = await slowStartBatch(20, 1, async () => {
    const call = ++calls;
    await Promise.resolve();
    if (call === 10) throw new Error("quota exceeded");
  });
  // Batches of 1, 2 and 4 succeed (7 calls); the batch of 8 runs whole and one of it fails.
  assert.equal(calls, 15);
  assert.equal(r.successes, 14);
  assert.equal((r.error as Error).message, "quota exceeded");
});

test("slowStartBatch with no failure creates exactly the count", async () => {
  let calls = 0;
  const r = await slowStartBatch(7, 1, async () => void calls++);
  assert.deepEqual({ calls, successes: r.successes, error: r.error }, { calls: 7, successes: 7, error: undefined });
});

const NOW = Date.parse("2026-01-01T00:01:00Z");
function pod(name: string, opts: { ready?: boolean; readyAt?: string; labels?: Record<string, string> } = {}): Pod {
  return {
    metadata: { name, labels: opts.labels ?? { app: "web", tier: "fe" } },
    status: opts.ready === true ? { conditions: [{ type: "Ready", status: "True", lastTransitionTime: opts.readyAt ?? "2026-01-01T00:00:00Z" }] } : {},
  };
}
const tpl = { metadata: { labels: { app: "web", tier: "fe" } } };

test("calculateStatus counts fully labelled, ready and available pods", () => {
  const pods = [pod("a", { ready: true }), pod("b", { ready: true, readyAt: "2026-01-01T00:00:55Z" }), pod("c", { labels: { app: "web" } })];
  const s = calculateStatus({ status: undefined, replicas: 3, minReadySeconds: 10, template: tpl }, pods, undefined, NOW);
  assert.deepEqual(s, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1 });
});

test("calculateStatus sets ReplicaFailure on a failed create and clears it on success", () => {
  const failed = calculateStatus({ status: undefined, replicas: 3, minReadySeconds: 0, template: tpl }, [pod("a")], new Error('pods "x" is forbidden: exceeded quota'), NOW);
  assert.equal(failed.conditions?.length, 1);
  assert.deepEqual(
    { type: failed.conditions![0]!.type, status: failed.conditions![0]!.status, reason: failed.conditions![0]!.reason, message: failed.conditions![0]!.message },
    { type: REPLICA_FAILURE, status: "True", reason: "FailedCreate", message: 'pods "x" is forbidden: exceeded quota' },
  );
  const ok = calculateStatus({ status: failed, replicas: 3, minReadySeconds: 0, template: tpl }, [pod("a")], undefined, NOW);
  assert.equal(ok.conditions, undefined);
});

test("statusChanged is false only when counts, generation and conditions all match", () => {
  const s = { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 1, observedGeneration: 3 };
  assert.equal(statusChanged(s, { ...s }, 3), false);
  assert.equal(statusChanged(s, { ...s }, 4), true);
  assert.equal(statusChanged(s, { ...s, readyReplicas: 2 }, 3), true);
});
