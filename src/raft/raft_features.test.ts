import { test } from "node:test";
import assert from "node:assert/strict";
import { Network } from "./raft_test_network.js";
import { ProposalDroppedError } from "./types.js";

const enc = (s: string) => new TextEncoder().encode(s);

function elected(ids: bigint[], options = {}): Network {
  const net = new Network(ids, options);
  net.stabilize();
  net.campaign(1n);
  assert.equal(net.leader(), 1n);
  return net;
}

// ---- snapshots ----

test("a follower behind a compacted log is caught up by snapshot and then by entries", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(3n);
  for (let i = 0; i < 20; i++) net.propose(1n, `v${i}`);
  for (const id of [1n, 2n]) net.peer(id).compact();
  assert.ok(net.peer(1n).storage.firstIndex() > 10, "the leader's log no longer has 3's next entry");
  net.heal();
  net.tickAll(3);
  assert.ok(net.sentOfType("MsgSnap").length >= 1, "a snapshot was sent");
  const p3 = net.peer(3n);
  assert.deepEqual(p3.kv, net.peer(1n).kv);
  assert.equal(p3.storage.snapshot().metadata.index, net.peer(1n).storage.snapshot().metadata.index);
  // Back to normal replication after the snapshot.
  net.propose(1n, "after");
  assert.deepEqual(p3.kv.at(-1), "after");
  assert.equal(net.peer(1n).node.status().progress.get(3n)!.state, "StateReplicate");
});

test("a snapshot is not sent to a follower that has not been heard from recently", () => {
  const net = elected([1n, 2n, 3n], { checkQuorum: true });
  net.isolate(3n);
  for (let i = 0; i < 5; i++) net.propose(1n, `v${i}`);
  net.tickAll(25); // two check-quorum rounds: 3 is not recently active
  net.peer(1n).compact();
  const before = net.sentOfType("MsgSnap").length;
  net.peer(1n).node.raft.sendAppend(3n);
  assert.equal(net.sentOfType("MsgSnap").length, before);
});

test("a follower ignores a snapshot older than its commit index", () => {
  const net = elected([1n, 2n, 3n]);
  net.propose(1n, "a");
  const r2 = net.peer(2n).node.raft;
  const old = { metadata: { index: 2, term: 1, confState: { voters: [1n, 2n, 3n], learners: [] } }, data: enc("[]") };
  assert.equal(r2.restore(old), false);
  assert.equal(r2.raftLog.committed, 5);
});

test("a leader's progress in StateSnapshot is paused until the follower acknowledges or the send fails", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(3n);
  for (let i = 0; i < 5; i++) net.propose(1n, `v${i}`);
  net.peer(1n).compact();
  net.heal();
  const r1 = net.peer(1n).node.raft;
  const pr = r1.prs.progress.get(3n)!;
  pr.becomeProbe(); // as after a rejection: next = match + 1, which is compacted
  r1.sendAppend(3n); // the MsgSnap is queued, not yet delivered
  assert.equal(pr.state, "StateSnapshot");
  assert.ok(pr.isPaused());
  const msgs = r1.msgs.length;
  r1.sendAppend(3n);
  assert.equal(r1.msgs.length, msgs, "nothing more goes out while the snapshot is in flight");
  // The transport reports the send failed: back to probing, which will send the snapshot again.
  net.peer(1n).node.reportSnapshot(3n, true);
  assert.equal(pr.state, "StateProbe");
  net.tickAll(3);
  assert.deepEqual(net.peer(3n).kv, net.peer(1n).kv);
});

test("a snapshot lost in the network is reported and sent again", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(3n);
  for (let i = 0; i < 5; i++) net.propose(1n, `v${i}`);
  net.peer(1n).compact();
  net.heal();
  let lost = 0;
  net.dropIf = (m) => m.type === "MsgSnap" && lost++ < 2;
  net.tickAll(10);
  assert.ok(net.sentOfType("MsgSnap").length >= 3);
  assert.deepEqual(net.peer(3n).kv, net.peer(1n).kv);
});

