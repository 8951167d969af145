import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { podDnsConfig, renderResolvConf } from "./pod_dns_config.js";
import { parseResolvConf } from "./resolv_conf.js";

const HOST = "# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54 ; second\nsearch corp.example. lab.example\noptions ndots:2 timeout:1\noptions ndots:3 rotate\n";
const pod = (spec: Pod["spec"] = { containers: [] }, ns = "team-a"): Pod => ({ metadata: { name: "p", namespace: ns, uid: "u1" }, spec });
const base = { clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local", hostResolvConf: HOST };

test("the host's resolv.conf parses as the kubelet reads it", () => {
  assert.deepEqual(parseResolvConf(HOST), { nameservers: ["192.0.2.53", "192.0.2.54"], searches: ["corp.example", "lab.example"], options: ["ndots:3", "timeout:1", "rotate"] });
  assert.deepEqual(parseResolvConf("search a b\ndomain c\n").searches, ["c"], "the last search/domain line wins");
});

test("ClusterFirst uses only the cluster DNS, the cluster search path before the host's, and ndots:5", () => {
  const c = podDnsConfig(pod(), base);
  assert.deepEqual(c.servers, ["10.96.0.10"]);
  assert.deepEqual(c.searches, ["team-a.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"]);
  assert.deepEqual(c.options, ["ndots:5"]);
  assert.deepEqual(c.events, []);
  assert.equal(renderResolvConf(c), "search team-a.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n");
  // An unset policy is ClusterFirst (the API server's default).
  assert.deepEqual(podDnsConfig(pod({ containers: [], dnsPolicy: "ClusterFirst" }), base), c);
});

test("a hostNetwork pod with ClusterFirst gets the host's DNS; ClusterFirstWithHostNet gets the cluster's", () => {
  const host = podDnsConfig(pod({ containers: [], hostNetwork: true }), base);
  assert.deepEqual(host, { servers: ["192.0.2.53", "192.0.2.54"], searches: ["corp.example", "lab.example"], options: ["ndots:3", "timeout:1", "rotate"], events: [] });
  assert.deepEqual(podDnsConfig(pod({ containers: [], hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), base).servers, ["10.96.0.10"]);
  assert.deepEqual(podDnsConfig(pod({ containers: [], dnsPolicy: "Default" }), base), host);
});

test("ClusterFirst without a cluster DNS falls back to Default and says so", () => {
  const c = podDnsConfig(pod(), { ...base, clusterDNS: [] });
  assert.deepEqual(c.servers, ["192.0.2.53", "192.0.2.54"]);
  assert.equal(c.events[0]?.reason, "MissingClusterDNS");
  assert.match(c.events[0]!.message, /Falling back to "Default" policy/);
});

test("an empty --resolv-conf points Default pods at the node itself", () => {
  assert.deepEqual(podDnsConfig(pod({ containers: [], dnsPolicy: "Default" }), { ...base, hostResolvConf: null }), { servers: ["127.0.0.1"], searches: ["."], options: [], events: [] });
  assert.deepEqual(podDnsConfig(pod({ containers: [], dnsPolicy: "Default" }), { ...base, hostResolvConf: null, nodeIPs: ["fd00::1"] }).servers, ["::1"]);
});

test("None takes only dnsConfig, and dnsConfig merges into the others", () => {
  const none = podDnsConfig(pod({ containers: [], dnsPolicy: "None", dnsConfig: { nameservers: ["1.2.3.4"], searches: ["x.example"], options: [{ name: "ndots", value: "2" }, { name: "edns0" }] } }), base);
  assert.deepEqual(none, { servers: ["1.2.3.4"], searches: ["x.example"], options: ["ndots:2", "edns0"], events: [] });
  const merged = podDnsConfig(pod({ containers: [], dnsConfig: { nameservers: ["10.96.0.10", "1.2.3.4"], searches: ["cluster.local", "y.example"], options: [{ name: "ndots", value: "1" }, { name: "single-request" }] } }), base);
  assert.deepEqual(merged.servers, ["10.96.0.10", "1.2.3.4"]);
  assert.deepEqual(merged.searches, ["team-a.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example", "y.example"]);
  assert.deepEqual(merged.options, ["ndots:1", "single-request"]);
});

test("limits: 3 nameservers, 32 search domains, 2048 characters, no domain over 253", () => {
  const many = podDnsConfig(pod({ containers: [], dnsPolicy: "None", dnsConfig: { nameservers: ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"], searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } }), base);
  assert.deepEqual(many.servers, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]);
  assert.equal(many.searches.length, 32);
  assert.deepEqual(many.events.map((e) => e.reason), ["DNSConfigForming", "DNSConfigForming"]);
  assert.match(many.events[0]!.message, /^Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3$/);

  const long = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.ee.example`; // 254 characters
  assert.equal(long.length, 254);
  const tooLong = podDnsConfig(pod({ containers: [], dnsPolicy: "None", dnsConfig: { searches: ["ok.example", long] } }), base);
  assert.deepEqual(tooLong.searches, ["ok.example"]);

  const wide = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, "0")}${"x".repeat(118)}.example`); // 128 characters each
  const chars = podDnsConfig(pod({ containers: [], dnsPolicy: "None", dnsConfig: { searches: wide } }), base);
  assert.ok(chars.searches.join(" ").length <= 2048);
  assert.equal(chars.searches.length, 15); // 15 × 128 + 14 spaces = 1934; 16 would be 2063
  assert.deepEqual(chars.searches, wide.slice(0, 15));
});
