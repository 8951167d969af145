/**
 * The fixed batch CI runs: seeds on 3, 5 and 7 members, for the pure Raft core and for the real
 * EtcdServer, with every fault on, which must show no violation and must have done real work
 * (elections, crashes, snapshots, acknowledged writes); a seed replays exactly; and members with
 * deliberate bugs are caught, so a quiet batch means something.
 * `SIM_SEEDS=n` widens the batch (per cluster size).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSeed, type RunResult } from "./run.js";
import { buggyRaftKvMemberFactory, raftKvMemberFactory } from "./raft_kv_member.js";
import { etcdMemberFactory } from "./etcd_member.js";
import type { SimMemberFactory } from "./sim_member.js";

const SEEDS = Number(process.env["SIM_SEEDS"] ?? 60);

function describe(r: RunResult): string {
  return `SIM_SEED=${r.seed}\n${r.violations.join("\n")}`;
}

/** Seeds that found bugs in the real member once; they must stay fixed. */
const REGRESSIONS: readonly { seed: number; members: number; bug: string }[] = [
  { seed: 54, members: 3, bug: "a forwarded MsgProp reaching a member with no leader threw out of the transport's callback" },
  { seed: 152, members: 3, bug: "the same for a forwarded MsgReadIndex" },
  { seed: 115, members: 3, bug: "restart asserted: the WAL's synced commit index (99) trailed the durable snapshot (100)" },
  { seed: 133, members: 7, bug: "the same restart assertion on 7 members" },
  { seed: 5, members: 7, bug: "a forwarded MsgProp threw (7 members)" },
];

/** Seeds per cluster size; the real member is slower (protobuf, MVCC, WAL), so it runs fewer. */
const BATCHES: readonly { factory: SimMemberFactory; sizes: readonly (readonly [number, number])[] }[] = [
  { factory: raftKvMemberFactory, sizes: [[3, SEEDS], [5, Math.ceil(SEEDS / 2)], [7, Math.ceil(SEEDS / 3)]] },
  { factory: etcdMemberFactory, sizes: [[3, Math.ceil(SEEDS / 2)], [5, Math.ceil(SEEDS / 6)], [7, Math.ceil(SEEDS / 10)]] },
];

for (const { factory, sizes } of BATCHES) {
  for (const [members, seeds] of sizes) {
    test(`${factory.name}: ${seeds} seeds on ${members} members with crashes, partitions, drops, duplicates, delays and disk errors show no violation`, async () => {
      const totals = { ok: 0, elections: 0, crashes: 0, snapshots: 0, unknown: 0 };
      for (let seed = 1; seed <= seeds; seed++) {
        const r = await runSeed({ seed: factory === raftKvMemberFactory ? seed * 1000 + members : seed, members, factory });
        assert.deepEqual(r.violations, [], describe(r));
        assert.notEqual(r.checkMode, "unknown", `SIM_SEED=${r.seed}: the history checker could not decide`);
        totals.ok += r.ok;
        totals.elections += r.elections;
        totals.crashes += r.crashes;
        totals.snapshots += r.snapshotsSent;
        totals.unknown += r.unknown;
      }
      // Not vacuous: the batch did what it claims to test.
      assert.ok(totals.ok > seeds * 30, `only ${totals.ok} acknowledged operations`);
      assert.ok(totals.elections > seeds, `only ${totals.elections} leaders elected`);
      assert.ok(totals.crashes > seeds / 2, `only ${totals.crashes} crashes`);
      assert.ok(totals.unknown > 0, "no request ever timed out: faults never hit a request in flight");
      // The real member keeps 5000 entries behind a snapshot (etcd's catch-up entries), so short runs rarely need one.
      if (factory === raftKvMemberFactory && members === 3) assert.ok(totals.snapshots > 0, "no follower was ever caught up by snapshot");
    });
  }
}

for (const k of REGRESSIONS) {
  test(`etcd: SIM_SEED=${k.seed} on ${k.members} members stays fixed (${k.bug})`, async () => {
    const r = await runSeed({ seed: k.seed, members: k.members, factory: etcdMemberFactory });
    assert.deepEqual(r.violations, [], describe(r));
  });
}

test("a seed replays exactly: the same trace hash and results twice, another seed differs", async () => {
  for (const factory of [raftKvMemberFactory, etcdMemberFactory]) {
    const a = await runSeed({ seed: 4242, members: 5, factory });
    const b = await runSeed({ seed: 4242, members: 5, factory });
    const c = await runSeed({ seed: 4243, members: 5, factory });
    assert.equal(a.traceHash, b.traceHash, factory.name);
    assert.deepEqual({ ...a, traceTail: [] }, { ...b, traceTail: [] });
    assert.deepEqual(a.traceTail, b.traceTail);
    assert.notEqual(a.traceHash, c.traceHash);
  }
});

test("members that answer reads from local state without ReadIndex are caught serving stale reads", async () => {
  const factory = buggyRaftKvMemberFactory({ staleReads: true });
  const caught: number[] = [];
  for (let seed = 1; seed <= 10; seed++) {
    const r = await runSeed({ seed, members: 3, factory });
    if (r.violations.some((v) => v.startsWith("history"))) caught.push(seed);
  }
  assert.ok(caught.length >= 2, `stale reads caught in only ${caught.length} of 10 seeds`);
});

test("members that do not persist their vote and term are caught by the Raft checkers", async () => {
  const factory = buggyRaftKvMemberFactory({ volatileHardState: true });
  const caught: number[] = [];
  for (let seed = 1; seed <= 5; seed++) {
    const r = await runSeed({ seed, members: 3, factory });
    if (r.violations.some((v) => v.startsWith("raft ") || v.startsWith("member:"))) caught.push(seed);
  }
  assert.ok(caught.length >= 3, `lost hard state caught in only ${caught.length} of 5 seeds`);
});
