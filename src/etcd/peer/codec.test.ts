import { test } from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { message, type Entry, type Message, type MessageType } from "../../raft/types.js";
import { CodecError, decodeHardState, decodeMessage, encodeHardState, encodeMessage } from "./codec.js";

const UINT64_MAX = (1n << 64n) - 1n;

const ALL_TYPES: readonly MessageType[] = [
  "MsgHup", "MsgBeat", "MsgProp", "MsgApp", "MsgAppResp", "MsgVote", "MsgVoteResp", "MsgPreVote",
  "MsgPreVoteResp", "MsgSnap", "MsgHeartbeat", "MsgHeartbeatResp", "MsgUnreachable", "MsgSnapStatus",
  "MsgCheckQuorum", "MsgTransferLeader", "MsgTimeoutNow", "MsgReadIndex", "MsgReadIndexResp",
];

function entry(index: number, term: number, text: string, type: Entry["type"] = "EntryNormal"): Entry {
  return { index, term, type, data: new TextEncoder().encode(text) };
}

/** A message of `type` with every field set to something other than its default. */
function fullMessage(type: MessageType): Message {
  return message({
    type,
    to: 0xdeadbeefcafef00dn,
    from: UINT64_MAX,
    term: 7,
    logTerm: 6,
    index: 2 ** 40,
    entries: [entry(2 ** 40 + 1, 7, "a"), entry(2 ** 40 + 2, 7, "", "EntryConfChange")],
    commit: Number.MAX_SAFE_INTEGER,
    snapshot:
      type === "MsgSnap"
        ? {
            metadata: { index: 100, term: 5, confState: { voters: [1n, 2n, UINT64_MAX], learners: [4n] } },
            data: new Uint8Array(70_000).map((_, i) => i % 251),
          }
        : null,
    reject: true,
    rejectHint: 99,
    context: new Uint8Array([1, 2, 3]),
  });
}

for (const type of ALL_TYPES) {
  test(`codec: a ${type} with every field set survives a round trip`, () => {
    const m = fullMessage(type);
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });
}

const cases: { name: string; m: Message }[] = [
  { name: "a message with only defaults", m: message({ type: "MsgHeartbeat" }) },
  { name: "an empty context stays empty, not null", m: message({ type: "MsgReadIndex", context: new Uint8Array(0) }) },
  { name: "a null context stays null", m: message({ type: "MsgHeartbeat", to: 1n, from: 2n, context: null }) },
  {
    name: "a snapshot with empty data and no members",
    m: message({ type: "MsgSnap", snapshot: { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) } }),
  },
  { name: "a thousand entries keep their order", m: message({ type: "MsgApp", entries: Array.from({ length: 1000 }, (_, i) => entry(i + 1, 1, `v${i}`)) }) },
];
for (const c of cases) test(`codec: ${c.name}`, () => assert.deepEqual(decodeMessage(encodeMessage(c.m)), c.m));

test("codec: a HardState with a uint64 vote survives a round trip", () => {
  const hs = { term: 12, vote: UINT64_MAX, commit: 2 ** 50 };
  assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
});

// The schema of go.etcd.io/raft/v3/raftpb/raft.proto (the parts we use), read by an independent decoder:
// if protobufjs reads our bytes the way raftpb declares them, so does etcd.
const RAFTPB = `
syntax = "proto2";
package raftpb;
message Entry { optional uint64 Term = 2; optional uint64 Index = 3; optional int32 Type = 1; optional bytes Data = 4; }
message ConfState { repeated uint64 voters = 1; repeated uint64 learners = 2; }
message SnapshotMetadata { optional ConfState conf_state = 1; optional uint64 index = 2; optional uint64 term = 3; }
message Snapshot { optional bytes data = 1; optional SnapshotMetadata metadata = 2; }
message Message {
  optional int32 type = 1; optional uint64 to = 2; optional uint64 from = 3; optional uint64 term = 4;
  optional uint64 logTerm = 5; optional uint64 index = 6; repeated Entry entries = 7; optional uint64 commit = 8;
  optional uint64 vote = 13; optional Snapshot snapshot = 9; optional bool reject = 10; optional uint64 rejectHint = 11;
  optional bytes context = 12;
}`;
const pbMessage = protobuf.parse(RAFTPB).root.lookupType("raftpb.Message");

const asString = { longs: String, bytes: Array, defaults: false };

