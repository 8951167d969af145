import { test } from "node:test";
import assert from "node:assert/strict";
import type { KvInput, KvOutput, KvState } from "./kv_model.js";
import { claimedRevisionsOf, newKvKeyModel, newKvModel, partitionByKey } from "./kv_model.js";
import type { Model } from "./linearizability.js";

// Runs inputs from the initial state, each must be accepted; returns the final state.
function run(inputs: KvInput[]): KvState {
  const m = newKvModel();
  let s = m.init();
  for (const i of inputs) {
    const next = m.step(s, i, undefined);
    assert.equal(next.length, 1);
    s = next[0]!;
  }
  return s;
}

const seed: KvInput[] = [{ kind: "put", key: "a", value: "x" }, { kind: "put", key: "b", value: "y" }]; // a=x@2, b=y@3, rev 3
const cases: { name: string; input: KvInput; output: KvOutput; legal: boolean; revisionAfter?: number }[] = [
  { name: "a put takes the next revision", input: { kind: "put", key: "a", value: "z" }, output: { kind: "put", revision: 4 }, legal: true, revisionAfter: 4 },
  { name: "a put cannot skip a revision", input: { kind: "put", key: "a", value: "z" }, output: { kind: "put", revision: 5 }, legal: false },
  { name: "a get returns the value and its modRevision", input: { kind: "get", key: "a" }, output: { kind: "get", value: "x", modRevision: 2 }, legal: true, revisionAfter: 3 },
  { name: "a get with the wrong modRevision is illegal", input: { kind: "get", key: "a" }, output: { kind: "get", value: "x", modRevision: 3 }, legal: false },
  { name: "a get's header revision is the store's revision", input: { kind: "get", key: "a" }, output: { kind: "get", value: "x", modRevision: 2, revision: 2 }, legal: false },
  { name: "a get of an absent key reads null@0", input: { kind: "get", key: "c" }, output: { kind: "get", value: null, modRevision: 0, revision: 3 }, legal: true },
  { name: "a delete of a live key counts one and takes a revision", input: { kind: "delete", key: "a" }, output: { kind: "delete", deleted: 1, revision: 4 }, legal: true, revisionAfter: 4 },
  { name: "a delete of an absent key counts zero and takes none", input: { kind: "delete", key: "c" }, output: { kind: "delete", deleted: 0, revision: 3 }, legal: true, revisionAfter: 3 },
  { name: "a cas on the current value succeeds", input: { kind: "cas", key: "a", compare: { target: "value", value: "x" }, value: "w" }, output: { kind: "cas", succeeded: true, revision: 4 }, legal: true, revisionAfter: 4 },
  { name: "a cas on a stale value fails", input: { kind: "cas", key: "a", compare: { target: "value", value: "old" }, value: "w" }, output: { kind: "cas", succeeded: false }, legal: true, revisionAfter: 3 },
  { name: "a cas on the current modRevision succeeds", input: { kind: "cas", key: "b", compare: { target: "modRevision", modRevision: 3 }, value: "w" }, output: { kind: "cas", succeeded: true }, legal: true, revisionAfter: 4 },
  { name: "a create-if-absent cas on a live key cannot succeed", input: { kind: "cas", key: "a", compare: { target: "value", value: null }, value: "w" }, output: { kind: "cas", succeeded: true }, legal: false },
  { name: "an answer of another kind is illegal", input: { kind: "get", key: "a" }, output: { kind: "put", revision: 4 }, legal: false },
];
for (const c of cases) {
  test(`kv model: ${c.name}`, () => {
    const next = newKvModel().step(run(seed), c.input, c.output);
    assert.equal(next.length, c.legal ? 1 : 0);
    if (c.revisionAfter !== undefined) assert.equal(next[0]!.revision, c.revisionAfter);
  });
}

test("kv model: equal stores have equal keys whatever order they were built in", () => {
  const a = run([{ kind: "put", key: "a", value: "1" }, { kind: "put", key: "b", value: "2" }, { kind: "delete", key: "a" }, { kind: "put", key: "a", value: "1" }]);
  const b = run([{ kind: "put", key: "b", value: "0" }, { kind: "put", key: "a", value: "9" }, { kind: "put", key: "b", value: "2" }, { kind: "put", key: "a", value: "1" }]);
  assert.equal(a.revision, b.revision);
  assert.notEqual(newKvModel().key(a), newKvModel().key(b)); // b's modRevision differs (b=2@4 vs b=2@3)
  const c = run([{ kind: "put", key: "x", value: "1" }, { kind: "put", key: "b", value: "2" }]);
  const d = run([{ kind: "put", key: "x", value: "1" }, { kind: "put", key: "b", value: "2" }]);
  assert.equal(newKvModel().key(c), newKvModel().key(d));
});

test("kv model: a write of unknown outcome cannot take a revision an acknowledged write reported", () => {
  const m = newKvModel({ claimedRevisions: new Set([2]) });
  assert.deepEqual(m.step(m.init(), { kind: "put", key: "a", value: "x" }, undefined), []);
  assert.equal(m.step(m.init(), { kind: "put", key: "a", value: "x" }, { kind: "put", revision: 2 }).length, 1);
});