// ---- ReadIndex ----

test("ReadIndex on the leader returns its commit index after a quorum confirms leadership", () => {
  const net = elected([1n, 2n, 3n]);
  net.propose(1n, "a");
  net.peer(1n).node.readIndex(enc("r1"));
  net.stabilize();
  assert.deepEqual(net.peer(1n).readStates, [{ index: 5, ctx: "r1" }]);
  assert.ok(net.sentOfType("MsgHeartbeat").some((m) => m.context !== null), "the heartbeat carried the read's context");
});

test("ReadIndex from a follower is forwarded to the leader and answered to the follower", () => {
  const net = elected([1n, 2n, 3n]);
  net.propose(1n, "a");
  net.peer(3n).node.readIndex(enc("f1"));
  net.stabilize();
  assert.deepEqual(net.peer(3n).readStates, [{ index: 5, ctx: "f1" }]);
  assert.deepEqual(net.peer(1n).readStates, []);
});

test("ReadIndex on a leader cut off from the quorum is never answered, even after it steps down", () => {
  const net = elected([1n, 2n, 3n], { checkQuorum: true });
  net.isolate(1n);
  net.peer(1n).node.readIndex(enc("stale?"));
  net.tickAll(30);
  assert.notEqual(net.peer(1n).node.status().raftState, "StateLeader");
  net.heal();
  net.tickAll(10);
  assert.deepEqual(net.peer(1n).readStates, [], "no read was served by a deposed leader");
});

test("ReadIndex on a follower with no leader is refused", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  assert.throws(() => net.peer(2n).node.readIndex(enc("x")), ProposalDroppedError);
});

test("a new leader holds reads until it commits an entry of its own term", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.dropIf = (m) => m.type === "MsgApp";
  net.campaign(1n);
  assert.equal(net.leader(), 1n);
  net.peer(1n).node.readIndex(enc("early"));
  net.stabilize();
  assert.deepEqual(net.peer(1n).readStates, [], "the empty entry of its term is not committed yet");
  net.dropIf = null;
  net.tickAll(2);
  assert.equal(net.peer(1n).readStates.length, 1);
  assert.equal(net.peer(1n).readStates[0]!.index, net.peer(1n).node.status().commit);
});

// ---- leader transfer ----

test("leader transfer to an up-to-date follower makes it leader at once (MsgTimeoutNow)", () => {
  const net = elected([1n, 2n, 3n], { checkQuorum: true, preVote: true });
  const term = net.peer(1n).node.status().term;
  net.peer(1n).node.transferLeader(2n);
  net.stabilize();
  assert.equal(net.sentOfType("MsgTimeoutNow").length, 1);
  assert.equal(net.leader(), 2n);
  assert.equal(net.peer(2n).node.status().term, term + 1);
  assert.equal(net.peer(1n).node.status().lead, 2n);
});

test("leader transfer to a lagging follower first catches it up", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(3n);
  net.propose(1n, "a");
  net.heal();
  net.peer(1n).node.transferLeader(3n);
  net.stabilize();
  assert.equal(net.leader(), 3n);
  assert.deepEqual(net.peer(3n).kv, ["a"]);
});

test("during a transfer the leader drops proposals; a transfer that cannot finish is abandoned after an election timeout", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(3n);
  net.peer(1n).node.transferLeader(3n);
  net.stabilize();
  assert.equal(net.peer(1n).node.status().leadTransferee, 3n);
  assert.throws(() => net.peer(1n).node.propose(enc("x")), ProposalDroppedError);
  net.tick(1n, 10);
  assert.equal(net.peer(1n).node.status().leadTransferee, 0n);
  net.propose(1n, "ok");
  assert.deepEqual(net.peer(2n).kv, ["ok"]);
});

