import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { AFFINITY_CLIENTS_MAX, LoadBalancerRR } from "./round_robin.js";

const A = { ip: "10.0.0.1", port: 80 };
const B = { ip: "10.0.0.2", port: 80 };
const C = { ip: "10.0.0.3", port: 80 };

test("endpoints are chosen in turn", () => {
  const lb = new LoadBalancerRR(new ManualClock());
  lb.setEndpoints("s", [A, B, C], 0);
  assert.deepEqual([1, 2, 3, 4].map(() => lb.nextEndpoint("s", "1.1.1.1")), [A, B, C, A]);
});

test("a service port without endpoints has none to give", () => {
  const lb = new LoadBalancerRR(new ManualClock());
  assert.equal(lb.nextEndpoint("s", "1.1.1.1"), null);
  lb.setEndpoints("s", [], 0);
  assert.equal(lb.nextEndpoint("s", "1.1.1.1"), null);
});

test("a removed endpoint leaves the rotation", () => {
  const lb = new LoadBalancerRR(new ManualClock());
  lb.setEndpoints("s", [A, B], 0);
  lb.setEndpoints("s", [B], 0);
  assert.deepEqual([1, 2].map(() => lb.nextEndpoint("s", "1.1.1.1")), [B, B]);
});

test("ClientIP affinity keeps a client on its endpoint until it has been idle for the sticky time", () => {
  const clock = new ManualClock();
  const lb = new LoadBalancerRR(clock);
  lb.setEndpoints("s", [A, B], 10_000);
  const first = lb.nextEndpoint("s", "1.1.1.1");
  const other = lb.nextEndpoint("s", "2.2.2.2");
  assert.notDeepEqual(first, other);
  clock.advance(9_000);
  assert.deepEqual(lb.nextEndpoint("s", "1.1.1.1"), first);
  clock.advance(9_000);
  assert.deepEqual(lb.nextEndpoint("s", "1.1.1.1"), first, "use refreshes the sticky time");
  clock.advance(10_000);
  lb.nextEndpoint("s", "1.1.1.1"); // expired: rotation decides again, whatever it gives
  lb.setEndpoints("s", [B], 10_000);
  assert.deepEqual(lb.nextEndpoint("s", "1.1.1.1"), B, "affinity to a removed endpoint is dropped");
});

test("the affinity table is bounded", () => {
  const lb = new LoadBalancerRR(new ManualClock());
  lb.setEndpoints("s", [A, B], 60_000);
  const firstClient = lb.nextEndpoint("s", "client-0");
  for (let i = 1; i <= AFFINITY_CLIENTS_MAX; i++) lb.nextEndpoint("s", `client-${i}`);
  // client-0 was evicted (least recently used), so it gets the next endpoint in rotation.
  const again = lb.nextEndpoint("s", "client-0");
  assert.ok(again !== null && firstClient !== null);
});

test("endpointsAfter lists the others in rotation order, for retries", () => {
  const lb = new LoadBalancerRR(new ManualClock());
  lb.setEndpoints("s", [A, B, C], 0);
  assert.deepEqual(lb.endpointsAfter("s", B), [C, A]);
});
