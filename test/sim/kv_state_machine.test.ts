import { test } from "node:test";
import assert from "node:assert/strict";
import { KvStateMachine, type KvWriteInput } from "./kv_state_machine.js";
import type { KvOutput } from "./kv_model.js";

const cases: { name: string; ops: KvWriteInput[]; want: KvOutput[] }[] = [
  {
    name: "puts advance the revision by one each",
    ops: [{ kind: "put", key: "a", value: "1" }, { kind: "put", key: "b", value: "2" }],
    want: [{ kind: "put", revision: 2 }, { kind: "put", revision: 3 }],
  },
  {
    name: "a delete of an absent key writes nothing",
    ops: [{ kind: "delete", key: "a" }, { kind: "put", key: "a", value: "1" }, { kind: "delete", key: "a" }],
    want: [{ kind: "delete", deleted: 0, revision: 1 }, { kind: "put", revision: 2 }, { kind: "delete", deleted: 1, revision: 3 }],
  },
  {
    name: "a cas on value null means create-if-absent; on mod revision compares the key's",
    ops: [
      { kind: "cas", key: "a", compare: { target: "value", value: null }, value: "1" },
      { kind: "cas", key: "a", compare: { target: "value", value: null }, value: "2" },
      { kind: "cas", key: "a", compare: { target: "modRevision", modRevision: 2 }, value: "3" },
      { kind: "cas", key: "a", compare: { target: "modRevision", modRevision: 2 }, value: "4" },
    ],
    want: [
      { kind: "cas", succeeded: true, revision: 2 },
      { kind: "cas", succeeded: false, revision: 2 },
      { kind: "cas", succeeded: true, revision: 3 },
      { kind: "cas", succeeded: false, revision: 3 },
    ],
  },
];

for (const c of cases) {
  test(`KvStateMachine: ${c.name}`, () => {
    const sm = new KvStateMachine();
    assert.deepEqual(c.ops.map((input, i) => sm.apply({ id: String(i), input })), c.want);
  });
}

test("KvStateMachine: a snapshot restores the same state, hash and history of events", () => {
  const sm = new KvStateMachine();
  sm.apply({ id: "1", input: { kind: "put", key: "a", value: "1" } });
  sm.apply({ id: "2", input: { kind: "put", key: "b", value: "2" } });
  sm.apply({ id: "3", input: { kind: "delete", key: "a" } });
  const r = KvStateMachine.restore(sm.snapshot());
  assert.equal(r.hash(), sm.hash());
  assert.deepEqual(r.get("b"), { kind: "get", value: "2", modRevision: 3, revision: 4 });
  assert.deepEqual(r.get("a"), { kind: "get", value: null, modRevision: 0, revision: 4 });
  assert.deepEqual(r.eventsFrom(3).map((e) => `${e.type} ${e.key} ${e.modRevision}`), ["put b 3", "delete a 4"]);
  sm.apply({ id: "4", input: { kind: "put", key: "c", value: "3" } });
  assert.notEqual(r.hash(), sm.hash());
});
