import { test } from "node:test";
import assert from "node:assert/strict";
import { SimCluster } from "./cluster.js";
import { RaftKvMember } from "./raft_kv_member.js";
import type { SimMemberFactory } from "./sim_member.js";

test("each member start gets a random stream unrelated to the others' (not the same sequence shifted)", async () => {
  const draws: number[][] = [];
  const factory: SimMemberFactory = {
    name: "recording",
    async start(ctx) {
      // Election timeouts are drawn modulo the election tick: compare what raft would see.
      const seq = Array.from({ length: 24 }, () => ctx.rng.nextU32() % 10);
      draws.push(seq);
      return RaftKvMember.start(ctx);
    },
  };
  const c = new SimCluster({ seed: 100828, members: 5, factory });
  await c.start();
  c.crash(c.slots[0]!);
  await c.restart(c.slots[0]!);
  assert.equal(draws.length, 6);
  for (let a = 0; a < draws.length; a++) {
    for (let b = 0; b < draws.length; b++) {
      if (a === b) continue;
      for (let shift = 0; shift <= 3; shift++) {
        const x = draws[a]!.slice(shift).join("");
        const y = draws[b]!.slice(0, 24 - shift).join("");
        assert.notEqual(x, y, `start ${a} is start ${b}'s stream shifted by ${shift}`);
      }
    }
  }
  for (const s of c.up()) s.member!.crash();
});

test("a crash stops the member and loses its unsynced bytes; a restart brings it back on what survived", async () => {
  const c = new SimCluster({ seed: 7, members: 3, factory: { name: "raft-core", start: (ctx) => RaftKvMember.start(ctx) } });
  await c.start();
  assert.equal(await c.runUntil(() => c.leader() !== null, 5_000), true, "a leader is elected");
  const slot = c.slots[1]!;
  await slot.fs.mkdirp("/scratch");
  const f = await slot.fs.openAppend("/scratch/file");
  await f.append(new Uint8Array([1, 2, 3]));
  c.crash(slot);
  assert.equal(slot.member, null);
  assert.equal(slot.crashes, 1);
  assert.equal(await slot.fs.exists("/scratch/file"), false, "an unsynced create is gone");
  await c.restart(slot);
  assert.notEqual(slot.member, null);
  assert.equal(await c.runUntil(() => c.slots.every((s) => s.member!.leaderId() !== 0n && s.member!.leaderId() === c.leader()?.id), 5_000), true, "the restarted member follows the leader");
  for (const s of c.up()) s.member!.crash();
});

test("an exception thrown out of a timer ends the run and is reported instead of killing the process", async () => {
  const c = new SimCluster({ seed: 1, members: 3, factory: { name: "raft-core", start: (ctx) => RaftKvMember.start(ctx) } });
  await c.start();
  c.clock.setTimer(5, () => {
    throw new Error("boom");
  });
  assert.equal(await c.runUntil(() => false, 100), false);
  assert.equal(c.aborted, true);
  assert.match(c.errors[0]!, /threw at 5 ms: Error: boom/);
  for (const s of c.up()) s.member!.crash();
});
