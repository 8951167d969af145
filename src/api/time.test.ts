import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTime, parseTimeMs } from "./time.js";

test("formatTime writes whole seconds in UTC, truncating the milliseconds", () => {
  assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 999)), "2026-01-02T03:04:05Z");
  assert.equal(formatTime(0), "1970-01-01T00:00:00Z");
});

test("parseTimeMs reads RFC 3339 and gives undefined for nothing or nonsense", () => {
  assert.equal(parseTimeMs("2026-01-02T03:04:05Z"), Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(parseTimeMs(""), undefined);
  assert.equal(parseTimeMs(null), undefined);
  assert.equal(parseTimeMs("yesterday"), undefined);
});
