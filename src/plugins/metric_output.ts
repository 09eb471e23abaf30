/**
 * Parses a metric plugin's stdout into values (docs/upstream.md, "Metric plugins").
 *
 * Numbers follow Go's `strconv.ParseFloat`/`ParseInt` exactly (hex floats, `_` separators, `Inf`,
 * `NaN`, range errors), because plugins written for mackerel-agent rely on what Go accepts.
 *
 * @module
 */

/** One parsed value; `finite` is false for NaN/±Inf, which the caller drops before posting. */
export interface PluginValue {
  readonly name: string;
  readonly value: number;
  readonly finite: boolean;
  /** Unix seconds from the plugin, only with `use_plugin_timestamp`. */
  readonly time?: number;
}

/** Options of {@linkcode parseMetricOutput}. */
export interface MetricOutputOptions {
  readonly includePattern?: RegExp;
  readonly excludePattern?: RegExp;
  readonly usePluginTimestamp: boolean;
  /** The current time in Unix seconds. */
  readonly nowSeconds: number;
}

/** The values and the WARNING lines (upstream's exact texts) of one plugin run. */
export interface MetricOutput {
  readonly values: readonly PluginValue[];
  readonly warnings: readonly string[];
}

/** Metric names of plugins are the key with this prefix (not sanitized). */
export const PLUGIN_PREFIX = "custom.";
/** A plugin timestamp must be strictly closer than this to now. */
const TIME_WINDOW_SECONDS = 15n * 60n;

/** Go's `unicode.IsSpace`, which `strings.Fields` splits on. */
const GO_SPACES = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Splits like Go's `strings.Fields`. */
export function goFields(s: string): string[] {
  return s.split(GO_SPACES).filter((f) => f !== "");
}

/** Parses `key value [timestamp]` lines; lines with fewer than 3 fields are ignored. */
export function parseMetricOutput(stdout: string, options: MetricOutputOptions): MetricOutput {
  const values = new Map<string, PluginValue>();
  const warnings: string[] = [];
  const now = BigInt(Math.trunc(options.nowSeconds));
  for (const line of stdout.split("\n")) {
    const fields = goFields(line);
    if (fields.length < 3) continue;
    const key = fields[0];
    // search() ignores lastIndex, so a /g pattern from the config cannot skip matches.
    if (options.includePattern && key.search(options.includePattern) < 0) continue;
    if (options.excludePattern && key.search(options.excludePattern) >= 0) continue;
    const parsed = parseGoFloat(fields[1]);
    if ("error" in parsed) {
      warnings.push(`Failed to parse values (key=${key}): ${parsed.error}`);
      continue;
    }
    let time: number | undefined;
    if (options.usePluginTimestamp) {
      const ts = parseGoInt(fields[2]);
      if ("error" in ts) {
        warnings.push(`Failed to parse time (key=${key}): ${ts.error}`);
        continue;
      }
      const diff = now - ts.value;
      if (diff >= TIME_WINDOW_SECONDS || -diff >= TIME_WINDOW_SECONDS) {
        warnings.push(
          `Rejected because it exceeds the acceptable time window. (key=${key}): ` +
            `metric_timestamp=${ts.value} now=${now}`,
        );
        continue;
      }
      time = Number(ts.value);
    }
    const name = PLUGIN_PREFIX + key;
    const value = parsed.value;
    values.set(name, {
      name,
      value,
      finite: Number.isFinite(value),
      ...(time === undefined ? {} : { time }),
    });
  }
  return { values: [...values.values()], warnings };
}

const DEC = String.raw`\d(?:_?\d)*`;
const HEX = String.raw`[0-9a-fA-F](?:_?[0-9a-fA-F])*`;
const DECIMAL_FLOAT = new RegExp(
  String.raw`^[+-]?(?:${DEC}(?:\.(?:${DEC})?)?|\.${DEC})(?:[eE][+-]?${DEC})?$`,
);
const HEX_FLOAT = new RegExp(
  String.raw`^([+-]?)0[xX](_?${HEX}(?:\.(?:${HEX})?)?|\.${HEX})[pP]([+-]?)(${DEC})$`,
);

/** Go's `strconv.ParseFloat(s, 64)`: the value, or the error text Go would print. */
export function parseGoFloat(s: string): { value: number } | { error: string } {
  const special = /^([+-]?)(?:inf|infinity)$/i.exec(s);
  if (special) return { value: special[1] === "-" ? -Infinity : Infinity };
  if (/^nan$/i.test(s)) return { value: NaN };
  let value: number;
  if (DECIMAL_FLOAT.test(s)) {
    // The grammar is checked above; Number() rounds decimal text correctly.
    value = Number(s.replaceAll("_", ""));
  } else {
    const m = HEX_FLOAT.exec(s);
    if (!m) return { error: `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax` };
    value = hexFloat(m[2].replaceAll("_", ""), m[3] === "-", m[4].replaceAll("_", ""));
    if (m[1] === "-") value = -value;
  }
  if (!Number.isFinite(value)) {
    return { error: `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range` };
  }
  return { value };
}

/** A hex mantissa times 2^exp, rounded to nearest-even float64 (subnormals included). */
function hexFloat(mantissa: string, negativeExp: boolean, expDigits: string): number {
  const dot = mantissa.indexOf(".");
  const fracDigits = dot < 0 ? 0 : mantissa.length - dot - 1;
  const mant = BigInt("0x0" + mantissa.replace(".", ""));
  if (mant === 0n) return 0;
  // Like Go, saturate absurd exponents instead of overflowing the arithmetic.
  let exp = 0;
  for (const d of expDigits) if (exp < 10000) exp = exp * 10 + Number(d);
  const e2 = (negativeExp ? -exp : exp) - 4 * fracDigits;
  const bits = mant.toString(2).length;
  const top = bits - 1 + e2; // value is in [2^top, 2^(top+1))
  if (top > 1023) return Infinity;
  const precision = top >= -1022 ? 53 : top + 1075;
  if (precision < 0) return 0;
  const shift = bits - precision;
  if (shift <= 0) return Number(mant) * 2 ** e2;
  let q = mant >> BigInt(shift);
  const rem = mant & ((1n << BigInt(shift)) - 1n);
  const half = 1n << BigInt(shift - 1);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return Number(q) * 2 ** (e2 + shift);
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's `strconv.ParseInt(s, 10, 64)`: the value, or the error text Go would print. */
export function parseGoInt(s: string): { value: bigint } | { error: string } {
  if (!/^[+-]?\d+$/.test(s)) {
    return { error: `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax` };
  }
  const value = BigInt(s);
  if (value < INT64_MIN || value > INT64_MAX) {
    return { error: `strconv.ParseInt: parsing ${goQuote(s)}: value out of range` };
  }
  return { value };
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** Go's `strconv.Quote` (`%q`): printable runes kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s.toWellFormed()) {
    const cp = ch.codePointAt(0)!;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}
