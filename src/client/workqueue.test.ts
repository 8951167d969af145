import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue, WorkQueueFullError } from "./workqueue.js";

test("WorkQueue: a key added twice before it is taken is handed out once", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  q.add("b");
  q.add("a");
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(q.len(), 0);
});

test("WorkQueue: a key added while it is processed is not handed out again until done", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  const first = await q.get();
  assert.equal(first, "a");
  q.add("a");
  assert.equal(q.len(), 0, "a second worker must not get the key being processed");
  assert.equal(q.tryGet(), undefined);
  q.done("a");
  assert.equal(q.len(), 1, "the change seen while processing is processed once more");
  assert.equal(await q.get(), "a");
  q.done("a");
  assert.equal(q.len(), 0);
});

test("WorkQueue: a waiting get() is woken by add, and in order of waiting", async () => {
  const q = new WorkQueue<string>();
  const g1 = q.get();
  const g2 = q.get();
  q.add("x");
  q.add("y");
  assert.deepEqual(await Promise.all([g1, g2]), ["x", "y"]);
});

test("WorkQueue: a key re-added during processing wakes a waiting worker at done()", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  await q.get();
  const waiting = q.get();
  q.add("a");
  q.done("a");
  assert.equal(await waiting, "a");
});

test("WorkQueue: shutDown wakes blocked workers with undefined and ignores later adds", async () => {
  const q = new WorkQueue<string>();
  const blocked = q.get();
  q.shutDown();
  assert.equal(await blocked, undefined);
  q.add("late");
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), undefined);
  assert.equal(q.shuttingDown(), true);
});

test("WorkQueue: keys queued before shutDown are still handed out", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  q.shutDown();
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), undefined);
});

test("WorkQueue: shutDownWithDrain waits for keys being processed", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  await q.get();
  let drained = false;
  const d = q.shutDownWithDrain().then(() => (drained = true));
  await Promise.resolve();
  assert.equal(drained, false);
  q.done("a");
  await d;
  assert.equal(drained, true);
});

test("WorkQueue: at its bound a new key is refused with an error and counted", async () => {
  const q = new WorkQueue<string>({ name: "test", itemsMax: 2 });
  q.add("a");
  q.add("b");
  q.add("a"); // already dirty: no new slot needed
  assert.throws(() => q.add("c"), (err: unknown) => err instanceof WorkQueueFullError && /work queue "test": it holds 2 items, the maximum/.test(err.message));
  assert.equal(q.metrics().dropped, 1);
  // A key being processed may be marked dirty again: it already has its slot.
  await q.get();
  q.add("a");
  q.done("a");
  assert.equal(q.len(), 2);
});

test("WorkQueue: many keys in and out leave nothing behind", async () => {
  const q = new WorkQueue<number>();
  for (let i = 0; i < 5000; i++) q.add(i);
  for (let i = 0; i < 5000; i++) {
    const k = await q.get();
    assert.equal(k, i);
    q.done(k!);
  }
  assert.equal(q.len(), 0);
  assert.deepEqual(q.metrics(), { depth: 0, adds: 5000, retries: 0, dropped: 0 });
});
