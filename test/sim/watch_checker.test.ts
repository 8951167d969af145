import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../../src/env/seeded_rng.js";
import type { History } from "./history.js";
import type { KvInput, KvOutput, KvWrite } from "./kv_model.js";
import { checkKvHistory } from "./kv_check.js";
import { generateKvHistory, uniform } from "./kv_history_gen.js";
import type { RecordedWatch, WatchEvent } from "./watch_checker.js";
import { checkWatches, resolveUnknownWrites } from "./watch_checker.js";

const writes: KvWrite[] = [
  { revision: 2, key: "a", type: "put", value: "x" },
  { revision: 3, key: "b", type: "put", value: "y" },
  { revision: 4, key: "a", type: "delete", value: null },
  { revision: 5, key: "a", type: "put", value: "z" },
];
const ev = (w: KvWrite): WatchEvent => ({ type: w.type, key: w.key, value: w.value, modRevision: w.revision });
const all = writes.map(ev);
const watch = (events: WatchEvent[], more: Partial<RecordedWatch> = {}): RecordedWatch =>
  ({ id: 1, key: "", rangeEnd: "\0", startRevision: 2, events, ...more });

const cases: { name: string; w: RecordedWatch; want: string[] }[] = [
  { name: "a watch of everything that delivers every write in order is fine", w: watch(all), want: [] },
  { name: "a watch of one key sees only that key's writes", w: watch([all[0]!, all[2]!, all[3]!], { key: "a", rangeEnd: undefined }), want: [] },
  { name: "a watch of a range [a, b) sees only a", w: watch([all[0]!, all[2]!, all[3]!], { key: "a", rangeEnd: "b" }), want: [] },
  { name: "a watch from a later start revision skips what came before", w: watch([all[2]!, all[3]!], { startRevision: 4 }), want: [] },
  { name: "an event delivered twice is caught", w: watch([all[0]!, all[1]!, all[1]!, all[2]!, all[3]!]), want: ["duplicate"] },
  { name: "events out of revision order are caught", w: watch([all[0]!, all[2]!, all[1]!, all[3]!]), want: ["out-of-order"] },
  { name: "a gap (a write never delivered) is caught", w: watch([all[0]!, all[2]!, all[3]!]), want: ["missed"] },
  { name: "a missed first event is caught", w: watch([all[1]!, all[2]!, all[3]!]), want: ["missed"] },
  { name: "trailing writes are missed only through completeThroughRevision", w: watch([all[0]!, all[1]!]), want: [] },
  { name: "trailing writes missed before completeThroughRevision are caught", w: watch([all[0]!, all[1]!], { completeThroughRevision: 5 }), want: ["missed", "missed"] },
  { name: "an event for a revision nobody wrote is caught", w: watch([...all, { type: "put", key: "a", value: "q", modRevision: 6 }]), want: ["phantom"] },
  { name: "an event whose value differs from the write is caught", w: watch([all[0]!, { ...all[1]!, value: "other" }, all[2]!, all[3]!]), want: ["mismatch"] },
  { name: "an event before the start revision is caught", w: watch(all.slice(0), { startRevision: 3 }), want: ["before-start"] },
  { name: "an event outside the watched range is caught", w: watch([all[0]!, all[1]!, all[2]!, all[3]!], { key: "a", rangeEnd: undefined }), want: ["out-of-range"] },
];
for (const c of cases) {
  test(`checkWatches: ${c.name}`, () => {
    assert.deepEqual(checkWatches([c.w], writes).map((v) => v.kind), c.want);
  });
}

test("checkWatches: a violation message names the write and the watch", () => {
  const [v] = checkWatches([watch([all[0]!, all[2]!, all[3]!])], writes);
  assert.match(v!.message, /put b="y" at revision 3 was never delivered \(watch keys >= "" from 2, complete through 5\)/);
});

