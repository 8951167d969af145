/**
 * Kubernetes resource quantities (apimachinery `api/resource`): `100m`, `1Gi`, `1e3`, `0.5`. A quantity
 * is held exactly as `mantissa × 10^exponent` (bigint mantissa), so `1.5Gi`, `1e18` and `1n` all compare
 * and print without floating-point loss. `quantityString` gives upstream's canonical form (the one the
 * API server stores and returns): `1000m` → `1`, `0.5` → `500m`, `1536Mi` → `1536Mi`, `1024Mi` → `1Gi`.
 */

export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

export interface Quantity {
  /** Signed; value = mantissa × 10^exponent. */
  readonly mantissa: bigint;
  readonly exponent: number;
  /** How it was written, which decides how it prints. */
  readonly format: QuantityFormat;
}

const SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** resource.ErrFormatWrong, as the decoder reports a malformed quantity. */
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE_STRING}'`;
/** resource.ErrNumeric. */
export const ERR_NUMERIC = "unable to parse numeric part of quantity";
/** resource.ErrSuffix. */
export const ERR_SUFFIX = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

// Quantities below one nano are rounded up to it: whoever asks for some resource gets some.
const NANO_EXPONENT = -9;
// BinarySI values are capped at int64's max (upstream's maxAllowed).
const BINARY_MAX = (1n << 63n) - 1n;

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

interface Parts {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** The scanner of upstream's parseQuantityString: sign, digits, optional fraction, suffix. */
function splitQuantity(str: string): Parts {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === "-") {
    positive = false;
    pos++;
  } else if (str[0] === "+") {
    pos++;
  }
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { positive, num: "0", denom: "", suffix: "" };
  let i = pos;
  while (i < end && isDigit(str[i]!)) i++;
  let num = str.slice(pos, i);
  if (num.length === 0) num = "0";
  pos = i;
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i]!)) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  i = pos;
  while (i < end && "eEinumkKMGTP".includes(str[i]!)) i++;
  if (i < end && (str[i] === "-" || str[i] === "+")) i++;
  while (i < end && isDigit(str[i]!)) i++;
  if (i < end) throw new QuantityError(ERR_FORMAT_WRONG);
  return { positive, num, denom, suffix: str.slice(suffixStart, end) };
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** The base, exponent and format a suffix means; undefined for an unknown suffix. */
function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    const rest = suffix.slice(1);
    if (!/^[+-]?[0-9]+$/.test(rest)) return undefined;
    const exponent = Number.parseInt(rest, 10);
    if (!Number.isSafeInteger(exponent)) return undefined;
    return { base: 10, exponent, format: "DecimalExponent" };
  }
  return undefined;
}

/**
 * resource.ParseQuantity. Accepts what the JSON decoder accepts: a string, or a JSON number (YAML
 * `cpu: 0.5`). Throws QuantityError with upstream's message on malformed input.
 */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === "number" ? numberToQuantityString(input) : input;
  if (str.length === 0) throw new QuantityError(ERR_FORMAT_WRONG);
  const parts = splitQuantity(str);
  const interpreted = interpretSuffix(parts.suffix);
  if (interpreted === undefined) throw new QuantityError(ERR_SUFFIX);
  let format = interpreted.format;
  let mantissa = BigInt(parts.num + parts.denom);
  let exponent = -parts.denom.length;
  if (interpreted.base === 10) exponent += interpreted.exponent;
  else mantissa *= 1n << BigInt(interpreted.exponent);

  if (mantissa !== 0n && exponent < NANO_EXPONENT) {
    // Round the magnitude up to a whole number of nanos.
    const divisor = 10n ** BigInt(NANO_EXPONENT - exponent);
    mantissa = (mantissa + divisor - 1n) / divisor;
    exponent = NANO_EXPONENT;
  }
  if (format === "BinarySI") {
    if (compareParts(mantissa, exponent, BINARY_MAX, 0) > 0) {
      mantissa = BINARY_MAX;
      exponent = 0;
    }
    if (mantissa !== 0n && compareParts(mantissa, exponent, 1n, 0) < 0) format = "DecimalSI";
  }
  if (!parts.positive) mantissa = -mantissa;
  return normalize({ mantissa, exponent, format });
}

