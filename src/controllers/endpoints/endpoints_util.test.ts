import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, Service, ServicePort } from "kubernetes-types/core/v1.js";
import { findPort, podIPForService, repackSubsets, rfc3339Nano, serviceSelects, shouldPodBeInEndpoints } from "./endpoints_util.js";
import { TriggerTimeTracker } from "./trigger_time_tracker.js";

const pod = (o: { phase?: string; ip?: string; deleting?: boolean; ports?: { name: string; containerPort: number; protocol?: string }[] } = {}): Pod => ({
  metadata: { name: "p", namespace: "ns", uid: "u", ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
  spec: { containers: [{ name: "c", ports: o.ports ?? [] }] },
  status: { phase: o.phase ?? "Running", ...(o.ip === undefined ? {} : { podIP: o.ip }) },
});

const inCases = [
  { name: "a running pod with an IP belongs", pod: pod({ ip: "10.0.0.1" }), includeTerminating: false, want: true },
  { name: "a pod without an IP does not", pod: pod(), includeTerminating: false, want: false },
  { name: "a finished pod does not", pod: pod({ ip: "10.0.0.1", phase: "Succeeded" }), includeTerminating: true, want: false },
  { name: "a terminating pod only when terminating pods are included", pod: pod({ ip: "10.0.0.1", deleting: true }), includeTerminating: false, want: false },
  { name: "a terminating pod when they are included", pod: pod({ ip: "10.0.0.1", deleting: true }), includeTerminating: true, want: true },
];
for (const c of inCases) test(`shouldPodBeInEndpoints: ${c.name}`, () => assert.equal(shouldPodBeInEndpoints(c.pod, c.includeTerminating), c.want));

const named = pod({ ports: [{ name: "http", containerPort: 8080 }, { name: "dns", containerPort: 53, protocol: "UDP" }] });
const portCases: { name: string; sp: ServicePort; want: number | undefined }[] = [
  { name: "a numeric targetPort is used as is", sp: { port: 80, targetPort: 9376 }, want: 9376 },
  { name: "no targetPort means the port", sp: { port: 80 }, want: 80 },
  { name: "a named targetPort resolves to the container port", sp: { port: 80, targetPort: "http", protocol: "TCP" }, want: 8080 },
  { name: "a named targetPort must match the protocol", sp: { port: 53, targetPort: "dns", protocol: "TCP" }, want: undefined },
  { name: "a UDP named port resolves for a UDP service port", sp: { port: 53, targetPort: "dns", protocol: "UDP" }, want: 53 },
  { name: "an unknown name finds nothing", sp: { port: 80, targetPort: "nope" }, want: undefined },
];
for (const c of portCases) test(`findPort: ${c.name}`, () => assert.equal(findPort(named, c.sp), c.want));

test("the pod IP is the one of the service's family", () => {
  const dual: Pod = { status: { podIPs: [{ ip: "fd00::1" }, { ip: "10.0.0.1" }] } };
  assert.equal(podIPForService({ spec: { ipFamilies: ["IPv4"] } }, dual), "10.0.0.1");
  assert.equal(podIPForService({ spec: { ipFamilies: ["IPv6"] } }, dual), "fd00::1");
  assert.equal(podIPForService({ spec: { clusterIP: "10.96.0.10" } }, dual), "10.0.0.1");
});

test("a service without a selector selects nothing; a selector needs every label", () => {
  const svc = (selector?: Record<string, string>): Service => ({ spec: { ...(selector ? { selector } : {}) } });
  assert.equal(serviceSelects(svc(), { app: "a" }), false);
  assert.equal(serviceSelects(svc({ app: "a" }), { app: "a", tier: "x" }), true);
  assert.equal(serviceSelects(svc({ app: "a", tier: "y" }), { app: "a", tier: "x" }), false);
});

test("repackSubsets groups addresses by the ports they offer and sorts them", () => {
  const a = (ip: string) => ({ ip, targetRef: { kind: "Pod", uid: ip } });
  const got = repackSubsets([
    { addresses: [a("10.0.0.2")], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    { addresses: [a("10.0.0.1")], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    { notReadyAddresses: [a("10.0.0.3")], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    { addresses: [a("10.0.0.1")], ports: [{ name: "metrics", port: 9090, protocol: "TCP" }] },
  ]);
  assert.deepEqual(got, [
    { addresses: [a("10.0.0.1"), a("10.0.0.2")], notReadyAddresses: [a("10.0.0.3")], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
    { addresses: [a("10.0.0.1")], ports: [{ name: "metrics", port: 9090, protocol: "TCP" }] },
  ]);
});

test("repackSubsets keeps a ready address over a not-ready duplicate and port-less addresses", () => {
  const a = { ip: "10.0.0.1" };
  assert.deepEqual(repackSubsets([{ notReadyAddresses: [a] }, { addresses: [a] }]), [{ addresses: [a] }]);
});

test("rfc3339Nano trims zero fractions as Go prints them", () => {
  assert.equal(rfc3339Nano(Date.parse("2024-01-01T00:00:00Z")), "2024-01-01T00:00:00Z");
  assert.equal(rfc3339Nano(Date.parse("2024-01-01T00:00:10.500Z")), "2024-01-01T00:00:10.5Z");
});

test("the trigger time is the service's creation first, then the earliest changed pod transition, then nothing", () => {
  const t = new TriggerTimeTracker();
  const svc: Service = { metadata: { name: "s", namespace: "ns", creationTimestamp: "2024-01-01T00:00:00Z" } };
  const ready = (name: string, at: string): Pod => ({ metadata: { name }, status: { conditions: [{ type: "Ready", status: "True", lastTransitionTime: at }] } });
  assert.equal(t.compute(svc, []), Date.parse("2024-01-01T00:00:00Z"));
  assert.equal(t.compute(svc, [ready("a", "2024-01-01T00:01:00Z"), ready("b", "2024-01-01T00:00:30Z")]), Date.parse("2024-01-01T00:00:30Z"));
  assert.equal(t.compute(svc, [ready("a", "2024-01-01T00:01:00Z"), ready("b", "2024-01-01T00:00:30Z")]), undefined);
  assert.equal(t.compute(svc, [ready("a", "2024-01-01T00:02:00Z"), ready("b", "2024-01-01T00:00:30Z")]), Date.parse("2024-01-01T00:02:00Z"));
  t.deleteService("ns", "s");
  assert.equal(t.size, 0);
});
