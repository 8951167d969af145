import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../../src/env/seeded_rng.js";
import { HistoryRecorder } from "./history.js";
import type { KvInput, KvOutput } from "./kv_model.js";
import { checkKvHistory } from "./kv_check.js";
import { ReferenceKv, uniform } from "./kv_history_gen.js";
import type { WatchEvent } from "./watch_checker.js";

// Drives clients the way the simulator will: each tick, idle clients invoke; an in-flight request
// takes effect on the store at a random tick and its answer arrives later (or never: a timeout).
// `staleReadsFrom` makes the store answer gets from a snapshot that many writes old: a bug.
function drive(seed: number, options: { ticks: number; clients: number; staleReadsFrom?: number }) {
  const rng = new SeededRng(seed);
  const rec = new HistoryRecorder<KvInput, KvOutput>();
  const store = new ReferenceKv();
  const snapshots: ReferenceKv[] = [];
  const events: WatchEvent[] = [];
  interface InFlight { id: number; input: KvInput; appliedOutput: KvOutput | null; answerTick: number; timeoutTick: number }
  const inFlight = new Map<number, InFlight>();
  let value = 0;
  for (let tick = 0; tick < options.ticks; tick++) {
    for (let c = 0; c < options.clients; c++) {
      const f = inFlight.get(c);
      if (f === undefined) {
        if (uniform(rng, 3) !== 0) continue;
        const key = `k${uniform(rng, 3)}`;
        const r = uniform(rng, 4);
        const input: KvInput = r === 0 ? { kind: "get", key } : r === 1 ? { kind: "delete", key } : r === 2
          ? { kind: "cas", key, compare: { target: "value", value: null }, value: `v${value++}` } : { kind: "put", key, value: `v${value++}` };
        inFlight.set(c, { id: rec.invoke(c, input, tick), input, appliedOutput: null, answerTick: tick + 1 + uniform(rng, 6), timeoutTick: tick + 5 });
        continue;
      }
      // Apply somewhere between the call and the answer (a timed-out request may apply later still).
      if (f.appliedOutput === null && uniform(rng, 2) === 0) {
        const stale = options.staleReadsFrom !== undefined && f.input.kind === "get" && snapshots.length > options.staleReadsFrom;
        const before = store.writes.length;
        f.appliedOutput = stale ? snapshots[snapshots.length - 1 - options.staleReadsFrom!]!.apply(f.input) : store.apply(f.input);
        for (const w of store.writes.slice(before)) events.push({ type: w.type, key: w.key, value: w.value, modRevision: w.revision, deliveredTime: tick });
        if (store.writes.length > before) snapshots.push(cloneOf(store));
      }
      if (tick >= f.timeoutTick && f.appliedOutput === null) {
        rec.timeout(f.id, tick);
        inFlight.delete(c);
      } else if (tick >= f.answerTick && f.appliedOutput !== null) {
        rec.ok(f.id, f.appliedOutput, tick);
        inFlight.delete(c);
      }
    }
  }
  return { history: rec.history(), events, lastRevision: store.revision };
}

function cloneOf(store: ReferenceKv): ReferenceKv {
  const copy = new ReferenceKv();
  for (const w of store.writes) copy.apply(w.type === "put" ? { kind: "put", key: w.key, value: w.value! } : { kind: "delete", key: w.key });
  return copy;
}

test("a history recorded from clients of a correct store passes, with its watch", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const run = drive(seed, { ticks: 300, clients: 4 });
    const watch = { id: 1, key: "", rangeEnd: "\0", startRevision: 2, events: run.events, completeThroughRevision: run.lastRevision };
    const r = checkKvHistory(run.history, { watches: [watch] });
    assert.equal(r.verdict, "ok", `SIM_SEED=${seed}\n${r.text}`);
    assert.equal(r.mode, "exact");
  }
});

test("a history recorded from clients of a store that serves stale reads fails", () => {
  let caught = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const run = drive(seed, { ticks: 300, clients: 4, staleReadsFrom: 3 });
    if (checkKvHistory(run.history).verdict === "illegal") caught++;
  }
  assert.ok(caught >= 18, `caught ${caught}/20`);
});
