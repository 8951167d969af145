import { test } from "node:test";
import assert from "node:assert/strict";
import type { Namespace, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc } from "../client/indexer.js";
import { CLASS_IN, RCode, RRType, type ResourceRecord } from "./message.js";
import { answerClusterQuestion, ipToReverseName, reverseNameToIp } from "./kubernetes_zone.js";
import { ServiceCatalog, endpointSliceIndexers, serviceIndexers } from "./service_catalog.js";

function catalogOf(objs: { services: Service[]; slices?: EndpointSlice[]; namespaces?: string[] }): ServiceCatalog {
  const svc = new Indexer<Service>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...serviceIndexers });
  const sl = new Indexer<EndpointSlice>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...endpointSliceIndexers });
  const ns = new Indexer<Namespace>();
  for (const s of objs.services) svc.upsert(s);
  for (const s of objs.slices ?? []) sl.upsert(s);
  for (const n of objs.namespaces ?? ["default"]) ns.upsert({ metadata: { name: n } });
  return new ServiceCatalog(svc, sl, ns);
}

const web: Service = { metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.96.0.12", clusterIPs: ["10.96.0.12"], ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "dns", port: 53, protocol: "UDP" }, { port: 9000 }] } };
const db: Service = { metadata: { name: "db", namespace: "default" }, spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] } };
const dbSlice: EndpointSlice = {
  metadata: { name: "db-abcde", namespace: "default", labels: { "kubernetes.io/service-name": "db" } },
  addressType: "IPv4",
  ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
  endpoints: [
    { addresses: ["10.244.0.5"], hostname: "db-0", conditions: { ready: true } },
    { addresses: ["10.244.0.6"], conditions: {} },
    { addresses: ["10.244.0.7"], conditions: { ready: false } },
  ],
};
const ext: Service = { metadata: { name: "ext", namespace: "default" }, spec: { type: "ExternalName", externalName: "example.com" } };
const catalog = catalogOf({ services: [web, db, ext], slices: [dbSlice], namespaces: ["default", "empty"] });
const ZONE = { clusterDomain: "cluster.local", soaSerial: 1700000000 };

const ask = (name: string, type: number) => answerClusterQuestion(catalog, { name, type, class: CLASS_IN }, ZONE);
const data = (rrs: readonly ResourceRecord[]) => rrs.map((r) => [r.name, r.type, r.ttl, r.data]);

test("a ClusterIP Service's name has an A record for its ClusterIP with TTL 5", () => {
  const a = ask("web.default.svc.cluster.local.", RRType.A)!;
  assert.equal(a.rcode, RCode.NOERROR);
  assert.deepEqual(data(a.answers), [["web.default.svc.cluster.local.", RRType.A, 5, { address: "10.96.0.12" }]]);
  assert.deepEqual(a.authorities, []);
  // Names are case-insensitive; the answer keeps the question's spelling.
  assert.deepEqual(data(ask("WEB.Default.svc.cluster.local.", RRType.A)!.answers), [["WEB.Default.svc.cluster.local.", RRType.A, 5, { address: "10.96.0.12" }]]);
});

test("a type the name has no record of is NODATA with the zone's SOA", () => {
  const a = ask("web.default.svc.cluster.local.", RRType.AAAA)!;
  assert.equal(a.rcode, RCode.NOERROR);
  assert.deepEqual(a.answers, []);
  assert.deepEqual(data(a.authorities), [
    ["cluster.local.", RRType.SOA, 5, { mname: "ns.dns.cluster.local.", rname: "hostmaster.cluster.local.", serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 }],
  ]);
});

