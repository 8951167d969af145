import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { buildIptablesRules, chainsInSave, computeProbability, renderRestoreData, type IptablesRulesConfig } from "./iptables_rules.js";
import { makeService, makeSlice } from "./proxy_fixtures.js";
import { buildProxyState } from "./service_port.js";

const cfg: IptablesRulesConfig = { clusterCIDR: "10.0.0.0/8", masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: true };
const NODE = "test-node";

function rules(services: Service[], slices: EndpointSlice[], config: Partial<IptablesRulesConfig> = {}, existing: string[] = []) {
  const rs = buildIptablesRules(buildProxyState(services, slices, NODE), { ...cfg, ...config }, existing);
  const data = renderRestoreData(rs);
  const [filter, nat] = data.split("*nat\n") as [string, string];
  return { rs, data, filter: filter.split("\n"), nat: nat.split("\n") };
}

const svc1 = makeService("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80, protocol: "TCP" }] });
const slice1 = (ips: string[]) => makeSlice("ns1", "svc1", "a", ips.map((ip) => ({ ip })), [{ name: "p80", port: 80 }]);

describe("buildIptablesRules", () => {
  test("the base chains and masquerade rules are written as upstream's", () => {
    const { nat, filter } = rules([], []);
    for (const l of [
      ":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]",
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
      "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]) assert.ok(nat.includes(l), `nat lacks: ${l}`);
    for (const l of [
      ":KUBE-SERVICES - [0:0]", ":KUBE-EXTERNAL-SERVICES - [0:0]", ":KUBE-FORWARD - [0:0]",
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]) assert.ok(filter.includes(l), `filter lacks: ${l}`);
  });

  test("a ClusterIP service with one endpoint gets upstream's exact lines", () => {
    const { nat, filter } = rules([svc1], [slice1(["10.180.0.1"])]);
    for (const l of [
      ":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]",
      ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]",
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
    ]) assert.ok(nat.includes(l), `nat lacks: ${l}`);
    assert.ok(!filter.some((l) => l.includes("ns1/svc1")), "a service with endpoints has no filter rules");
  });

  test("two endpoints split traffic with upstream's statistic rules, in IP order", () => {
    const { nat } = rules([svc1], [slice1(["10.180.2.1", "10.180.0.1"])]);
    const svcRules = nat.filter((l) => l.startsWith("-A KUBE-SVC-XPGD46QRK7WJZT7O") && l.includes("->"));
    assert.deepEqual(svcRules, [
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.2.1:80" -j KUBE-SEP-ZX7GRIZKSNUQ3LAJ',
    ]);
  });

  const probabilityCases: [number, string[]][] = [
    [1, []],
    [3, ["0.3333333333", "0.5000000000"]],
    [4, ["0.2500000000", "0.3333333333", "0.5000000000"]],
  ];
  for (const [n, want] of probabilityCases) {
    test(`${n} endpoints give probabilities ${JSON.stringify(want)} (each endpoint 1/${n} overall)`, () => {
      const { nat } = rules([svc1], [slice1(Array.from({ length: n }, (_, i) => `10.180.0.${i + 1}`))]);
      const got = nat.filter((l) => l.includes("--probability")).map((l) => /--probability (\S+)/.exec(l)![1]);
      assert.deepEqual(got, want);
      assert.equal(nat.filter((l) => l.startsWith("-A KUBE-SVC-XPGD46QRK7WJZT7O") && l.includes("-j KUBE-SEP-")).length, n);
    });
  }

  test("computeProbability formats as Go's %0.10f", () => {
    assert.equal(computeProbability(2), "0.5000000000");
    assert.equal(computeProbability(7), "0.1428571429");
    assert.equal(computeProbability(1), "1.0000000000");
  });

  test("a service without endpoints REJECTs in the filter table and has no nat chains", () => {
    const { nat, filter } = rules([svc1], []);
    assert.ok(filter.includes('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT'));
    assert.ok(!nat.some((l) => l.includes("KUBE-SVC-XPGD46QRK7WJZT7O")));
  });

  test("endpoints that are not ready are left out; if none is ready, serving terminating ones are used", () => {
    const some = rules([svc1], [makeSlice("ns1", "svc1", "a", [{ ip: "10.180.0.1", ready: false }, { ip: "10.180.0.2" }], [{ name: "p80", port: 80 }])]);
    assert.ok(some.nat.some((l) => l.includes("DNAT --to-destination 10.180.0.2:80")));
    assert.ok(!some.nat.some((l) => l.includes("10.180.0.1")));
    const terminating = rules([svc1], [makeSlice("ns1", "svc1", "a", [{ ip: "10.180.0.1", ready: false, serving: true, terminating: true }, { ip: "10.180.0.3", ready: false, serving: false, terminating: true }], [{ name: "p80", port: 80 }])]);
    assert.ok(terminating.nat.some((l) => l.includes("DNAT --to-destination 10.180.0.1:80")));
    assert.ok(!terminating.nat.some((l) => l.includes("10.180.0.3")));
    const none = rules([svc1], [makeSlice("ns1", "svc1", "a", [{ ip: "10.180.0.1", ready: false, serving: false }], [{ name: "p80", port: 80 }])]);
    assert.ok(none.filter.some((l) => l.includes("has no endpoints")));
  });

  test("slice ports match service ports by name and protocol; other ports and IPv6 slices are ignored", () => {
    const other = makeSlice("ns1", "svc1", "b", [{ ip: "10.180.0.9" }], [{ name: "other", port: 81 }]);
    const udp = makeSlice("ns1", "svc1", "c", [{ ip: "10.180.0.8" }], [{ name: "p80", port: 80, protocol: "UDP" }]);
    const v6 = { ...makeSlice("ns1", "svc1", "d", [{ ip: "10.180.0.7" }], [{ name: "p80", port: 80 }]), addressType: "IPv6" };
    const { nat } = rules([svc1], [other, udp, v6, slice1(["10.180.0.1"])]);
    assert.deepEqual(nat.filter((l) => l.includes("DNAT")).map((l) => l.split(" ").pop()), ["10.180.0.1:80"]);
  });

  test("a NodePort service jumps from KUBE-NODEPORTS to its external chain, which masquerades", () => {
    const svc = makeService("ns3", "svc3", { type: "NodePort", clusterIP: "172.30.0.43", ports: [{ name: "p80", port: 80, nodePort: 3003, protocol: "TCP" }] });
    const { nat } = rules([svc], [makeSlice("ns3", "svc3", "a", [{ ip: "10.180.0.3" }], [{ name: "p80", port: 80 }])]);
    for (const l of [
      ":KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]",
      "-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK",
      '-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ',
      "-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK",
      '-A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP',
    ]) assert.ok(nat.includes(l), `nat lacks: ${l}`);
    // The node-ports jump stays the last rule of KUBE-SERVICES.
    const services = nat.filter((l) => l.startsWith("-A KUBE-SERVICES "));
    assert.match(services.at(-1)!, /-j KUBE-NODEPORTS$/);
  });

  test("a NodePort service without endpoints REJECTs its node port in KUBE-EXTERNAL-SERVICES", () => {
    const svc = makeService("ns3", "svc3", { type: "NodePort", clusterIP: "172.30.0.43", ports: [{ name: "p80", port: 80, nodePort: 3003, protocol: "TCP" }] });
    const { filter, nat } = rules([svc], []);
    assert.ok(filter.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns3/svc3:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3003 -j REJECT'));
    assert.ok(!nat.some((l) => l.startsWith("-A KUBE-NODEPORTS")));
  });

  test("externalTrafficPolicy Local sends node-port traffic to local endpoints only and DROPs when there are none here", () => {
    const svc = makeService("ns2", "svc2", { type: "NodePort", externalTrafficPolicy: "Local", clusterIP: "172.30.0.42", ports: [{ name: "p80", port: 80, nodePort: 3001, protocol: "TCP" }] });
    const remoteOnly = rules([svc], [makeSlice("ns2", "svc2", "a", [{ ip: "10.180.0.2", nodeName: "other" }], [{ name: "p80", port: 80 }])]);
    assert.ok(remoteOnly.filter.includes('-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP'));
    // The ClusterIP still reaches the remote endpoint.
    assert.ok(remoteOnly.nat.includes('-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT'));
    const local = rules([svc], [makeSlice("ns2", "svc2", "a", [{ ip: "10.180.0.2", nodeName: NODE }, { ip: "10.180.0.9", nodeName: "other" }], [{ name: "p80", port: 80 }])]);
    for (const l of [
      "-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT",
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT",
      '-A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ',
    ]) assert.ok(local.nat.includes(l), `nat lacks: ${l}`);
    assert.ok(!local.nat.some((l) => l.startsWith("-A KUBE-SVL-") && l.includes("10.180.0.9")));
  });

  test("external IPs and load balancer IPs jump to the external chain", () => {
    const svc = makeService("ns4", "svc4", { type: "LoadBalancer", clusterIP: "172.30.0.44", externalIPs: ["192.168.99.33"], ports: [{ name: "p80", port: 80, nodePort: 3004, protocol: "TCP" }] }, { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } });
    const { nat } = rules([svc], [makeSlice("ns4", "svc4", "a", [{ ip: "10.180.0.4" }], [{ name: "p80", port: 80 }])]);
    assert.ok(nat.includes('-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.33 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK'));
    assert.ok(nat.includes('-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-4SW47YFZTEDKD3PK'));
  });

  test("ClientIP session affinity checks the recent list before balancing and records the client in the endpoint chain", () => {
    const svc = makeService("ns1", "svc1", { clusterIP: "172.30.0.41", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: "p80", port: 80, protocol: "TCP" }] });
    const { nat } = rules([svc], [slice1(["10.180.0.1", "10.180.2.1"])]);
    const svcRules = nat.filter((l) => l.startsWith("-A KUBE-SVC-XPGD46QRK7WJZT7O") && l.includes("->"));
    assert.deepEqual(svcRules.slice(0, 2), [
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --rcheck --seconds 600 --reap -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.2.1:80" -m recent --name KUBE-SEP-ZX7GRIZKSNUQ3LAJ --rcheck --seconds 600 --reap -j KUBE-SEP-ZX7GRIZKSNUQ3LAJ',
    ]);
    assert.ok(nat.includes("-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80"));
  });

  test("the default session affinity timeout is upstream's 10800 s", () => {
    const svc = makeService("ns1", "svc1", { clusterIP: "172.30.0.41", sessionAffinity: "ClientIP", ports: [{ name: "p80", port: 80, protocol: "TCP" }] });
    const { nat } = rules([svc], [slice1(["10.180.0.1"])]);
    assert.ok(nat.some((l) => l.includes("--rcheck --seconds 10800 --reap")));
  });

  test("masqueradeAll marks every ClusterIP connection; without a cluster CIDR nothing is marked at the ClusterIP", () => {
    const all = rules([svc1], [slice1(["10.180.0.1"])], { masqueradeAll: true });
    assert.ok(all.nat.includes('-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ'));
    const none = rules([svc1], [slice1(["10.180.0.1"])], { clusterCIDR: "" });
    assert.ok(!none.nat.some((l) => l.startsWith("-A KUBE-SVC-") && l.includes("KUBE-MARK-MASQ")));
  });

  test("without localhost node ports the node-ports jump excludes 127.0.0.0/8", () => {
    const { nat } = rules([], [], { localhostNodePorts: false });
    assert.ok(nat.some((l) => l.includes("-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS")));
  });

  test("headless and ExternalName services and services without a ClusterIP produce no rules", () => {
    const headless = makeService("ns", "h", { clusterIP: "None", ports: [{ port: 80 }] });
    const ext = makeService("ns", "e", { type: "ExternalName", externalName: "example.com" });
    const pending = makeService("ns", "p", { ports: [{ port: 80 }] });
    const { rs } = rules([headless, ext, pending], [makeSlice("ns", "h", "a", [{ ip: "10.1.1.1" }], [{ port: 80 }])]);
    assert.equal(rs.activeNatChains.size, 0);
    assert.equal(rs.filter.rules.length, 3); // KUBE-FORWARD only
  });

  test("an unnamed port is named ns/svc in comments and hashes", () => {
    const svc = makeService("ns", "web", { clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "TCP" }] });
    const { nat } = rules([svc], [makeSlice("ns", "web", "a", [{ ip: "10.1.1.1" }], [{ port: 8080 }])]);
    assert.ok(nat.some((l) => l.startsWith('-A KUBE-SERVICES -m comment --comment "ns/web cluster IP"') && l.endsWith("-j KUBE-SVC-" + l.split("KUBE-SVC-")[1])));
    assert.ok(nat.some((l) => l.endsWith("DNAT --to-destination 10.1.1.1:8080")));
  });

  test("stale per-service chains are flushed and deleted; other chains are left alone", () => {
    const existing = ["KUBE-SERVICES", "KUBE-SVC-OLDOLDOLDOLDOLD1", "KUBE-SEP-OLDOLDOLDOLDOLD2", "KUBE-EXT-OLDOLDOLDOLDOLD3", "KUBE-SVC-XPGD46QRK7WJZT7O", "CNI-HOSTPORT-DNAT", "DOCKER"];
    const { nat } = rules([svc1], [slice1(["10.180.0.1"])], {}, existing);
    for (const c of ["KUBE-SVC-OLDOLDOLDOLDOLD1", "KUBE-SEP-OLDOLDOLDOLDOLD2", "KUBE-EXT-OLDOLDOLDOLDOLD3"]) {
      assert.ok(nat.includes(`:${c} - [0:0]`), `stale ${c} is declared (flushed)`);
      assert.ok(nat.includes(`-X ${c}`), `stale ${c} is deleted`);
    }
    assert.ok(!nat.some((l) => l.includes("CNI-HOSTPORT-DNAT") || l.includes("DOCKER")));
    assert.ok(!nat.includes("-X KUBE-SVC-XPGD46QRK7WJZT7O"));
    // Deletes come after every -A, so nothing is deleted while a rule still jumps to it.
    const firstDelete = nat.findIndex((l) => l.startsWith("-X "));
    assert.ok(nat.slice(firstDelete).every((l) => l.startsWith("-X ") || l === "COMMIT" || l === ""));
  });

  test("restore data is filter then nat, each committed once", () => {
    const { data } = rules([svc1], [slice1(["10.180.0.1"])]);
    assert.match(data, /^\*filter\n[\s\S]*\nCOMMIT\n\*nat\n[\s\S]*\nCOMMIT\n$/);
    assert.equal(data.match(/^COMMIT$/gm)?.length, 2);
  });

  test("rule counts say how many rules each table got", () => {
    const { rs } = rules([svc1], [slice1(["10.180.0.1", "10.180.0.2"])]);
    assert.equal(rs.ruleCount.nat, renderRestoreData(rs).split("\n").filter((l) => l.startsWith("-A KUBE-") && !l.startsWith("-A KUBE-FORWARD")).length - rs.filter.rules.filter((l) => l.startsWith("-A KUBE-") && !l.startsWith("-A KUBE-FORWARD")).length);
    assert.equal(rs.ruleCount.filter, rs.filter.rules.length);
  });

  test("a partial restore leaves out unchanged service chains and writes changed, new and stale ones", () => {
    const svc2 = makeService("ns2", "svc2", { clusterIP: "172.30.0.42", ports: [{ name: "p80", port: 80, protocol: "TCP" }] });
    const slice2 = (ips: string[]) => makeSlice("ns2", "svc2", "a", ips.map((ip) => ({ ip })), [{ name: "p80", port: 80 }]);
    const before = buildIptablesRules(buildProxyState([svc1, svc2], [slice1(["10.180.0.1"]), slice2(["10.180.0.2", "10.180.0.3"])], NODE), cfg);
    const after = buildIptablesRules(buildProxyState([svc1, svc2], [slice1(["10.180.0.1"]), slice2(["10.180.0.2", "10.180.0.4"])], NODE), cfg, before.activeNatChains);
    const partial = renderRestoreData(after, before).split("\n");
    // svc1 is unchanged: neither declared nor written.
    assert.ok(!partial.some((l) => l.includes("KUBE-SVC-XPGD46QRK7WJZT7O") && !l.startsWith("-A KUBE-SERVICES")));
    assert.ok(!partial.includes(":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]"));
    // svc2's service chain changed, 10.180.0.4 is new, 10.180.0.3 is stale.
    assert.ok(partial.includes(":KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]"));
    assert.ok(partial.some((l) => l.endsWith("DNAT --to-destination 10.180.0.4:80")));
    assert.ok(!partial.some((l) => l.endsWith("DNAT --to-destination 10.180.0.2:80")), "the unchanged endpoint chain is left alone");
    assert.equal(after.staleChains.length, 1);
    assert.ok(partial.includes(`-X ${after.staleChains[0]}`));
    // The base chains are always rewritten in full.
    assert.ok(partial.includes('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O'));
    // Declarations come before every rule.
    const lastDecl = partial.reduce((last, l, i) => (l.startsWith(":") ? i : last), -1);
    const firstNatRule = partial.findIndex((l, i) => i > partial.indexOf("*nat") && l.startsWith("-"));
    assert.ok(lastDecl < firstNatRule);
  });

  test("chainsInSave reads the chain names of iptables-save output", () => {
    const save = "# Generated by iptables-save\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-ABC - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n";
    assert.deepEqual(chainsInSave(save), ["PREROUTING", "KUBE-SVC-ABC"]);
  });
});
