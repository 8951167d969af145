import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { EndpointSliceController } from "./endpointslice_controller.js";
import { MemoryEventRecorder } from "../events/recorder.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";

let c: ControllerTestEnv;
before(async () => {
  c = await startControllerTestEnv();
  await c.start(new EndpointSliceController(c.ctx, { recorder: new MemoryEventRecorder() }));
});
after(async () => c.stop());

const services = () => c.client.resource<Service>("", "v1", "services").namespace("default");
const pods = () => c.client.resource<Pod>("", "v1", "pods").namespace("default");
const slices = () => c.client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("default");
const sliceOf = async (svc: string) => (await slices().list({ labelSelector: `kubernetes.io/service-name=${svc},endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io` })).items;

async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
  const p = await pods().get(name);
  await pods().updateStatus({
    ...p,
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") }] },
  });
}

test("a Service's EndpointSlice follows its pods becoming Ready", async () => {
  const svc = await services().create({ metadata: { name: "api" }, spec: { selector: { app: "api" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } });
  const placeholder = await pollUntil("a placeholder slice for api", async () => ((await sliceOf("api")).length === 1 ? (await sliceOf("api"))[0] : undefined));
  assert.match(placeholder!.metadata!.name!, /^api-[a-z0-9]{5}$/);
  assert.deepEqual(placeholder!.endpoints ?? [], []);
  assert.equal(placeholder!.addressType, "IPv4");
  assert.deepEqual(placeholder!.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [["Service", "api", svc.metadata!.uid, true]]);

  for (const n of ["a1", "a2"]) {
    await pods().create({ metadata: { name: n, labels: { app: "api" } }, spec: { containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }] } });
  }
  await setPodStatus("a1", "10.244.1.1", true);
  await setPodStatus("a2", "10.244.1.2", false);
  const slice = await pollUntil("two endpoints, one ready", async () => {
    const all = await sliceOf("api");
    const eps = all.flatMap((s) => s.endpoints ?? []);
    return all.length === 1 && eps.length === 2 ? all[0] : undefined;
  });
  const byName = new Map((slice!.endpoints ?? []).map((e) => [e.targetRef?.name, e]));
  assert.deepEqual(byName.get("a1")?.conditions, { ready: true, serving: true, terminating: false });
  assert.deepEqual(byName.get("a2")?.conditions, { ready: false, serving: false, terminating: false });
  assert.deepEqual(byName.get("a1")?.addresses, ["10.244.1.1"]);
  assert.deepEqual(slice!.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
  // The placeholder was reused, not replaced.
  assert.equal(slice!.metadata?.name, placeholder!.metadata?.name);

  await setPodStatus("a2", "10.244.1.2", true);
  await pollUntil("both ready", async () => {
    const eps = (await sliceOf("api")).flatMap((s) => s.endpoints ?? []);
    return eps.length === 2 && eps.every((e) => e.conditions?.ready === true) ? true : undefined;
  });

  await pods().delete("a1", { gracePeriodSeconds: 0 });
  await pollUntil("a1 to leave the slice", async () => {
    const eps = (await sliceOf("api")).flatMap((s) => s.endpoints ?? []);
    return eps.length === 1 && eps[0]!.targetRef?.name === "a2" ? true : undefined;
  });
});

test("a Service without a selector gets no managed slices", async () => {
  await services().create({ metadata: { name: "external" }, spec: { ports: [{ port: 80 }] } });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await sliceOf("external"), []);
});
