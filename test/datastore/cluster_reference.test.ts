/**
 * The cluster behaviour etcdctl sees, asserted the same way on a 3-member real etcd 3.4 and on a 3-member
 * `tk8s datastore` (CONTRACT_TARGETS, default "etcd,tk8s", as test/contract/): member list fields, endpoint
 * status (one leader all agree on, term, index), recovery from kill -9 of the leader, member add / remove.
 * Expectations observed on etcd 3.4.23; where tk8s differs, the test fails and says how.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requirePrerequisites, suiteSkipReason, targets } from "../harness/contract.js";
import { DatastoreCluster, type ClusterMember, type MemberStatus } from "../harness/datastore_cluster.js";
import { rawEtcdClient } from "../harness/grpc_client.js";
import { etcdctl, jsonText, parseEtcdctlJson, toBigInt, type EndpointStatusJson } from "../harness/etcdctl.js";

const ELECTION_MS = 1000;
const NEW_LEADER_WITHIN_MS = 5 * ELECTION_MS;
const CASE_TIMEOUT_MS = 40_000;

for (const kind of targets()) {
  const skip = suiteSkipReason(kind);
  describe(`${kind}: a 3-member cluster as etcdctl sees it`, { timeout: 150_000, ...(skip === undefined ? {} : { skip }) }, () => {
    let cluster: DatastoreCluster | null = null;
    const live = (): DatastoreCluster => {
      if (cluster === null) throw new Error("the cluster did not start (see the before() hook)");
      return cluster;
    };

    before(async () => {
      requirePrerequisites(kind);
      cluster = await DatastoreCluster.start(kind, { size: 3, heartbeatIntervalMs: 100, electionTimeoutMs: ELECTION_MS });
    }, { timeout: 60_000 });

    after(async () => {
      await cluster?.stop();
    }, { timeout: 60_000 });

    it("member list through every member names the three members with their URLs, one cluster ID, distinct member IDs", { timeout: CASE_TIMEOUT_MS }, async () => {
      const c = live();
      const clusterIds = new Set<bigint>();
      let ids: bigint[] | null = null;
      for (const via of c.members()) {
        const list = await c.memberList(via);
        clusterIds.add(toBigInt(list.header.cluster_id));
        const rows = list.members.map((m) => ({ name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner })).sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
        assert.deepEqual(
          rows,
          c.members().map((m) => ({ name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl], isLearner: undefined })),
          `member list through ${via.name} (isLearner false is omitted by etcdctl's JSON)`,
        );
        const these = list.members.map((m) => toBigInt(m.ID)).sort();
        assert.equal(new Set(these).size, 3, "member IDs are distinct");
        if (ids !== null) assert.deepEqual(these, ids, "every member lists the same IDs");
        ids = these;
        const self = list.members.find((m) => m.name === via.name);
        assert.equal(toBigInt(list.header.member_id), toBigInt(self?.ID), `the header's member_id is ${via.name}'s own ID`);
        assert.ok((list.header.raft_term ?? 0) >= 1, "the header carries the raft term");
      }
      assert.equal(clusterIds.size, 1, `one cluster ID: ${jsonText([...clusterIds])}`);
      assert.ok(!clusterIds.has(0n));

      const table = await etcdctl(c.members()[0]!.clientUrl, ["member", "list", "-w", "table"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /\|\s+ID\s+\|\s+STATUS\s+\|\s+NAME\s+\|\s+PEER ADDRS\s+\|\s+CLIENT ADDRS\s+\|\s+IS LEARNER\s+\|/);
      for (const m of c.members()) assert.match(table.stdout, new RegExp(`\\| started \\|\\s+${m.name} \\| ${escape(m.peerUrl)} \\| ${escape(m.clientUrl)} \\|\\s+false \\|`));
    });

    it("endpoint status: all members name one leader, share its term, and reach the same raft index after a write", { timeout: CASE_TIMEOUT_MS }, async () => {
      const c = live();
      const leader = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const put = await etcdctl(leader.leader.clientUrl, ["put", "ref/status", "v"]);
      assert.equal(put.code, 0, put.stderr);
      const statuses = await waitForStatuses(c, (all) => all.every((s) => s.raftIndex === all[0]!.raftIndex && s.raftAppliedIndex === s.raftIndex), 10_000);
      const self = statuses.filter((s) => s.memberId === s.leader);
      assert.equal(self.length, 1, `exactly one member reports itself leader: ${describe3(statuses)}`);
      assert.equal(self[0]!.memberId, leader.memberId);
      assert.equal(new Set(statuses.map((s) => s.raftTerm)).size, 1, `one term: ${describe3(statuses)}`);
      for (const s of statuses) {
        assert.equal(s.raw.header.raft_term, s.raftTerm, "the header's raft_term is the status's");
        assert.ok(s.raftIndex >= 4, `raft index ${s.raftIndex} counts the 3 bootstrap conf changes and the write`);
        assert.ok(s.revision >= 2, "the put advanced the revision");
        assert.match(s.raw.version ?? "", /^\d+\.\d+\.\d+$/);
        assert.ok((s.raw.dbSize ?? 0) > 0);
        assert.equal(s.raw.isLearner, undefined);
      }
      // All three at once, as an operator asks: one entry per endpoint, in the order given.
      const all = await etcdctl(c.endpoints().join(","), ["endpoint", "status", "-w", "json"]);
      assert.equal(all.code, 0, all.stderr);
      const parsed = parseEtcdctlJson(all.stdout) as unknown as EndpointStatusJson[];
      assert.deepEqual(parsed.map((e) => e.Endpoint), c.endpoints());
      const hashes = await c.waitConverged(10_000);
      assert.equal(new Set(hashes.map((h) => h.hash)).size, 1);
    });

    it("move-leader hands the leadership to the named follower in a higher term, and every member follows it", { timeout: CASE_TIMEOUT_MS }, async () => {
      const c = live();
      const old = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const target = c.running().find((m) => m !== old.leader)!;
      const targetId = await c.memberId(target.name);
      // etcdctl finds the leader among the endpoints it is given and asks it to transfer.
      const moved = await etcdctl(c.endpoints().join(","), ["move-leader", targetId.toString(16)]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.equal(moved.stdout.trim(), `Leadership transferred from ${old.memberId.toString(16)} to ${targetId.toString(16)}`);
      const next = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      assert.equal(next.memberId, targetId);
      assert.ok(next.term > old.term, `term ${next.term} after the transfer, ${old.term} before`);
      // etcd 3.4 treats a transfer to the current leader as done, and refuses an ID that is not a member.
      const self = await etcdctl(target.clientUrl, ["move-leader", targetId.toString(16)]);
      assert.equal(self.code, 0, self.stderr);
      assert.equal(self.stdout.trim(), `Leadership transferred from ${targetId.toString(16)} to ${targetId.toString(16)}`);
      const unknown = await etcdctl(target.clientUrl, ["move-leader", "1234abcd"]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /Error: etcdserver: bad leader transferee/);
      assert.equal((await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS })).memberId, targetId);
    });

    it("kill -9 of the leader: the others elect a new leader in a higher term within a few election timeouts, keep serving, and the old leader rejoins as a follower", { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const c = live();
      const old = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await old.leader.kill();
      const killedAt = Date.now();
      const next = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS + 5_000, notId: old.memberId });
      const tookMs = Date.now() - killedAt;
      t.diagnostic(`${kind}: ${old.leader.name} killed; ${next.leader.name} leads term ${next.term} after ${tookMs} ms`);
      assert.ok(tookMs <= NEW_LEADER_WITHIN_MS, `a new leader took ${tookMs} ms`);
      assert.ok(next.term > old.term);
      const put = await putVia(c.running()[0]!, "ref/after-kill", "v");
      assert.ok(put > 0);
      await old.leader.start();
      const again = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      assert.equal(again.memberId, next.memberId, "the restarted old leader does not take the lead back (pre-vote / higher term)");
      await c.waitConverged(10_000);
      const got = await getVia(old.leader, "ref/after-kill");
      assert.equal(got, "v", "the restarted member serves the write made while it was down");
    });

    it("member add prints the new cluster, lists the member unstarted until it starts, and member remove stops the removed member", { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const c = live();
      const added = await c.addMember({ name: "m4", start: false });
      const unstarted = await c.memberList();
      const row = unstarted.members.find((m) => (m.peerURLs ?? []).includes(added.peerUrl));
      assert.ok(row !== undefined, `member list shows the added member: ${jsonText(unstarted)}`);
      assert.equal(row.name, undefined, "an added member has no name until it starts and publishes it");
      assert.equal(row.clientURLs, undefined, "nor client URLs");
      const table = await etcdctl(c.running()[0]!.clientUrl, ["member", "list"]);
      assert.match(table.stdout, new RegExp(`, unstarted, , ${escape(added.peerUrl)}, , false`));
      await added.start();
      await waitUntil("m4 to publish its name", async () => (await c.memberList()).members.some((m) => m.name === "m4" && (m.clientURLs ?? []).includes(added.clientUrl)), 10_000);
      await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      await c.waitConverged(10_000);
      assert.equal((await getVia(added, "ref/after-kill")), "v", "the new member holds the data written before it joined");

      const leader = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const victim = c.running().find((m) => m !== leader.leader && m !== added)!;
      const victimId = await c.memberId(victim.name);
      const removal = await c.removeMember(victim.name);
      t.diagnostic(`${kind}: removed ${victim.name}: ${jsonText(removal)}, exit ${jsonText(victim.exitInfo)}`);
      const list = await c.memberList();
      assert.deepEqual(list.members.map((m) => m.name).sort(), c.members().map((m) => m.name).sort());
      const again = await etcdctl(c.running()[0]!.clientUrl, ["member", "remove", victimId.toString(16)]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /etcdserver: (member not found|ID removed)/, "removing a removed member again is refused");
      const unknown = await etcdctl(c.running()[0]!.clientUrl, ["member", "remove", "1234abcd"]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /etcdserver: member not found/);
      assert.ok(removal.exitedByItself, `the removed member kept running for ${removal.waitedMs} ms; etcd's stops itself ("the member has been permanently removed from the cluster")`);
    });

    it("promote, asked of a follower, is decided by the leader: an unstarted learner is not in sync, a voter is not a learner, an unknown ID is not found", { timeout: CASE_TIMEOUT_MS }, async () => {
      const c = live();
      const leader = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const follower = c.running().find((m) => m !== leader.leader)!;
      // etcd refuses reconfiguration until every voter has been connected for 5 s ("unhealthy cluster").
      let add = await etcdctl(leader.leader.clientUrl, ["member", "add", "learner1", "--learner", "--peer-urls=http://127.0.0.1:9"]);
      for (let i = 0; i < 30 && add.code !== 0 && /unhealthy cluster/.test(add.stderr); i++) {
        await new Promise((r) => setTimeout(r, 500));
        add = await etcdctl(leader.leader.clientUrl, ["member", "add", "learner1", "--learner", "--peer-urls=http://127.0.0.1:9"]);
      }
      assert.equal(add.code, 0, add.stderr);
      const id = toBigInt((await c.memberList(follower)).members.find((m) => (m.peerURLs ?? []).includes("http://127.0.0.1:9"))!.ID);
      // The follower has no view of the learner's progress: only the leader can tell it is not caught up.
      const notReady = await etcdctl(follower.clientUrl, ["member", "promote", id.toString(16)]);
      assert.notEqual(notReady.code, 0);
      assert.match(notReady.stderr, /etcdserver: can only promote a learner member which is in sync with leader/);
      const voter = await etcdctl(follower.clientUrl, ["member", "promote", (await c.memberId(follower.name, follower)).toString(16)]);
      assert.notEqual(voter.code, 0);
      assert.match(voter.stderr, /etcdserver: can only promote a learner member/);
      const unknown = await etcdctl(follower.clientUrl, ["member", "promote", "1234abcd"]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /etcdserver: member not found/);
      const removed = await etcdctl(follower.clientUrl, ["member", "remove", id.toString(16)]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal((await c.memberList()).members.length, c.members().length, "the learner is gone");
    });

    it("member remove of the leader: the removed leader stops and the remaining members elect a new leader and keep serving", { timeout: CASE_TIMEOUT_MS }, async (t) => {
      const c = live();
      const old = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS });
      const removal = await c.removeMember(old.leader.name);
      const next = await c.waitForLeader({ timeoutMs: NEW_LEADER_WITHIN_MS + 5_000, notId: old.memberId });
      t.diagnostic(`${kind}: removed leader ${old.leader.name}: ${jsonText(removal)}; ${next.leader.name} leads term ${next.term}`);
      assert.equal(c.members().length, 2);
      const list = await c.memberList();
      assert.deepEqual(list.members.map((m) => m.name).sort(), c.members().map((m) => m.name).sort());
      const revision = await putVia(c.running()[0]!, "ref/after-leader-removal", "v");
      assert.ok(revision > 0);
      await c.waitConverged(10_000);
      assert.ok(removal.exitedByItself, `the removed leader kept running for ${removal.waitedMs} ms; etcd's stops itself`);
    });
  });
}

async function waitForStatuses(c: DatastoreCluster, done: (all: MemberStatus[]) => boolean, timeoutMs: number): Promise<MemberStatus[]> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  for (;;) {
    const all = await c.statuses();
    if (all.length === c.running().length && done(all)) return all;
    if (Date.now() >= deadline) throw new Error(`endpoint status did not settle within ${timeoutMs} ms: ${describe3(all)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function describe3(all: readonly MemberStatus[]): string {
  return jsonText(all.map((s) => ({ name: s.name, id: s.memberId.toString(16), leader: s.leader.toString(16), term: s.raftTerm, index: s.raftIndex, applied: s.raftAppliedIndex })));
}

async function putVia(member: ClusterMember, key: string, value: string): Promise<number> {
  const client = rawEtcdClient(member.clientUrl, 10_000);
  try {
    return (await client.put(key, value)).revision;
  } finally {
    client.close();
  }
}

async function getVia(member: ClusterMember, key: string): Promise<string | null> {
  const client = rawEtcdClient(member.clientUrl, 10_000);
  try {
    return (await client.get(key))?.value ?? null;
  } finally {
    client.close();
  }
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  while (!(await probe())) {
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