test("a follower forwards a transfer request to the leader", () => {
  const net = elected([1n, 2n, 3n]);
  net.peer(3n).node.transferLeader(3n);
  net.stabilize();
  assert.equal(net.leader(), 3n);
});

// ---- membership ----

test("a new member is added by conf change, catches up from an empty log, and then counts in the quorum", () => {
  const net = elected([1n, 2n, 3n]);
  net.propose(1n, "before");
  const p4 = net.addEmptyPeer(4n);
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeAddNode", nodeId: 4n, context: new Uint8Array(0) });
  net.stabilize();
  net.tickAll(3);
  assert.deepEqual(p4.kv, ["before"]);
  for (const p of net.peers.values()) assert.deepEqual(p.confState.voters, [1n, 2n, 3n, 4n], `member ${p.id}`);
  // Four voters: a quorum is three. With 3 and 4 cut off, 1 and 2 cannot commit.
  net.isolate(3n);
  net.isolate(4n);
  net.propose(1n, "needs-three");
  assert.deepEqual(net.peer(2n).kv, ["before"]);
  net.heal();
  net.tickAll(2);
  assert.deepEqual(p4.kv, ["before", "needs-three"]);
});

test("one conf change at a time: a second is dropped until the first is applied", () => {
  const net = elected([1n, 2n, 3n]);
  net.isolate(1n);
  const n1 = net.peer(1n).node;
  n1.proposeConfChange({ type: "ConfChangeAddNode", nodeId: 4n, context: new Uint8Array(0) });
  assert.throws(() => n1.proposeConfChange({ type: "ConfChangeAddNode", nodeId: 5n, context: new Uint8Array(0) }), /conf change is pending/);
  net.heal();
  net.tickAll(2);
  n1.proposeConfChange({ type: "ConfChangeAddNode", nodeId: 5n, context: new Uint8Array(0) });
  net.stabilize();
  assert.deepEqual(net.peer(2n).confState.voters, [1n, 2n, 3n, 4n, 5n]);
});

test("removing the leader: it steps down when the change applies and the rest elect a leader", () => {
  const net = elected([1n, 2n, 3n]);
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeRemoveNode", nodeId: 1n, context: new Uint8Array(0) });
  net.stabilize();
  assert.notEqual(net.peer(1n).node.status().raftState, "StateLeader");
  assert.deepEqual(net.peer(2n).confState.voters, [2n, 3n]);
  net.peers.delete(1n);
  net.tickAll(40);
  const lead = net.leader();
  assert.ok(lead === 2n || lead === 3n);
  net.propose(lead, "two-voters");
  assert.deepEqual(net.peer(2n).kv, ["two-voters"]);
  assert.deepEqual(net.peer(3n).kv, ["two-voters"]);
});

test("removing a follower shrinks the quorum", () => {
  const net = elected([1n, 2n, 3n]);
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeRemoveNode", nodeId: 3n, context: new Uint8Array(0) });
  net.stabilize();
  net.peers.delete(3n);
  net.isolate(2n);
  // Two voters: 1 alone cannot commit.
  net.propose(1n, "x");
  assert.deepEqual(net.peer(1n).kv, []);
  net.heal();
  net.tickAll(2);
  assert.deepEqual(net.peer(1n).kv, ["x"]);
});

