import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as dnsPromises } from "node:dns";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../platform/node/node_env.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { CLASS_IN, OpCode, RCode, RRType, decodeMessage, encodeMessage, newQuery } from "./message.js";
import { startClusterDns, type ClusterDns } from "./cluster_dns.js";
import { ECHO_NAME, startFakeUpstream, tcpExchange, udpExchange, type FakeUpstream } from "./testing_upstream.js";

/** The longest an answer may lag behind the API (the issue: updates follow within a second). */
const FOLLOW_MS = 1000;

let api: InProcessApiServer;
let client: RestClient;
let upstream: FakeUpstream;
let dns: ClusterDns;
let resolver: dnsPromises.Resolver;
const log = new MemoryLogger();

before(async () => {
  api = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(api.kubeconfig));
  upstream = await startFakeUpstream({
    records: new Map([["www.example.test.", [{ name: "www.example.test.", type: RRType.A, class: CLASS_IN, ttl: 60, data: { address: "192.0.2.10" } }]]]),
    silent: new Set(["slow.example.test."]),
  });
  dns = await startClusterDns({
    client,
    listen: "127.0.0.1:0",
    httpListen: "127.0.0.1:0",
    clusterDomain: "cluster.local",
    upstreams: [upstream.address],
    forwardTimeoutMs: 300,
    env: { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log },
    backoffInitialMs: 100,
  });
  assert.equal(await dns.waitReady(20_000), true, "cluster DNS caches synced");
  resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${dns.dnsAddress.port}`]);
});
after(async () => {
  await dns?.stop();
  await upstream?.stop();
  client?.close();
  await api?.stop();
});

const services = (ns = "default") => client.resource<Service>("", "v1", "services").namespace(ns);
const slices = (ns = "default") => client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace(ns);

/** Polls `fn` every 20 ms until it returns a value; fails after `withinMs`. Returns the value and the time taken. */
async function within<T>(what: string, withinMs: number, fn: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return { value: v, ms: Date.now() - started };
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const errorCode = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

function slice(name: string, svc: string, endpoints: { ip: string; ready?: boolean; hostname?: string }[], ports = [{ name: "http", port: 8080, protocol: "TCP" }]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    ports,
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.hostname === undefined ? {} : { hostname: e.hostname }) })),
  };
}

test("a new Service's name resolves to its ClusterIP within a second, with SRV and PTR records", async () => {
  const svc = await services().create({ metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, protocol: "TCP" }] } });
  const ip = svc.spec!.clusterIP!;
  assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
  const { value, ms } = await within("web resolves", FOLLOW_MS, async () => {
    const a = await resolver.resolve4("web.default.svc.cluster.local", { ttl: true });
    return a.length > 0 ? a : undefined;
  });
  assert.deepEqual(value, [{ address: ip, ttl: 5 }]);
  assert.ok(ms <= FOLLOW_MS);
  assert.deepEqual(await resolver.resolveSrv("_http._tcp.web.default.svc.cluster.local"), [{ name: "web.default.svc.cluster.local", port: 80, priority: 0, weight: 100 }]);
  assert.deepEqual(await resolver.reverse(ip), ["web.default.svc.cluster.local"]);
});

test("a missing name is NXDOMAIN and a missing type is NODATA", async () => {
  assert.equal(await errorCode(resolver.resolve4("nope.default.svc.cluster.local")), "ENOTFOUND");
  assert.equal(await errorCode(resolver.resolve4("web.nonexistent-ns.svc.cluster.local")), "ENOTFOUND");
  await within("web exists", FOLLOW_MS * 5, async () => ((await resolver.resolve4("web.default.svc.cluster.local")).length > 0 ? true : undefined));
  assert.equal(await errorCode(resolver.resolve6("web.default.svc.cluster.local")), "ENODATA");
  // The negative answers carry the SOA (for negative caching), seen here on the wire.
  const raw = decodeMessage((await udpExchange(dns.dnsAddress.port, encodeMessage(newQuery(77, "nope.default.svc.cluster.local.", RRType.A))))!);
  assert.equal(raw.rcode, RCode.NXDOMAIN);
  assert.equal(raw.header.aa, true);
  assert.deepEqual(raw.authorities.map((r) => [r.name, r.type]), [["cluster.local.", RRType.SOA]]);
});

test("a headless Service resolves to its ready endpoints and follows its EndpointSlices within a second", async () => {
  await services().create({ metadata: { name: "db" }, spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ name: "pg", port: 5432, protocol: "TCP" }] } });
  const created = await slices().create(
    slice("db-1", "db", [
      { ip: "10.244.1.1", hostname: "db-0" },
      { ip: "10.244.1.2" },
      { ip: "10.244.1.3", ready: false },
    ], [{ name: "pg", port: 5432, protocol: "TCP" }]),
  );
  const sorted = async (name: string) => (await resolver.resolve4(name)).sort();
  await within("db's ready endpoints", FOLLOW_MS, async () => ((await sorted("db.default.svc.cluster.local")).join() === "10.244.1.1,10.244.1.2" ? true : undefined));
  assert.deepEqual(await resolver.resolve4("db-0.db.default.svc.cluster.local"), ["10.244.1.1"]);
  const srv = (await resolver.resolveSrv("_pg._tcp.db.default.svc.cluster.local")).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(srv, [
    { name: "10-244-1-2.db.default.svc.cluster.local", port: 5432, priority: 0, weight: 50 },
    { name: "db-0.db.default.svc.cluster.local", port: 5432, priority: 0, weight: 50 },
  ]);

  // The third endpoint becomes ready, the first goes away.
  await slices().update({ ...created, endpoints: [{ addresses: ["10.244.1.2"], conditions: { ready: true } }, { addresses: ["10.244.1.3"], conditions: { ready: true } }] });
  const { ms } = await within("db follows the slice", FOLLOW_MS, async () => ((await sorted("db.default.svc.cluster.local")).join() === "10.244.1.2,10.244.1.3" ? true : undefined));
  assert.ok(ms <= FOLLOW_MS);
  assert.equal(await errorCode(resolver.resolve4("db-0.db.default.svc.cluster.local")), "ENOTFOUND");

  // With no ready endpoint left, a headless name is NXDOMAIN (spec 2.4.1).
  await slices().update({ ...(await slices().get("db-1")), endpoints: [{ addresses: ["10.244.1.3"], conditions: { ready: false } }] });
  await within("db has no ready endpoints", FOLLOW_MS, async () => ((await errorCode(resolver.resolve4("db.default.svc.cluster.local"))) === "ENOTFOUND" ? true : undefined));
  await slices().update({ ...(await slices().get("db-1")), endpoints: [{ addresses: ["10.244.1.3"], conditions: { ready: true } }] });
  await within("db is back", FOLLOW_MS, async () => ((await resolver.resolve4("db.default.svc.cluster.local")).length === 1 ? true : undefined));

  // Deleting the Service removes its name.
  await services().delete("db");
  await within("db is gone", FOLLOW_MS, async () => ((await errorCode(resolver.resolve4("db.default.svc.cluster.local"))) === "ENOTFOUND" ? true : undefined));
});

test("an answer too big for UDP is truncated with TC and the client gets it whole over TCP", async () => {
  await services().create({ metadata: { name: "wide" }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80, protocol: "TCP" }] } });
  const ips = Array.from({ length: 200 }, (_, i) => `10.245.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  await slices().create(slice("wide-1", "wide", ips.map((ip) => ({ ip }))));
  const tcpBefore = dns.metrics.requests.get({ server: `dns://127.0.0.1:${dns.dnsAddress.port}`, zone: ".", view: "", proto: "tcp", family: "1", type: "A" });
  const { value } = await within("all 200 addresses", FOLLOW_MS * 3, async () => {
    const a = await resolver.resolve4("wide.default.svc.cluster.local");
    return a.length === 200 ? a : undefined;
  });
  assert.deepEqual(value.sort(), ips.slice().sort());
  const tcpAfter = dns.metrics.requests.get({ server: `dns://127.0.0.1:${dns.dnsAddress.port}`, zone: ".", view: "", proto: "tcp", family: "1", type: "A" });
  assert.ok(tcpAfter > tcpBefore, "the resolver fell back to TCP");

  // On the wire: over UDP without EDNS the answer fits 512 bytes and says TC; with EDNS it may take up to the
  // client's size; over TCP it is whole.
  const q = encodeMessage(newQuery(5, "wide.default.svc.cluster.local.", RRType.A));
  const udp = (await udpExchange(dns.dnsAddress.port, q))!;
  assert.ok(udp.length <= 512);
  assert.equal(decodeMessage(udp).header.tc, true);
  const edns = (await udpExchange(dns.dnsAddress.port, encodeMessage(newQuery(6, "wide.default.svc.cluster.local.", RRType.A, { edns: { udpPayloadBytes: 1232, version: 0, dnssecOk: false, options: [] } }))))!;
  assert.ok(edns.length > 512 && edns.length <= 1232, `EDNS answer of ${edns.length} bytes`);
  assert.equal(decodeMessage(edns).edns?.udpPayloadBytes, 4096);
  const tcp = decodeMessage((await tcpExchange(dns.dnsAddress.port, q))!);
  assert.equal(tcp.header.tc, false);
  assert.equal(tcp.answers.length, 200);
});

