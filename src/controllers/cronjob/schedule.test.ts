import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSchedule, UnknownTimeZoneError } from "./schedule.js";
import { CronParseError } from "../../api/validation/cron_schedule.js";

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

const cases = [
  { name: "every minute goes to the next whole minute", spec: "*/1 * * * *", after: "2024-05-01T10:00:30Z", want: "2024-05-01T10:01:00.000Z" },
  { name: "a time on a schedule minute is not its own next", spec: "*/5 * * * *", after: "2024-05-01T10:05:00Z", want: "2024-05-01T10:10:00.000Z" },
  { name: "@hourly fires at minute zero", spec: "@hourly", after: "2024-05-01T10:05:00Z", want: "2024-05-01T11:00:00.000Z" },
  { name: "@daily fires at midnight", spec: "@daily", after: "2024-05-01T10:05:00Z", want: "2024-05-02T00:00:00.000Z" },
  { name: "@weekly fires on Sunday", spec: "@weekly", after: "2024-05-01T10:05:00Z", want: "2024-05-05T00:00:00.000Z" },
  { name: "@monthly fires on the first", spec: "@monthly", after: "2024-05-15T00:00:00Z", want: "2024-06-01T00:00:00.000Z" },
  { name: "@yearly fires on January first", spec: "@yearly", after: "2024-05-15T00:00:00Z", want: "2025-01-01T00:00:00.000Z" },
  { name: "day of month and day of week are ORed when both are given", spec: "0 0 13 * 5", after: "2024-05-01T00:00:00Z", want: "2024-05-03T00:00:00.000Z" },
  { name: "a restricted day of week is ANDed with a star day of month", spec: "30 9 * * 1-5", after: "2024-05-03T10:00:00Z", want: "2024-05-06T09:30:00.000Z" },
  { name: "months by name", spec: "0 12 1 jan,jul *", after: "2024-05-01T00:00:00Z", want: "2024-07-01T12:00:00.000Z" },
  { name: "February 29 is found in the next leap year", spec: "0 0 29 2 *", after: "2024-03-01T00:00:00Z", want: "2028-02-29T00:00:00.000Z" },
  { name: "a date that never exists gives nothing", spec: "0 0 30 2 *", after: "2024-03-01T00:00:00Z", want: undefined },
  { name: "@every counts from the given time", spec: "@every 90s", after: "2024-05-01T10:00:00Z", want: "2024-05-01T10:01:30.000Z" },
];
for (const c of cases) {
  test(`Schedule.next: ${c.name}`, () => assert.equal(iso(parseSchedule(c.spec).next(Date.parse(c.after))), c.want));
}

test("Schedule.next: fields are read on the wall clock of spec.timeZone", () => {
  // 09:00 in New York in May is 13:00 UTC (EDT, UTC-4).
  const s = parseSchedule("0 9 * * *", "America/New_York");
  assert.equal(iso(s.next(Date.parse("2024-05-01T12:00:00Z"))), "2024-05-01T13:00:00.000Z");
  // In January it is 14:00 UTC (EST, UTC-5).
  assert.equal(iso(s.next(Date.parse("2024-01-10T12:00:00Z"))), "2024-01-10T14:00:00.000Z");
});

test("Schedule.next: a CRON_TZ prefix sets the zone", () => {
  const s = parseSchedule("CRON_TZ=Asia/Tokyo 0 9 * * *");
  assert.equal(s.timeZone, "Asia/Tokyo");
  assert.equal(iso(s.next(Date.parse("2024-05-01T01:00:00Z"))), "2024-05-02T00:00:00.000Z");
});

test("parseSchedule: an unknown zone and a bad spec are errors of their own kinds", () => {
  assert.throws(() => parseSchedule("* * * * *", "Mars/Olympus"), UnknownTimeZoneError);
  assert.throws(() => parseSchedule("* * * *"), CronParseError);
});
