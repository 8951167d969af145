/**
 * Cron schedule times (robfig/cron v3's SpecSchedule.Next and ConstantDelaySchedule, which upstream's
 * CronJob controller uses): the five fields come from the validator's parser; this file computes the
 * next activation after a time, in a time zone. Times are Unix milliseconds; fields are matched on
 * the wall clock of the zone (`spec.timeZone`, a `CRON_TZ=`/`TZ=` prefix, or UTC).
 *
 * Next(t) is the first whole minute strictly after t whose month, day, hour and minute are all
 * allowed, searched field by field from the largest: a month that does not match skips to the next
 * month, a day to the next day, and so on. The day matches when both day fields match if either is
 * `*`, otherwise when either does (cron's OR rule): `0 0 13 * 5` is "the 13th, and every Friday".
 */
import { parseCronSchedule, CronParseError, type CronSchedule } from "../../api/validation/cron_schedule.js";

/** As robfig: a search that finds nothing within five years gives up (e.g. `0 0 30 2 *`). */
export const SCHEDULE_SEARCH_YEARS_MAX = 5;

const MINUTE_MS = 60_000;

/** A parsed schedule bound to its zone. */
export interface Schedule {
  /** The first activation strictly after `afterMs`; undefined when there is none within the search bound. */
  next(afterMs: number): number | undefined;
  /** The zone the fields are read in (IANA name, "UTC" by default). */
  readonly timeZone: string;
}

export class UnknownTimeZoneError extends Error {
  override readonly name = "UnknownTimeZoneError";
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws UnknownTimeZoneError unless `tz` is an IANA zone this runtime knows. */
export function checkTimeZone(tz: string): void {
  zoneFormatter(tz);
}

function zoneFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch (err) {
      throw new UnknownTimeZoneError(`unknown time zone ${tz}`, { cause: err });
    }
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's offset from UTC at instant `ms`, in milliseconds (local = utc + offset). */
export function zoneOffsetMs(tz: string, ms: number): number {
  if (tz === "UTC" || tz === "Etc/UTC") return 0;
  const parts = zoneFormatter(tz).formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? "0");
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return local - Math.floor(ms / 1000) * 1000;
}

/** The instant whose wall clock in `tz` reads `localMs` (the later offset wins inside a DST gap). */
function localToUtc(tz: string, localMs: number): number {
  const guess = localMs - zoneOffsetMs(tz, localMs);
  const offset = zoneOffsetMs(tz, guess);
  return localMs - offset;
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.daysOfMonth.has(d.getUTCDate());
  const dow = s.daysOfWeek.has(d.getUTCDay());
  if (s.domStar || s.dowStar) return dom && dow;
  return dom || dow;
}

/** SpecSchedule.Next on a wall clock expressed as UTC fields ("local ms"). */
function nextLocal(s: CronSchedule, afterLocalMs: number): number | undefined {
  // The first whole minute strictly after `after`.
  let t = Math.floor(afterLocalMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const yearLimit = new Date(t).getUTCFullYear() + SCHEDULE_SEARCH_YEARS_MAX;
  // Each pass moves t forward by at least a minute and at most to the next month, so the loop ends
  // within the search bound; the counter makes that visible.
  for (let passes = 0; passes < 60 * 24 * 366 * SCHEDULE_SEARCH_YEARS_MAX; passes++) {
    const d = new Date(t);
    if (d.getUTCFullYear() > yearLimit) return undefined;
    if (!s.months.has(d.getUTCMonth() + 1)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(s, d)) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      t += MINUTE_MS;
      continue;
    }
    return t;
  }
  return undefined;
}

/** Go's time.ParseDuration for `@every` (whole forms only: `1h30m`, `90s`, `1.5h`). */
function everyMs(text: string): number {
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of text.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unitMs[part[2]!]!;
  return total;
}

/**
 * Parses `spec` (as the CronJob validator does) and binds it to `timeZone` (spec.timeZone); a
 * `CRON_TZ=`/`TZ=` prefix in the spec wins over UTC but not over an explicit timeZone, as upstream
 * (which rejects the combination in validation anyway). Throws CronParseError or UnknownTimeZoneError.
 */
export function parseSchedule(spec: string, timeZone?: string | null): Schedule {
  const fields = parseCronSchedule(spec);
  const prefix = /^(?:CRON_TZ|TZ)=(\S*)\s*/.exec(spec);
  const tz = timeZone ?? (prefix === null ? undefined : prefix[1]) ?? "UTC";
  checkTimeZone(tz);
  const body = prefix === null ? spec.trim() : spec.slice(prefix[0].length).trim();
  if (body.startsWith("@every ")) {
    // ConstantDelaySchedule: every delay (at least a second), counted from `after`, rounded to the second.
    const delayMs = Math.max(1000, Math.floor(everyMs(body.slice("@every ".length).trim()) / 1000) * 1000);
    return { timeZone: tz, next: (afterMs) => Math.floor(afterMs / 1000) * 1000 + delayMs };
  }
  return {
    timeZone: tz,
    next(afterMs: number): number | undefined {
      let local = nextLocal(fields, afterMs + zoneOffsetMs(tz, afterMs));
      // Around a DST change a wall-clock minute can map to an instant at or before `after`; search on
      // (a few steps cover any real zone's jump).
      for (let i = 0; i < 4 && local !== undefined; i++) {
        const utc = localToUtc(tz, local);
        if (utc > afterMs) return utc;
        local = nextLocal(fields, local);
      }
      return undefined;
    },
  };
}

export { CronParseError };
