import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../../env/seeded_rng.js";
import { KeyedHeap } from "./heap.js";

test("KeyedHeap: pops in order after random adds, updates and deletes", () => {
  const rng = new SeededRng(42);
  const h = new KeyedHeap<number>((a, b) => a < b);
  const model = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const key = `k${rng.nextU32() % 200}`;
    const op = rng.nextU32() % 3;
    if (op < 2) {
      const v = rng.nextU32() % 1000;
      h.addOrUpdate(key, v);
      model.set(key, v);
    } else {
      assert.equal(h.delete(key), model.get(key));
      model.delete(key);
    }
    assert.equal(h.size, model.size);
  }
  const want = [...model.values()].sort((a, b) => a - b);
  const got: number[] = [];
  for (let v = h.pop(); v !== undefined; v = h.pop()) got.push(v);
  assert.deepEqual(got, want);
});