test("codec: an independent protobuf decoder reads our bytes with raftpb's field numbers", () => {
  const m = fullMessage("MsgSnap");
  const o = pbMessage.toObject(pbMessage.decode(encodeMessage(m)), asString) as Record<string, unknown>;
  assert.equal(o["type"], 7);
  assert.equal(o["to"], m.to.toString());
  assert.equal(o["from"], m.from.toString());
  assert.equal(o["index"], String(2 ** 40));
  assert.equal(o["commit"], String(Number.MAX_SAFE_INTEGER));
  assert.equal(o["rejectHint"], "99");
  assert.equal(o["reject"], true);
  const ents = o["entries"] as Record<string, unknown>[];
  assert.equal(ents.length, 2);
  assert.equal(ents[1]!["Type"], 1);
  assert.equal(ents[0]!["Index"], String(2 ** 40 + 1));
  const snap = o["snapshot"] as { data: number[]; metadata: { index: string; term: string; confState: { voters: string[]; learners: string[] } } };
  assert.equal(snap.data.length, 70_000);
  assert.equal(snap.metadata.index, "100");
  assert.deepEqual(snap.metadata.confState.voters, ["1", "2", UINT64_MAX.toString()]);
  assert.deepEqual(snap.metadata.confState.learners, ["4"]);
});

test("codec: we read what an independent protobuf encoder writes, including an unknown field", () => {
  const bytes = pbMessage
    .encode(
      pbMessage.fromObject({
        type: 3,
        to: "18446744073709551615",
        from: "2",
        term: 4,
        index: 10,
        vote: 9, // field 13: not in our Message, must be skipped
        entries: [{ Term: 4, Index: 11, Type: 0, Data: [104, 105] }],
        commit: 10,
        snapshot: { data: [9], metadata: { index: 3, term: 2, confState: { voters: [1, 2, 3], learners: [] } } },
      }),
    )
    .finish();
  const m = decodeMessage(bytes);
  assert.equal(m.type, "MsgApp");
  assert.equal(m.to, UINT64_MAX);
  assert.equal(m.from, 2n);
  assert.deepEqual(m.entries, [{ term: 4, index: 11, type: "EntryNormal", data: new Uint8Array([104, 105]) }]);
  assert.deepEqual(m.snapshot?.metadata.confState.voters, [1n, 2n, 3n]);
  assert.equal(m.context, null);
});

const bad: { name: string; bytes: Uint8Array; match: RegExp }[] = [
  { name: "an empty buffer has no type", bytes: new Uint8Array(0), match: /no type field/ },
  { name: "a truncated varint", bytes: new Uint8Array([0x08, 0x83]), match: /truncated varint/ },
  { name: "a length past the end", bytes: new Uint8Array([0x08, 0x03, 0x3a, 0x10, 0x01]), match: /runs past the end/ },
  { name: "a message type that is not ours (MsgStorageAppend)", bytes: new Uint8Array([0x08, 19]), match: /unsupported message type/ },
  {
    name: "a term above 2^53",
    bytes: new Uint8Array([0x08, 0x03, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    match: /above 2\^53/,
  },
  { name: "a varint longer than 10 bytes", bytes: new Uint8Array([0x10, ...new Array<number>(11).fill(0xff), 0x01]), match: /longer than 10 bytes|overflows/ },
  { name: "a field with the wrong wire type", bytes: new Uint8Array([0x0a, 0x00]), match: /wire type/ },
];
for (const c of bad) {
  test(`codec: decoding refuses ${c.name} with a CodecError`, () => {
    assert.throws(() => decodeMessage(c.bytes), (err: unknown) => err instanceof CodecError && c.match.test(err.message));
  });
}

test("codec: encoding refuses a negative term rather than writing garbage", () => {
  assert.throws(() => encodeMessage(message({ type: "MsgApp", term: -1 })), CodecError);
});

test("codec: ConfState ids packed into one run (as a proto3 encoder writes them) decode like unpacked ones", () => {
  const confState = [0x0a, 0x03, 0x01, 0x02, 0x03]; // voters = [1, 2, 3], packed
  const metadata = [0x0a, confState.length, ...confState];
  const snapshot = [0x12, metadata.length, ...metadata];
  const m = decodeMessage(new Uint8Array([0x08, 0x07, 0x4a, snapshot.length, ...snapshot]));
  assert.deepEqual(m.snapshot?.metadata.confState, { voters: [1n, 2n, 3n], learners: [] });
});
