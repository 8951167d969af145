import { test } from "node:test";
import assert from "node:assert/strict";
import { Inflights } from "./inflights.js";

test("Inflights: full at the count limit; freeLE frees every message up to an index", () => {
  const inf = new Inflights(3);
  inf.add(5, 1);
  inf.add(9, 1);
  inf.add(12, 1);
  assert.ok(inf.full());
  assert.throws(() => inf.add(13, 1), /full/);
  inf.freeLE(9);
  assert.equal(inf.count, 1);
  inf.add(13, 1);
  inf.add(20, 1); // wraps around the ring
  assert.ok(inf.full());
  inf.freeFirstOne();
  assert.equal(inf.count, 2);
  inf.freeLE(100);
  assert.equal(inf.count, 0);
  assert.equal(inf.bytes, 0);
});

test("Inflights: full at the byte limit even with slots free", () => {
  const inf = new Inflights(10, 100);
  inf.add(1, 60);
  assert.equal(inf.full(), false);
  inf.add(2, 40);
  assert.ok(inf.full());
  inf.freeLE(1);
  assert.equal(inf.full(), false);
});

