import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { message, type Message } from "../raft/types.js";
import { CommitNoticeDeferral } from "./commit_notice.js";

const entry = { index: 5, term: 2, type: "EntryNormal" as const, data: new Uint8Array([1]) };

function setup(delayMs = 2): { clock: ManualClock; sent: Message[]; deferral: CommitNoticeDeferral } {
  const clock = new ManualClock();
  const sent: Message[] = [];
  return { clock, sent, deferral: new CommitNoticeDeferral(clock, delayMs, (ms) => void sent.push(...ms)) };
}

const notice = (to: bigint, commit: number): Message => message({ type: "MsgApp", to, from: 1n, term: 2, index: 5, logTerm: 2, commit });
const append = (to: bigint, commit: number): Message => message({ type: "MsgApp", to, from: 1n, term: 2, index: 4, logTerm: 2, commit, entries: [entry] });

test("a commit notice goes out once the delay runs out when no append follows it", () => {
  const { clock, sent, deferral } = setup();
  deferral.send([notice(2n, 5)]);
  assert.equal(sent.length, 0, "held back");
  clock.advance(1);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(sent.map((m) => [m.to, m.commit]), [[2n, 5]]);
});

test("an append to the same follower replaces the held notice (it carries the commit index too)", () => {
  const { clock, sent, deferral } = setup();
  deferral.send([notice(2n, 5), notice(3n, 5)]);
  deferral.send([append(2n, 5)]);
  assert.deepEqual(sent.map((m) => [m.to, m.entries.length]), [[2n, 1]], "the append at once");
  clock.advance(10);
  assert.deepEqual(sent.map((m) => [m.to, m.entries.length]), [[2n, 1], [3n, 0]], "only the other follower's notice is sent late");
});

test("heartbeats, votes and appends with entries are never held back", () => {
  const { sent, deferral } = setup();
  const now = [append(2n, 4), message({ type: "MsgHeartbeat", to: 3n, from: 1n, term: 2, commit: 4 }), message({ type: "MsgVote", to: 2n, from: 1n, term: 3 })];
  deferral.send(now);
  assert.deepEqual(sent, now);
});

test("a heartbeat does not replace a held notice: its commit index may be lower (capped at the follower's match)", () => {
  const { clock, sent, deferral } = setup();
  deferral.send([notice(2n, 7)]);
  deferral.send([message({ type: "MsgHeartbeat", to: 2n, from: 1n, term: 2, commit: 3 })]);
  clock.advance(2);
  assert.deepEqual(sent.map((m) => [m.type, m.commit]), [["MsgHeartbeat", 3], ["MsgApp", 7]]);
});

test("a newer notice replaces an older one, and clear() drops what is held", () => {
  const { clock, sent, deferral } = setup();
  deferral.send([notice(2n, 5)]);
  deferral.send([notice(2n, 6)]);
  clock.advance(2);
  assert.deepEqual(sent.map((m) => m.commit), [6]);
  deferral.send([notice(2n, 7)]);
  deferral.clear();
  clock.advance(5);
  assert.deepEqual(sent.map((m) => m.commit), [6]);
});

test("with no delay every message goes at once", () => {
  const { sent, deferral } = setup(0);
  deferral.send([notice(2n, 5)]);
  assert.equal(sent.length, 1);
});
