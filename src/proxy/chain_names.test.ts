import { test } from "node:test";
import assert from "node:assert/strict";
import { base32, servicePortEndpointChain, servicePortPolicyClusterChain, serviceExternalChain, servicePortPolicyLocalChain } from "./chain_names.js";

test("base32 encodes as Go's base32.StdEncoding (RFC 4648 test vectors, without padding)", () => {
  const enc = (s: string) => base32(new TextEncoder().encode(s));
  assert.equal(enc(""), "");
  assert.equal(enc("f"), "MY");
  assert.equal(enc("fo"), "MZXQ");
  assert.equal(enc("foo"), "MZXW6");
  assert.equal(enc("foob"), "MZXW6YQ");
  assert.equal(enc("fooba"), "MZXW6YTB");
  assert.equal(enc("foobar"), "MZXW6YTBOI");
});

// Chain names from upstream's proxier_test.go expectations: the same service gets the same chain on any node.
const cases: { name: string; protocol: "TCP"; svc: string; seps: [string, number, string][] }[] = [
  { name: "ns1/svc1:p80", protocol: "TCP", svc: "XPGD46QRK7WJZT7O", seps: [["10.180.0.1", 80, "SXIVWICOYRO3J4NJ"], ["10.180.2.1", 80, "ZX7GRIZKSNUQ3LAJ"]] },
  { name: "ns2/svc2:p80", protocol: "TCP", svc: "GNZBNJ2PO5MGZ6GT", seps: [["10.180.0.2", 80, "RS4RBKLTHTF2IUXJ"]] },
  { name: "ns3/svc3:p80", protocol: "TCP", svc: "X27LE4BHSL4DOUIK", seps: [["10.180.0.3", 80, "OYPFS5VJICHGATKP"]] },
  { name: "ns4/svc4:p80", protocol: "TCP", svc: "4SW47YFZTEDKD3PK", seps: [["10.180.0.4", 80, "UKSFD7AGPMPPLUHC"], ["10.180.0.5", 80, "C6EBXVWJJZMIWKLZ"]] },
  { name: "ns5/svc5:p80", protocol: "TCP", svc: "NUKIZ6OKUXPJNT4C", seps: [["10.180.0.3", 80, "I77PXRDZVX7PMWMN"]] },
];

for (const c of cases) {
  test(`chains of ${c.name} hash as upstream's (KUBE-SVC-${c.svc})`, () => {
    const sp = { nameString: c.name, protocol: c.protocol };
    assert.equal(servicePortPolicyClusterChain(sp), `KUBE-SVC-${c.svc}`);
    assert.equal(servicePortPolicyLocalChain(sp), `KUBE-SVL-${c.svc}`);
    assert.equal(serviceExternalChain(sp), `KUBE-EXT-${c.svc}`);
    for (const [ip, port, sep] of c.seps) assert.equal(servicePortEndpointChain(sp, { ip, port }), `KUBE-SEP-${sep}`);
  });
}

test("chain names fit iptables' 28-character limit", () => {
  assert.ok(servicePortEndpointChain({ nameString: "a-very-long-namespace-name/a-very-long-service-name:https", protocol: "TCP" }, { ip: "10.255.255.255", port: 65535 }).length <= 28);
});