test("watches fed from a generated run match the exact linearization's writes", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const rng = new SeededRng(seed);
    const g = generateKvHistory(rng, { operations: 150, clients: 4, keys: 3, failedRate: 0.05 });
    const r = checkKvHistory(g.history, { mode: "exact" });
    assert.equal(r.verdict, "ok", r.text);
    // A watch on one key from a random start, as the store (ground truth) delivers it.
    const start = 2 + uniform(rng, 20);
    const events = g.writes.filter((w) => w.key === "k1" && w.revision >= start).map(ev);
    const w: RecordedWatch = { id: seed, key: "k1", startRevision: start, events, completeThroughRevision: g.writes.at(-1)?.revision ?? 1 };
    assert.deepEqual(checkWatches([w], r.writes!), [], `SIM_SEED=${seed}`);
    if (events.length > 1) {
      const drop = uniform(rng, events.length);
      const dropped = { ...w, events: events.filter((_, i) => i !== drop) };
      assert.equal(checkWatches([dropped], r.writes!).length, 1, `SIM_SEED=${seed}`);
    }
  }
});

test("resolveUnknownWrites: a timed-out put seen by a watch becomes acknowledged at the watched revision", () => {
  const h: History<KvInput, KvOutput> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: Infinity, input: { kind: "put", key: "a", value: "x" }, output: undefined, outcome: "unknown" },
    { id: 1, clientId: 2, callTime: 0, returnTime: Infinity, input: { kind: "put", key: "a", value: "y" }, output: undefined, outcome: "unknown" },
    { id: 2, clientId: 3, callTime: 1, returnTime: 2, input: { kind: "put", key: "b", value: "z" }, output: { kind: "put", revision: 3 }, outcome: "ok" },
  ];
  const w: RecordedWatch = { id: 1, key: "a", startRevision: 1, events: [{ type: "put", key: "a", value: "x", modRevision: 2, deliveredTime: 5 }] };
  const resolved = resolveUnknownWrites(h, [w]);
  assert.deepEqual(resolved[0], { ...h[0], outcome: "ok", output: { kind: "put", revision: 2 }, returnTime: 5 });
  assert.equal(resolved[1], h[1]);
  assert.equal(resolved[2], h[2]);
  const r = checkKvHistory(resolved, { mode: "exact" });
  assert.equal(r.verdict, "ok", r.text);
  assert.deepEqual(r.writes?.slice(0, 2), [
    { revision: 2, key: "a", type: "put", value: "x" },
    { revision: 3, key: "b", type: "put", value: "z" },
  ]);
  assert.deepEqual(checkWatches([w], r.writes!), []);
});

test("resolveUnknownWrites: a value written by two timed-out operations stays unknown", () => {
  const h: History<KvInput, KvOutput> = [0, 1].map((id) => ({
    id, clientId: id, callTime: 0, returnTime: Infinity, input: { kind: "put", key: "a", value: "x" }, output: undefined, outcome: "unknown",
  }));
  const w: RecordedWatch = { id: 1, key: "a", startRevision: 1, events: [{ type: "put", key: "a", value: "x", modRevision: 2 }] };
  assert.deepEqual(resolveUnknownWrites(h, [w]), h);
});

test("checkKvHistory with watches: timed-out writes are placed where the watches saw them, in both modes", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new SeededRng(seed);
    const g = generateKvHistory(rng, { operations: 150, clients: 4, keys: 3, unknownRate: 0.15, failedRate: 0.05 });
    const last = g.writes.at(-1)?.revision ?? 1;
    const w: RecordedWatch = { id: 1, key: "", rangeEnd: "\0", startRevision: 2, events: g.writes.map(ev), completeThroughRevision: last };
    const exact = checkKvHistory(g.history, { mode: "exact", watches: [w] });
    assert.equal(exact.verdict, "ok", `SIM_SEED=${seed}\n${exact.text}`);
    assert.deepEqual(exact.writes!.filter((x) => x.revision <= last), g.writes, `SIM_SEED=${seed}`);
    const partitioned = checkKvHistory(g.history, { mode: "partitioned", watches: [w] });
    assert.equal(partitioned.verdict, "ok", `SIM_SEED=${seed}\n${partitioned.text}`);
  }
});

