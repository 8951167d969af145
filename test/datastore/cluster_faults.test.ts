/**
 * Real-process faults on a 3-member `tk8s datastore` (issue 6): a client writes continuously through every
 * member while the leader is killed with SIGKILL, a follower is stopped and restarted, a fourth member is added
 * and one removed, and a follower left far behind is caught up by a snapshot. After each: every acknowledged
 * write reads back (linearizable get, on every member) with its value or a later one of the same key, all members
 * converge to one `endpoint hashkv` and revision, and `member list` names exactly the expected members.
 *
 * One cluster serves the four cases in turn (starting one costs seconds on two busy cores); each case starts
 * from a healthy cluster with a leader and leaves one behind. --snapshot-count 50 makes every case cross
 * snapshots and log compactions; --experimental-snapshot-catchup-entries 10 keeps only 10 entries behind one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import { requirePrerequisites, suiteSkipReason, uniquePrefix } from "../harness/contract.js";
import { DatastoreCluster, REMOVED_EXIT_TIMEOUT_MS, type ClusterMember } from "../harness/datastore_cluster.js";
import { jsonText, toBigInt } from "../harness/etcdctl.js";
import { ContinuousLoad } from "./cluster_load.js";

const HEARTBEAT_MS = 100;
const ELECTION_MS = 1000;
const SNAPSHOT_COUNT = 50;
const CATCH_UP_ENTRIES = 10;
/** "A new leader within a few election timeouts": randomized timeouts are 1–2 election timeouts, plus slack for two busy cores. */
const NEW_LEADER_WITHIN_MS = 5 * ELECTION_MS;
/** Each case: a fault, recovery and the checks. */
const CASE_TIMEOUT_MS = 50_000;
/** Writes acknowledged before a fault, and again after it, so each phase provably served the load. */
const ACKS_PER_PHASE = 60;
const PHASE_TIMEOUT_MS = 15_000;
const CONVERGE_TIMEOUT_MS = 15_000;

const skip = suiteSkipReason("tk8s");

describe("tk8s datastore: a 3-member cluster under real-process faults", { timeout: 200_000, ...(skip === undefined ? {} : { skip }) }, () => {
  let cluster: DatastoreCluster | null = null;
  const live = (): DatastoreCluster => {
    if (cluster === null) throw new Error("the cluster did not start (see the before() hook)");
    return cluster;
  };

  before(async () => {
    requirePrerequisites("tk8s");
    cluster = await DatastoreCluster.start("tk8s", {
      size: 3,
      heartbeatIntervalMs: HEARTBEAT_MS,
      electionTimeoutMs: ELECTION_MS,
      extraArgs: [`--snapshot-count=${SNAPSHOT_COUNT}`, `--experimental-snapshot-catchup-entries=${CATCH_UP_ENTRIES}`],
    });
  }, { timeout: 60_000 });

  after(async () => {
    await cluster?.stop();
  }, { timeout: 60_000 });

  it("a new leader is elected within a few election timeouts after kill -9 of the leader, and the restarted old leader rejoins", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const c = live();
    await underLoad(t, c, "faults/kill-leader", async (load) => {
      const old = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await old.leader.kill();
      const killedAt = Date.now();
      const next = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS + 5_000, notId: old.memberId });
      const electedMs = Date.now() - killedAt;
      t.diagnostic(`leader ${old.leader.name} (term ${old.term}) killed; ${next.leader.name} leads term ${next.term} after ${electedMs} ms`);
      assert.ok(electedMs <= NEW_LEADER_WITHIN_MS, `a new leader took ${electedMs} ms, more than ${NEW_LEADER_WITHIN_MS} ms (5 election timeouts)`);
      assert.ok(next.term > old.term, `the new leader's term ${next.term} is not above the old ${old.term}`);
      // The survivors saw the leader's process go (its stream closed, its peer URL refuses connections)
      // and did not wait out an election timeout: the transport said so in their logs.
      const survivors = c.running().filter((m) => m !== old.leader);
      assert.ok(
        survivors.some((m) => /peer's stream closed and its peer URL refuses connections; it is down/.test(m.logText())),
        "no survivor noticed that the leader's process was gone",
      );
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await old.leader.start();
      await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
    });
  });

  it("a follower stopped and restarted while writes continue catches up, and the cluster keeps its leader", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const c = live();
    await underLoad(t, c, "faults/restart-follower", async (load) => {
      const before = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const follower = c.running().find((m) => m !== before.leader)!;
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await follower.stop();
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await follower.start();
      const after = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      // Pre-vote keeps a rejoining follower from disrupting the leader it cannot replace.
      assert.equal(after.memberId, before.memberId, `the leader changed from ${before.leader.name} to ${after.leader.name} when a follower restarted`);
      assert.equal(after.term, before.term, "a restarting follower bumped the term");
    });
  });

  it("a fourth member added and a follower removed while writing leave three members serving every write", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const c = live();
    let exitedByItself = false;
    await underLoad(t, c, "faults/add-remove", async (load) => {
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      const added = await c.addMember();
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await assertMemberList(c, c.members());
      const status = await c.status(added);
      assert.equal(status.isLearner, false, "member add (without --learner) adds a voter");
      const leader = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const victim = c.running().find((m) => m !== leader.leader && m !== added)!;
      const removal = await c.removeMember(victim.name);
      t.diagnostic(`added ${added.name}, removed follower ${victim.name} (${jsonText(removal)}, exit ${jsonText(victim.exitInfo)})`);
      if (!removal.exitedByItself) t.diagnostic(`${victim.name}'s log, last lines:\n${victim.logText().split("\n").slice(-25).join("\n")}`);
      assert.equal(c.members().length, 3);
      await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      exitedByItself = removal.exitedByItself;
    });
    // Checked last so a failure here still runs the data checks above.
    assert.ok(exitedByItself, `the removed member did not stop itself within ${REMOVED_EXIT_TIMEOUT_MS} ms (etcd's does: peers answer its streams 410 Gone)`);
  });

  it("a follower behind by more than the catch-up entries is caught up by a snapshot from the leader", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const c = live();
    await underLoad(t, c, "faults/snapshot-catch-up", async (load) => {
      const leader = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const follower = c.running().find((m) => m !== leader.leader)!;
      const behindAt = (await c.status(follower)).raftIndex;
      const installsBefore = countSnapshotInstalls(follower);
      await follower.stop();
      // Far enough that the leader has snapshotted and compacted past the follower's log: each snapshot keeps
      // only CATCH_UP_ENTRIES behind it, and one is taken every SNAPSHOT_COUNT entries.
      const target = behindAt + 4 * (SNAPSHOT_COUNT + CATCH_UP_ENTRIES);
      await waitUntil(`the leader's raft index to pass ${target}`, async () => (await c.status(leader.leader)).raftIndex >= target, PHASE_TIMEOUT_MS);
      await follower.start();
      await waitUntil(`${follower.name} to log "installed a snapshot from the leader"`, async () => countSnapshotInstalls(follower) > installsBefore, PHASE_TIMEOUT_MS);
      t.diagnostic(`${follower.name} stopped at raft index ${behindAt}, restarted after the leader passed ${target}, installed a snapshot`);
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
    });
  });
});

