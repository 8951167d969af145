import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSegmentName, segmentName } from "./segment_name.js";

test("segmentName: formats sequence and first index as 16 hex digits each", () => {
  assert.equal(segmentName(0, 1), "0000000000000000-0000000000000001.wal");
  assert.equal(segmentName(255, Number.MAX_SAFE_INTEGER), "00000000000000ff-001fffffffffffff.wal");
});

test("parseSegmentName: reads back what segmentName wrote", () => {
  assert.deepEqual(parseSegmentName(segmentName(12, 3456)), { seq: 12, firstIndex: 3456, name: segmentName(12, 3456) });
});

const notSegments = ["0000000000000000-0000000000000001.wal.tmp", "x.wal", "0000000000000000-0000000000000001.snap", "ffffffffffffffff-0000000000000001.wal"];
for (const name of notSegments) {
  test(`parseSegmentName: '${name}' is not a segment name`, () => assert.equal(parseSegmentName(name), null));
}
