import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../src/env/manual_clock.js";
import { SeededRng } from "../../src/env/seeded_rng.js";
import { message, type Message, type MessageType } from "../../src/raft/types.js";
import { LINK_IN_FLIGHT_MAX, SimNetwork, type NetworkFaults, type SimTransport } from "./network.js";
import { SimRandom } from "./rand.js";
import { TraceHash } from "./trace.js";

interface Wired {
  clock: ManualClock;
  net: SimNetwork;
  handles: Map<bigint, SimTransport>;
  got: Map<bigint, Message[]>;
  unreachable: Map<bigint, bigint[]>;
  snapStatus: { from: bigint; to: bigint; failed: boolean }[];
}

/** Members `ids` on one network, each recording what it receives and hears. */
function wire(ids: bigint[], faults?: NetworkFaults, seed = 1): Wired {
  const clock = new ManualClock();
  const net = new SimNetwork(clock, new SimRandom(new SeededRng(seed)), { trace: new TraceHash(), ...(faults === undefined ? {} : { faults }) });
  const w: Wired = { clock, net, handles: new Map(), got: new Map(), unreachable: new Map(), snapStatus: [] };
  for (const id of ids) {
    const t = net.transport(id);
    w.handles.set(id, t);
    for (const p of ids) if (p !== id) t.addPeer(p, []);
    w.got.set(id, []);
    w.unreachable.set(id, []);
    t.onMessage((m) => w.got.get(id)!.push(m));
    t.onUnreachable((to) => w.unreachable.get(id)!.push(to));
    t.onSnapshotStatus((to, failed) => w.snapStatus.push({ from: id, to, failed }));
    void t.start();
  }
  return w;
}

const msg = (from: bigint, to: bigint, index: number, type: MessageType = "MsgApp"): Message => message({ type, from, to, term: 1, index });

function sendAll(w: Wired, ms: Message[]): void {
  for (const m of ms) w.handles.get(m.from)!.send([m]);
}

test("messages arrive after their delay and in send order when the delay is fixed", () => {
  const w = wire([1n, 2n]);
  sendAll(w, [msg(1n, 2n, 1), msg(1n, 2n, 2), msg(1n, 2n, 3)]);
  assert.deepEqual(w.got.get(2n), [], "nothing arrives before time moves");
  w.clock.advance(1);
  assert.deepEqual(w.got.get(2n)!.map((m) => m.index), [1, 2, 3]);
  assert.equal(w.net.stats.delivered, 3);
});

test("random delays reorder messages, and the same seed reorders them the same way", () => {
  const faults: NetworkFaults = { dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 50 };
  const order = (seed: number): number[] => {
    const w = wire([1n, 2n], faults, seed);
    sendAll(w, Array.from({ length: 20 }, (_, i) => msg(1n, 2n, i)));
    w.clock.advance(100);
    return w.got.get(2n)!.map((m) => m.index);
  };
  const a = order(7);
  assert.equal(a.length, 20);
  assert.notDeepEqual(a, [...a].sort((x, y) => x - y), "some messages overtook others");
  assert.deepEqual(order(7), a, "replays exactly");
  assert.notDeepEqual(order(8), a, "another seed, another order");
});

test("a dropped message is reported unreachable to its sender on a later turn", () => {
  const w = wire([1n, 2n], { dropRate: 1, duplicateRate: 0, delayMsMin: 1, delayMsMax: 1 });
  sendAll(w, [msg(1n, 2n, 1)]);
  assert.deepEqual(w.unreachable.get(1n), [], "not from inside send()");
  w.clock.advance(1);
  assert.deepEqual(w.got.get(2n), []);
  assert.deepEqual(w.unreachable.get(1n), [2n]);
});

