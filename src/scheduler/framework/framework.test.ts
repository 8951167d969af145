import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../cache/snapshot.js";
import { makeNode, makePod } from "../test_objects.js";
import { defaultNormalizeScore, type Plugin, type NodeScore } from "./interface.js";
import { Framework, type PluginFactory } from "./framework.js";
import { Code, newStatus } from "./status.js";

const snapshot = snapshotFrom([makeNode("a"), makeNode("b"), makeNode("c")]);

function fw(...plugins: { factory: PluginFactory; weight?: number }[]): Framework {
  const f = new Framework({ schedulerName: "t", plugins });
  f.beginCycle(snapshot);
  return f;
}

const rejecting = (name: string, code: Code, reason: string, calls: string[]): PluginFactory => () => ({
  name,
  filter: () => {
    calls.push(name);
    return newStatus(code, reason);
  },
}) as Plugin;

test("Framework.runFilterPlugins: the first rejecting plugin decides and later ones do not run", () => {
  const calls: string[] = [];
  const f = fw({ factory: rejecting("A", Code.Unschedulable, "ra", calls) }, { factory: rejecting("B", Code.UnschedulableAndUnresolvable, "rb", calls) });
  const s = f.runFilterPlugins(f.newCycleState(), makePod("p"), snapshot.nodeInfos[0]!);
  assert.equal(s.toString(), "Unschedulable: ra");
  assert.equal(s.plugin, "A");
  assert.deepEqual(calls, ["A"]);
});

test("Framework.runFilterPlugins: a filter returning Error becomes an error naming the plugin", () => {
  const f = fw({ factory: rejecting("A", Code.Error, "boom", []) });
  const s = f.runFilterPlugins(f.newCycleState(), makePod("p"), snapshot.nodeInfos[0]!);
  assert.equal(s.code, Code.Error);
  assert.equal(s.message(), 'running "A" filter plugin: boom');
});

test("Framework.runPreFilterPlugins: results intersect and an empty intersection names the plugins", () => {
  const only = (name: string, nodes: string[]): PluginFactory => () => ({ name, preFilter: () => ({ result: { nodeNames: new Set(nodes) }, status: null }) }) as Plugin;
  const f1 = fw({ factory: only("X", ["a", "b"]) }, { factory: only("Y", ["b", "c"]) });
  const r1 = f1.runPreFilterPlugins(f1.newCycleState(), makePod("p"), snapshot.nodeInfos);
  assert.deepEqual([...r1.result!.nodeNames!], ["b"]);
  const f2 = fw({ factory: only("X", ["a"]) }, { factory: only("Y", ["c"]) });
  const r2 = f2.runPreFilterPlugins(f2.newCycleState(), makePod("p"), snapshot.nodeInfos);
  assert.equal(r2.status.toString(), "UnschedulableAndUnresolvable: node(s) didn't satisfy plugin(s) [X Y] simultaneously");
  const f3 = fw({ factory: only("X", []) });
  assert.equal(f3.runPreFilterPlugins(f3.newCycleState(), makePod("p"), snapshot.nodeInfos).status.message(), "node(s) didn't satisfy plugin X");
});

test("Framework.runPreFilterPlugins: Skip drops that plugin's Filter for the cycle", () => {
  const calls: string[] = [];
  const f = fw({ factory: () => ({ name: "S", preFilter: () => ({ status: newStatus(Code.Skip) }), filter: () => (calls.push("S"), newStatus(Code.Unschedulable, "x")) }) as Plugin });
  const state = f.newCycleState();
  f.runPreFilterPlugins(state, makePod("p"), snapshot.nodeInfos);
  assert.equal(f.runFilterPlugins(state, makePod("p"), snapshot.nodeInfos[0]!).isSuccess(), true);
  assert.deepEqual(calls, []);
});

test("Framework.runScorePlugins: normalized scores are multiplied by weights and summed", () => {
  const raw: Record<string, number> = { a: 1, b: 2, c: 4 };
  const byName = (name: string, f: (n: string) => number, normalize?: (s: NodeScore[]) => void): PluginFactory => () =>
    ({ name, score: (_s: unknown, _p: unknown, ni: { name: string }) => ({ score: f(ni.name) }), ...(normalize ? { normalizeScore: (_s: unknown, _p: unknown, sc: NodeScore[]) => (normalize(sc), null) } : {}) }) as Plugin;
  const f = fw(
    { factory: byName("Spread", (n) => raw[n]!, (sc) => defaultNormalizeScore(100, false, sc)), weight: 2 },
    { factory: byName("Flat", () => 10), weight: 1 },
  );
  const r = f.runScorePlugins(f.newCycleState(), makePod("p"), snapshot.nodeInfos);
  assert.deepEqual(Object.fromEntries(r.scores.map((s) => [s.name, s.totalScore])), { a: 2 * 25 + 10, b: 2 * 50 + 10, c: 2 * 100 + 10 });
});