test("names that do not exist are NXDOMAIN with the SOA; existing parents are NODATA", () => {
  for (const n of ["nope.default.svc.cluster.local.", "web.nope.svc.cluster.local.", "nope.svc.cluster.local.", "x.web.default.svc.cluster.local.", "foo.cluster.local.", "a.b.c.d.web.default.svc.cluster.local."]) {
    const a = ask(n, RRType.A)!;
    assert.equal(a.rcode, RCode.NXDOMAIN, n);
    assert.equal(a.authorities[0]?.type, RRType.SOA, n);
  }
  for (const n of ["empty.svc.cluster.local.", "svc.cluster.local.", "cluster.local.", "default.pod.cluster.local."]) {
    const a = ask(n, RRType.A)!;
    assert.equal(a.rcode, RCode.NOERROR, n);
    assert.deepEqual(a.answers, [], n);
  }
});

test("SRV records name each named port; the targets' addresses come as additional records", () => {
  const a = ask("_http._tcp.web.default.svc.cluster.local.", RRType.SRV)!;
  assert.deepEqual(data(a.answers), [["_http._tcp.web.default.svc.cluster.local.", RRType.SRV, 5, { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local." }]]);
  assert.deepEqual(data(a.additionals), [["web.default.svc.cluster.local.", RRType.A, 5, { address: "10.96.0.12" }]]);
  assert.equal(ask("_dns._udp.web.default.svc.cluster.local.", RRType.SRV)!.answers.length, 1);
  // The protocol must match, and an unnamed port has no SRV name.
  assert.equal(ask("_dns._tcp.web.default.svc.cluster.local.", RRType.SRV)!.rcode, RCode.NXDOMAIN);
  // The Service's own name lists every named port.
  const all = ask("web.default.svc.cluster.local.", RRType.SRV)!;
  assert.deepEqual(all.answers.map((r) => (r.data as { port: number }).port), [80, 53]);
  assert.ok(all.answers.every((r) => (r.data as { weight: number }).weight === 50));
});

test("a headless Service's name has an A record per ready endpoint, and endpoints have names of their own", () => {
  const a = ask("db.default.svc.cluster.local.", RRType.A)!;
  // A missing ready condition counts as ready; ready=false is left out.
  assert.deepEqual(a.answers.map((r) => (r.data as { address: string }).address), ["10.244.0.5", "10.244.0.6"]);
  assert.deepEqual(data(ask("db-0.db.default.svc.cluster.local.", RRType.A)!.answers), [["db-0.db.default.svc.cluster.local.", RRType.A, 5, { address: "10.244.0.5" }]]);
  assert.deepEqual(data(ask("10-244-0-6.db.default.svc.cluster.local.", RRType.A)!.answers), [["10-244-0-6.db.default.svc.cluster.local.", RRType.A, 5, { address: "10.244.0.6" }]]);
  assert.equal(ask("10-244-0-7.db.default.svc.cluster.local.", RRType.A)!.rcode, RCode.NXDOMAIN);
  const srv = ask("_pg._tcp.db.default.svc.cluster.local.", RRType.SRV)!;
  assert.deepEqual(
    srv.answers.map((r) => r.data),
    [
      { priority: 0, weight: 50, port: 5432, target: "db-0.db.default.svc.cluster.local." },
      { priority: 0, weight: 50, port: 5432, target: "10-244-0-6.db.default.svc.cluster.local." },
    ],
  );
  assert.deepEqual(data(srv.additionals).map((r) => [r[0], r[3]]), [
    ["db-0.db.default.svc.cluster.local.", { address: "10.244.0.5" }],
    ["10-244-0-6.db.default.svc.cluster.local.", { address: "10.244.0.6" }],
  ]);
});

test("a headless Service without ready endpoints is NXDOMAIN, as the spec says", () => {
  const c = catalogOf({ services: [db], slices: [{ ...dbSlice, endpoints: [{ addresses: ["10.244.0.7"], conditions: { ready: false } }] }] });
  for (const [name, type] of [["db.default.svc.cluster.local.", RRType.A], ["_pg._tcp.db.default.svc.cluster.local.", RRType.SRV]] as const) {
    assert.equal(answerClusterQuestion(c, { name, type, class: CLASS_IN }, ZONE)!.rcode, RCode.NXDOMAIN, name);
  }
});

test("publishNotReadyAddresses publishes endpoints that are not ready", () => {
  const c = catalogOf({ services: [{ ...db, spec: { ...db.spec, publishNotReadyAddresses: true } }], slices: [dbSlice] });
  const a = answerClusterQuestion(c, { name: "db.default.svc.cluster.local.", type: RRType.A, class: CLASS_IN }, ZONE)!;
  assert.equal(a.answers.length, 3);
});

test("an ExternalName Service is a CNAME whatever type is asked", () => {
  for (const t of [RRType.A, RRType.AAAA, RRType.CNAME]) {
    assert.deepEqual(data(ask("ext.default.svc.cluster.local.", t)!.answers), [["ext.default.svc.cluster.local.", RRType.CNAME, 5, { target: "example.com." }]]);
  }
});

test("PTR records name the Service of a ClusterIP and the headless endpoint of a pod IP; unknown addresses fall through", () => {
  assert.deepEqual(data(ask("12.0.96.10.in-addr.arpa.", RRType.PTR)!.answers), [["12.0.96.10.in-addr.arpa.", RRType.PTR, 5, { target: "web.default.svc.cluster.local." }]]);
  assert.deepEqual(ask("5.0.244.10.in-addr.arpa.", RRType.PTR)!.answers.map((r) => r.data), [{ target: "db-0.db.default.svc.cluster.local." }]);
  assert.equal(ask("9.9.9.9.in-addr.arpa.", RRType.PTR), null);
  assert.equal(ask("12.0.96.10.in-addr.arpa.", RRType.A), null);
  assert.equal(ask("example.com.", RRType.A), null);
});

test("reverse names convert to and from addresses", () => {
  assert.equal(ipToReverseName("10.96.0.12"), "12.0.96.10.in-addr.arpa.");
  assert.equal(reverseNameToIp("12.0.96.10.in-addr.arpa."), "10.96.0.12");
  const v6 = ipToReverseName("fd00::c");
  assert.equal(v6, "c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.");
  assert.equal(reverseNameToIp(v6), "fd00::c");
  assert.equal(reverseNameToIp("0.96.10.in-addr.arpa."), null);
  assert.equal(reverseNameToIp("012.0.96.10.in-addr.arpa."), null);
});

test("dual-stack Services have AAAA records too", () => {
  const c = catalogOf({ services: [{ metadata: { name: "ds", namespace: "default" }, spec: { clusterIP: "10.96.0.20", clusterIPs: ["10.96.0.20", "fd00::20"] } }] });
  const a = answerClusterQuestion(c, { name: "ds.default.svc.cluster.local.", type: RRType.AAAA, class: CLASS_IN }, ZONE)!;
  assert.deepEqual(a.answers.map((r) => r.data), [{ address: "fd00::20" }]);
  assert.deepEqual(data(answerClusterQuestion(c, { name: ipToReverseName("fd00::20"), type: RRType.PTR, class: CLASS_IN }, ZONE)!.answers).map((r) => r[3]), [{ target: "ds.default.svc.cluster.local." }]);
});

test("pods insecure: a dashed address in a pod name is that address", () => {
  assert.deepEqual(ask("10-244-1-7.default.pod.cluster.local.", RRType.A)!.answers.map((r) => r.data), [{ address: "10.244.1.7" }]);
  assert.equal(ask("not-an-ip.default.pod.cluster.local.", RRType.A)!.rcode, RCode.NXDOMAIN);
});

test("the zone apex has SOA and NS, and dns-version has the schema version", () => {
  assert.equal(ask("cluster.local.", RRType.SOA)!.answers[0]?.type, RRType.SOA);
  assert.deepEqual(ask("cluster.local.", RRType.NS)!.answers.map((r) => r.data), [{ target: "ns.dns.cluster.local." }]);
  assert.deepEqual(ask("dns-version.cluster.local.", RRType.TXT)!.answers.map((r) => r.data), [{ texts: ["1.1.0"] }]);
});
