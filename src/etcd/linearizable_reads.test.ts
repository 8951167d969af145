import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../env/manual_clock.js";
import { LinearizableReads } from "./linearizable_reads.js";

function setup() {
  const clock = new ManualClock();
  const asked: Uint8Array[] = [];
  let applied = 0;
  const reads = new LinearizableReads({ requestReadIndex: (ctx) => void asked.push(ctx), appliedIndex: () => applied }, clock, { timeoutMs: 7000, retryMs: 500 });
  return { clock, asked, reads, setApplied: (n: number) => (applied = n) };
}

const settled = async <T>(p: Promise<T>): Promise<"pending" | "resolved" | string> => {
  const r = await Promise.race([p.then(() => "resolved", (e: Error) => e.message), new Promise<"pending">((r) => setImmediate(() => r("pending")))]);
  return r;
};

test("a read waits for its ReadIndex answer and then for the local state to reach that index", async () => {
  const { asked, reads, setApplied } = setup();
  const p = reads.wait();
  assert.equal(asked.length, 1);
  reads.onReadStates([{ index: 10, requestCtx: asked[0]! }]);
  assert.equal(await settled(p), "pending", "applied is still 0");
  setApplied(10);
  reads.onApplied();
  assert.equal(await settled(p), "resolved");
});

test("reads arriving while one request is in flight share the next request", async () => {
  const { asked, reads, setApplied } = setup();
  setApplied(100);
  const first = reads.wait();
  const second = reads.wait();
  const third = reads.wait();
  assert.equal(asked.length, 1, "one request in flight at a time");
  reads.onReadStates([{ index: 5, requestCtx: asked[0]! }]);
  assert.equal(await settled(first), "resolved");
  assert.equal(asked.length, 2, "the reads that came later go in one more request");
  assert.equal(await settled(second), "pending", "a read is never served by a request sent before it arrived");
  reads.onReadStates([{ index: 6, requestCtx: asked[1]! }]);
  assert.equal(await settled(second), "resolved");
  assert.equal(await settled(third), "resolved");
});

test("an unanswered request is sent again; a stale answer to the old context serves nothing", async () => {
  const { clock, asked, reads, setApplied } = setup();
  setApplied(50);
  const p = reads.wait();
  clock.advance(500);
  assert.equal(asked.length, 2, "retried after 500 ms");
  reads.onReadStates([{ index: 1, requestCtx: asked[0]! }]);
  assert.equal(await settled(p), "pending");
  reads.onReadStates([{ index: 1, requestCtx: asked[1]! }]);
  assert.equal(await settled(p), "resolved");
});

test("a read no leader ever confirms fails with etcd's timeout; stopping fails the rest", async () => {
  const { clock, reads } = setup();
  const p = reads.wait();
  clock.advance(7000);
  assert.equal(await settled(p), "etcdserver: request timed out");
  const q = reads.wait();
  reads.stop();
  assert.equal(await settled(q), "etcdserver: server stopped");
  await assert.rejects(reads.wait(), /server stopped/);
});
