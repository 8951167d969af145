import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { Registry } from "prom-client";
import { freePort, freePorts } from "../../../test/harness/ports.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import { message, type Message } from "../../raft/types.js";
import { PeerMetrics } from "./metrics.js";
import { PeerTransport, type PeerTransportOptions } from "./transport.js";

const CLUSTER = 0xc1c5e7n;

interface Member {
  readonly id: bigint;
  readonly url: string;
  readonly t: PeerTransport;
  readonly log: MemoryLogger;
  readonly received: Message[];
  readonly unreachable: bigint[];
  readonly snapshots: { id: bigint; failed: boolean }[];
}

function member(id: bigint, port: number, options: Partial<PeerTransportOptions> = {}): Member {
  const log = new MemoryLogger();
  const url = `http://127.0.0.1:${port}`;
  const t = new PeerTransport({
    localId: id,
    clusterId: CLUSTER,
    listenUrl: url,
    clock: nodeClock,
    log,
    backoff: { initialMs: 10, maxMs: 50 }, // fast redials keep the test short
    ...options,
  });
  const m: Member = { id, url, t, log, received: [], unreachable: [], snapshots: [] };
  t.onMessage((msg) => m.received.push(msg));
  t.onUnreachable((pid) => m.unreachable.push(pid));
  t.onSnapshotStatus((pid, failed) => m.snapshots.push({ id: pid, failed }));
  return m;
}

/** Members that all know each other, started. */
async function cluster(n: number, options: Partial<PeerTransportOptions> = {}): Promise<Member[]> {
  const ports = await freePorts(n);
  const ms = ports.map((port, i) => member(BigInt(i + 1), port, options));
  for (const a of ms) for (const b of ms) if (a !== b) a.t.addPeer(b.id, [b.url]);
  for (const m of ms) await m.t.start();
  for (const a of ms) for (const b of ms) if (a !== b) await waitFor(() => a.t.isActive(b.id), `${a.id} -> ${b.id} active`);
  return ms;
}

async function stopAll(ms: readonly Member[]): Promise<void> {
  await Promise.all(ms.map((m) => m.t.stop()));
}