test("other names are forwarded to the upstream resolver, EDNS options included", async () => {
  assert.deepEqual(await resolver.resolve4("www.example.test"), ["192.0.2.10"]);
  assert.equal(await errorCode(resolver.resolve4("missing.example.test")), "ENOTFOUND");
  const opt = { udpPayloadBytes: 1232, version: 0, dnssecOk: false, options: [{ code: 65001, data: Uint8Array.from([1, 2]) }] };
  const echo = decodeMessage((await udpExchange(dns.dnsAddress.port, encodeMessage(newQuery(31, ECHO_NAME, RRType.TXT, { edns: opt }))))!);
  assert.equal(echo.header.id, 31);
  assert.deepEqual(echo.answers.map((r) => r.data), [{ texts: ["proto=udp edns=1232 options=65001"] }]);
  assert.deepEqual(echo.edns?.options.map((o) => [o.code, [...o.data]]), [[65001, [1, 2]]]);
  const echoTcp = decodeMessage((await tcpExchange(dns.dnsAddress.port, encodeMessage(newQuery(32, ECHO_NAME, RRType.TXT))))!);
  assert.deepEqual(echoTcp.answers.map((r) => r.data), [{ texts: ["proto=tcp edns=none options="] }]);
  // Unknown reverse names fall through to the upstream too.
  assert.equal(await errorCode(resolver.reverse("192.0.2.99")), "ENOTFOUND");
  assert.ok(upstream.received.some((r) => r.msg.questions[0]?.name === "99.2.0.192.in-addr.arpa."));
  // Cluster names never leave.
  assert.ok(!upstream.received.some((r) => r.msg.questions[0]?.name.endsWith("cluster.local.")));
});

