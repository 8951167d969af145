import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeConfChange, encodeConfChange, limitSize, type Entry } from "./types.js";

test("limitSize keeps at least one entry and stops before the limit", () => {
  const e = (n: number): Entry => ({ index: n, term: 1, type: "EntryNormal", data: new Uint8Array(n) });
  assert.deepEqual(limitSize([e(5), e(1)], 2).length, 1);
  assert.deepEqual(limitSize([e(1), e(1), e(1)], 2).length, 2);
  assert.deepEqual(limitSize([], 2).length, 0);
});

test("a conf change survives its entry encoding, including a uint64 id", () => {
  const cc = { type: "ConfChangeAddLearnerNode" as const, nodeId: 0xfedcba9876543210n, context: new Uint8Array([1, 2, 3]) };
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  assert.throws(() => decodeConfChange(new Uint8Array(3)), /need 9 bytes/);
});
