import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeKeyValue, encodeKeyValue, keyToIndex, indexToKey } from "./kv.js";
import { decodeRevision, encodeRevision } from "./revision.js";

test("encodeKeyValue writes the protobuf bytes etcd writes for mvccpb.KeyValue", () => {
  const b = encodeKeyValue({ key: Buffer.from("a"), createRevision: 2, modRevision: 3, version: 1, value: Buffer.from("v"), lease: 0n });
  // 0a 01 'a' | 10 02 | 18 03 | 20 01 | 2a 01 'v'   (lease 0 omitted, as gogoproto omits zero values)
  assert.deepEqual([...b], [0x0a, 0x01, 0x61, 0x10, 0x02, 0x18, 0x03, 0x20, 0x01, 0x2a, 0x01, 0x76]);
});

test("a KeyValue survives encode and decode, large revisions and lease IDs included", () => {
  const kv = { key: Buffer.from([0, 255, 7]), createRevision: 2 ** 40, modRevision: 2 ** 52 + 1, version: 300, value: Buffer.alloc(1000, 9), lease: 0x7fffffffffffff01n };
  assert.deepEqual(decodeKeyValue(encodeKeyValue(kv)), kv);
});

test("revision keys sort in revision order and mark tombstones", () => {
  const a = encodeRevision({ main: 1, sub: 5 });
  const b = encodeRevision({ main: 2, sub: 0 });
  const t = encodeRevision({ main: 2, sub: 0 }, true);
  assert.equal(Buffer.compare(a, b), -1);
  assert.deepEqual(decodeRevision(t), { rev: { main: 2, sub: 0 }, tombstone: true });
  assert.deepEqual(decodeRevision(b), { rev: { main: 2, sub: 0 }, tombstone: false });
});

test("index keys compare as bytes, as etcd orders keys", () => {
  const keys = [Buffer.from([0x61, 0xff]), Buffer.from([0x62]), Buffer.from([0x61])];
  const sorted = keys.map(keyToIndex).sort().map(indexToKey);
  assert.deepEqual(sorted, [Buffer.from([0x61]), Buffer.from([0x61, 0xff]), Buffer.from([0x62])]);
});
