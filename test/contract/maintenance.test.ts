// The etcd Maintenance and Cluster contract: endpoint status/health/hashkv, defrag, snapshot, alarms
// (NOSPACE under a tiny quota), member list, and a restart on the same data dir.
// Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS, rejectionMessage, suiteOptions, targets, uniquePrefix, useDatastore, withDatastore } from "../harness/contract.js";
import {
  fromBase64,
  toBigInt,
  type AlarmListJson,
  type EndpointHashKvJson,
  type EndpointHealthJson,
  type EndpointStatusJson,
  type MemberListJson,
  type PutJson,
  type RangeJson,
  type SnapshotStatusJson,
} from "../harness/etcdctl.js";

const opts = { timeout: TEST_TIMEOUT_MS };
/**
 * A quota etcd accepts and a test fills in ~15 puts of 100 KB: etcd's own floor is only a warning, and
 * the check is "backend size + request size > quota", so the put that would cross it fails.
 */
const TINY_QUOTA_BYTES = 1024 * 1024;
const FILL_VALUE_BYTES = 100 * 1000;
/** Bounds the fill loop: 1 MiB quota / 100 KB values needs ~15; far more means the quota is ignored. */
const FILL_PUTS_MAX = 60;
const SHA256_BYTES = 32;
/** etcdserverpb.AlarmType: NONE = 0, NOSPACE = 1, CORRUPT = 2. */
const ALARM_NOSPACE = 1;

