import { test } from "node:test";
import assert from "node:assert/strict";
import { formatRFC3339, humanDuration, parseTime, translateTimestampSince } from "./duration.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

const cases: { name: string; ms: number; want: string }[] = [
  { name: "two seconds in the future is invalid", ms: -2 * S, want: "<invalid>" },
  { name: "up to 1.999s in the future reads as now", ms: -1999, want: "0s" },
  { name: "a second in the future reads as now", ms: -1 * S, want: "0s" },
  { name: "less than a second truncates to 0s", ms: 999, want: "0s" },
  { name: "seconds below two minutes stay seconds", ms: 119 * S, want: "119s" },
  { name: "two minutes switch to minutes", ms: 2 * M, want: "2m" },
  { name: "minutes under ten keep their seconds", ms: 3 * M + 20 * S, want: "3m20s" },
  { name: "nine minutes fifty-nine", ms: 9 * M + 59 * S, want: "9m59s" },
  { name: "ten minutes drop the seconds", ms: 10 * M + 30 * S, want: "10m" },
  { name: "just under three hours is still minutes", ms: 3 * H - S, want: "179m" },
  { name: "three hours switch to hours", ms: 3 * H, want: "3h" },
  { name: "hours under eight keep their minutes", ms: 5 * H + 30 * M, want: "5h30m" },
  { name: "eight hours drop the minutes", ms: 8 * H + 59 * M, want: "8h" },
  { name: "just under two days is hours", ms: 47 * H + 59 * M, want: "47h" },
  { name: "two days switch to days", ms: 48 * H, want: "2d" },
  { name: "days under eight keep their hours", ms: 2 * D + 3 * H, want: "2d3h" },
  { name: "eight days drop the hours", ms: 8 * D + 5 * H, want: "8d" },
  { name: "just under two years is days", ms: 2 * Y - D, want: "729d" },
  { name: "two years switch to years", ms: 2 * Y, want: "2y" },
  { name: "years under eight keep their days", ms: 3 * Y + 45 * D, want: "3y45d" },
  { name: "eight years and more are whole years", ms: 9 * Y + 100 * D, want: "9y" },
];
for (const c of cases) {
  test(`humanDuration: ${c.name}`, () => assert.equal(humanDuration(c.ms), c.want));
}

const NOW = Date.parse("2024-06-01T12:00:00Z");

test("translateTimestampSince: a missing, null or zero timestamp is <unknown>", () => {
  assert.equal(translateTimestampSince(undefined, NOW), "<unknown>");
  assert.equal(translateTimestampSince(null, NOW), "<unknown>");
  assert.equal(translateTimestampSince("0001-01-01T00:00:00Z", NOW), "<unknown>");
});

test("translateTimestampSince: ages an RFC 3339 time and a MicroTime against now", () => {
  assert.equal(translateTimestampSince("2024-06-01T11:50:00Z", NOW), "10m");
  assert.equal(translateTimestampSince("2024-06-01T11:59:55.250000Z", NOW), "4s");
});

test("parseTime: unparseable text is treated as the zero time", () => {
  assert.equal(parseTime("yesterday"), null);
  assert.equal(parseTime("2024-06-01T12:00:00Z"), NOW);
});

test("formatRFC3339: whole seconds in UTC, and Go's zero time when unset", () => {
  assert.equal(formatRFC3339("2024-06-01T14:00:00+02:00"), "2024-06-01T12:00:00Z");
  assert.equal(formatRFC3339("2024-06-01T12:00:00.900Z"), "2024-06-01T12:00:00Z");
  assert.equal(formatRFC3339(undefined), "0001-01-01T00:00:00Z");
});
