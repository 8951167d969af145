import { test } from "node:test";
import assert from "node:assert/strict";
import type { Namespace, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc } from "../client/indexer.js";
import { CLASS_IN, RCode, RRType, decodeMessage, encodeMessage, newQuery, type ResourceRecord } from "./message.js";
import { handleDnsQuery, type DnsHandlerDeps } from "./dns_handler.js";
import { ForwardError } from "./forwarder.js";
import { ServiceCatalog, endpointSliceIndexers, serviceIndexers } from "./service_catalog.js";

const services = new Indexer<Service>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...serviceIndexers });
services.upsert({ metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.96.0.12", clusterIPs: ["10.96.0.12"] } });
services.upsert({ metadata: { name: "ext", namespace: "default" }, spec: { type: "ExternalName", externalName: "www.example.com" } });
services.upsert({ metadata: { name: "alias", namespace: "default" }, spec: { type: "ExternalName", externalName: "web.default.svc.cluster.local" } });
services.upsert({ metadata: { name: "loop", namespace: "default" }, spec: { type: "ExternalName", externalName: "loop.default.svc.cluster.local" } });
const catalog = new ServiceCatalog(services, new Indexer<EndpointSlice>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...endpointSliceIndexers }), new Indexer<Namespace>());

function deps(over: Partial<DnsHandlerDeps> = {}): DnsHandlerDeps {
  return { catalog, zone: () => ({ clusterDomain: "cluster.local", soaSerial: 1 }), synced: () => true, forward: null, ...over };
}
const ask = (name: string, type: number = RRType.A, id = 1) => encodeMessage(newQuery(id, name, type));

test("cluster names are answered authoritatively with recursion available when forwarding is on", async () => {
  const r = await handleDnsQuery(deps({ forward: async () => new Uint8Array() }), ask("web.default.svc.cluster.local."), "udp");
  const m = decodeMessage(r.response!);
  assert.equal(m.header.aa, true);
  assert.equal(m.header.ra, true);
  assert.equal(m.header.rd, true);
  assert.equal(r.plugin, "kubernetes");
  assert.deepEqual(m.answers.map((a) => a.data), [{ address: "10.96.0.12" }]);
});

test("before the caches sync, cluster names are SERVFAIL rather than a cacheable NXDOMAIN", async () => {
  const r = await handleDnsQuery(deps({ synced: () => false }), ask("nope.default.svc.cluster.local."), "udp");
  assert.equal(r.rcode, RCode.SERVFAIL);
});

test("without upstreams other names are SERVFAIL; a full forwarder is REFUSED, a silent one SERVFAIL", async () => {
  assert.equal((await handleDnsQuery(deps(), ask("example.com."), "udp")).rcode, RCode.SERVFAIL);
  const full = deps({ forward: async () => Promise.reject(new ForwardError("max-concurrent", "full")) });
  assert.equal((await handleDnsQuery(full, ask("example.com."), "udp")).rcode, RCode.REFUSED);
  const silent = deps({ forward: async () => Promise.reject(new ForwardError("timeout", "late")) });
  const r = await handleDnsQuery(silent, ask("example.com.", RRType.A, 99), "udp");
  assert.equal(r.rcode, RCode.SERVFAIL);
  assert.equal(decodeMessage(r.response!).header.id, 99);
  const garbage = deps({ forward: async () => Uint8Array.from([1, 2, 3]) });
  assert.equal((await handleDnsQuery(garbage, ask("example.com."), "udp")).rcode, RCode.SERVFAIL);
});

test("an upstream answer too big for the client's UDP size is cut with TC", async () => {
  const answers: ResourceRecord[] = Array.from({ length: 80 }, (_, i) => ({ name: "big.example.", type: RRType.A, class: CLASS_IN, ttl: 9, data: { address: `192.0.2.${i}` } }));
  const q = newQuery(5, "big.example.", RRType.A);
  const big = encodeMessage({ ...q, header: { ...q.header, qr: true, ra: true }, answers });
  assert.ok(big.length > 512);
  const r = await handleDnsQuery(deps({ forward: async () => big }), encodeMessage(q), "udp");
  assert.ok(r.response!.length <= 512);
  assert.equal(decodeMessage(r.response!).header.tc, true);
  const whole = await handleDnsQuery(deps({ forward: async () => big }), encodeMessage(q), "tcp");
  assert.deepEqual(whole.response, big, "over TCP the upstream's bytes pass through untouched");
});

test("responses sent to the server are ignored, and packets shorter than a header get no answer", async () => {
  const q = newQuery(5, "web.default.svc.cluster.local.", RRType.A);
  assert.equal((await handleDnsQuery(deps(), encodeMessage({ ...q, header: { ...q.header, qr: true } }), "udp")).response, null);
  assert.equal((await handleDnsQuery(deps(), Uint8Array.from([0, 1, 2]), "udp")).response, null);
});

test("an ExternalName's CNAME is followed to the target's records, in the zone or through the forwarder", async () => {
  const inZone = decodeMessage((await handleDnsQuery(deps(), ask("alias.default.svc.cluster.local."), "udp")).response!);
  assert.deepEqual(inZone.answers.map((r) => [r.name, r.type, r.data]), [
    ["alias.default.svc.cluster.local.", RRType.CNAME, { target: "web.default.svc.cluster.local." }],
    ["web.default.svc.cluster.local.", RRType.A, { address: "10.96.0.12" }],
  ]);
  const asked: string[] = [];
  const forward = async (packet: Uint8Array) => {
    const q = decodeMessage(packet);
    asked.push(q.questions[0]!.name);
    return encodeMessage({ ...q, header: { ...q.header, qr: true }, answers: [{ name: q.questions[0]!.name, type: RRType.A, class: CLASS_IN, ttl: 300, data: { address: "192.0.2.53" } }] });
  };
  const out = await handleDnsQuery(deps({ forward }), ask("ext.default.svc.cluster.local.", RRType.A, 44), "udp");
  const m = decodeMessage(out.response!);
  assert.equal(m.header.id, 44);
  assert.deepEqual(asked, ["www.example.com."]);
  assert.deepEqual(m.answers.map((r) => [r.name, r.type, r.data]), [
    ["ext.default.svc.cluster.local.", RRType.CNAME, { target: "www.example.com." }],
    ["www.example.com.", RRType.A, { address: "192.0.2.53" }],
  ]);
  // Without upstreams, or for a CNAME question, the CNAME alone; a loop stops.
  assert.equal(decodeMessage((await handleDnsQuery(deps(), ask("ext.default.svc.cluster.local."), "udp")).response!).answers.length, 1);
  assert.equal(decodeMessage((await handleDnsQuery(deps({ forward }), ask("ext.default.svc.cluster.local.", RRType.CNAME), "udp")).response!).answers.length, 1);
  assert.equal((await handleDnsQuery(deps(), ask("loop.default.svc.cluster.local."), "udp")).rcode, RCode.NOERROR);
});