/**
 * Runs `fault` while a load writes through every running member, then stops the load and checks that nothing
 * acknowledged was lost (on every member), that the members converged, and that member list is as expected.
 */
async function underLoad(t: TestContext, c: DatastoreCluster, name: string, fault: (load: ContinuousLoad) => Promise<void>): Promise<void> {
  const load = new ContinuousLoad(() => c.endpoints(), { writers: 8, keysPerWriter: 16, prefix: uniquePrefix(name) });
  load.start();
  try {
    await fault(load);
  } finally {
    await load.stop();
    t.diagnostic(`load: ${load.summary()}`);
  }
  assert.ok(load.acked >= 3 * ACKS_PER_PHASE, `only ${load.acked} writes were acknowledged: the case did not exercise the cluster`);
  assert.deepEqual(load.orderViolations, [], "a writer saw an acknowledged put at a revision not above its previous acknowledged put");
  const converged = await c.waitConverged(CONVERGE_TIMEOUT_MS);
  t.diagnostic(`converged: ${jsonText(converged)}`);
  for (const member of c.running()) {
    const problems = await load.verify(member.clientUrl);
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} acknowledged writes are not readable through ${member.name}`);
  }
  await assertMemberList(c, c.members());
  const statuses = await c.statuses();
  assert.equal(statuses.length, c.members().length, `every member answers endpoint status: ${jsonText(statuses.map((s) => s.name))}`);
  const revisions = new Set(statuses.map((s) => s.revision));
  assert.equal(revisions.size, 1, `members report different revisions: ${jsonText(statuses.map((s) => [s.name, s.revision]))}`);
}

/** member list through every running member names exactly `expected`, with their URLs, all voters. */
async function assertMemberList(c: DatastoreCluster, expected: readonly ClusterMember[]): Promise<void> {
  const want = expected.map((m) => ({ name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl], isLearner: false })).sort(byName);
  for (const via of c.running()) {
    const list = await c.memberList(via);
    const got = list.members.map((m) => ({ name: m.name ?? "", peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: m.isLearner ?? false })).sort(byName);
    assert.deepEqual(got, want, `member list through ${via.name}`);
    const ids = new Set(list.members.map((m) => toBigInt(m.ID)));
    assert.equal(ids.size, list.members.length, "member IDs are distinct");
    assert.ok(!ids.has(0n), "no member ID is 0");
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function countSnapshotInstalls(member: ClusterMember): number {
  return member.logText().split("\n").filter((line) => line.includes("installed a snapshot from the leader")).length;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  while (!(await probe())) {
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("tk8s datastore: a 5-member cluster under real-process faults", { timeout: 120_000, ...(skip === undefined ? {} : { skip }) }, () => {
  let cluster: DatastoreCluster | null = null;

  before(async () => {
    requirePrerequisites("tk8s");
    cluster = await DatastoreCluster.start("tk8s", { size: 5, heartbeatIntervalMs: HEARTBEAT_MS, electionTimeoutMs: ELECTION_MS, extraArgs: [`--snapshot-count=${SNAPSHOT_COUNT}`] });
  }, { timeout: 60_000 });

  after(async () => {
    await cluster?.stop();
  }, { timeout: 60_000 });

  it("the leader and a follower killed together leave a quorum of three that elects a leader and loses no acknowledged write", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const c = cluster!;
    await underLoad(t, c, "faults/five-kill-two", async (load) => {
      const old = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const follower = c.running().find((m) => m !== old.leader)!;
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await Promise.all([old.leader.kill(), follower.kill()]);
      const killedAt = Date.now();
      const next = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS + 5_000, notId: old.memberId });
      const electedMs = Date.now() - killedAt;
      t.diagnostic(`killed leader ${old.leader.name} and ${follower.name}; ${next.leader.name} leads term ${next.term} after ${electedMs} ms`);
      assert.ok(electedMs <= NEW_LEADER_WITHIN_MS, `a new leader took ${electedMs} ms`);
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
      await Promise.all([old.leader.start(), follower.start()]);
      await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await load.waitForAcks(ACKS_PER_PHASE, PHASE_TIMEOUT_MS);
    });
  });
});
