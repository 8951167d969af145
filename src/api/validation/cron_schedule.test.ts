import assert from "node:assert/strict";
import { test } from "node:test";

import { parseCronSchedule } from "./cron_schedule.js";

const bad: { spec: string; want: string }[] = [
  { spec: "", want: "empty spec string" },
  { spec: "bad", want: "expected exactly 5 fields, found 1: [bad]" },
  { spec: "* * * *", want: "expected exactly 5 fields, found 4: [* * * *]" },
  { spec: "60 * * * *", want: "end of range (60) above maximum (59): 60" },
  { spec: "* * 0 * *", want: "beginning of range (0) below minimum (1): 0" },
  { spec: "5-1 * * * *", want: "beginning of range (5) beyond end of range (1): 5-1" },
  { spec: "*/0 * * * *", want: "step of range should be a positive number: */0" },
  { spec: "x * * * *", want: 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax' },
  { spec: "1-2-3 * * * *", want: "too many hyphens: 1-2-3" },
  { spec: "1/2/3 * * * *", want: "too many slashes: 1/2/3" },
  { spec: "* * * * 7", want: "end of range (7) above maximum (6): 7" },
  { spec: "@fortnightly", want: "unrecognized descriptor: @fortnightly" },
  { spec: "@every soon", want: 'failed to parse duration @every soon: time: invalid duration "soon"' },
];

for (const c of bad) test(`parseCronSchedule: ${JSON.stringify(c.spec)} fails with "${c.want}"`, () => assert.throws(() => parseCronSchedule(c.spec), { message: c.want }));

test("parseCronSchedule: steps, ranges, lists and names expand to their values", () => {
  const s = parseCronSchedule("*/15 9-17 1,15 jan-mar MON-FRI");
  assert.deepEqual([...s.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...s.hours], [9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual([...s.daysOfMonth], [1, 15]);
  assert.deepEqual([...s.months], [1, 2, 3]);
  assert.deepEqual([...s.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.equal(s.domStar, false);
});

test("parseCronSchedule: N/step runs from N to the field's maximum, and ? means any", () => {
  const s = parseCronSchedule("50/5 * ? * *");
  assert.deepEqual([...s.minutes], [50, 55]);
  assert.equal(s.domStar, true);
});

test("parseCronSchedule: descriptors are accepted", () => {
  for (const d of ["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@every 1h30m"]) assert.doesNotThrow(() => parseCronSchedule(d));
  assert.deepEqual([...parseCronSchedule("@weekly").daysOfWeek], [0]);
});
