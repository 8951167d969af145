import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ERR_FORMAT_WRONG,
  ERR_SUFFIX,
  addQuantities,
  canonicalQuantity,
  compareQuantities,
  isQuantity,
  milliValue,
  parseQuantity,
  quantityValue,
} from "./quantity.js";

const canonical: { input: string | number; want: string }[] = [
  { input: "100m", want: "100m" },
  { input: "1000m", want: "1" },
  { input: "1500m", want: "1500m" },
  { input: "0.5", want: "500m" },
  { input: 0.5, want: "500m" },
  { input: 2, want: "2" },
  { input: "1.5", want: "1500m" },
  { input: "1k", want: "1k" },
  { input: "1500", want: "1500" },
  { input: "2000", want: "2k" },
  { input: "1Gi", want: "1Gi" },
  { input: "1024Mi", want: "1Gi" },
  { input: "1536Mi", want: "1536Mi" },
  { input: "1.5Gi", want: "1536Mi" },
  { input: "0.5Ki", want: "512" },
  { input: "1e3", want: "1e3" },
  { input: "1E3", want: "1e3" },
  { input: "12e-1", want: "1200e-3" },
  { input: "2E", want: "2E" },
  { input: "1n", want: "1n" },
  { input: "0.1n", want: "1n" },
  { input: "0.1m", want: "100u" },
  { input: "+5", want: "5" },
  { input: "-5Mi", want: "-5Mi" },
  { input: "0", want: "0" },
  { input: "0Gi", want: "0" },
  { input: "1.G", want: "1G" },
];

for (const c of canonical) {
  test(`canonicalQuantity: ${JSON.stringify(c.input)} prints as ${c.want}`, () => assert.equal(canonicalQuantity(c.input), c.want));
}

const malformed: { input: string; want: string }[] = [
  { input: "", want: ERR_FORMAT_WRONG },
  { input: "abc", want: ERR_FORMAT_WRONG },
  { input: "1.2.3", want: ERR_FORMAT_WRONG },
  { input: "1 Gi", want: ERR_FORMAT_WRONG },
  { input: "1K", want: ERR_SUFFIX },
  { input: "1Gb", want: ERR_FORMAT_WRONG },
  { input: "1k3", want: ERR_SUFFIX },
];

for (const c of malformed) {
  test(`parseQuantity: ${JSON.stringify(c.input)} is rejected with upstream's message`, () => assert.throws(() => parseQuantity(c.input), { message: c.want }));
}

test("ERR_FORMAT_WRONG: is upstream's regular expression message", () => {
  assert.equal(ERR_FORMAT_WRONG, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
});

test("compareQuantities: compares across suffixes exactly", () => {
  assert.equal(compareQuantities(parseQuantity("1"), parseQuantity("1000m")), 0);
  assert.equal(compareQuantities(parseQuantity("1Gi"), parseQuantity("1G")), 1);
  assert.equal(compareQuantities(parseQuantity("100m"), parseQuantity("0.2")), -1);
  assert.equal(compareQuantities(parseQuantity("1e3"), parseQuantity("1k")), 0);
});

test("milliValue and quantityValue: round up to whole units", () => {
  assert.equal(milliValue(parseQuantity("1.5")), 1500n);
  assert.equal(milliValue(parseQuantity("1n")), 1n);
  assert.equal(quantityValue(parseQuantity("1.2")), 2n);
  assert.equal(quantityValue(parseQuantity("1Ki")), 1024n);
});

test("addQuantities: keeps the first format", () => {
  assert.equal(canonicalQuantity("0"), "0");
  const sum = addQuantities(parseQuantity("512Mi"), parseQuantity("512Mi"));
  assert.equal(compareQuantities(sum, parseQuantity("1Gi")), 0);
});

test("isQuantity: tells quantities from other values", () => {
  assert.equal(isQuantity("250m"), true);
  assert.equal(isQuantity(3), true);
  assert.equal(isQuantity("lots"), false);
  assert.equal(isQuantity(null), false);
});