test("Framework.runScorePlugins: a score out of 0..100 after normalizing is an error", () => {
  const f = fw({ factory: () => ({ name: "Bad", score: () => ({ score: 101 }) }) as Plugin });
  const r = f.runScorePlugins(f.newCycleState(), makePod("p"), snapshot.nodeInfos);
  assert.equal(r.status.code, Code.Error);
  assert.match(r.status.message(), /plugin "Bad" returns an invalid score 101/);
});

test("defaultNormalizeScore: reversed all-zero scores become the maximum", () => {
  const s = [{ name: "a", score: 0 }, { name: "b", score: 0 }];
  defaultNormalizeScore(100, true, s);
  assert.deepEqual(s.map((x) => x.score), [100, 100]);
  const t = [{ name: "a", score: 1 }, { name: "b", score: 3 }];
  defaultNormalizeScore(100, true, t);
  assert.deepEqual(t.map((x) => x.score), [67, 0]);
});

test("Framework: a plugin listed twice is a programmer error", () => {
  const p: PluginFactory = () => ({ name: "Dup" });
  assert.throws(() => new Framework({ schedulerName: "t", plugins: [{ factory: p }, { factory: p }] }), /listed twice/);
});

test("Framework: Reserve runs in order and Unreserve in reverse; a rejection names its plugin", () => {
  const calls: string[] = [];
  const reserve = (name: string, code: Code | null): PluginFactory => () =>
    ({
      name,
      reserve: () => (calls.push(`reserve ${name}`), code === null ? null : newStatus(code, `${name} says no`)),
      unreserve: () => void calls.push(`unreserve ${name}`),
    }) as Plugin;
  const f = fw({ factory: reserve("A", null) }, { factory: reserve("B", Code.Unschedulable) });
  const state = f.newCycleState();
  const s = f.runReservePluginsReserve(state, makePod("p"), "a");
  assert.equal(s.toString(), "Unschedulable: B says no");
  assert.equal(s.plugin, "B");
  f.runReservePluginsUnreserve(state, makePod("p"), "a");
  assert.deepEqual(calls, ["reserve A", "reserve B", "unreserve B", "unreserve A"]);
});

test("Framework: Permit waits for the shortest timeout unless someone rejects", () => {
  const permit = (name: string, code: Code, timeoutMs?: number): PluginFactory => () => ({ name, permit: () => ({ status: newStatus(code), timeoutMs }) }) as Plugin;
  const waiting = fw({ factory: permit("A", Code.Wait, 5000) }, { factory: permit("B", Code.Wait, 2000) }, { factory: permit("C", Code.Success) });
  const w = waiting.runPermitPlugins(waiting.newCycleState(), makePod("p"), "a");
  assert.equal(w.status.code, Code.Wait);
  assert.equal(w.timeoutMs, 2000);
  const rejecting = fw({ factory: permit("A", Code.Wait, 5000) }, { factory: permit("B", Code.UnschedulableAndUnresolvable) });
  const r = rejecting.runPermitPlugins(rejecting.newCycleState(), makePod("p"), "a");
  assert.equal(r.status.code, Code.UnschedulableAndUnresolvable);
  assert.equal(r.status.plugin, "B");
});

test("Framework: the first binder that does not Skip binds", async () => {
  const calls: string[] = [];
  const binder = (name: string, code: Code): PluginFactory => () => ({ name, bind: async () => (calls.push(name), newStatus(code)) }) as Plugin;
  const f = fw({ factory: binder("Skipper", Code.Skip) }, { factory: binder("Binder", Code.Success) }, { factory: binder("Never", Code.Success) });
  const s = await f.runBindPlugins(f.newCycleState(), makePod("p"), "a");
  assert.equal(s.isSuccess(), true);
  assert.deepEqual(calls, ["Skipper", "Binder"]);
  assert.equal((await fw().runBindPlugins(f.newCycleState(), makePod("p"), "a")).code, Code.Skip);
});
