import { test } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../../src/util/assert.js";
import { HistoryRecorder } from "./history.js";

test("HistoryRecorder: records ok, failed, timed-out and still-pending operations in call order", () => {
  const rec = new HistoryRecorder<string, number>();
  const a = rec.invoke(1, "a", 0);
  const b = rec.invoke(2, "b", 1);
  const c = rec.invoke(3, "c", 1);
  const d = rec.invoke(4, "d", 2);
  rec.ok(b, 7, 3);
  rec.timeout(a, 4);
  rec.fail(c, 5);
  assert.deepEqual(rec.history(), [
    { id: a, clientId: 1, callTime: 0, returnTime: Infinity, input: "a", output: undefined, outcome: "unknown" },
    { id: b, clientId: 2, callTime: 1, returnTime: 3, input: "b", output: 7, outcome: "ok" },
    { id: c, clientId: 3, callTime: 1, returnTime: 5, input: "c", output: undefined, outcome: "failed" },
    { id: d, clientId: 4, callTime: 2, returnTime: Infinity, input: "d", output: undefined, outcome: "unknown" },
  ]);
});

test("HistoryRecorder: a client may invoke again once its operation has returned", () => {
  const rec = new HistoryRecorder<string, number>();
  rec.ok(rec.invoke(1, "a", 0), 1, 1);
  rec.ok(rec.invoke(1, "b", 1), 2, 2);
  assert.equal(rec.history().length, 2);
});

const misuse: { name: string; run: (rec: HistoryRecorder<string, number>) => void }[] = [
  { name: "a client with an operation in flight cannot invoke another", run: (r) => { r.invoke(1, "a", 0); r.invoke(1, "b", 1); } },
  { name: "time cannot go backwards", run: (r) => { r.invoke(1, "a", 5); r.invoke(2, "b", 4); } },
  { name: "an operation cannot complete twice", run: (r) => { const id = r.invoke(1, "a", 0); r.ok(id, 1, 1); r.ok(id, 1, 2); } },
  { name: "time must be finite", run: (r) => { r.invoke(1, "a", Infinity); } },
  { name: "the history is bounded", run: (r) => { for (let i = 0; i < 3; i++) r.ok(r.invoke(1, "a", i), 1, i); } },
];
for (const c of misuse) {
  test(`HistoryRecorder: ${c.name}`, () => {
    assert.throws(() => c.run(new HistoryRecorder<string, number>({ operationsMax: 2 })), AssertionError);
  });
}