test("a partition drops both directions, a one-way cut only one, and heal restores both", () => {
  const w = wire([1n, 2n, 3n]);
  w.net.partition([1n], [2n, 3n]);
  sendAll(w, [msg(1n, 2n, 1), msg(2n, 1n, 2), msg(2n, 3n, 3)]);
  w.clock.advance(5);
  assert.deepEqual(w.got.get(2n), []);
  assert.deepEqual(w.got.get(1n), []);
  assert.deepEqual(w.got.get(3n)!.map((m) => m.index), [3], "the majority side still talks");
  w.net.heal();
  w.net.cutOneWay(1n, 2n);
  sendAll(w, [msg(1n, 2n, 4), msg(2n, 1n, 5)]);
  w.clock.advance(5);
  assert.deepEqual(w.got.get(2n), []);
  assert.deepEqual(w.got.get(1n)!.map((m) => m.index), [5]);
});

test("a cut made while a message is in flight drops it on arrival", () => {
  const w = wire([1n, 2n], { dropRate: 0, duplicateRate: 0, delayMsMin: 10, delayMsMax: 10 });
  sendAll(w, [msg(1n, 2n, 1)]);
  w.clock.advance(5);
  w.net.partition([1n], [2n]);
  w.clock.advance(10);
  assert.deepEqual(w.got.get(2n), []);
  assert.deepEqual(w.unreachable.get(1n), [2n]);
});

test("duplicates arrive twice, except proposals, which raft does not dedupe", () => {
  const w = wire([1n, 2n], { dropRate: 0, duplicateRate: 1, delayMsMin: 1, delayMsMax: 1 });
  sendAll(w, [msg(1n, 2n, 1, "MsgApp"), msg(1n, 2n, 2, "MsgProp")]);
  w.clock.advance(2);
  assert.deepEqual(w.got.get(2n)!.map((m) => `${m.type}${m.index}`).sort(), ["MsgApp1", "MsgApp1", "MsgProp2"]);
});

test("a snapshot send ends with a status for its sender: delivered, or failed when lost", () => {
  const w = wire([1n, 2n, 3n]);
  w.net.partition([1n], [3n]);
  sendAll(w, [msg(1n, 2n, 1, "MsgSnap"), msg(1n, 3n, 2, "MsgSnap")]);
  w.clock.advance(2);
  assert.deepEqual(w.snapStatus, [{ from: 1n, to: 2n, failed: false }, { from: 1n, to: 3n, failed: true }]);
});

test("a stopped or detached member receives nothing and its peers hear it is unreachable", () => {
  const w = wire([1n, 2n]);
  w.handles.get(2n)!.detach();
  sendAll(w, [msg(1n, 2n, 1)]);
  w.clock.advance(2);
  assert.deepEqual(w.got.get(2n), []);
  assert.deepEqual(w.unreachable.get(1n), [2n]);
  w.handles.get(2n)!.send([msg(2n, 1n, 9)]);
  w.clock.advance(2);
  assert.deepEqual(w.got.get(1n), [], "a detached member sends nothing either");
});

test("a link holds at most LINK_IN_FLIGHT_MAX messages; the rest are dropped and reported", () => {
  const w = wire([1n, 2n], { dropRate: 0, duplicateRate: 0, delayMsMin: 5, delayMsMax: 5 });
  sendAll(w, Array.from({ length: LINK_IN_FLIGHT_MAX + 3 }, (_, i) => msg(1n, 2n, i)));
  w.clock.advance(10);
  assert.equal(w.got.get(2n)!.length, LINK_IN_FLIGHT_MAX);
  assert.equal(w.unreachable.get(1n)!.length, 3);
});

test("messages to a peer the sender does not know are dropped as unreachable", () => {
  const w2 = wire([1n, 2n]);
  w2.handles.get(1n)!.removePeer(2n);
  sendAll(w2, [msg(1n, 2n, 1)]);
  w2.clock.advance(2);
  assert.deepEqual(w2.got.get(2n), []);
  assert.deepEqual(w2.unreachable.get(1n), [2n]);
});
