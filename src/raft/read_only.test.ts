import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadOnly, READ_INDEX_PENDING_MAX } from "./read_only.js";
import { message } from "./types.js";

const req = (ctx: string) =>
  message({ type: "MsgReadIndex", entries: [{ term: 0, index: 0, type: "EntryNormal", data: new TextEncoder().encode(ctx) }] });
const bytes = (s: string) => new TextEncoder().encode(s);

test("ReadOnly: an ack for a later read releases every earlier read too, in order", () => {
  const ro = new ReadOnly();
  ro.addRequest(7, req("a"));
  ro.addRequest(9, req("b"));
  ro.addRequest(9, req("c"));
  assert.deepEqual(ro.lastPendingRequestCtx(), bytes("c"));
  assert.deepEqual([...ro.recvAck(2n, bytes("b"))!], [2n]);
  const released = ro.advance(bytes("b"));
  assert.deepEqual(released.map((r) => r.index), [7, 9]);
  assert.equal(ro.pendingCount, 1);
  assert.equal(ro.recvAck(2n, bytes("a")), null, "a released read is no longer tracked");
});

test("ReadOnly: a duplicate context and a full queue are refused", () => {
  const ro = new ReadOnly();
  assert.ok(ro.addRequest(1, req("x")));
  assert.equal(ro.addRequest(1, req("x")), false);
  for (let i = 1; i < READ_INDEX_PENDING_MAX; i++) assert.ok(ro.addRequest(1, req(`r${i}`)));
  assert.equal(ro.addRequest(1, req("one-too-many")), false);
});

test("ReadOnly: advancing an unknown context releases nothing", () => {
  const ro = new ReadOnly();
  ro.addRequest(3, req("a"));
  assert.deepEqual(ro.advance(bytes("zzz")), []);
  assert.equal(ro.pendingCount, 1);
});
