import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { SeededRng } from "../../src/env/seeded_rng.js";
import type { History, Operation } from "./history.js";
import type { KvCompare, KvInput, KvOutput } from "./kv_model.js";
import { newKvModel } from "./kv_model.js";
import { checkKvHistory } from "./kv_check.js";
import { generateKvHistory, mutateKvHistory } from "./kv_history_gen.js";
import { checkLinearizability, formatExplanation } from "./linearizability.js";
import type { Model } from "./linearizability.js";

// A tiny notation for hand-written histories: ids are assigned in order.
type Spec = Omit<Operation<KvInput, KvOutput>, "id">;
const put = (key: string, value: string): KvInput => ({ kind: "put", key, value });
const get = (key: string): KvInput => ({ kind: "get", key });
const del = (key: string): KvInput => ({ kind: "delete", key });
const cas = (key: string, compare: KvCompare, value: string): KvInput => ({ kind: "cas", key, compare, value });
const rev = (revision: number): KvOutput => ({ kind: "put", revision });
const saw = (value: string | null, modRevision: number, revision?: number): KvOutput =>
  revision === undefined ? { kind: "get", value, modRevision } : { kind: "get", value, modRevision, revision };
const deleted = (n: number, revision?: number): KvOutput => (revision === undefined ? { kind: "delete", deleted: n } : { kind: "delete", deleted: n, revision });
const casOut = (succeeded: boolean, revision?: number): KvOutput => (revision === undefined ? { kind: "cas", succeeded } : { kind: "cas", succeeded, revision });
const ok = (clientId: number, callTime: number, returnTime: number, input: KvInput, output: KvOutput): Spec =>
  ({ clientId, callTime, returnTime, input, output, outcome: "ok" });
const timedOut = (clientId: number, callTime: number, input: KvInput): Spec =>
  ({ clientId, callTime, returnTime: Infinity, input, output: undefined, outcome: "unknown" });
const failed = (clientId: number, callTime: number, returnTime: number, input: KvInput): Spec =>
  ({ clientId, callTime, returnTime, input, output: undefined, outcome: "failed" });
const history = (...specs: Spec[]): History<KvInput, KvOutput> => specs.map((s, id) => ({ id, ...s }));

