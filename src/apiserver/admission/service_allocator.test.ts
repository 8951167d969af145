import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { parseCidr, ServiceAllocator } from "./service_allocator.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const svc = (spec: Record<string, unknown>): any => ({ metadata: { name: "s" }, spec: { ports: [{ port: 80 }], ...spec } });

test("service allocator: a ClusterIP Service gets an address inside the range, never the network or first address twice", () => {
  const a = new ServiceAllocator("10.0.0.0/29", () => 0);
  const taken = [{ spec: { clusterIPs: ["10.0.0.1"] } }];
  const s1 = svc({});
  a.allocate(s1, taken);
  assert.equal(s1.spec.clusterIP, "10.0.0.2");
  assert.deepEqual(s1.spec.clusterIPs, ["10.0.0.2"]);
  assert.deepEqual(s1.spec.ipFamilies, ["IPv4"]);
  assert.equal(s1.spec.ipFamilyPolicy, "SingleStack");
  const s2 = svc({});
  a.allocate(s2, taken);
  assert.equal(s2.spec.clusterIP, "10.0.0.3", "a pending allocation is not handed out again");
});

test("service allocator: headless and ExternalName Services get no address", () => {
  const a = new ServiceAllocator();
  const headless = svc({ clusterIP: "None" });
  a.allocate(headless, []);
  assert.deepEqual(headless.spec.clusterIPs, ["None"]);
  const ext = svc({ type: "ExternalName", externalName: "example.com" });
  a.allocate(ext, []);
  assert.equal((ext.spec as Record<string, unknown>).clusterIP, undefined);
});

test("service allocator: a requested address already in use or out of range is 422 with upstream's words", () => {
  const a = new ServiceAllocator("10.96.0.0/12");
  assert.throws(() => a.allocate(svc({ clusterIP: "10.96.0.1" }), [{ spec: { clusterIPs: ["10.96.0.1"] } }]), (e: unknown) => e instanceof ApiError && e.code === 422 && /provided IP is already allocated/.test(e.message));
  assert.throws(() => a.allocate(svc({ clusterIP: "192.168.0.1" }), []), (e: unknown) => e instanceof ApiError && /is not in the valid range/.test(e.message));
});

test("service allocator: NodePort Services get a port in 30000-32767; a taken one is refused", () => {
  const a = new ServiceAllocator();
  const s = svc({ type: "NodePort" });
  a.allocate(s, []);
  const port = (s.spec.ports as { nodePort: number }[])[0]!.nodePort;
  assert.ok(port >= 30000 && port <= 32767, String(port));
  assert.throws(() => a.allocate(svc({ type: "NodePort", ports: [{ port: 1, nodePort: port }] }), [s]), (e: unknown) => e instanceof ApiError && /provided port is already allocated/.test(e.message));
});

test("service allocator: a CIDR is normalised to its network and bad ones are refused", () => {
  assert.deepEqual(parseCidr("10.96.3.4/12"), { base: (10 << 24) + (96 << 16), size: 2 ** 20 });
  assert.throws(() => parseCidr("10.0.0.0/31"));
  assert.throws(() => parseCidr("nope"));
});
