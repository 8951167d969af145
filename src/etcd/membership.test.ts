import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMemberContext, encodeMemberContext, Membership, type Member } from "./membership.js";

const m = (id: bigint, port: number, isLearner = false): Member => ({ id, name: `m${id}`, peerUrls: [`http://127.0.0.1:${port}`], clientUrls: [], isLearner });

test("a conf-change context carries the member and reads back as written", () => {
  const member = { ...m(0xfedcba9876543210n, 2380), clientUrls: ["http://127.0.0.1:2379"] };
  assert.deepEqual(decodeMemberContext(encodeMemberContext(member)), member);
  assert.equal(decodeMemberContext(new Uint8Array(0)), null);
});

test("check refuses what etcd refuses: a duplicate id, a peer URL in use, a second learner, an unknown or removed member", () => {
  const ms = Membership.of([m(1n, 1), m(2n, 2)]);
  const cases: { name: string; type: "ConfChangeAddNode" | "ConfChangeAddLearnerNode" | "ConfChangeRemoveNode"; member: Member | null; id: bigint; want: string | null }[] = [
    { name: "new voter", type: "ConfChangeAddNode", member: m(3n, 3), id: 3n, want: null },
    { name: "duplicate id", type: "ConfChangeAddNode", member: m(2n, 9), id: 2n, want: "etcdserver: member ID already exist" },
    { name: "peer URL in use", type: "ConfChangeAddNode", member: m(4n, 1), id: 4n, want: "etcdserver: Peer URLs already exists" },
    { name: "remove unknown", type: "ConfChangeRemoveNode", member: null, id: 9n, want: "etcdserver: member not found" },
    { name: "remove known", type: "ConfChangeRemoveNode", member: null, id: 2n, want: null },
  ];
  for (const c of cases) {
    const err = ms.check({ type: c.type, nodeId: c.id, context: new Uint8Array(0) }, c.member);
    assert.equal(err?.message ?? null, c.want, c.name);
  }
  ms.apply({ type: "ConfChangeAddLearnerNode", nodeId: 5n, context: new Uint8Array(0) }, m(5n, 5, true));
  assert.equal(ms.check({ type: "ConfChangeAddLearnerNode", nodeId: 6n, context: new Uint8Array(0) }, m(6n, 6, true))?.message, "etcdserver: too many learner members in cluster");
  ms.apply({ type: "ConfChangeRemoveNode", nodeId: 2n, context: new Uint8Array(0) }, null);
  assert.equal(ms.check({ type: "ConfChangeAddNode", nodeId: 2n, context: new Uint8Array(0) }, m(2n, 12))?.message, "etcdserver: ID removed");
});

test("promoting a learner turns it into a voter; promoting a voter is refused", () => {
  const ms = Membership.of([m(1n, 1), m(2n, 2, true)]);
  assert.deepEqual(ms.confState(), { voters: [1n], learners: [2n] });
  assert.equal(ms.checkPromote(1n)?.message, "etcdserver: can only promote a learner member");
  assert.equal(ms.checkPromote(7n)?.message, "etcdserver: member not found");
  assert.equal(ms.checkPromote(2n), null);
  const cc = { type: "ConfChangeAddNode" as const, nodeId: 2n, context: new Uint8Array(0) };
  assert.equal(ms.check(cc, { ...m(2n, 2), isLearner: false }), null);
  ms.apply(cc, { ...m(2n, 2), isLearner: false });
  assert.deepEqual(ms.confState(), { voters: [1n, 2n], learners: [] });
});

test("the membership survives a round trip through the backend's meta bucket", () => {
  const meta = new Map<string, string>();
  const backend = { putMeta: (k: string, v: string) => void meta.set(k, v), getMeta: (k: string) => meta.get(k) } as never;
  assert.equal(Membership.load(backend), null, "a store that never held a membership");
  const ms = Membership.of([m(3n, 3), m(1n, 1)]);
  ms.apply({ type: "ConfChangeRemoveNode", nodeId: 3n, context: new Uint8Array(0) }, null);
  ms.setAttributes(1n, "alpha", ["http://127.0.0.1:2379"]);
  ms.save(backend);
  const back = Membership.load(backend)!;
  assert.deepEqual(back.members(), [{ ...m(1n, 1), name: "alpha", clientUrls: ["http://127.0.0.1:2379"] }]);
  assert.equal(back.isRemoved(3n), true);
});
