import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c, crc32cUpdate } from "./crc32c.js";

const enc = new TextEncoder();

test("crc32c matches the published check value for '123456789'", () => {
  assert.equal(crc32c(enc.encode("123456789")), 0xe3069283);
});

test("crc32c of nothing is zero", () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test("crc32cUpdate over two halves equals the crc of the whole", () => {
  const whole = enc.encode("the quick brown fox jumps over the lazy dog, twice over");
  for (let cut = 0; cut <= whole.length; cut++) {
    const running = crc32cUpdate(crc32cUpdate(0, whole.subarray(0, cut)), whole.subarray(cut));
    assert.equal(running, crc32c(whole), `cut at ${cut}`);
  }
});