type Verdict = "ok" | "illegal";
const cases: { name: string; h: History<KvInput, KvOutput>; exact: Verdict; partitioned: Verdict }[] = [
  {
    name: "a read after a completed write sees it",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(2, 2, 3, get("a"), saw("x", 2))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a stale read after a completed write is caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(2, 2, 3, get("a"), saw(null, 0))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a lost write (a read returns the value it overwrote) is caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, put("a", "y"), rev(3)), ok(2, 4, 5, get("a"), saw("x", 2))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a read of a value never written is caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(2, 2, 3, get("a"), saw("z", 2))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "concurrent writes linearized in call order are fine",
    h: history(ok(1, 0, 10, put("a", "x"), rev(2)), ok(2, 1, 9, put("a", "y"), rev(3)), ok(3, 11, 12, get("a"), saw("y", 3))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "concurrent writes linearized in the other order are fine",
    h: history(ok(1, 0, 10, put("a", "x"), rev(3)), ok(2, 1, 9, put("a", "y"), rev(2)), ok(3, 11, 12, get("a"), saw("x", 3))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "two readers seeing concurrent writes in opposite orders are caught",
    h: history(
      ok(1, 0, 10, put("a", "x"), rev(2)), ok(2, 0, 10, put("a", "y"), rev(3)),
      ok(3, 1, 2, get("a"), saw("x", 2)), ok(3, 3, 4, get("a"), saw("y", 3)),
      ok(4, 1, 2, get("a"), saw("y", 3)), ok(4, 3, 4, get("a"), saw("x", 2)),
    ),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "events at the same tick are concurrent",
    h: history(ok(1, 0, 5, put("a", "x"), rev(2)), ok(2, 5, 6, get("a"), saw(null, 0))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "an unknown-outcome write may show up later",
    h: history(timedOut(1, 0, put("a", "x")), ok(2, 5, 6, get("a"), saw("x", 2))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "an unknown-outcome write may never happen",
    h: history(timedOut(1, 0, put("a", "x")), ok(2, 5, 6, get("a"), saw(null, 0)), ok(2, 7, 8, get("a"), saw(null, 0))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "an unknown-outcome write may take effect after a later write",
    h: history(timedOut(1, 0, put("a", "x")), ok(2, 1, 2, put("a", "y"), rev(2)), ok(2, 3, 4, get("a"), saw("x", 3))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "an unknown-outcome write seen and then gone without a delete is caught",
    h: history(timedOut(1, 0, put("a", "x")), ok(2, 5, 6, get("a"), saw("x", 2)), ok(2, 7, 8, get("a"), saw(null, 0))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "an unknown-outcome write cannot take effect before its call",
    h: history(ok(2, 0, 1, get("a"), saw("x", 2)), timedOut(1, 2, put("a", "x"))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a read that timed out says nothing",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), timedOut(2, 2, get("a"))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a failed write definitely did not happen",
    h: history(failed(1, 0, 1, put("a", "x")), ok(2, 2, 3, get("a"), saw("x", 2))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a failed write leaves the key as it was",
    h: history(failed(1, 0, 1, put("a", "x")), ok(2, 2, 3, get("a"), saw(null, 0))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a cas race with one winner is fine",
    h: history(
      ok(1, 0, 10, cas("a", { target: "value", value: null }, "x"), casOut(true, 2)),
      ok(2, 1, 9, cas("a", { target: "value", value: null }, "y"), casOut(false, 2)),
      ok(3, 11, 12, get("a"), saw("x", 2)),
    ),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a cas race with two create-if-absent winners is caught",
    h: history(
      ok(1, 0, 10, cas("a", { target: "value", value: null }, "x"), casOut(true)),
      ok(2, 1, 9, cas("a", { target: "value", value: null }, "y"), casOut(true)),
    ),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a cas race on the same modRevision with two winners is caught",
    h: history(
      ok(1, 0, 1, put("a", "x"), rev(2)),
      ok(1, 2, 10, cas("a", { target: "modRevision", modRevision: 2 }, "y"), casOut(true, 3)),
      ok(2, 2, 9, cas("a", { target: "modRevision", modRevision: 2 }, "z"), casOut(true, 4)),
    ),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a cas that lost to an unknown-outcome write is fine",
    h: history(
      timedOut(1, 0, put("a", "x")),
      ok(2, 1, 2, cas("a", { target: "value", value: null }, "y"), casOut(false)),
    ),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a cas cannot fail with nothing to fail against",
    h: history(ok(2, 1, 2, cas("a", { target: "value", value: null }, "y"), casOut(false))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a delete removes the key and a delete of nothing counts zero",
    h: history(
      ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, del("a"), deleted(1, 3)),
      ok(1, 4, 5, del("a"), deleted(0, 3)), ok(2, 6, 7, get("a"), saw(null, 0, 3)),
    ),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a delete that reports a key it could not have seen is caught",
    h: history(ok(1, 0, 1, del("a"), deleted(1))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "two writes with one revision are caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, put("b", "y"), rev(2))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "revisions against real time are caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(3)), ok(1, 2, 3, put("b", "y"), rev(2))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a revision gap no write could fill is caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, put("b", "y"), rev(4))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    name: "a revision gap filled by an unknown-outcome write is fine",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), timedOut(2, 1, put("c", "z")), ok(1, 2, 3, put("b", "y"), rev(4))),
    exact: "ok", partitioned: "ok",
  },
  {
    name: "a read's header revision behind a completed write is caught",
    h: history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(2, 2, 3, get("b"), saw(null, 0, 1))),
    exact: "illegal", partitioned: "illegal",
  },
  {
    // Reading x after rev 4 forces rev 3 (y=b) to be in the past, so y cannot still read a.
    // Only the exact model sees it: each key alone is fine and the writes are concurrent.
    name: "a cross-key stale read that only revisions reveal is caught by the exact model alone",
    h: history(
      ok(1, 0, 1, put("y", "a"), rev(2)),
      ok(2, 2, 20, put("y", "b"), rev(3)), ok(3, 2, 20, put("x", "c"), rev(4)),
      ok(4, 5, 6, get("x"), saw("c", 4)), ok(4, 7, 8, get("y"), saw("a", 2)),
    ),
    exact: "illegal", partitioned: "ok",
  },
];

for (const c of cases) {
  for (const mode of ["exact", "partitioned"] as const) {
    test(`checkKvHistory (${mode}): ${c.name}`, () => {
      const r = checkKvHistory(c.h, { mode });
      assert.equal(r.verdict, c[mode], r.text);
      assert.equal(r.mode, mode);
    });
  }
}

test("checkKvHistory: an illegal history is explained by its longest linearizable prefix and the operations that cannot come next", () => {
  const h = history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, put("a", "y"), rev(3)), ok(2, 4, 5, get("a"), saw("x", 2)));
  const r = checkLinearizability(newKvModel(), h);
  assert.equal(r.verdict, "illegal");
  if (r.verdict !== "illegal") return;
  assert.deepEqual(r.explanation.longestPrefix.map((p) => p.op.id), [0, 1]);
  assert.equal(r.explanation.stateAfterPrefix.revision, 3);
  assert.deepEqual(r.explanation.unplaced.map((op) => op.id), [2]);
  const text = formatExplanation(r.explanation);
  assert.match(text, /linearized 2 of 3 operations/);
  assert.match(text, /#2 client 2 \[4, 5\] get\(a\) -> "x"@2/);
  assert.match(text, /rev 3 \{a="y"@3\}/);
});

test("checkKvHistory: an ok exact check returns the writes in revision order", () => {
  const h = history(
    ok(1, 0, 10, put("a", "x"), rev(3)), ok(2, 1, 9, put("b", "y"), rev(2)),
    ok(1, 11, 12, del("b"), deleted(1, 4)), ok(2, 11, 12, cas("a", { target: "value", value: "z" }, "w"), casOut(false)),
  );
  const r = checkKvHistory(h, { mode: "exact" });
  assert.equal(r.verdict, "ok", r.text);
  assert.deepEqual(r.writes, [
    { revision: 2, key: "b", type: "put", value: "y" },
    { revision: 3, key: "a", type: "put", value: "x" },
    { revision: 4, key: "b", type: "delete", value: null },
  ]);
});

test("checkLinearizability: a search over its step budget answers unknown instead of running on", () => {
  const { history: h } = generateKvHistory(new SeededRng(7), { operations: 300, clients: 5, keys: 2, unknownRate: 0.1 });
  const r = checkLinearizability(newKvModel(), h, { stepsMax: 50 });
  assert.equal(r.verdict, "unknown");
  assert.equal(r.steps, 51);
  if (r.verdict === "unknown") assert.match(r.reason, /50 steps/);
});

test("checkLinearizability: a wall-clock deadline (injected clock) answers unknown", () => {
  let now = 0;
  const { history: h } = generateKvHistory(new SeededRng(8), { operations: 300, clients: 5, keys: 2, unknownRate: 0.1 });
  const r = checkLinearizability(newKvModel(), h, { deadline: { nowMs: () => (now += 10), budgetMs: 100 } });
  assert.equal(r.verdict, "unknown");
  if (r.verdict === "unknown") assert.match(r.reason, /deadline/);
});

test("checkKvHistory (auto): falls back to the partitioned check when the exact search runs out of budget", () => {
  const { history: h } = generateKvHistory(new SeededRng(9), { operations: 300, clients: 5, keys: 4 });
  const r = checkKvHistory(h, { stepsMax: 100 });
  assert.equal(r.mode, "partitioned");
});

test("checkLinearizability: a nondeterministic step is explored in every branch", () => {
  // A register whose unknown "flip" may or may not toggle it; only one branch explains the reads.
  const model: Model<number, string, number> = {
    name: "flip",
    init: () => 0,
    step: (s, input, output) => (input === "flip" ? [s, 1 - s] : output === s ? [s] : []),
    key: String,
    describeOperation: (i, o) => `${i} -> ${o}`,
    describeState: String,
  };
  const h: History<string, number> = [
    { id: 0, clientId: 1, callTime: 0, returnTime: 1, input: "flip", output: 0, outcome: "ok" },
    { id: 1, clientId: 2, callTime: 2, returnTime: 3, input: "read", output: 1, outcome: "ok" },
    { id: 2, clientId: 2, callTime: 4, returnTime: 5, input: "read", output: 1, outcome: "ok" },
  ];
  assert.equal(checkLinearizability(model, h).verdict, "ok");
  const bad = [...h, { id: 3, clientId: 2, callTime: 6, returnTime: 7, input: "read", output: 0, outcome: "ok" as const }];
  assert.equal(checkLinearizability(model, bad).verdict, "illegal");
});

test("checkKvHistory: an empty history is linearizable", () => {
  assert.equal(checkKvHistory([]).verdict, "ok");
  assert.equal(checkKvHistory([], { mode: "partitioned" }).verdict, "ok");
});

const RANDOM_SEEDS = 150;

test("generated histories from a real sequential execution are linearizable in both modes", () => {
  for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
    const rng = new SeededRng(seed);
    const g = generateKvHistory(rng, {
      operations: 150, clients: 1 + (seed % 6), keys: 1 + (seed % 4),
      unknownRate: seed % 3 === 0 ? 0.1 : 0, failedRate: 0.05, readHeaderRevision: seed % 2 === 0,
    });
    for (const mode of ["exact", "partitioned"] as const) {
      const r = checkKvHistory(g.history, { mode });
      assert.equal(r.verdict, "ok", `SIM_SEED=${seed} mode=${mode}\n${r.text}`);
    }
  }
});

test("without unknown outcomes the exact linearization's writes are exactly the writes that happened", () => {
  for (let seed = 1; seed <= 50; seed++) {
    const g = generateKvHistory(new SeededRng(seed), { operations: 120, clients: 4, keys: 3, failedRate: 0.05 });
    const r = checkKvHistory(g.history, { mode: "exact" });
    assert.deepEqual(r.writes, g.writes, `SIM_SEED=${seed}`);
  }
});

test("mutated histories are caught: almost always by the exact model, mostly by the partitioned one", () => {
  let exactCaught = 0;
  let partitionedCaught = 0;
  let total = 0;
  for (let seed = 1; seed <= RANDOM_SEEDS * 2; seed++) {
    const rng = new SeededRng(seed);
    const g = generateKvHistory(rng, { operations: 60, clients: 3, keys: 2, readHeaderRevision: seed % 2 === 0 });
    const m = mutateKvHistory(rng, g.history);
    if (m === null) continue;
    total++;
    const exact = checkKvHistory(m.history, { mode: "exact" });
    assert.notEqual(exact.verdict, "unknown", `SIM_SEED=${seed}`);
    if (exact.verdict === "illegal") exactCaught++;
    if (checkKvHistory(m.history, { mode: "partitioned" }).verdict === "illegal") partitionedCaught++;
  }
  console.log(`mutations caught: exact ${exactCaught}/${total}, partitioned ${partitionedCaught}/${total}`);
  assert.ok(exactCaught >= total * 0.95, `exact caught only ${exactCaught}/${total}`);
  assert.ok(partitionedCaught >= total * 0.6, `partitioned caught only ${partitionedCaught}/${total}`);
});

test("a history of 2,000 operations over 10 keys and 5 clients checks quickly (figures printed, not asserted)", () => {
  const g = generateKvHistory(new SeededRng(2024), {
    operations: 2000, clients: 5, keys: 10, unknownRate: 0.02, failedRate: 0.02, readHeaderRevision: true,
  });
  for (const mode of ["exact", "partitioned"] as const) {
    const started = performance.now();
    const r = checkKvHistory(g.history, { mode });
    const ms = performance.now() - started;
    console.log(`2000 ops / 10 keys / 5 clients, ${mode}: ${r.verdict} in ${ms.toFixed(1)} ms, ${r.steps} steps`);
    assert.equal(r.verdict, "ok", r.text);
  }
});

test("checkKvHistory (partitioned): the explanation names the key's part that failed", () => {
  const h = history(ok(1, 0, 1, put("a", "x"), rev(2)), ok(1, 2, 3, put("b", "y"), rev(3)), ok(2, 4, 5, get("b"), saw(null, 0)));
  const r = checkKvHistory(h, { mode: "partitioned" });
  assert.equal(r.verdict, "illegal");
  assert.match(r.text, /\(part 2 of 2\): linearized 1 of 2 operations/);
  assert.match(r.text, /#2 client 2 \[4, 5\] get\(b\) -> absent/);
});

test("checkLinearizability: both orders for timed-out operations reach the same verdicts", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new SeededRng(seed);
    const g = generateKvHistory(rng, { operations: 80, clients: 3, keys: 2, unknownRate: 0.15 });
    const m = mutateKvHistory(rng, g.history)!;
    for (const h of [g.history, m.history]) {
      const verdicts = (["call", "deferred"] as const).map((timedOutOrder) =>
        checkLinearizability(newKvModel(), h, { timedOutOrder, stepsMax: 1_000_000 }).verdict);
      assert.equal(verdicts[0], verdicts[1], `SIM_SEED=${seed}`);
      assert.notEqual(verdicts[0], "unknown", `SIM_SEED=${seed}`);
    }
  }
});