function numberToQuantityString(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(ERR_FORMAT_WRONG);
  // JavaScript prints 1e21 as "1e+21", which the Go parser accepts too.
  return String(n);
}

/** True when the text parses as a quantity. */
export function isQuantity(input: unknown): boolean {
  if (typeof input !== "string" && typeof input !== "number") return false;
  try {
    parseQuantity(input);
    return true;
  } catch (err) {
    if (err instanceof QuantityError) return false;
    throw err;
  }
}

/** Moves factors of ten from the mantissa into the exponent, so equal values have equal parts. */
function normalize(q: Quantity): Quantity {
  let { mantissa, exponent } = q;
  if (mantissa === 0n) return { mantissa: 0n, exponent: 0, format: q.format };
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  return { mantissa, exponent, format: q.format };
}

function compareParts(m1: bigint, e1: number, m2: bigint, e2: number): number {
  const e = Math.min(e1, e2);
  const a = m1 * 10n ** BigInt(e1 - e);
  const b = m2 * 10n ** BigInt(e2 - e);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Quantity.Cmp: -1, 0 or 1. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  return compareParts(a.mantissa, a.exponent, b.mantissa, b.exponent);
}

export function isZeroQuantity(q: Quantity): boolean {
  return q.mantissa === 0n;
}

/** Quantity.MilliValue(): the value in thousandths, rounded up (away from zero for positives). */
export function milliValue(q: Quantity): bigint {
  return scaledCeil(q, -3);
}

/** Quantity.Value(): the value in units, rounded up. */
export function quantityValue(q: Quantity): bigint {
  return scaledCeil(q, 0);
}

function scaledCeil(q: Quantity, scaleExponent: number): bigint {
  const shift = q.exponent - scaleExponent;
  if (shift >= 0) return q.mantissa * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const quotient = q.mantissa / divisor;
  return q.mantissa % divisor !== 0n && q.mantissa > 0n ? quotient + 1n : quotient;
}

/** Sum of quantities; the format of the first wins, as Quantity.Add keeps the receiver's. */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const e = Math.min(a.exponent, b.exponent);
  const m = a.mantissa * 10n ** BigInt(a.exponent - e) + b.mantissa * 10n ** BigInt(b.exponent - e);
  return normalize({ mantissa: m, exponent: e, format: a.format });
}

/** Quantity.String(): the canonical text. */
export function quantityString(q: Quantity): string {
  if (q.mantissa === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    const small = compareParts(q.mantissa, q.exponent, -1024n, 0) > 0 && compareParts(q.mantissa, q.exponent, 1024n, 0) < 0;
    if (small || integerValue(q) === undefined) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let value = integerValue(q)!;
    let exp = 0;
    while (exp < 60 && value % 1024n === 0n) {
      value /= 1024n;
      exp += 10;
    }
    return `${value}${BINARY_BY_EXPONENT.get(exp) ?? ""}`;
  }
  // Decimal: the exponent becomes a multiple of three (upstream's AsCanonicalBytes).
  let { mantissa, exponent } = normalize(q);
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  if (format === "DecimalExponent") return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  if (exponent > 18) {
    mantissa *= 10n ** BigInt(exponent - 18);
    exponent = 18;
  }
  return `${mantissa}${DECIMAL_BY_EXPONENT.get(exponent) ?? ""}`;
}

function integerValue(q: Quantity): bigint | undefined {
  if (q.exponent >= 0) return q.mantissa * 10n ** BigInt(q.exponent);
  const divisor = 10n ** BigInt(-q.exponent);
  return q.mantissa % divisor === 0n ? q.mantissa / divisor : undefined;
}

/** Parses and prints back in canonical form: what the API server stores for `resources.limits.cpu: 0.5`. */
export function canonicalQuantity(input: string | number): string {
  return quantityString(parseQuantity(input));
}