test("an upstream that does not answer in time gives SERVFAIL", async () => {
  assert.equal(await errorCode(resolver.resolve4("slow.example.test")), "ESERVFAIL");
});

test("malformed queries get FORMERR, unsupported ones NOTIMP or BADVERS, and the server keeps answering", async () => {
  const port = dns.dnsAddress.port;
  // A header that promises a question the packet does not have.
  const junk = Uint8Array.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
  const formerr = decodeMessage((await udpExchange(port, junk))!);
  assert.equal(formerr.header.id, 0xabcd);
  assert.equal(formerr.rcode, RCode.FORMERR);
  assert.equal(formerr.header.qr, true);
  // Too short for a header: no answer at all.
  assert.equal(await udpExchange(port, Uint8Array.from([1, 2, 3]), 300), null);
  // Over TCP too.
  assert.equal(decodeMessage((await tcpExchange(port, junk))!).rcode, RCode.FORMERR);
  const notify = newQuery(12, "web.default.svc.cluster.local.", RRType.A);
  assert.equal(decodeMessage((await udpExchange(port, encodeMessage({ ...notify, header: { ...notify.header, opcode: 4 } })))!).rcode, RCode.NOTIMP);
  assert.notEqual(OpCode.QUERY, 4);
  const v1 = decodeMessage((await udpExchange(port, encodeMessage(newQuery(13, "web.default.svc.cluster.local.", RRType.A, { edns: { udpPayloadBytes: 1232, version: 1, dnssecOk: false, options: [] } }))))!);
  assert.equal(v1.rcode, RCode.BADVERS);
  assert.equal(v1.edns?.version, 0);
  const two = { ...notify, questions: [notify.questions[0]!, notify.questions[0]!] };
  assert.equal(decodeMessage((await udpExchange(port, encodeMessage(two)))!).rcode, RCode.FORMERR);
  // Still serving.
  assert.ok((await resolver.resolve4("web.default.svc.cluster.local")).length === 1);
  assert.ok(!log.records.some((r) => r.level === "error"), JSON.stringify(log.records.filter((r) => r.level === "error")));
});

