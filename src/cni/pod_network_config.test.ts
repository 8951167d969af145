import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bridgeNameOfConflist, cidrContains, CNI_VERSION, conflistFileName, parseIpv4Cidr, podCIDROfConflist, PodNetworkConfigError, podGateway,
  podNetworkConflist, renderConflist,
} from "./pod_network_config.js";

test("podNetworkConflist: a /24 from nodeipam becomes bridge + host-local (gateway .1, default route) + portmap + loopback", () => {
  const c = podNetworkConflist({ podCIDR: "10.244.3.0/24" });
  assert.equal(c.cniVersion, CNI_VERSION);
  assert.equal(c.name, "tk8s-pod-network");
  assert.deepEqual(c.plugins.map((p) => p.type), ["bridge", "portmap", "loopback"]);
  assert.deepEqual(c.plugins[0], {
    type: "bridge", bridge: "tk8s0", isGateway: true, ipMasq: true, hairpinMode: true,
    ipam: { type: "host-local", ranges: [[{ subnet: "10.244.3.0/24", gateway: "10.244.3.1" }]], routes: [{ dst: "0.0.0.0/0" }] },
  });
  assert.deepEqual(c.plugins[1], { type: "portmap", capabilities: { portMappings: true }, snat: true });
});

test("podNetworkConflist: bridge name, network name, mtu and host-local's data dir are passed through", () => {
  const c = podNetworkConflist({ podCIDR: "10.1.0.0/16", bridgeName: "br-test", networkName: "n1", mtu: 1450, ipamDataDir: "/tmp/ipam" });
  assert.equal(c.name, "n1");
  const bridge = c.plugins[0] as { bridge: string; mtu: number; ipam: { dataDir: string; ranges: { gateway: string }[][] } };
  assert.equal(bridge.bridge, "br-test");
  assert.equal(bridge.mtu, 1450);
  assert.equal(bridge.ipam.dataDir, "/tmp/ipam");
  assert.equal(bridge.ipam.ranges[0]![0]!.gateway, "10.1.0.1");
});

test("podNetworkConflist: hostPortEnabled false leaves portmap out", () => {
  assert.deepEqual(podNetworkConflist({ podCIDR: "10.244.0.0/24", hostPortEnabled: false }).plugins.map((p) => p.type), ["bridge", "loopback"]);
});

const rejected = [
  { name: "an IPv6 CIDR", options: { podCIDR: "fd00::/64" }, message: /only IPv4 pod CIDRs are supported: current value is "fd00::\/64"/ },
  { name: "a bare address", options: { podCIDR: "10.244.0.0" }, message: /not an IPv4 CIDR/ },
  { name: "an octet above 255", options: { podCIDR: "10.300.0.0/24" }, message: /octet is above 255/ },
  { name: "host bits set", options: { podCIDR: "10.244.1.7/24" }, message: /10\.244\.1\.7\/24 has host bits set \(the network is 10\.244\.1\.0\/24\)/ },
  { name: "a /31 (no room for a pod)", options: { podCIDR: "10.244.1.0/31" }, message: /prefix must be \/8 to \/30/ },
  { name: "a /4", options: { podCIDR: "16.0.0.0/4" }, message: /prefix must be \/8 to \/30/ },
  { name: "a bridge name over 15 bytes", options: { podCIDR: "10.244.1.0/24", bridgeName: "a-very-long-bridge" }, message: /bridge name must be 1 to 15 bytes/ },
  { name: "a bridge name with a slash", options: { podCIDR: "10.244.1.0/24", bridgeName: "a/b" }, message: /bridge name/ },
  { name: "a network name that is a path", options: { podCIDR: "10.244.1.0/24", networkName: "../etc" }, message: /network name must start/ },
  { name: "an MTU below IPv4's minimum", options: { podCIDR: "10.244.1.0/24", mtu: 60 }, message: /mtu must be an integer from 68 to 65535: current value is 60/ },
  { name: "a relative ipam data dir", options: { podCIDR: "10.244.1.0/24", ipamDataDir: "var/lib" }, message: /ipamDataDir must be absolute/ },
];
for (const c of rejected) {
  test(`podNetworkConflist: refuses ${c.name}`, () => {
    assert.throws(() => podNetworkConflist(c.options), (err: unknown) => err instanceof PodNetworkConfigError && c.message.test(err.message));
  });
}

test("parseIpv4Cidr / podGateway / cidrContains agree on a /30's edges", () => {
  const cidr = parseIpv4Cidr("192.168.255.252/30");
  assert.equal(podGateway(cidr), "192.168.255.253");
  assert.equal(cidrContains(cidr, "192.168.255.255"), true);
  assert.equal(cidrContains(cidr, "192.168.255.251"), false);
  assert.equal(cidrContains(parseIpv4Cidr("10.244.0.0/16"), "10.244.200.9"), true);
  assert.equal(cidrContains(parseIpv4Cidr("10.244.0.0/16"), "10.245.0.1"), false);
  assert.equal(cidrContains(parseIpv4Cidr("10.244.0.0/16"), "not-an-ip"), false);
});

test("renderConflist is stable, and the CIDR and bridge read back from the rendered text", () => {
  const text = renderConflist(podNetworkConflist({ podCIDR: "10.244.9.0/24", bridgeName: "tk8sx" }));
  assert.equal(text, renderConflist(podNetworkConflist({ podCIDR: "10.244.9.0/24", bridgeName: "tk8sx" })));
  assert.ok(text.endsWith("}\n"));
  assert.equal(podCIDROfConflist(text), "10.244.9.0/24");
  assert.equal(bridgeNameOfConflist(text), "tk8sx");
  assert.equal(podCIDROfConflist("{not json"), null);
  assert.equal(podCIDROfConflist(JSON.stringify({ plugins: [{ type: "flannel" }] })), null);
});

test("conflistFileName sorts our file early, named after the network", () => {
  assert.equal(conflistFileName(), "10-tk8s-pod-network.conflist");
  assert.equal(conflistFileName("n1"), "10-n1.conflist");
});
