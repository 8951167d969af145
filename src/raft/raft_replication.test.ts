import { test } from "node:test";
import assert from "node:assert/strict";
import { Network } from "./raft_test_network.js";
import type { Entry } from "./types.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** What a member has in its log, as "index/term" from its first stored index. */
function logOf(net: Network, id: bigint): string[] {
  const log = net.peer(id).node.raft.raftLog;
  return log.allEntries().map((e: Entry) => `${e.index}/${e.term}`);
}

test("a proposal is replicated to every member, committed, and applied in the same order everywhere", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.campaign(1n);
  for (const s of ["a", "b", "c"]) net.propose(1n, s);
  for (const p of net.peers.values()) {
    assert.deepEqual(p.kv, ["a", "b", "c"]);
    assert.equal(p.node.status().commit, 7);
  }
});

test("a proposal on a follower is forwarded to the leader", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.campaign(1n);
  net.propose(3n, "from-follower");
  for (const p of net.peers.values()) assert.deepEqual(p.kv, ["from-follower"]);
});

test("an entry on a minority is not committed, and is committed once a majority has it", () => {
  const net = new Network([1n, 2n, 3n, 4n, 5n]);
  net.stabilize();
  net.campaign(1n);
  net.partition([1n, 2n], [3n, 4n, 5n]);
  net.propose(1n, "a");
  assert.equal(net.peer(1n).node.status().commit, 6, "2 of 5: not committed");
  assert.deepEqual(net.peer(1n).kv, []);
  net.heal();
  net.tickAll(2); // heartbeats find the followers behind and send them the entry
  assert.equal(net.peer(1n).node.status().commit, 7);
  for (const p of net.peers.values()) assert.deepEqual(p.kv, ["a"]);
});

test("figure 8: a leader does not commit an old-term entry by counting replicas, only with an entry of its term (§5.4.2)", () => {
  const net = new Network([1n, 2n, 3n, 4n, 5n], { maxSizePerMsg: 0 });
  net.stabilize();
  net.campaign(1n); // term 2, index 6 committed (bootstrap 1..5, empty 6)
  // (a) leader 1 replicates "a" (index 7, term 2) to 2 only.
  net.partition([1n, 2n], [3n, 4n, 5n]);
  net.propose(1n, "a");
  // (b) 1 is gone; 5 wins term 3 with 3 and 4 and appends an entry no one else gets.
  net.heal();
  net.isolate(1n);
  net.dropIf = (m) => m.from === 5n && (m.type === "MsgApp" || m.type === "MsgHeartbeat");
  net.campaign(5n);
  assert.equal(net.peer(5n).node.status().raftState, "StateLeader");
  // (c) 5 is gone; 1 returns and wins term 4, but its MsgApps are held back for now.
  // 1 crashed meanwhile (restarts as a follower of term 2).
  net.restart(1n);
  net.heal();
  net.isolate(5n);
  net.dropIf = (m) => m.from === 1n && m.type === "MsgApp";
  net.campaign(1n); // term 3: 3 and 4 already voted for 5
  if (net.peer(1n).node.status().raftState !== "StateLeader") net.campaign(1n); // term 4
  const r1 = net.peer(1n).node.raft;
  assert.equal(r1.state, "StateLeader");
  assert.equal(r1.term, 4);
  // A majority (1, 2, 3) holds "a" at index 7 of term 2: counting alone must not commit it.
  r1.prs.progress.get(2n)!.maybeUpdate(7);
  r1.prs.progress.get(3n)!.maybeUpdate(7);
  assert.equal(r1.maybeCommit(), false);
  assert.equal(r1.raftLog.committed, 6);
  // Once the term-4 entry (index 8) is on a majority, it commits and "a" with it.
  r1.prs.progress.get(2n)!.maybeUpdate(8);
  r1.prs.progress.get(3n)!.maybeUpdate(8);
  assert.equal(r1.maybeCommit(), true);
  assert.equal(r1.raftLog.committed, 8);
  // Undo the experiment (2 and 3 do not really have index 8; 3 not even 7), then let the real messages flow:
  r1.raftLog.committed = 6;
  for (const id of [2n, 3n]) {
    const pr = r1.prs.progress.get(id)!;
    pr.match = 0;
    pr.becomeProbe();
  }
  // Everyone, 5 included, converges on 1's log.
  net.dropIf = null;
  net.heal();
  net.tickAll(3);
  for (const p of net.peers.values()) assert.deepEqual(p.kv, ["a"], `member ${p.id}`);
  const want = logOf(net, 1n);
  for (const id of [2n, 3n, 4n, 5n]) assert.deepEqual(logOf(net, id), want, `member ${id}'s log matches the leader's`);
});

test("a follower with a conflicting uncommitted suffix is repaired to the leader's log", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.campaign(1n);
  net.propose(1n, "base");
  net.isolate(1n);
  net.propose(1n, "x"); // never committed
  net.propose(1n, "y");
  net.heal();
  net.isolate(1n);
  net.campaign(2n);
  net.propose(2n, "z");
  net.propose(2n, "w");
  assert.deepEqual(logOf(net, 1n).slice(-2), ["6/2", "7/2"], "1 has the stale entries");
  net.heal();
  net.tickAll(3);
  for (const p of net.peers.values()) assert.deepEqual(p.kv, ["base", "z", "w"], `member ${p.id}`);
  assert.deepEqual(logOf(net, 1n), logOf(net, 2n));
});

