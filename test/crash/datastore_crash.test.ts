/**
 * kill -9 the datastore while clients write, restart it, and check that every write a client saw
 * acknowledged is there with its value, and that revisions never go backwards. Repeated for many cycles.
 * CRASH_CYCLES (default 6) sets how many; `CRASH_CYCLES=50 npm run crash` runs a longer batch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDatastore } from "../harness/datastore_process.js";
import { rawEtcdClient } from "../harness/grpc_client.js";

const CYCLES = Number(process.env.CRASH_CYCLES ?? "6");
const WRITERS = 16;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test(`every acknowledged write survives ${CYCLES} kill -9 cycles and revisions never go backwards`, { timeout: 60_000 + CYCLES * 15_000 }, async (t) => {
  // A small snapshot count makes cycles cross snapshots and WAL segment releases too.
  const ds = await startDatastore("tk8s", { extraArgs: ["--snapshot-count=500"] });
  const acked = new Map<string, { value: string; revision: number }>();
  let maxAckedRevision = 0;
  let seq = 0;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const client = rawEtcdClient(ds.clientUrl, 3000);
      let stop = false;
      const writer = async (w: number): Promise<void> => {
        while (!stop) {
          const key = `crash/${w}/${seq++}`;
          const value = `v-${cycle}-${key}`;
          try {
            const { revision } = await client.put(key, value);
            acked.set(key, { value, revision });
            maxAckedRevision = Math.max(maxAckedRevision, revision);
          } catch {
            return; // the server died under us: this write was not acknowledged
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      // Compactions run during the load too, so kills also land in their background removal.
      await delay(150);
      if (maxAckedRevision > 200) await client.unary("KV", "Compact", { revision: String(maxAckedRevision - 100) }).catch(() => {});
      await delay(150 + ((cycle * 137) % 500));
      await ds.stop("SIGKILL");
      stop = true;
      await Promise.all(writers);
      client.close();
      await ds.restart();

      const check = rawEtcdClient(ds.clientUrl, 5000);
      try {
        const { count, revision } = await check.rangeCount("crash/");
        assert.ok(revision >= maxAckedRevision, `cycle ${cycle}: revision after restart ${revision} is behind an acknowledged write at ${maxAckedRevision}`);
        assert.ok(count >= acked.size, `cycle ${cycle}: ${count} keys after restart, but ${acked.size} writes were acknowledged`);
        for (const [key, want] of acked) {
          const got = await check.get(key);
          assert.ok(got !== null, `cycle ${cycle}: acknowledged key ${key} (revision ${want.revision}) is missing after restart`);
          assert.equal(got.value, want.value, `cycle ${cycle}: ${key} has the wrong value`);
          assert.equal(got.modRevision, want.revision, `cycle ${cycle}: ${key} moved revision`);
        }
      } finally {
        check.close();
      }
    }
    const probe = rawEtcdClient(ds.clientUrl, 5000);
    try {
      await assert.rejects(probe.unary("KV", "Range", { key: Buffer.from("crash/"), revision: "2" }), /required revision has been compacted/, "no compaction took effect during the load");
    } finally {
      probe.close();
    }
    t.diagnostic(`${acked.size} acknowledged writes checked after ${CYCLES} kill -9 restarts; last revision ${maxAckedRevision}`);
    assert.ok(acked.size > CYCLES * WRITERS, `the load acknowledged only ${acked.size} writes: the test did not exercise anything`);
  } finally {
    await ds.stop();
  }
});