test("claimedRevisionsOf: collects the revisions acknowledged writes reported", () => {
  const ok = (input: KvInput, output: KvOutput) => ({ id: 0, clientId: 0, callTime: 0, returnTime: 1, input, output, outcome: "ok" as const });
  const claimed = claimedRevisionsOf([
    ok({ kind: "put", key: "a", value: "x" }, { kind: "put", revision: 2 }),
    ok({ kind: "delete", key: "a" }, { kind: "delete", deleted: 1, revision: 3 }),
    ok({ kind: "delete", key: "a" }, { kind: "delete", deleted: 0, revision: 3 }),
    ok({ kind: "cas", key: "a", compare: { target: "value", value: null }, value: "y" }, { kind: "cas", succeeded: false, revision: 9 }),
  ]);
  assert.deepEqual([...claimed].sort(), [2, 3]);
});

test("kv key model: a timed-out put's revision is learned from a later read", () => {
  const m = newKvKeyModel();
  const [afterPut] = m.step(m.init(), { kind: "put", key: "a", value: "x" }, undefined);
  assert.equal(afterPut!.modRevision, -1);
  const [afterRead] = m.step(afterPut!, { kind: "get", key: "a" }, { kind: "get", value: "x", modRevision: 7 });
  assert.deepEqual(afterRead, { value: "x", modRevision: 7, floor: 7, lease: 0 });
  assert.deepEqual(m.step(afterRead!, { kind: "put", key: "a", value: "y" }, { kind: "put", revision: 6 }), []);
});

test("kv key model: a timed-out cas on a modRevision that is unknown may go either way", () => {
  const m = newKvKeyModel();
  const [s] = m.step(m.init(), { kind: "put", key: "a", value: "x" }, undefined);
  const next = m.step(s!, { kind: "cas", key: "a", compare: { target: "modRevision", modRevision: 4 }, value: "y" }, undefined);
  assert.deepEqual(next.map((n) => n.value), ["x", "y"]);
});

test("partitionByKey: one sub-history per key, in the original order", () => {
  const op = (id: number, key: string) => ({ id, clientId: 0, callTime: id, returnTime: id + 1, input: { kind: "get", key } as KvInput, output: undefined, outcome: "unknown" as const });
  const parts = partitionByKey([op(0, "b"), op(1, "a"), op(2, "b")]);
  assert.deepEqual(parts.map((p) => p.map((o) => o.id)), [[1], [0, 2]]);
});

test("a lease revoke deletes its key only while the key is still attached to that lease, in both models", () => {
  const exact = newKvModel();
  const perKey = newKvKeyModel();
  const run = <S>(m: Model<S, KvInput, KvOutput>, ops: readonly [KvInput, KvOutput][]): boolean => {
    let s = m.init();
    for (const [i, o] of ops) {
      const next = m.step(s, i, o);
      if (next.length === 0) return false;
      s = next[0]!;
    }
    return true;
  };
  const cases: { name: string; ops: [KvInput, KvOutput][]; legal: boolean }[] = [
    {
      name: "revoke deletes the attached key (a new revision)",
      ops: [[{ kind: "put", key: "a", value: "x", lease: 5 }, { kind: "put", revision: 2 }], [{ kind: "revoke", key: "a", lease: 5 }, { kind: "revoke", revision: 3 }], [{ kind: "get", key: "a" }, { kind: "get", value: null, modRevision: 0, revision: 3 }]],
      legal: true,
    },
    {
      name: "revoke leaves a key a later put detached",
      ops: [[{ kind: "put", key: "a", value: "x", lease: 5 }, { kind: "put", revision: 2 }], [{ kind: "put", key: "a", value: "y" }, { kind: "put", revision: 3 }], [{ kind: "revoke", key: "a", lease: 5 }, { kind: "revoke", revision: 3 }], [{ kind: "get", key: "a" }, { kind: "get", value: "y", modRevision: 3, revision: 3 }]],
      legal: true,
    },
    {
      name: "a revoke that deleted a detached key is illegal",
      ops: [[{ kind: "put", key: "a", value: "x", lease: 5 }, { kind: "put", revision: 2 }], [{ kind: "put", key: "a", value: "y" }, { kind: "put", revision: 3 }], [{ kind: "revoke", key: "a", lease: 5 }, { kind: "revoke", revision: 4 }], [{ kind: "get", key: "a" }, { kind: "get", value: null, modRevision: 0, revision: 4 }]],
      legal: false,
    },
    {
      name: "a key still there after its lease was revoked is illegal",
      ops: [[{ kind: "put", key: "a", value: "x", lease: 5 }, { kind: "put", revision: 2 }], [{ kind: "revoke", key: "a", lease: 5 }, { kind: "revoke", revision: 3 }], [{ kind: "get", key: "a" }, { kind: "get", value: "x", modRevision: 2, revision: 3 }]],
      legal: false,
    },
  ];
  for (const c of cases) {
    assert.equal(run(exact, c.ops), c.legal, `exact: ${c.name}`);
    assert.equal(run(perKey, c.ops), c.legal, `per key: ${c.name}`);
  }
});
