import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalize, computeHash, fnv32a, safeEncodeString } from "./pod_template_hash.js";

test("fnv32a matches the FNV-1a test vectors", () => {
  assert.equal(fnv32a(new Uint8Array()), 0x811c9dc5);
  assert.equal(fnv32a(new TextEncoder().encode("a")), 0xe40c292c);
  assert.equal(fnv32a(new TextEncoder().encode("foobar")), 0xbf9cf968);
});

test("safeEncodeString maps digits onto the vowel-free alphabet as upstream", () => {
  assert.equal(safeEncodeString("0123456789"), "456789bcdf");
});

test("the hash ignores key order and empty fields, and changes with the template or collisionCount", () => {
  const a = { metadata: { labels: { app: "web", tier: "x" } }, spec: { containers: [{ name: "c", image: "nginx" }] } };
  const b = { spec: { volumes: [], containers: [{ image: "nginx", name: "c", env: null }] }, metadata: { annotations: {}, labels: { tier: "x", app: "web" } } };
  assert.deepEqual(canonicalize(a), canonicalize(b));
  assert.equal(computeHash(a), computeHash(b));
  assert.notEqual(computeHash(a), computeHash({ ...a, spec: { containers: [{ name: "c", image: "nginx:2" }] } }));
  assert.notEqual(computeHash(a), computeHash(a, 1));
  assert.equal(computeHash(a, 1), computeHash(a, 1));
  assert.match(computeHash(a), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
});
