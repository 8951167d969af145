import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLASS_IN,
  DnsFormatError,
  RCode,
  RRType,
  bytesToIp,
  decodeMessage,
  encodeMessage,
  ipToBytes,
  nameToLabels,
  newQuery,
  type DnsMessage,
  type ResourceRecord,
} from "./message.js";

const rr = (name: string, type: number, data: ResourceRecord["data"], ttl = 5): ResourceRecord => ({ name, type, class: CLASS_IN, ttl, data });

function response(answers: ResourceRecord[], extra: Partial<DnsMessage> = {}): DnsMessage {
  const q = newQuery(0x1234, "web.default.svc.cluster.local.", RRType.A);
  return { ...q, header: { ...q.header, qr: true, aa: true, ra: true }, answers, ...extra };
}

test("every record type we serve survives an encode/decode round trip", () => {
  const msg = response(
    [
      rr("web.default.svc.cluster.local.", RRType.A, { address: "10.96.0.12" }),
      rr("web.default.svc.cluster.local.", RRType.AAAA, { address: "fd00::c" }),
      rr("_http._tcp.web.default.svc.cluster.local.", RRType.SRV, { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local." }),
      rr("12.0.96.10.in-addr.arpa.", RRType.PTR, { target: "web.default.svc.cluster.local." }),
      rr("ext.default.svc.cluster.local.", RRType.CNAME, { target: "example.com." }),
      rr("dns-version.cluster.local.", RRType.TXT, { texts: ["1.1.0", ""] }),
      rr("cluster.local.", RRType.MX, { preference: 10, exchange: "mail.cluster.local." }),
      rr("cluster.local.", 99, { raw: Uint8Array.from([1, 2, 3]) }),
    ],
    {
      authorities: [rr("cluster.local.", RRType.SOA, { mname: "ns.dns.cluster.local.", rname: "hostmaster.cluster.local.", serial: 4_000_000_000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 })],
      additionals: [rr("web.default.svc.cluster.local.", RRType.A, { address: "10.96.0.12" })],
      edns: { udpPayloadBytes: 1232, version: 0, dnssecOk: true, options: [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }] },
    },
  );
  const back = decodeMessage(encodeMessage(msg));
  assert.deepEqual(back, msg);
});

test("names are compressed: a repeated suffix costs two bytes", () => {
  const one = encodeMessage(response([rr("web.default.svc.cluster.local.", RRType.A, { address: "10.0.0.1" })]));
  const two = encodeMessage(response([rr("web.default.svc.cluster.local.", RRType.A, { address: "10.0.0.1" }), rr("web.default.svc.cluster.local.", RRType.A, { address: "10.0.0.2" })]));
  // The second record: a 2-byte pointer + type, class, TTL, RDLENGTH (10) + 4 address bytes.
  assert.equal(two.length - one.length, 2 + 10 + 4);
  // Compression is case-insensitive and the decoded owner keeps the question's spelling.
  const mixed = encodeMessage(response([rr("WEB.default.svc.cluster.local.", RRType.A, { address: "10.0.0.1" })]));
  assert.equal(mixed.length, one.length);
});

test("an extended RCODE travels in the OPT record", () => {
  const q = newQuery(7, "x.", RRType.A, { edns: { udpPayloadBytes: 4096, version: 1, dnssecOk: false, options: [] } });
  const bytes = encodeMessage({ ...q, header: { ...q.header, qr: true }, rcode: RCode.BADVERS });
  const back = decodeMessage(bytes);
  assert.equal(back.rcode, RCode.BADVERS);
  assert.equal(bytes[3]! & 0xf, 0, "the header keeps the low 4 bits only");
  assert.throws(() => encodeMessage({ ...q, edns: null, rcode: RCode.BADVERS }), DnsFormatError);
});

test("an answer cut to fit a payload size drops whole records and sets TC", () => {
  const answers = Array.from({ length: 60 }, (_, i) => rr("many.default.svc.cluster.local.", RRType.A, { address: `10.1.0.${i}` }));
  const full = encodeMessage(response(answers));
  assert.ok(full.length > 512);
  const cut = encodeMessage(response(answers), { maxBytes: 512 });
  assert.ok(cut.length <= 512);
  const back = decodeMessage(cut);
  assert.equal(back.header.tc, true);
  assert.ok(back.answers.length > 0 && back.answers.length < 60);
  assert.deepEqual(back.answers, answers.slice(0, back.answers.length));
  // Only additional records not fitting is no reason for TC (RFC 2181 §9).
  const extras = encodeMessage(response(answers.slice(0, 2), { additionals: answers }), { maxBytes: 512 });
  assert.equal(decodeMessage(extras).header.tc, false);
  // The OPT record is kept whatever else is dropped.
  const withOpt = decodeMessage(encodeMessage(response(answers, { edns: { udpPayloadBytes: 512, version: 0, dnssecOk: false, options: [] } }), { maxBytes: 512 }));
  assert.equal(withOpt.edns?.udpPayloadBytes, 512);
  assert.equal(withOpt.header.tc, true);
});

test("escaped labels round-trip and over-long names are refused", () => {
  const odd = "a\\.b\\032c.example.";
  assert.deepEqual(nameToLabels(odd).map((l) => [...l]), [[0x61, 0x2e, 0x62, 0x20, 0x63], [...Buffer.from("example")]]);
  const back = decodeMessage(encodeMessage(response([rr(odd, RRType.A, { address: "1.2.3.4" })])));
  assert.equal(back.answers[0]!.name, odd);
  assert.throws(() => nameToLabels(`${"a".repeat(64)}.com.`), /longer than 63/);
  assert.throws(() => nameToLabels(`${"abcdefghi.".repeat(26)}`), /longer than 255/);
  assert.throws(() => nameToLabels("a..b."), /empty label/);
});

test("IP addresses convert both ways, IPv6 in RFC 5952 form", () => {
  assert.equal(bytesToIp(ipToBytes("fd00:0:0:0:0:0:0:a")!), "fd00::a");
  assert.equal(bytesToIp(ipToBytes("::")!), "::");
  assert.equal(bytesToIp(ipToBytes("1:0:0:2:0:0:0:3")!), "1:0:0:2::3");
  assert.equal(bytesToIp(ipToBytes("::ffff:10.0.0.1")!), "::ffff:a00:1");
  assert.equal(ipToBytes("256.0.0.1"), null);
  assert.equal(ipToBytes("1::2::3"), null);
  assert.equal(ipToBytes("web"), null);
});

const validQuery = (): Uint8Array => encodeMessage(newQuery(0xbeef, "web.default.svc.cluster.local.", RRType.A));

test("malformed packets are DnsFormatErrors, never crashes or hangs", () => {
  const q = validQuery();
  const cases: [string, Uint8Array][] = [
    ["too short for a header", q.slice(0, 11)],
    ["a question cut short", q.slice(0, q.length - 2)],
    ["trailing bytes", Uint8Array.from([...q, 0])],
    ["QDCOUNT larger than the questions", Uint8Array.from([...q.slice(0, 5), 2, ...q.slice(6)])],
    ["a pointer to itself", Uint8Array.from([...q.slice(0, 12), 0xc0, 12, 0, 1, 0, 1])],
    ["a forward pointer", Uint8Array.from([...q.slice(0, 12), 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0])],
    ["a pointer loop via two pointers", Uint8Array.from([...q.slice(0, 12), 1, 0x61, 0xc0, 14, 0, 1, 0, 1])],
    ["a reserved label type", Uint8Array.from([...q.slice(0, 12), 0x80, 0, 1, 0, 1])],
    ["a label past the end", Uint8Array.from([...q.slice(0, 12), 40, 0x61])],
  ];
  for (const [what, bytes] of cases) assert.throws(() => decodeMessage(bytes), DnsFormatError, what);

  // An A record whose RDLENGTH says 3.
  const a = encodeMessage(response([rr("x.", RRType.A, { address: "1.2.3.4" })]));
  const bad = Uint8Array.from(a);
  bad[a.length - 5] = 3;
  assert.throws(() => decodeMessage(bad.slice(0, a.length - 1)), DnsFormatError);
});

test("random bytes and random corruptions of a valid query decode or fail with DnsFormatError only", () => {
  // A fixed-seed generator so a failure reproduces.
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const q = encodeMessage(response([rr("web.default.svc.cluster.local.", RRType.SRV, { priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local." })], { edns: { udpPayloadBytes: 1232, version: 0, dnssecOk: false, options: [] } }));
  for (let i = 0; i < 5000; i++) {
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = Uint8Array.from({ length: next() % 80 }, () => next() & 0xff);
    } else {
      bytes = Uint8Array.from(q);
      for (let k = 0; k < 1 + (next() % 4); k++) bytes[next() % bytes.length] = next() & 0xff;
    }
    try {
      const m = decodeMessage(bytes);
      // Whatever decodes must encode again.
      encodeMessage(m);
    } catch (err) {
      assert.ok(err instanceof DnsFormatError, `case ${i}: ${String(err)}`);
    }
  }
});
