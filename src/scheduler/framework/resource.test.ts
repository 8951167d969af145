import { test } from "node:test";
import assert from "node:assert/strict";
import type { Container } from "kubernetes-types/core/v1.js";
import { makePod } from "../test_objects.js";
import { podNonZeroRequests, podRequests } from "./resource.js";

const c = (name: string, cpu?: string, memory?: string, restartPolicy?: string): Container => ({
  name,
  resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } },
  ...(restartPolicy ? { restartPolicy } : {}),
});

const cases = [
  { name: "containers add up", containers: [c("a", "100m", "1Mi"), c("b", "250m", "2Mi")], init: [], overhead: undefined, cpu: 350, mem: 3 * 1024 * 1024 },
  { name: "an init container bigger than the sum raises it", containers: [c("a", "100m")], init: [c("i", "500m")], overhead: undefined, cpu: 500, mem: 0 },
  { name: "an init container smaller than the sum changes nothing", containers: [c("a", "1")], init: [c("i", "500m")], overhead: undefined, cpu: 1000, mem: 0 },
  {
    name: "a sidecar adds to the sum and to later init containers",
    containers: [c("a", "100m")],
    init: [c("side", "200m", undefined, "Always"), c("i", "400m")],
    overhead: undefined,
    cpu: 600, // max(100+200, 200+400)
    mem: 0,
  },
  { name: "overhead is added on top", containers: [c("a", "100m")], init: [], overhead: { cpu: "50m", memory: "10Mi" }, cpu: 150, mem: 10 * 1024 * 1024 },
  { name: "fractional cpu rounds up to a milli", containers: [c("a", "0.0001")], init: [], overhead: undefined, cpu: 1, mem: 0 },
];

for (const t of cases) {
  test(`podRequests: ${t.name}`, () => {
    const pod = makePod("p", { containers: t.containers, initContainers: t.init, spec: t.overhead ? { overhead: t.overhead } : {} });
    const r = podRequests(pod);
    assert.equal(r.milliCPU, t.cpu);
    assert.equal(r.memory, t.mem);
  });
}

test("podNonZeroRequests: containers without requests count as 100m and 200MB", () => {
  const pod = makePod("p", { containers: [{ name: "a" }, { name: "b", resources: { requests: { cpu: "1" } } }] });
  assert.deepEqual(podNonZeroRequests(pod), { milliCPU: 1100, memory: 2 * 200 * 1024 * 1024 });
});

test("podRequests: extended resources land in scalar", () => {
  const pod = makePod("p", { containers: [{ name: "a", resources: { requests: { "nvidia.com/gpu": "2" } } }] });
  assert.equal(podRequests(pod).scalar.get("nvidia.com/gpu"), 2);
});
