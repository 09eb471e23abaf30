/**
 * Durations of plugin tables (`check_interval`, `notification_interval`, `execution_interval`):
 * whole minutes written as a number, a digit string or a Go duration string (docs/upstream.md,
 * "Durations").
 *
 * Go's `strconv.ParseInt`, `time.ParseDuration` and `time.Duration.String` are reproduced here
 * because upstream's error messages quote their output (`duration out of range: -10m0s`).
 *
 * @module
 */
import { textOf } from "./errors.ts";

const NS_PER_MINUTE = 60_000_000_000n;
const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

/**
 * Reads a duration value as whole minutes, as upstream's `config.duration` does.
 *
 * Throws an `Error` whose message is upstream's reason, e.g. `duration out of range: -10`,
 * `duration not multiple of 1m: 1m6s` or `strconv.ParseInt: parsing "abc": invalid syntax`.
 */
export function parseDurationMinutes(value: unknown): number {
  const text = textOf(value);
  const asInt = parseInt32(text);
  if (typeof asInt === "number") {
    if (asInt < 0) throw new Error(`duration out of range: ${asInt}`);
    return asInt;
  }
  let ns: bigint;
  try {
    ns = parseGoDuration(text);
  } catch {
    // Upstream returns the integer parse error when neither form fits.
    throw asInt;
  }
  if (ns < 0n || ns / NS_PER_MINUTE > BigInt(MAX_INT32)) {
    throw new Error(`duration out of range: ${formatGoDuration(ns)}`);
  }
  if (ns % NS_PER_MINUTE !== 0n) {
    throw new Error(`duration not multiple of 1m: ${formatGoDuration(ns)}`);
  }
  return Number(ns / NS_PER_MINUTE);
}

/** Go `strconv.ParseInt(text, 10, 32)`: the number, or the error it would return. */
function parseInt32(text: string): number | Error {
  const fail = (why: string) =>
    new Error(`strconv.ParseInt: parsing ${JSON.stringify(text)}: ${why}`);
  if (!/^[+-]?[0-9]+$/.test(text)) return fail("invalid syntax");
  const n = Number(BigInt(text));
  if (n > MAX_INT32 || n < MIN_INT32) return fail("value out of range");
  return n === 0 ? 0 : n;
}

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const LIMIT = 1n << 63n;

/** Go `time.ParseDuration`, in nanoseconds. Throws on malformed input. */
export function parseGoDuration(input: string): bigint {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(input)}`);
  let s = input;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let total = 0n;
  while (s !== "") {
    if (!/^[0-9.]/.test(s)) throw invalid();
    const intPart = /^[0-9]*/.exec(s)![0];
    s = s.slice(intPart.length);
    let v = 0n;
    for (const c of intPart) {
      if (v > LIMIT / 10n) throw invalid();
      v = v * 10n + BigInt(c);
      if (v > LIMIT) throw invalid();
    }
    let frac = 0n;
    let scale = 1;
    let fracDigits = "";
    if (s[0] === ".") {
      fracDigits = /^[0-9]*/.exec(s.slice(1))![0];
      s = s.slice(1 + fracDigits.length);
      let overflow = false;
      for (const c of fracDigits) {
        if (overflow) continue;
        const next = frac * 10n + BigInt(c);
        if (frac > (LIMIT - 1n) / 10n || next > LIMIT) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
    }
    if (intPart === "" && fracDigits === "") throw invalid();
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === "") throw new Error(`time: missing unit in duration ${JSON.stringify(input)}`);
    s = s.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) {
      throw new Error(
        `time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(input)}`,
      );
    }
    if (v > LIMIT / unit) throw invalid();
    v *= unit;
    if (frac > 0n) {
      // Go computes the fraction in float64 too; nanosecond-exact up to hours.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > LIMIT) throw invalid();
    }
    total += v;
    if (total > LIMIT) throw invalid();
  }
  if (neg) return -total;
  if (total > LIMIT - 1n) throw invalid();
  return total;
}

/** Go `time.Duration.String()` of a number of nanoseconds (`1h30m0s`, `1.5s`, `1ms`, `-10m0s`). */
export function formatGoDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return "0s";
    let unit: string;
    let prec: number;
    if (u < 1_000n) [unit, prec] = ["ns", 0];
    else if (u < 1_000_000n) [unit, prec] = ["\u00b5s", 3];
    else [unit, prec] = ["ms", 6];
    const [frac, rest] = fraction(u, prec);
    out = `${rest}${frac}${unit}`;
  } else {
    const [frac, seconds] = fraction(u, 9);
    u = seconds;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Go's `fmtFrac`: the `.digits` of v / 10^prec without trailing zeros, and the integer part. */
function fraction(v: bigint, prec: number): [string, bigint] {
  let digits = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print ||= digit !== 0n;
    if (print) digits = `${digit}${digits}`;
    v /= 10n;
  }
  return [print ? `.${digits}` : "", v];
}