test("checkKvHistory with watches: a watch that skips an acknowledged write fails the run in both modes", () => {
  const g = generateKvHistory(new SeededRng(3), { operations: 80, clients: 3, keys: 2 });
  const acked = g.history.find((op) => op.outcome === "ok" && op.output!.kind === "put")!;
  const skipped = (acked.output as { revision: number }).revision;
  const w: RecordedWatch = { id: 7, key: "", rangeEnd: "\0", startRevision: 2, events: g.writes.filter((x) => x.revision !== skipped).map(ev) };
  for (const mode of ["exact", "partitioned"] as const) {
    const r = checkKvHistory(g.history, { mode, watches: [w] });
    assert.equal(r.verdict, "illegal", mode);
    assert.deepEqual(r.watchViolations.map((v) => [v.watchId, v.kind]), [[7, "missed"]], mode);
    assert.match(r.text, new RegExp(`watch 7 missed: .* at revision ${skipped} was never delivered`));
  }
});

test("checkKvHistory with watches: a watch event that contradicts the clients is caught", () => {
  const h: History<KvInput, KvOutput> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: 1, input: { kind: "put", key: "a", value: "x" }, output: { kind: "put", revision: 2 }, outcome: "ok" },
  ];
  const w: RecordedWatch = { id: 1, key: "a", startRevision: 2, events: [{ type: "put", key: "a", value: "q", modRevision: 2 }] };
  assert.equal(checkKvHistory(h, { mode: "exact", watches: [w] }).verdict, "illegal");
  const partitioned = checkKvHistory(h, { mode: "partitioned", watches: [w] });
  assert.deepEqual(partitioned.watchViolations.map((v) => v.kind), ["mismatch"]);
});

test("checkKvHistory with watches: a timed-out delete the watch saw last must be in the linearization", () => {
  const h: History<KvInput, KvOutput> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: 1, input: { kind: "put", key: "a", value: "x" }, output: { kind: "put", revision: 2 }, outcome: "ok" },
    { id: 1, clientId: 1, callTime: 2, returnTime: Infinity, input: { kind: "delete", key: "a" }, output: undefined, outcome: "unknown" },
  ];
  const w: RecordedWatch = { id: 1, key: "a", startRevision: 2, events: [
    { type: "put", key: "a", value: "x", modRevision: 2 }, { type: "delete", key: "a", value: null, modRevision: 3 },
  ] };
  const r = checkKvHistory(h, { mode: "exact", watches: [w] });
  assert.equal(r.verdict, "ok", r.text);
  assert.deepEqual(r.writes?.map((x) => [x.revision, x.type]), [[2, "put"], [3, "delete"]]);
});

test("checkKvHistory with watches: a watched revision no operation could have written is caught", () => {
  const h: History<KvInput, KvOutput> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: 1, input: { kind: "put", key: "a", value: "x" }, output: { kind: "put", revision: 2 }, outcome: "ok" },
  ];
  const w: RecordedWatch = { id: 1, key: "a", startRevision: 2, events: [
    { type: "put", key: "a", value: "x", modRevision: 2 }, { type: "delete", key: "a", value: null, modRevision: 3 },
  ] };
  const r = checkKvHistory(h, { mode: "exact", watches: [w] });
  assert.equal(r.verdict, "illegal");
  assert.match(r.text, /no order ends in an accepted state: the store reaches revision 3, the last a watch delivered/);
});

test("resolveUnknownWrites: a timed-out put that a complete watch of its key never delivered did not happen", () => {
  const h: History<KvInput, KvOutput> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: Infinity, input: { kind: "put", key: "a", value: "x" }, output: undefined, outcome: "unknown" },
    { id: 1, clientId: 2, callTime: 0, returnTime: Infinity, input: { kind: "put", key: "b", value: "y" }, output: undefined, outcome: "unknown" },
  ];
  const events: WatchEvent[] = [{ type: "put", key: "b", value: "y", modRevision: 2 }];
  const complete: RecordedWatch = { id: 1, key: "a", rangeEnd: "c", startRevision: 2, events, completeThroughRevision: 2 };
  assert.deepEqual(resolveUnknownWrites(h, [complete]).map((op) => op.outcome), ["failed", "ok"]);
  // Not complete through the highest revision seen, or started late: it proves nothing about "a".
  assert.deepEqual(resolveUnknownWrites(h, [{ ...complete, completeThroughRevision: 1 }]).map((op) => op.outcome), ["unknown", "ok"]);
  assert.deepEqual(resolveUnknownWrites(h, [{ ...complete, startRevision: 3, events: [] }]).map((op) => op.outcome), ["unknown", "unknown"]);
});