test("several queries pipelined on one TCP connection are answered in order", async () => {
  const { connect } = await import("node:net");
  const names = ["web.default.svc.cluster.local.", "nope.default.svc.cluster.local.", "www.example.test.", "web.default.svc.cluster.local."];
  const frames = names.map((n, i) => {
    const q = encodeMessage(newQuery(100 + i, n, RRType.A));
    const f = Buffer.alloc(2 + q.length);
    f.writeUInt16BE(q.length, 0);
    f.set(q, 2);
    return f;
  });
  const answers = await new Promise<number[][]>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port: dns.dnsAddress.port });
    const got: number[][] = [];
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => reject(new Error(`only ${got.length} answers`)), 3000);
    s.on("error", reject);
    s.on("connect", () => s.write(Buffer.concat(frames)));
    s.on("data", (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = decodeMessage(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        got.push([m.header.id, m.rcode]);
      }
      if (got.length === names.length) {
        clearTimeout(t);
        s.destroy();
        resolve(got);
      }
    });
  });
  assert.deepEqual(answers, [[100, RCode.NOERROR], [101, RCode.NXDOMAIN], [102, RCode.NOERROR], [103, RCode.NOERROR]]);
});

test("/health, /ready and /metrics are served on the HTTP port", async () => {
  const base = `http://127.0.0.1:${dns.httpAddress.port}`;
  const health = await fetch(`${base}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), "OK");
  assert.equal((await fetch(`${base}/ready`)).status, 200);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  const text = await (await fetch(`${base}/metrics`)).text();
  const server = `dns://127.0.0.1:${dns.dnsAddress.port}`;
  const value = (line: string): number => {
    const m = text.split("\n").find((l) => l.startsWith(`${line} `));
    assert.ok(m !== undefined, `${line} in\n${text}`);
    return Number(m.split(" ").pop());
  };
  assert.ok(value(`coredns_dns_requests_total{server="${server}",zone=".",view="",proto="udp",family="1",type="A"}`) > 5);
  assert.ok(value(`coredns_dns_responses_total{server="${server}",zone=".",view="",rcode="NXDOMAIN",plugin="kubernetes"}`) >= 1);
  assert.ok(value(`coredns_dns_responses_total{server="${server}",zone=".",view="",rcode="SERVFAIL",plugin="forward"}`) >= 1);
  assert.ok(value(`coredns_dns_responses_total{server="${server}",zone=".",view="",rcode="FORMERR",plugin=""}`) >= 2);
  assert.ok(value(`coredns_dns_request_duration_seconds_count{server="${server}",zone=".",view="",type="A"}`) > 5);
  assert.ok(value(`coredns_dns_request_duration_seconds_bucket{server="${server}",zone=".",view="",type="A",le="+Inf"}`) > 5);
  assert.ok(value(`coredns_forward_requests_total{to="${upstream.address}"}`) >= 1);
  assert.match(text, /# TYPE coredns_dns_request_duration_seconds histogram/);
});

test("until its caches sync it is not ready and answers cluster names SERVFAIL; upstreams default to resolv.conf", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-dns-"));
  const resolvConf = join(dir, "resolv.conf");
  // Nothing is sent to these: the only query below is for a cluster name.
  writeFileSync(resolvConf, "nameserver 192.0.2.1\nnameserver not-an-ip\nnameserver fd00::53\nsearch example\n");
  // An API server that is not there (nothing listens on loopback port 1): the caches never sync.
  const deadClient = new RestClient({ server: "https://127.0.0.1:1", userAgent: "tk8s-test/0.1.0" });
  const lonely = await startClusterDns({ client: deadClient, listen: "127.0.0.1:0", resolvConfPath: resolvConf, env: { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() }, backoffInitialMs: 100 });
  try {
    assert.deepEqual(lonely.upstreams, [{ host: "192.0.2.1", port: 53 }, { host: "fd00::53", port: 53 }]);
    assert.equal(lonely.isReady(), false);
    assert.equal((await fetch(`http://127.0.0.1:${lonely.httpAddress.port}/ready`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${lonely.httpAddress.port}/health`)).status, 200);
    const r = decodeMessage((await udpExchange(lonely.dnsAddress.port, encodeMessage(newQuery(3, "web.default.svc.cluster.local.", RRType.A))))!);
    assert.equal(r.rcode, RCode.SERVFAIL);
    assert.equal(await lonely.waitReady(100), false);
  } finally {
    await lonely.stop();
    deadClient.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
