import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { decodeContinue, encodeContinue } from "./continue_token.js";

test("continue token: round-trips the revision and the next key in upstream's JSON shape", () => {
  const token = encodeContinue(42, "default/web");
  assert.deepEqual(JSON.parse(Buffer.from(token, "base64url").toString()), { v: "meta.k8s.io/v1", rv: 42, start: "default/web\u0000" });
  assert.deepEqual(decodeContinue(token), { revision: 42, startKey: "default/web\u0000" });
});

for (const [name, token] of [
  ["not base64 JSON", "%%%"],
  ["another version", Buffer.from(JSON.stringify({ v: "x", rv: 1, start: "a" })).toString("base64url")],
  ["a zero revision", Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: 0, start: "a" })).toString("base64url")],
  ["a start key escaping the prefix", Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: 3, start: "/../x" })).toString("base64url")],
] as const) {
  test(`continue token: ${name} is a 400`, () => assert.throws(() => decodeContinue(token), (e: unknown) => e instanceof ApiError && e.code === 400));
}
