import { test } from "node:test";
import assert from "node:assert/strict";
import { benchNode, benchPod, capacityPods, defaultCounts, LABEL_HOSTNAME, LABEL_ZONE, SHAPES, type Shape } from "./workloads.js";

test("bench nodes are Ready with scheduler_perf's 4 cpu / 32Gi / 110 pods and zones round-robin", () => {
  const n = benchNode(7, 5);
  assert.equal(n.metadata?.labels?.[LABEL_HOSTNAME], "bench-node-7");
  assert.equal(n.metadata?.labels?.[LABEL_ZONE], "zone-2");
  assert.deepEqual(n.status?.allocatable, { cpu: "4", memory: "32Gi", pods: "110" });
  assert.equal(n.status?.conditions?.[0]?.type, "Ready");
});

test("each shape's pod carries the constraint it is named after, and all request 100m", () => {
  const cases: { shape: Shape; check: (p: ReturnType<typeof benchPod>) => boolean }[] = [
    { shape: "basic", check: (p) => p.spec?.affinity === undefined && p.spec?.topologySpreadConstraints === undefined },
    { shape: "anti-affinity", check: (p) => p.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey === LABEL_HOSTNAME },
    { shape: "affinity", check: (p) => p.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey === LABEL_ZONE },
    { shape: "preferred-affinity", check: (p) => p.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.topologyKey === LABEL_ZONE },
    { shape: "spread", check: (p) => p.spec?.topologySpreadConstraints?.[0]?.whenUnsatisfiable === "DoNotSchedule" && p.spec.topologySpreadConstraints[0].maxSkew === 1 },
  ];
  assert.deepEqual(cases.map((c) => c.shape), [...SHAPES]);
  for (const c of cases) {
    const p = benchPod(c.shape, "x");
    assert.ok(c.check(p), c.shape);
    assert.equal(p.spec?.containers[0]?.resources?.requests?.cpu, "100m", c.shape);
  }
});

test("default pod counts never exceed what the nodes can hold, over every phase", () => {
  for (const shape of SHAPES) {
    for (const nodes of [100, 1000, 5000]) {
      for (const phases of [1, 2]) {
        const { init, measured } = defaultCounts(shape, nodes, phases);
        assert.ok(measured > 0, `${shape}/${nodes}`);
        assert.ok(init + phases * measured <= capacityPods(shape, nodes), `${shape}/${nodes}/${phases}: ${init} + ${phases}×${measured}`);
      }
    }
  }
});