test("a follower far behind, with many conflicting entries, is found quickly by the term hint", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.campaign(1n);
  net.isolate(1n);
  for (let i = 0; i < 50; i++) net.peer(1n).node.propose(enc(`stale${i}`));
  net.stabilize();
  net.heal();
  net.isolate(1n);
  net.campaign(2n);
  net.propose(2n, "fresh");
  net.heal();
  const before = net.sentOfType("MsgAppResp").filter((m) => m.reject).length;
  net.tickAll(3);
  const rejects = net.sentOfType("MsgAppResp").filter((m) => m.reject).length - before;
  assert.ok(rejects <= 3, `one probe per term, not per entry: ${rejects} rejections`);
  assert.deepEqual(net.peer(1n).kv, ["fresh"]);
});

test("flow control: the leader stops at maxInflightMsgs unacknowledged MsgApps and resumes on acks", () => {
  const net = new Network([1n, 2n], { maxInflightMsgs: 3, maxSizePerMsg: 0 });
  net.stabilize();
  net.campaign(1n);
  const pr2 = () => net.peer(1n).node.raft.prs.progress.get(2n)!;
  assert.equal(pr2().state, "StateReplicate");
  net.dropIf = (m) => m.type === "MsgAppResp";
  const appsBefore = net.sentOfType("MsgApp").length;
  for (let i = 0; i < 10; i++) {
    try {
      net.peer(1n).node.propose(enc(`p${i}`));
    } catch {
      /* not dropped here: 1 is leader */
    }
    net.stabilize();
  }
  const apps = net.sentOfType("MsgApp").length - appsBefore;
  assert.equal(apps, 3, "three in flight, then paused");
  assert.ok(pr2().isPaused());
  assert.equal(pr2().inflights.count, 3);
  // A heartbeat response frees one slot: exactly one more MsgApp goes out.
  net.peer(1n).node.tick();
  net.stabilize();
  assert.equal(net.sentOfType("MsgApp").length - appsBefore, 4);
  // Acks flow again: everything is replicated and committed.
  net.dropIf = null;
  net.tickAll(3);
  assert.equal(net.peer(2n).kv.length, 10);
  assert.equal(pr2().match, net.peer(1n).node.raft.raftLog.lastIndex());
});

test("flow control: a byte limit on inflight messages pauses too", () => {
  const net = new Network([1n, 2n], { maxInflightMsgs: 100, maxInflightBytes: 10, maxSizePerMsg: 0 });
  net.stabilize();
  net.campaign(1n);
  net.dropIf = (m) => m.type === "MsgAppResp";
  const appsBefore = net.sentOfType("MsgApp").length;
  for (let i = 0; i < 10; i++) net.propose(1n, "12345"); // 5 bytes each
  assert.equal(net.sentOfType("MsgApp").length - appsBefore, 2, "10 bytes in flight: paused");
});

test("a MsgApp carries at most maxSizePerMsg bytes (but at least one entry)", () => {
  const net = new Network([1n, 2n], { maxSizePerMsg: 10 });
  net.stabilize();
  net.campaign(1n);
  net.isolate(2n);
  for (let i = 0; i < 6; i++) net.propose(1n, "abcd"); // 4 bytes each
  net.heal();
  const before = net.sent.length;
  net.tickAll(2);
  const apps = net.sent.slice(before).filter((m) => m.type === "MsgApp" && m.entries.length > 0);
  assert.ok(apps.length >= 3);
  for (const m of apps) assert.ok(m.entries.length <= 2, `${m.entries.length} entries of 4 bytes in a 10-byte message`);
  assert.equal(net.peer(2n).kv.length, 6);
});

test("the leader drops proposals beyond maxUncommittedEntriesSize", () => {
  const net = new Network([1n, 2n, 3n], { maxUncommittedEntriesSize: 10 });
  net.stabilize();
  net.campaign(1n);
  net.isolate(1n);
  const n = net.peer(1n).node;
  n.propose(enc("12345"));
  n.propose(enc("12345"));
  assert.throws(() => n.propose(enc("1")), /too many uncommitted bytes/);
});

test("a restarted member recovers its log from storage and rejoins", () => {
  const net = new Network([1n, 2n, 3n]);
  net.stabilize();
  net.campaign(1n);
  net.propose(1n, "a");
  net.restart(2n);
  net.propose(1n, "b");
  net.tickAll(2);
  assert.deepEqual(net.peer(2n).kv, ["a", "b"]);
  assert.equal(net.peer(2n).node.status().term, 2);
});

test("ready() twice without advance() is a programmer error", () => {
  const net = new Network([1n]);
  const n = net.peer(1n).node;
  n.ready();
  assert.throws(() => n.ready(), /before advance/);
});
