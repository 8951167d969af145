import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Endpoints, Pod, Service } from "kubernetes-types/core/v1.js";
import { desiredSubsets, endpointsToWrite, EndpointsController, truncateSubsets } from "./endpoints_controller.js";
import { LAST_CHANGE_TRIGGER_TIME_ANNOTATION } from "./endpoints_util.js";
import { MemoryEventRecorder } from "../events/recorder.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";

const svc = (spec: Service["spec"] = {}): Service => ({
  metadata: { name: "web", namespace: "ns", labels: { app: "web" }, creationTimestamp: "2024-01-01T00:00:00Z" },
  spec: { selector: { app: "web" }, clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }], ...spec },
});
const pod = (name: string, ip: string, ready: boolean, extra: Partial<Pod["metadata"]> = {}): Pod => ({
  metadata: { name, namespace: "ns", uid: `uid-${name}`, labels: { app: "web" }, ...extra },
  spec: { nodeName: "node-1", containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }] },
  status: { phase: "Running", podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});
const addr = (name: string, ip: string) => ({ ip, nodeName: "node-1", targetRef: { kind: "Pod", namespace: "ns", name, uid: `uid-${name}` } });
const http = [{ name: "http", port: 8080, protocol: "TCP" }];

const cases: { name: string; svc: Service; pods: Pod[]; want: unknown }[] = [
  { name: "no pods: no subsets", svc: svc(), pods: [], want: [] },
  {
    name: "ready and not-ready pods split into addresses and notReadyAddresses",
    svc: svc(),
    pods: [pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)],
    want: [{ addresses: [addr("a", "10.0.0.1")], notReadyAddresses: [addr("b", "10.0.0.2")], ports: http }],
  },
  {
    name: "publishNotReadyAddresses lists every pod as ready",
    svc: svc({ publishNotReadyAddresses: true }),
    pods: [pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)],
    want: [{ addresses: [addr("a", "10.0.0.1"), addr("b", "10.0.0.2")], ports: http }],
  },
  { name: "terminating pods are left out", svc: svc(), pods: [pod("a", "10.0.0.1", true, { deletionTimestamp: "2024-01-01T00:00:00Z" })], want: [] },
  {
    name: "a headless service without ports lists its pods without ports",
    svc: svc({ clusterIP: "None", ports: [] }),
    pods: [pod("a", "10.0.0.1", true)],
    want: [{ addresses: [addr("a", "10.0.0.1")] }],
  },
  {
    name: "a pod that lacks the named port is not listed for it",
    svc: svc({ ports: [{ name: "grpc", port: 90, targetPort: "grpc", protocol: "TCP" }] }),
    pods: [pod("a", "10.0.0.1", true)],
    want: [],
  },
];
for (const c of cases) test(`desiredSubsets: ${c.name}`, () => assert.deepEqual(desiredSubsets(c.svc, c.pods), c.want));

test("endpointsToWrite: unchanged subsets and labels need no write, new ones carry the trigger time and the headless label", () => {
  const subsets = desiredSubsets(svc(), [pod("a", "10.0.0.1", true)]);
  const fresh = endpointsToWrite(svc(), undefined, subsets, Date.parse("2024-01-01T00:00:00Z"))!;
  assert.equal(fresh.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME_ANNOTATION], "2024-01-01T00:00:00Z");
  assert.deepEqual(fresh.metadata?.labels, { app: "web" });
  assert.equal(endpointsToWrite(svc(), fresh, subsets, Date.parse("2024-01-01T00:05:00Z")), null);
  const headless = endpointsToWrite(svc({ clusterIP: "None" }), undefined, subsets, undefined)!;
  assert.deepEqual(headless.metadata?.labels, { app: "web", "service.kubernetes.io/headless": "" });
  assert.equal(headless.metadata?.annotations, undefined);
});

test("truncateSubsets keeps ready addresses first up to the bound", () => {
  const a = (i: number) => ({ ip: `10.0.0.${i}` });
  const got = truncateSubsets([{ addresses: [a(1), a(2)], notReadyAddresses: [a(3)] }], 2);
  assert.equal(got.truncated, true);
  assert.deepEqual(got.subsets, [{ addresses: [a(1), a(2)] }]);
});

/** True when the read fails with NotFound: the object is gone. */
async function isGone(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return false;
  } catch (err) {
    if ((err as { reason?: string }).reason === "NotFound") return true;
    throw err;
  }
}

let c: ControllerTestEnv;
const recorder = new MemoryEventRecorder();
before(async () => {
  c = await startControllerTestEnv();
  await c.start(new EndpointsController(c.ctx, { recorder }));
});
after(async () => c.stop());

const services = () => c.client.resource<Service>("", "v1", "services").namespace("default");
const pods = () => c.client.resource<Pod>("", "v1", "pods").namespace("default");
const endpoints = () => c.client.resource<Endpoints>("", "v1", "endpoints").namespace("default");

async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
  const p = await pods().get(name);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await pods().updateStatus({
    ...p,
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now }] },
  });
}

test("a Service's Endpoints follow its pods becoming Ready, and go with the Service", async () => {
  await services().create({ metadata: { name: "web", labels: { app: "web" } }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } });
  for (const n of ["w1", "w2"]) {
    await pods().create({ metadata: { name: n, labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }] } });
  }
  const empty = await pollUntil("an empty Endpoints for web", () => endpoints().get("web"));
  assert.deepEqual(empty.subsets ?? [], []);
  assert.equal(empty.metadata?.labels?.app, "web");
  assert.ok(empty.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME_ANNOTATION] !== undefined);

  await setPodStatus("w1", "10.244.0.11", false);
  await setPodStatus("w2", "10.244.0.12", true);
  const ep = await pollUntil("w1 not ready and w2 ready", async () => {
    const e = await endpoints().get("web");
    const s = e.subsets?.[0];
    return s?.addresses?.length === 1 && s.notReadyAddresses?.length === 1 ? e : undefined;
  });
  const subset = ep.subsets![0]!;
  assert.equal(subset.addresses![0]!.ip, "10.244.0.12");
  assert.equal(subset.addresses![0]!.targetRef?.name, "w2");
  assert.equal(subset.notReadyAddresses![0]!.ip, "10.244.0.11");
  assert.deepEqual(subset.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);

  await setPodStatus("w1", "10.244.0.11", true);
  await pollUntil("both ready", async () => ((await endpoints().get("web")).subsets?.[0]?.addresses?.length === 2 ? true : undefined));

  await pods().delete("w2", { gracePeriodSeconds: 0 });
  await pollUntil("w2 to leave the Endpoints", async () => {
    const s = (await endpoints().get("web")).subsets?.[0];
    return s?.addresses?.length === 1 && s.addresses[0]!.ip === "10.244.0.11" ? true : undefined;
  });

  await services().delete("web");
  await pollUntil("the Endpoints to go with the Service", async () => ((await isGone(endpoints().get("web"))) ? true : undefined));
});

test("a Service without a selector keeps the Endpoints written by hand", async () => {
  await services().create({ metadata: { name: "manual" }, spec: { ports: [{ port: 80 }] } });
  await endpoints().create({ metadata: { name: "manual" }, subsets: [{ addresses: [{ ip: "192.0.2.1" }], ports: [{ port: 80 }] }] });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await endpoints().get("manual")).subsets?.[0]?.addresses?.[0]?.ip, "192.0.2.1");
});
