import assert from "node:assert/strict";
import { test } from "node:test";
import { podIPsFromSandboxStatus } from "./pod_ips.js";

const sandbox = (ip: string, additional: string[] = [], network: "POD" | "NODE" = "POD") => ({
  network: { ip, additionalIps: additional.map((a) => ({ ip: a })) },
  linux: { namespaces: { options: { network } } },
});

const cases = [
  { name: "a pod network sandbox reports its CNI address", status: sandbox("10.244.1.5"), hostNetwork: false, want: { podIP: "10.244.1.5", podIPs: [{ ip: "10.244.1.5" }] } },
  { name: "dual-stack keeps the primary first and one address per family", status: sandbox("10.244.1.5", ["fd00::5", "10.244.1.6"]), hostNetwork: false, want: { podIP: "10.244.1.5", podIPs: [{ ip: "10.244.1.5" }, { ip: "fd00::5" }] } },
  { name: "a sandbox without an address yet reports none", status: sandbox(""), hostNetwork: false, want: { podIP: "", podIPs: [] } },
  { name: "an unparseable primary is dropped and the next address is used", status: sandbox("garbage", ["10.244.1.9"]), hostNetwork: false, want: { podIP: "10.244.1.9", podIPs: [{ ip: "10.244.1.9" }] } },
  { name: "a host-network pod reports the node's IPs", status: sandbox(""), hostNetwork: true, want: { podIP: "192.0.2.2", podIPs: [{ ip: "192.0.2.2" }] } },
  { name: "a sandbox in the node's network namespace counts as host network", status: sandbox("", [], "NODE"), hostNetwork: false, want: { podIP: "192.0.2.2", podIPs: [{ ip: "192.0.2.2" }] } },
  { name: "no sandbox means no IPs", status: undefined, hostNetwork: false, want: { podIP: "", podIPs: [] } },
];
for (const c of cases) {
  test(`podIPsFromSandboxStatus: ${c.name}`, () => {
    assert.deepEqual(podIPsFromSandboxStatus(c.status, { hostNetwork: c.hostNetwork, hostIPs: ["192.0.2.2"] }), c.want);
  });
}