for (const kind of targets()) {
  describe(`${kind}: maintenance`, suiteOptions(kind), () => {
    const target = useDatastore(kind);

    it("endpoint status reports version, db size, this member as leader, and raft indexes", opts, async () => {
      await target.ctl(["put", `${uniquePrefix("maint/status")}k`, "v"]);
      const [status, ...others] = await target.ctlJson<EndpointStatusJson[]>(["endpoint", "status"]);
      assert.equal(others.length, 0);
      assert.ok(status !== undefined);
      assert.equal(status.Endpoint, target.endpoint);
      const s = status.Status;
      assert.match(s.version ?? "", /^\d+\.\d+\.\d+/, "version is a semantic version");
      assert.ok((s.dbSize ?? 0) > 0, `dbSize ${s.dbSize}`);
      assert.ok((s.dbSizeInUse ?? 0) > 0 && (s.dbSizeInUse ?? 0) <= (s.dbSize ?? 0), `dbSizeInUse ${s.dbSizeInUse} of dbSize ${s.dbSize}`);
      assert.equal(toBigInt(s.leader), toBigInt(s.header.member_id), "a single member leads itself");
      assert.ok(toBigInt(s.header.member_id) !== 0n && toBigInt(s.header.cluster_id) !== 0n, "member and cluster IDs are set");
      assert.ok((s.raftTerm ?? 0) >= 1);
      assert.equal(s.header.raft_term, s.raftTerm);
      assert.ok((s.raftIndex ?? 0) >= 1);
      assert.ok((s.raftAppliedIndex ?? 0) >= 1 && (s.raftAppliedIndex ?? 0) <= (s.raftIndex ?? 0));
      assert.ok((s.header.revision ?? 0) >= 2, "the put above advanced the revision");
      assert.equal(s.errors, undefined, "no alarms");
      assert.equal(s.isLearner, undefined, "not a learner (false is omitted)");

      const text = await target.ctl(["endpoint", "status"]);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.startsWith(`${target.endpoint}, `));
    });

    it("endpoint health succeeds (etcdctl 3.4 prints the verdict to stderr)", opts, async () => {
      const text = await target.ctl(["endpoint", "health"]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, "");
      assert.match(text.stderr, new RegExp(`^${escapeRegExp(target.endpoint)} is healthy: successfully committed proposal: took = `, "m"));
      const json = await target.ctlJson<EndpointHealthJson[]>(["endpoint", "health"]);
      assert.equal(json.length, 1);
      assert.equal(json[0]!.endpoint, target.endpoint);
      assert.equal(json[0]!.health, true);
    });

    it("endpoint hashkv is stable without writes and changes after one", opts, async () => {
      const first = await target.ctlJson<EndpointHashKvJson[]>(["endpoint", "hashkv"]);
      const second = await target.ctlJson<EndpointHashKvJson[]>(["endpoint", "hashkv"]);
      assert.equal(first.length, 1);
      assert.equal(first[0]!.Endpoint, target.endpoint);
      const hash1 = first[0]!.HashKV.hash;
      assert.ok(typeof hash1 === "number" && hash1 > 0, `hash ${hash1}`);
      assert.equal(second[0]!.HashKV.hash, hash1);
      await target.ctl(["put", `${uniquePrefix("maint/hashkv")}k`, "v"]);
      const third = await target.ctlJson<EndpointHashKvJson[]>(["endpoint", "hashkv"]);
      assert.notEqual(third[0]!.HashKV.hash, hash1);
      const text = await target.ctl(["endpoint", "hashkv"]);
      assert.match(text.stdout, new RegExp(`^${escapeRegExp(target.endpoint)}, \\d+\\n$`));
    });

    it("defrag succeeds and keeps the data", opts, async () => {
      const key = `${uniquePrefix("maint/defrag")}k`;
      await target.ctl(["put", key, "survives"]);
      const res = await target.ctl(["defrag"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `Finished defragmenting etcd member[${target.endpoint}]\n`);
      const got = await target.ctlJson<RangeJson>(["get", key]);
      assert.equal(fromBase64(got.kvs?.[0]?.value), "survives");
    });

    it("snapshot save writes the db followed by its SHA-256", opts, async () => {
      await target.ctl(["put", `${uniquePrefix("maint/snapshot")}k`, "v"]);
      const revision = (await target.ctlJson<RangeJson>(["get", "maint-snapshot-probe"])).header.revision!;
      const file = join(target.process.dataDir, "contract-snapshot.db");
      const res = await target.ctl(["snapshot", "save", file]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `Snapshot saved at ${file}\n`);
      // The Snapshot stream is the db followed by the SHA-256 of the db; etcdctl 3.4 refuses to save a stream
      // whose length is not 512·k + 32 ("sha256 checksum not found [bytes: N]", exit 5).
      const bytes = readFileSync(file);
      assert.ok(bytes.length > SHA256_BYTES);
      assert.equal(bytes.length % 512, SHA256_BYTES, `snapshot length ${bytes.length}`);
      assert.deepEqual(bytes.subarray(bytes.length - SHA256_BYTES), createHash("sha256").update(bytes.subarray(0, bytes.length - SHA256_BYTES)).digest());
      // `snapshot status` opens the file locally as a bbolt database, so it checks etcd's on-disk format,
      // not the API. tk8s streams its own format through the same Snapshot RPC: etcd-only assertion.
      if (kind === "etcd") {
        const status = await target.ctlJson<SnapshotStatusJson>(["snapshot", "status", file]);
        assert.equal(status.revision, revision);
        assert.ok(status.totalKey > 0 && status.totalSize > 0 && status.hash > 0);
      }
    });

    it("alarm list is empty on a healthy member", opts, async () => {
      const res = await target.ctl(["alarm", "list"]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, "");
      const json = await target.ctlJson<AlarmListJson>(["alarm", "list"]);
      assert.equal(json.alarms, undefined);
    });

    it("member list shows the one member with its name and URLs", opts, async () => {
      const json = await target.ctlJson<MemberListJson>(["member", "list"]);
      assert.equal(json.members.length, 1);
      const member = json.members[0]!;
      assert.equal(toBigInt(member.ID), toBigInt(json.header.member_id));
      assert.deepEqual({ name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs, isLearner: member.isLearner }, {
        name: "default",
        peerURLs: [target.process.peerUrl],
        clientURLs: [target.endpoint],
        isLearner: undefined,
      });
      const text = await target.ctl(["member", "list"]);
      assert.equal(text.stdout, `${toBigInt(member.ID).toString(16)}, started, default, ${target.process.peerUrl}, ${target.endpoint}, false\n`);
    });

    it("a restart on the same data dir keeps keys and the revision, and the member leads in the next raft term", { timeout: HOOK_TIMEOUT_MS }, async () => {
      const key = `${uniquePrefix("maint/restart")}k`;
      const rev = (await target.ctlJson<PutJson>(["put", key, "durable"])).header.revision!;
      const termBefore = Number((await target.ctlJson<RangeJson>(["get", key])).header.raft_term);
      const pidBefore = target.process.pid;
      target.resetClient();
      await target.process.restart();
      assert.notEqual(target.process.pid, pidBefore);
      // A lone member elects itself again on every start: one term more.
      assert.equal(Number((await target.ctlJson<RangeJson>(["get", key])).header.raft_term), termBefore + 1);
      const got = await target.ctlJson<RangeJson>(["get", key]);
      assert.equal(fromBase64(got.kvs?.[0]?.value), "durable");
      assert.equal(got.header.revision, rev);
      const next = await target.ctlJson<PutJson>(["put", key, "again"]);
      assert.equal(next.header.revision, rev + 1);
    });

    it("a put past --quota-backend-bytes fails with 'database space exceeded' and raises NOSPACE; reads and deletes still work", { timeout: HOOK_TIMEOUT_MS }, async () => {
      await withDatastore(kind, async (small) => {
        const value = "x".repeat(FILL_VALUE_BYTES);
        let failure: { code: number; stderr: string } | null = null;
        let stored = 0;
        for (let i = 0; i < FILL_PUTS_MAX && failure === null; i++) {
          // The value goes through stdin: 100 KB is too long for a comfortable argv.
          const res = await small.ctl(["put", `fill/${i}`], { input: value });
          if (res.code === 0) stored += 1;
          else failure = res;
        }
        assert.ok(failure !== null, `${FILL_PUTS_MAX} puts of ${FILL_VALUE_BYTES} bytes fit in a ${TINY_QUOTA_BYTES}-byte quota`);
        assert.ok(stored >= 5, `only ${stored} puts fit before the quota error: ${failure.stderr}`);
        assert.equal(failure.code, 1);
        assert.match(failure.stderr, /^Error: etcdserver: mvcc: database space exceeded$/m);

        const alarms = await small.ctlJson<AlarmListJson>(["alarm", "list"]);
        const memberId = toBigInt((await small.ctlJson<MemberListJson>(["member", "list"])).header.member_id);
        assert.deepEqual((alarms.alarms ?? []).map((a) => ({ memberID: toBigInt(a.memberID), alarm: a.alarm })), [{ memberID: memberId, alarm: ALARM_NOSPACE }]);
        assert.equal((await small.ctl(["alarm", "list"])).stdout, `memberID:${memberId} alarm:NOSPACE \n`);
        const [status] = await small.ctlJson<EndpointStatusJson[]>(["endpoint", "status"]);
        assert.deepEqual(status?.Status.errors, [`memberID:${memberId} alarm:NOSPACE `]);

        // Under NOSPACE every write that can grow the db fails, however small: puts, txns with puts, lease grants.
        const tiny = await small.ctl(["put", "tiny", "x"]);
        assert.equal(tiny.code, 1);
        assert.match(tiny.stderr, /^Error: etcdserver: mvcc: database space exceeded$/m);
        assert.equal(await rejectionMessage(small.client.put("tiny").value("x").exec()), "8 RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded");
        const lease = await small.ctl(["lease", "grant", "60"]);
        assert.equal(lease.code, 1);
        assert.match(lease.stderr, /^Error: failed to grant lease \(etcdserver: mvcc: database space exceeded\)$/m);

        // Reads, read-only txns and deletes still work.
        const got = await small.ctlJson<RangeJson>(["get", "fill/0", "--keys-only"]);
        assert.equal(got.kvs?.length, 1);
        const readTxn = await small.ctl(["txn"], { input: "\nget fill/0 --keys-only\n\n\n" });
        assert.equal(readTxn.code, 0, readTxn.stderr);
        assert.ok(readTxn.stdout.startsWith("SUCCESS\n"));
        const del = await small.ctl(["del", "fill/0"]);
        assert.equal(del.code, 0, del.stderr);
        assert.equal(del.stdout, "1\n");

        // Disarming while still over quota only lasts until the next put raises the alarm again.
        const disarm = await small.ctl(["alarm", "disarm"]);
        assert.equal(disarm.code, 0, disarm.stderr);
        assert.equal(disarm.stdout, `memberID:${memberId} alarm:NOSPACE \n`);
        assert.equal((await small.ctl(["alarm", "list"])).stdout, "");
        const again = await small.ctl(["put", "fill/again"], { input: value });
        assert.equal(again.code, 1);
        assert.match(again.stderr, /etcdserver: mvcc: database space exceeded/);
        assert.equal((await small.ctl(["alarm", "list"])).stdout, `memberID:${memberId} alarm:NOSPACE \n`);
      }, { extraArgs: [`--quota-backend-bytes=${TINY_QUOTA_BYTES}`] });
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
