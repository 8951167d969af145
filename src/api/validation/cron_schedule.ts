/**
 * The cron parser CronJob validation runs (robfig/cron v3's ParseStandard): five fields — minute, hour,
 * day of month, month, day of week — or a descriptor (`@hourly`, `@every 5m`). Errors carry that
 * library's messages, which upstream puts verbatim after `spec.schedule: Invalid value: "…": `.
 */

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const FIELDS: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** A parsed five-field schedule: the allowed values of each field. */
export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Set when day-of-month or day-of-week was `*`: cron ORs the two day fields only when neither is a star. */
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

export class CronParseError extends Error {
  override readonly name = "CronParseError";
}

/** Go's strconv.Atoi error text. */
function atoi(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing "${expr}": invalid syntax`);
  const n = Number.parseInt(expr, 10);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) {
    throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing "${expr}": value out of range`);
  }
  return n;
}

function mustParseInt(expr: string): number {
  const n = atoi(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names: Readonly<Record<string, number>> | undefined): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

/** getRange: `*`, `?`, `N`, `N-M`, each optionally `/step`. */
function parseRange(expr: string, b: Bounds, out: Set<number>): boolean {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0]!.split("-");
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, b.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, b.names);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (singleDigit) end = b.max;
    if (step > 1) star = false;
  } else {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) out.add(v);
  return star;
}

function parseField(field: string, b: Bounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of field.split(",").filter((p) => p.length > 0)) star = parseRange(part, b, values) || star;
  return { values, star };
}

function range(min: number, max: number): Set<number> {
  const s = new Set<number>();
  for (let v = min; v <= max; v++) s.add(v);
  return s;
}

/** Go's time.ParseDuration for the forms `@every` takes (`1h30m`, `90s`, `1.5h`). */
function parseDurationMs(descriptor: string, s: string): number {
  const m = /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/.test(s);
  if (!m) throw new CronParseError(`failed to parse duration ${descriptor}: time: invalid duration "${s}"`);
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  for (const part of s.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unitMs[part[2]!]!;
  return total;
}

/**
 * cron.ParseStandard. Returns the schedule, or throws CronParseError with the library's message
 * (`expected exactly 5 fields, found 1: [bad]`).
 */
export function parseCronSchedule(spec: string): CronSchedule {
  if (spec.length === 0) throw new CronParseError("empty spec string");
  let body = spec;
  const tz = /^(?:CRON_TZ|TZ)=(\S*)\s*/.exec(body);
  if (tz !== null) body = body.slice(tz[0].length);
  if (body.startsWith("@")) {
    const d = body.trim();
    if (d.startsWith("@every ")) {
      parseDurationMs(d, d.slice("@every ".length).trim());
      return { minutes: range(0, 59), hours: range(0, 23), daysOfMonth: range(1, 31), months: range(1, 12), daysOfWeek: range(0, 6), domStar: true, dowStar: true };
    }
    if (!DESCRIPTORS.has(d)) throw new CronParseError(`unrecognized descriptor: ${d}`);
    const at = (m: number, h: number, dom: Set<number>, mon: Set<number>, dow: Set<number>, domStar: boolean, dowStar: boolean): CronSchedule => ({
      minutes: new Set([m]),
      hours: new Set([h]),
      daysOfMonth: dom,
      months: mon,
      daysOfWeek: dow,
      domStar,
      dowStar,
    });
    switch (d) {
      case "@yearly":
      case "@annually":
        return at(0, 0, new Set([1]), new Set([1]), range(0, 6), false, true);
      case "@monthly":
        return at(0, 0, new Set([1]), range(1, 12), range(0, 6), false, true);
      case "@weekly":
        return at(0, 0, range(1, 31), range(1, 12), new Set([0]), true, false);
      case "@daily":
      case "@midnight":
        return at(0, 0, range(1, 31), range(1, 12), range(0, 6), true, true);
      default:
        return { ...at(0, 0, range(1, 31), range(1, 12), range(0, 6), true, true), hours: range(0, 23) };
    }
  }
  // strings.Fields: split on runs of whitespace.
  const fields = body.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  const parsed = fields.map((f, i) => parseField(f, FIELDS[i]!));
  return {
    minutes: parsed[0]!.values,
    hours: parsed[1]!.values,
    daysOfMonth: parsed[2]!.values,
    months: parsed[3]!.values,
    daysOfWeek: parsed[4]!.values,
    domStar: parsed[2]!.star,
    dowStar: parsed[4]!.star,
  };
}
