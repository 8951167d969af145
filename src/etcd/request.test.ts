import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEtcdProtos } from "./proto.js";
import { decodeRequest, encodeRequest, requestIdOf } from "./request.js";
import type { PutRequest } from "./pb.js";

const put: PutRequest = { key: Buffer.from("k"), value: Buffer.from("v"), lease: "0", prev_kv: true, ignore_value: false, ignore_lease: false };

test("a log entry carries the request ID and decodes back to the request", () => {
  const data = encodeRequest(0x1234_5678_9abcn, { op: "put", req: put });
  assert.equal(requestIdOf(data), 0x1234_5678_9abcn);
  const { id, request } = decodeRequest(data);
  assert.equal(id, 0x1234_5678_9abcn);
  assert.equal(request.op, "put");
  const got = request.req as PutRequest;
  assert.deepEqual([got.key.toString(), got.value.toString(), got.prev_kv], ["k", "v", true]);
});

test("a log entry built from the client's own bytes is identical to one encoded from the object", () => {
  const method = (loadEtcdProtos().kv as unknown as Record<string, { requestSerialize(v: unknown): Buffer }>)["Put"]!;
  const wire = method.requestSerialize(put);
  assert.deepEqual(encodeRequest(7n, { op: "put", req: put }, wire), encodeRequest(7n, { op: "put", req: put }));
});
