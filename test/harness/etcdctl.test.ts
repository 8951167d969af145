import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBase64, jsonText, parseEtcdctlJson, parseEtcdctlJsonLines, toBigInt } from "./etcdctl.js";

const cases: Array<{ name: string; text: string; want: unknown }> = [
  { name: "safe integers stay numbers", text: '{"revision":42,"raft_term":2}', want: { revision: 42, raft_term: 2 } },
  {
    name: "uint64 IDs beyond 2^53 become exact bigints",
    text: '{"cluster_id":14841639068965178418,"member_id":10276657743932975437}',
    want: { cluster_id: 14841639068965178418n, member_id: 10276657743932975437n },
  },
  { name: "2^53 itself is not safe", text: "[9007199254740992, 9007199254740991]", want: [9007199254740992n, 9007199254740991] },
  { name: "negative int64 beyond -2^53", text: '{"ID":-9223372036854775808}', want: { ID: -9223372036854775808n } },
  { name: "digits inside strings are untouched", text: '{"e":"http://127.0.0.1:12345678901234567890","k":"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA="}', want: { e: "http://127.0.0.1:12345678901234567890", k: "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=" } },
  { name: "escaped quotes do not end a string early", text: '{"s":"a\\"99999999999999999999\\"","n":99999999999999999999}', want: { s: 'a"99999999999999999999"', n: 99999999999999999999n } },
  { name: "fractions and exponents stay numbers", text: "[1.5, 1e21, -2.5E-3]", want: [1.5, 1e21, -2.5e-3] },
];
for (const c of cases) test(`parseEtcdctlJson: ${c.name}`, () => assert.deepEqual(parseEtcdctlJson(c.text), c.want));

test("parseEtcdctlJsonLines: one document per line, blank lines ignored", () => {
  assert.deepEqual(parseEtcdctlJsonLines('{"a":1}\n\n{"b":18446744073709551615}\n'), [{ a: 1 }, { b: 18446744073709551615n }]);
});

test("fromBase64 decodes etcdctl's key and value encoding; absent means empty", () => {
  assert.equal(fromBase64("Zm9vL2Jhcg=="), "foo/bar");
  assert.equal(fromBase64(undefined), "");
});

test("toBigInt treats an omitted int64 as 0", () => {
  assert.equal(toBigInt(undefined), 0n);
  assert.equal(toBigInt(7), 7n);
  assert.equal(toBigInt(2324035592497860448n), 2324035592497860448n);
});

test("jsonText prints bigints as digits", () => {
  assert.equal(jsonText({ id: 2324035592497860448n }), '{"id":"2324035592497860448"}');
});
