import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { nodeClock, nodeRng } from "../platform/node/node_env.js";
import { CLASS_IN, RRType, decodeMessage, encodeMessage, newQuery } from "./message.js";
import { ForwardError, Forwarder, parseUpstream, upstreamString } from "./forwarder.js";
import { DnsMetrics } from "./metrics.js";
import { startFakeUpstream, type FakeUpstream } from "./testing_upstream.js";

const env = { clock: nodeClock, rng: nodeRng };
let good: FakeUpstream;
let mute: FakeUpstream;
let slow: FakeUpstream;
before(async () => {
  const records = new Map([["www.example.test.", [{ name: "www.example.test.", type: RRType.A, class: CLASS_IN, ttl: 60, data: { address: "192.0.2.10" } }]]]);
  good = await startFakeUpstream({ records });
  mute = await startFakeUpstream({ records, silent: new Set(["www.example.test."]) });
  slow = await startFakeUpstream({ records, delayMs: 300 });
});
after(async () => {
  await Promise.all([good.stop(), mute.stop(), slow.stop()]);
});

const query = (id: number) => encodeMessage(newQuery(id, "www.example.test.", RRType.A));

test("upstream addresses parse with and without ports, IPv6 in brackets", () => {
  assert.deepEqual(parseUpstream("192.0.2.1"), { host: "192.0.2.1", port: 53 });
  assert.deepEqual(parseUpstream("192.0.2.1:5353"), { host: "192.0.2.1", port: 5353 });
  assert.deepEqual(parseUpstream("fd00::1"), { host: "fd00::1", port: 53 });
  assert.deepEqual(parseUpstream("[fd00::1]:54"), { host: "fd00::1", port: 54 });
  assert.equal(upstreamString(parseUpstream("[fd00::1]:54")), "[fd00::1]:54");
  assert.throws(() => parseUpstream("dns.google"), /must be an IP address/);
  assert.throws(() => parseUpstream("192.0.2.1:99999"), /port must be 1-65535/);
});

test("a query is forwarded over UDP and the answer comes back with the query's ID", async () => {
  const metrics = new DnsMetrics();
  const f = new Forwarder(env, { upstreams: [parseUpstream(good.address)], metrics });
  const answer = decodeMessage(await f.forward(query(4242), "udp"));
  assert.equal(answer.header.id, 4242);
  assert.deepEqual(answer.answers.map((r) => r.data), [{ address: "192.0.2.10" }]);
  assert.equal(metrics.forwardRequests.get({ to: good.address }), 1);
  assert.equal(metrics.forwardResponses.get({ to: good.address, rcode: "NOERROR" }), 1);
  assert.equal(f.inFlight, 0);
});

test("a query the client sent over TCP goes upstream over TCP", async () => {
  const f = new Forwarder(env, { upstreams: [parseUpstream(good.address)] });
  const before = good.received.length;
  const answer = decodeMessage(await f.forward(query(7), "tcp"));
  assert.equal(answer.answers.length, 1);
  assert.deepEqual(good.received.slice(before).map((r) => r.proto), ["tcp"]);
});

test("an upstream that does not answer in time is skipped for the next one", async () => {
  const metrics = new DnsMetrics();
  const f = new Forwarder(env, { upstreams: [parseUpstream(mute.address), parseUpstream(good.address)], policy: "sequential", timeoutMs: 200, metrics });
  const started = Date.now();
  const answer = decodeMessage(await f.forward(query(9), "udp"));
  assert.equal(answer.answers.length, 1);
  assert.ok(Date.now() - started >= 190, "it waited for the first upstream's timeout");
  assert.equal(metrics.forwardTimeouts.get({ to: mute.address }), 1);
});

test("when no upstream answers the query fails with a timeout ForwardError", async () => {
  const f = new Forwarder(env, { upstreams: [parseUpstream(mute.address)], timeoutMs: 150 });
  await assert.rejects(f.forward(query(10), "udp"), (err: unknown) => err instanceof ForwardError && err.reason === "timeout");
  await assert.rejects(f.forward(query(11), "tcp"), (err: unknown) => err instanceof ForwardError && err.reason === "timeout");
  assert.equal(f.inFlight, 0);
});

test("queries past max_concurrent are refused at once while the others complete", async () => {
  const metrics = new DnsMetrics();
  const f = new Forwarder(env, { upstreams: [parseUpstream(slow.address)], maxConcurrent: 2, metrics });
  const first = f.forward(query(1), "udp");
  const second = f.forward(query(2), "udp");
  assert.equal(f.inFlight, 2);
  await assert.rejects(f.forward(query(3), "udp"), (err: unknown) => err instanceof ForwardError && err.reason === "max-concurrent");
  assert.equal(metrics.forwardMaxConcurrentRejects.get(), 1);
  const answers = await Promise.all([first, second]);
  assert.deepEqual(answers.map((a) => decodeMessage(a).header.id), [1, 2]);
  assert.equal(slow.stats.holdingMax, 2);
  // Capacity is back once they are done.
  assert.equal(decodeMessage(await f.forward(query(4), "udp")).header.id, 4);
});

test("without upstreams nothing is forwarded", async () => {
  const f = new Forwarder(env, { upstreams: [] });
  await assert.rejects(f.forward(query(1), "udp"), (err: unknown) => err instanceof ForwardError && err.reason === "no-upstream");
});
