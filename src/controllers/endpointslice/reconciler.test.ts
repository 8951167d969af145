import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, podToEndpoint, reconcile } from "./reconciler.js";
import { EndpointSliceTracker } from "./endpointslice_tracker.js";

const svc = (spec: Service["spec"] = {}): Service => ({
  metadata: { name: "web", namespace: "ns", uid: "svc-uid", labels: { app: "web" } },
  spec: { selector: { app: "web" }, clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }], ...spec },
});
const pod = (i: number, o: { ready?: boolean; deleting?: boolean; ip?: boolean } = {}): Pod => ({
  metadata: { name: `p${String(i).padStart(3, "0")}`, namespace: "ns", uid: `u${i}`, labels: { app: "web" }, ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
  spec: { nodeName: "node-1", containers: [{ name: "c" }] },
  status: { phase: "Running", ...(o.ip === false ? {} : { podIP: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }), conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
});
const pods = (n: number) => Array.from({ length: n }, (_, i) => pod(i));

let seq = 0;
/** What the API server would store for a planned create: a name and a resourceVersion. */
function stored(s: EndpointSlice): EndpointSlice {
  seq++;
  return { ...s, metadata: { ...s.metadata, name: `web-${String(seq).padStart(5, "x")}`, resourceVersion: String(seq) } };
}

test("podToEndpoint: conditions as upstream for ready, not-ready and terminating pods", () => {
  const cases = [
    { pod: pod(1), publish: false, want: { ready: true, serving: true, terminating: false } },
    { pod: pod(1, { ready: false }), publish: false, want: { ready: false, serving: false, terminating: false } },
    { pod: pod(1, { deleting: true }), publish: false, want: { ready: false, serving: true, terminating: true } },
    { pod: pod(1, { ready: false }), publish: true, want: { ready: true, serving: false, terminating: false } },
  ];
  for (const c of cases) assert.deepEqual(podToEndpoint(c.pod, svc({ publishNotReadyAddresses: c.publish }), undefined)?.conditions, c.want);
  const ep = podToEndpoint(pod(1), svc(), { metadata: { name: "node-1", labels: { "topology.kubernetes.io/zone": "z1" } } })!;
  assert.deepEqual(ep.addresses, ["10.0.0.2"]);
  assert.equal(ep.nodeName, "node-1");
  assert.equal(ep.zone, "z1");
  assert.deepEqual(ep.targetRef, { kind: "Pod", namespace: "ns", name: "p001", uid: "u1" });
});

test("a new service gets one slice with its labels, owner, ports and endpoints", () => {
  const plan = reconcile({ service: svc(), pods: pods(3), existing: [], triggerTimeMs: Date.parse("2024-01-01T00:00:00Z") });
  assert.equal(plan.create.length, 1);
  assert.equal(plan.update.length + plan.delete.length, 0);
  const s = plan.create[0]!;
  assert.equal(s.metadata?.generateName, "web-");
  assert.equal(s.addressType, "IPv4");
  assert.deepEqual(s.metadata?.labels, { app: "web", [LABEL_SERVICE_NAME]: "web", [LABEL_MANAGED_BY]: CONTROLLER_NAME });
  assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Service", name: "web", uid: "svc-uid", controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
  assert.equal(s.endpoints.length, 3);
  assert.equal(s.metadata?.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"], "2024-01-01T00:00:00Z");
});

test("250 endpoints fill slices of at most 100", () => {
  const plan = reconcile({ service: svc(), pods: pods(250), existing: [] });
  assert.deepEqual(plan.create.map((s) => s.endpoints.length).sort(), [100, 100, 50]);
});

test("a service with no endpoints gets one placeholder slice, kept on the next pass", () => {
  const first = reconcile({ service: svc(), pods: [], existing: [] });
  assert.equal(first.create.length, 1);
  assert.deepEqual(first.create[0]!.endpoints, []);
  assert.deepEqual(first.create[0]!.ports, []);
  const again = reconcile({ service: svc(), pods: [], existing: [stored(first.create[0]!)] });
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
});

test("endpoints arriving reuse the placeholder's slice instead of creating and deleting", () => {
  const placeholder = stored(reconcile({ service: svc(), pods: [], existing: [] }).create[0]!);
  const plan = reconcile({ service: svc(), pods: pods(2), existing: [placeholder] });
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 1, 0]);
  assert.equal(plan.update[0]!.metadata?.name, placeholder.metadata?.name);
  assert.equal(plan.update[0]!.endpoints.length, 2);
});

test("an unchanged state plans nothing; a readiness change updates the slice in place", () => {
  const s = stored(reconcile({ service: svc(), pods: pods(2), existing: [] }).create[0]!);
  const same = reconcile({ service: svc(), pods: pods(2), existing: [s] });
  assert.deepEqual([same.create.length, same.update.length, same.delete.length], [0, 0, 0]);
  const changed = reconcile({ service: svc(), pods: [pod(0), pod(1, { ready: false })], existing: [s] });
  assert.deepEqual([changed.create.length, changed.update.length, changed.delete.length], [0, 1, 0]);
  assert.deepEqual(changed.update[0]!.endpoints.map((e) => e.conditions?.ready), [true, false]);
});

test("pods without an IP are left out, terminating pods stay with terminating set", () => {
  const plan = reconcile({ service: svc(), pods: [pod(0, { ip: false }), pod(1, { deleting: true })], existing: [] });
  assert.equal(plan.create[0]!.endpoints.length, 1);
  assert.equal(plan.create[0]!.endpoints[0]!.conditions?.terminating, true);
});

test("a slice whose endpoints all left is deleted, and a new port set makes a new slice", () => {
  const s = stored(reconcile({ service: svc(), pods: pods(2), existing: [] }).create[0]!);
  const newPorts = svc({ ports: [{ name: "http", port: 80, targetPort: 9090, protocol: "TCP" }] });
  const plan = reconcile({ service: newPorts, pods: pods(2), existing: [s] });
  // The old slice is reused for the new port set rather than deleted and created.
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 1, 0]);
  assert.deepEqual(plan.update[0]!.ports, [{ name: "http", port: 9090, protocol: "TCP" }]);
});

test("a headless service's slices carry the headless label", () => {
  const plan = reconcile({ service: svc({ clusterIP: "None" }), pods: pods(1), existing: [] });
  assert.equal(plan.create[0]!.metadata?.labels?.["service.kubernetes.io/headless"], "");
});

test("the tracker reports a stale cache until it shows the controller's own writes", () => {
  const t = new EndpointSliceTracker();
  const written: EndpointSlice = { addressType: "IPv4", endpoints: [], metadata: { name: "web-abcde", resourceVersion: "10" } };
  t.written("ns/web", written);
  assert.equal(t.stale("ns/web", []), true);
  assert.equal(t.stale("ns/web", [{ ...written, metadata: { name: "web-abcde", resourceVersion: "9" } }]), true);
  assert.equal(t.stale("ns/web", [written]), false);
  t.deleted("ns/web", "web-abcde");
  assert.equal(t.stale("ns/web", [written]), true);
  assert.equal(t.stale("ns/web", []), false);
});