test("a learner receives the log, never campaigns, does not count for commit, and votes once promoted", () => {
  const net = elected([1n, 2n, 3n]);
  const p4 = net.addEmptyPeer(4n);
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeAddLearnerNode", nodeId: 4n, context: new Uint8Array(0) });
  net.stabilize();
  net.propose(1n, "a");
  net.tickAll(2);
  assert.deepEqual(p4.kv, ["a"]);
  assert.deepEqual(net.peer(1n).confState, { voters: [1n, 2n, 3n], learners: [4n] });
  // Alone for many election timeouts, a learner never campaigns.
  const term = p4.node.status().term;
  net.isolate(4n);
  net.tick(4n, 100);
  assert.equal(p4.node.status().term, term);
  assert.equal(p4.node.status().raftState, "StateFollower");
  assert.equal(net.sent.filter((m) => m.from === 4n && (m.type === "MsgVote" || m.type === "MsgPreVote")).length, 0);
  // With 2 and 3 cut off, 1 + learner 4 are not a quorum.
  net.heal();
  net.isolate(2n);
  net.isolate(3n);
  net.propose(1n, "b");
  assert.deepEqual(net.peer(1n).kv, ["a"], "a learner's ack does not commit");
  net.heal();
  net.tickAll(2);
  // Promote.
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeAddNode", nodeId: 4n, context: new Uint8Array(0) });
  net.stabilize();
  assert.deepEqual(net.peer(4n).confState, { voters: [1n, 2n, 3n, 4n], learners: [] });
  assert.equal(p4.node.raft.isLearner, false);
  net.peer(1n).node.transferLeader(4n);
  net.stabilize();
  assert.equal(net.leader(), 4n, "the promoted member can lead");
});

test("a leader transfer to a learner is ignored", () => {
  const net = elected([1n, 2n, 3n]);
  net.addEmptyPeer(4n);
  net.peer(1n).node.proposeConfChange({ type: "ConfChangeAddLearnerNode", nodeId: 4n, context: new Uint8Array(0) });
  net.stabilize();
  net.peer(1n).node.transferLeader(4n);
  net.stabilize();
  assert.equal(net.leader(), 1n);
  assert.equal(net.peer(1n).node.status().leadTransferee, 0n);
});

// ---- forgetting a leader that is known to be gone; the leader's own copy counted once persisted ----

test("a follower that forgets its leader grants a pre-vote at once, where one still in its lease refuses", () => {
  const net = elected([1n, 2n, 3n], { checkQuorum: true, preVote: true });
  net.isolate(1n);
  // 2 campaigns before any election timeout: 3 still heard from 1 recently and refuses its pre-vote.
  net.campaign(2n);
  assert.notEqual(net.peer(2n).node.status().raftState, "StateLeader");
  // Told that 1 is gone, 3 stops vouching for it: 2's next campaign wins without waiting for a timeout.
  net.peer(3n).node.forgetLeader();
  net.campaign(2n);
  assert.equal(net.peer(2n).node.status().raftState, "StateLeader");
});

test("forgetLeader leaves a leader and a candidate as they are", () => {
  const net = elected([1n, 2n, 3n], { checkQuorum: true, preVote: true });
  net.peer(1n).node.forgetLeader();
  assert.equal(net.peer(1n).node.status().lead, 1n);
});

test("with leaderAcksOnPersist the leader's own copy counts only after the host persisted it", () => {
  const net = elected([1n, 2n, 3n], { leaderAcksOnPersist: true });
  const leader = net.peer(1n).node;
  const commitBefore = leader.status().commit;
  leader.propose(new TextEncoder().encode("x"));
  // Appended, not yet persisted by the host: no quorum counts it, even the leader's own vote.
  assert.equal(leader.status().progress.get(1n)!.match, commitBefore);
  net.isolate(2n);
  net.isolate(3n);
  net.stabilize(); // the host persists it: the leader's own copy now counts, but alone is no quorum
  assert.equal(leader.status().progress.get(1n)!.match, commitBefore + 1);
  assert.equal(leader.status().commit, commitBefore);
  net.heal();
  net.tickAll(2);
  assert.equal(leader.status().commit, commitBefore + 1);
  assert.deepEqual(net.peer(3n).kv.at(-1), "x");
});

test("a single voter with leaderAcksOnPersist commits once its host persisted the entry", () => {
  const net = elected([1n], { leaderAcksOnPersist: true });
  net.propose(1n, "solo");
  assert.deepEqual(net.peer(1n).kv.at(-1), "solo");
});