/** Polls a condition; test code, so real timers are fine here. Bounded by `timeoutMs`. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function app(from: bigint, to: bigint, index: number, data = `v${index}`): Message {
  return message({
    type: "MsgApp",
    from,
    to,
    term: 3,
    index,
    logTerm: 3,
    commit: index,
    entries: [{ term: 3, index: index + 1, type: "EntryNormal", data: new TextEncoder().encode(data) }],
  });
}

test("transport: two members exchange messages in order, each direction on its own stream", async () => {
  const [a, b] = (await cluster(2)) as [Member, Member];
  try {
    const n = 2000;
    // Many small sends and one big one: both must arrive whole and in order.
    for (let i = 0; i < n / 2; i++) a.t.send([app(1n, 2n, i)]);
    a.t.send(Array.from({ length: n / 2 }, (_, i) => app(1n, 2n, n / 2 + i)));
    b.t.send(Array.from({ length: 10 }, (_, i) => message({ type: "MsgAppResp", from: 2n, to: 1n, index: i })));
    await waitFor(() => b.received.length === n && a.received.length === 10, "all messages delivered");
    assert.deepEqual(b.received.map((m) => m.index), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(b.received[7], app(1n, 2n, 7));
    assert.deepEqual(a.received.map((m) => m.index), Array.from({ length: 10 }, (_, i) => i));
    assert.deepEqual(a.unreachable, []);
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: three members each keep per-sender order to every receiver", async () => {
  const ms = await cluster(3);
  try {
    const per = 300;
    for (let i = 0; i < per; i++) {
      for (const from of ms) from.t.send(ms.filter((to) => to !== from).map((to) => app(from.id, to.id, i)));
    }
    await waitFor(() => ms.every((m) => m.received.length === 2 * per), "every member got 2 x per messages");
    for (const to of ms) {
      for (const from of ms) {
        if (from === to) continue;
        const got = to.received.filter((m) => m.from === from.id).map((m) => m.index);
        assert.deepEqual(got, Array.from({ length: per }, (_, i) => i), `${from.id} -> ${to.id}`);
      }
    }
  } finally {
    await stopAll(ms);
  }
});

test("transport: messages to a down peer are dropped and reported unreachable, then delivered once it comes back", async () => {
  const [portA, portB] = (await freePorts(2)) as [number, number];
  const a = member(1n, portA);
  let b = member(2n, portB);
  a.t.addPeer(2n, [b.url]);
  b.t.addPeer(1n, [a.url]);
  await a.t.start();
  try {
    // B never started: nothing listens.
    a.t.send([app(1n, 2n, 1), app(1n, 2n, 2)]);
    assert.deepEqual(a.unreachable, [2n], "one report per send per peer");
    assert.equal(a.t.queuedMessages(2n), 0);

    await b.t.start();
    await waitFor(() => a.t.isActive(2n), "a redials b");
    a.t.send([app(1n, 2n, 3)]);
    await waitFor(() => b.received.length === 1, "delivered after b came up");
    assert.equal(b.received[0]?.index, 3);

    // B dies (its process is gone, connections reset), and a new B comes up on the same URL.
    await b.t.stop();
    await waitFor(() => !a.t.isActive(2n), "a notices b went away");
    a.unreachable.length = 0;
    a.t.send([app(1n, 2n, 4)]);
    assert.deepEqual(a.unreachable, [2n]);
    b = member(2n, portB);
    b.t.addPeer(1n, [a.url]);
    await b.t.start();
    await waitFor(() => a.t.isActive(2n), "a redials the restarted b");
    a.t.send([app(1n, 2n, 5)]);
    await waitFor(() => b.received.length === 1, "delivered to the restarted b");
    assert.equal(b.received[0]?.index, 5);
    assert.ok(a.log.records.some((r) => r.msg === "peer became inactive (message send to peer failed)"));
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: a full queue to a peer that stopped reading drops messages instead of blocking", async () => {
  // A peer that accepts the stream and then never reads: the socket and then our queue fill up.
  const sockets = new Set<import("node:net").Socket>();
  const stuck = http.createServer((req, res) => {
    res.writeHead(200);
    res.flushHeaders();
    req.pause();
  });
  stuck.on("connection", (s) => sockets.add(s));
  const port = await freePort();
  await new Promise<void>((r) => stuck.listen(port, "127.0.0.1", r));
  const a = member(1n, await freePort(), { queueMessagesMax: 8, writeBytesMax: 64 * 1024 });
  a.t.addPeer(2n, [`http://127.0.0.1:${port}`]);
  await a.t.start();
  try {
    await waitFor(() => a.t.isActive(2n), "stream to the stuck peer is up");
    const big = "x".repeat(64 * 1024);
    const started = performance.now();
    // Bounded: 2000 x 64 KiB would be 128 MiB if nothing were dropped.
    for (let i = 0; i < 2000 && a.unreachable.length === 0; i++) a.t.send([app(1n, 2n, i, big)]);
    const elapsedMs = performance.now() - started;
    assert.deepEqual(a.unreachable.slice(0, 1), [2n], "dropping reports the peer unreachable");
    assert.ok(a.t.queuedMessages(2n) <= 8, `queue stays within its limit: ${a.t.queuedMessages(2n)}`);
    assert.ok(elapsedMs < 2_000, `send never waited on the socket: took ${elapsedMs} ms`);
    assert.ok(a.t.isActive(2n), "a slow peer is not a dead one: the stream stays up");
  } finally {
    await a.t.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => stuck.close(() => r()));
  }
});

test("transport: a frame above the limit drops the connection, and the stream recovers after a redial", async () => {
  const [a, b] = (await cluster(2, { frameBytesMax: 4096 })) as [Member, Member];
  try {
    a.t.send([app(1n, 2n, 1, "y".repeat(8192))]);
    await waitFor(() => b.log.records.some((r) => r.msg === "lost TCP streaming connection with remote peer; bad frame"), "b refuses the frame");
    const rec = b.log.records.find((r) => r.msg === "lost TCP streaming connection with remote peer; bad frame");
    assert.match(String(rec?.fields["error"]), /exceeds the frame limit of 4096 bytes/);
    assert.equal(b.received.length, 0);
    // A sees its stream end, redials, and small messages flow again; b is still serving.
    await waitFor(() => a.log.records.some((r) => r.msg === "peer became inactive (message send to peer failed)"), "a sees the drop");
    await waitFor(() => a.t.isActive(2n), "a redials");
    a.t.send([app(1n, 2n, 2)]);
    await waitFor(() => b.received.length === 1, "small message delivered after the redial");
    assert.deepEqual(b.received.map((m) => m.index), [2]);
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: a member of another cluster is refused with 412 cluster ID mismatch and never becomes active", async () => {
  const [portA, portB] = (await freePorts(2)) as [number, number];
  const a = member(1n, portA);
  const b = member(2n, portB, { clusterId: 0xbadn });
  a.t.addPeer(2n, [b.url]);
  b.t.addPeer(1n, [a.url]);
  await a.t.start();
  await b.t.start();
  try {
    await waitFor(() => a.log.records.some((r) => r.msg === "request sent was ignored (cluster ID mismatch)"), "a logs the refusal");
    assert.ok(b.log.records.some((r) => r.msg === "request cluster ID mismatch"));
    assert.ok(!a.t.isActive(2n));
    a.t.send([app(1n, 2n, 1)]);
    assert.deepEqual(a.unreachable, [2n]);

    // The wire answer is etcd's: 412 with the error text and the local cluster id.
    const res = await fetch(`${b.url}/raft/stream/message/1`, { method: "POST", headers: { "X-Etcd-Cluster-ID": "1234" }, body: "" });
    assert.equal(res.status, 412);
    assert.equal(await res.text(), "cluster ID mismatch\n");
    assert.equal(res.headers.get("x-etcd-cluster-id"), "bad");
    assert.deepEqual(b.received, []);
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: a snapshot goes on its own request, is delivered, and its success is reported", async () => {
  const registry = new Registry();
  const metrics = new PeerMetrics(registry);
  const [a, b] = (await cluster(2, { metrics })) as [Member, Member];
  try {
    const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 253); // larger than a stream frame may be
    const snap = message({
      type: "MsgSnap",
      from: 1n,
      to: 2n,
      term: 4,
      snapshot: { metadata: { index: 500, term: 4, confState: { voters: [1n, 2n], learners: [] } }, data },
    });
    a.t.send([snap, app(1n, 2n, 501)]);
    await waitFor(() => a.snapshots.length === 1 && b.received.length === 2, "snapshot and append delivered");
    assert.deepEqual(a.snapshots, [{ id: 2n, failed: false }]);
    const got = b.received.find((m) => m.type === "MsgSnap");
    assert.deepEqual(got, snap);
    assert.deepEqual(a.unreachable, []);
    const text = await registry.metrics();
    assert.match(text, /etcd_network_snapshot_send_success\{To="2"\} 1/);
    assert.match(text, /etcd_network_peer_sent_bytes_total\{To="2"\} \d{7}/);
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: a snapshot to an unreachable peer reports failure and unreachable", async () => {
  const [portA, portB] = (await freePorts(2)) as [number, number];
  const a = member(1n, portA);
  a.t.addPeer(2n, [`http://127.0.0.1:${portB}`]);
  await a.t.start();
  try {
    a.t.send([message({ type: "MsgSnap", from: 1n, to: 2n, snapshot: { metadata: { index: 9, term: 1, confState: { voters: [1n, 2n], learners: [] } }, data: new Uint8Array(10) } })]);
    await waitFor(() => a.snapshots.length === 1, "snapshot status reported");
    assert.deepEqual(a.snapshots, [{ id: 2n, failed: true }]);
    assert.deepEqual(a.unreachable, [2n]);
  } finally {
    await a.t.stop();
  }
});

test("transport: an oversized snapshot is refused with 413 and reported failed", async () => {
  const [a, b] = (await cluster(2, { snapshotBytesMax: 1024 })) as [Member, Member];
  try {
    a.t.send([message({ type: "MsgSnap", from: 1n, to: 2n, snapshot: { metadata: { index: 9, term: 1, confState: { voters: [1n, 2n], learners: [] } }, data: new Uint8Array(4096) } })]);
    await waitFor(() => a.snapshots.length === 1, "snapshot status reported");
    assert.deepEqual(a.snapshots, [{ id: 2n, failed: true }]);
    assert.deepEqual(b.received, []);
    assert.ok(b.log.records.some((r) => r.msg === "refused snapshot; too large"));
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: probing answers healthy, and a removed peer is neither sent to nor accepted from", async () => {
  const [a, b] = (await cluster(2)) as [Member, Member];
  try {
    const res = await fetch(`${a.url}/raft/probing`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { health: "true" });

    a.t.removePeer(2n);
    a.t.send([app(1n, 2n, 1)]);
    assert.deepEqual(a.unreachable, [], "an unknown target is ignored, not unreachable");
    // B still dials a, which no longer knows it: refused as etcd does.
    await waitFor(() => a.log.records.some((r) => r.msg === "failed to find remote peer in cluster"), "a refuses b's stream");
    assert.ok(!b.t.isActive(1n));
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: a peer with several URLs is reached through the next one when the first is dead", async () => {
  const [portA, portB, portDead] = (await freePorts(3)) as [number, number, number];
  const a = member(1n, portA);
  const b = member(2n, portB);
  a.t.addPeer(2n, [`http://127.0.0.1:${portDead}`, b.url]);
  b.t.addPeer(1n, [a.url]);
  await b.t.start();
  await a.t.start();
  try {
    await waitFor(() => a.t.isActive(2n), "a reaches b through its second URL");
    a.t.send([app(1n, 2n, 1)]);
    await waitFor(() => b.received.length === 1, "delivered");
  } finally {
    await stopAll([a, b]);
  }
});

test("transport: handing it a local message is a programmer error", async () => {
  const a = member(1n, await freePort());
  assert.throws(() => a.t.send([message({ type: "MsgHup", to: 2n })]), { name: "AssertionError" });
});

test("transport: a peer that comes back and dials in is dialled back at once, not after the grown backoff", async () => {
  const [pa, pb] = await freePorts(2);
  // A long backoff, so only the immediate redial can make the stream active within the wait below.
  const a = member(1n, pa!, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
  const b = member(2n, pb!);
  a.t.addPeer(b.id, [b.url]);
  b.t.addPeer(a.id, [a.url]);
  await a.t.start();
  try {
    // b is down: a's first dial fails and a waits out its 5 s backoff.
    await waitFor(() => a.log.records.some((r) => r.msg === "failed to dial peer"), "a's dial to the stopped b fails");
    await b.t.start();
    await waitFor(() => b.t.isActive(a.id), "b -> a active");
    await waitFor(() => a.t.isActive(b.id), "a -> b active again once b dialled in", 2_000);
    a.t.send([app(a.id, b.id, 1)]);
    await waitFor(() => b.received.length === 1, "b receives from a");
  } finally {
    await stopAll([a, b]);
  }
});
