/**
 * JSON encoding as Go's `encoding/json` writes it, so request bodies match mackerel-agent byte for byte.
 *
 * Differences from `JSON.stringify` that matter: `<`, `>`, `&`, U+2028 and U+2029 are escaped as
 * `\u003c`...; NaN and ±Infinity are an error instead of `null`; `-0` stays `-0`; lone surrogates
 * become U+FFFD (Go strings are UTF-8); and, for values decoded from JSON (Go `interface{}`), object
 * keys are sorted by code point - with `sortKeys`, integer-like keys included, which a plain object
 * would otherwise reorder.
 *
 * @module
 */

/** Options of {@linkcode encodeGoJson}. */
export interface GoJsonOptions {
  /** Sort object keys, as Go does for maps; structs (our typed payloads) keep their order. */
  readonly sortKeys?: boolean;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** Quotes a string as Go's encoder does (HTML-safe escapes on). */
export function quoteGoString(text: string): string {
  return JSON.stringify(text.toWellFormed()).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
}

/**
 * Encodes a value as Go's `json.Marshal` would, without the trailing newline of `json.Encoder`.
 *
 * Undefined and function-valued properties are omitted (our stand-in for `omitempty`); a
 * non-finite number throws a `TypeError` shaped like Go's `json: unsupported value: NaN`.
 */
export function encodeGoJson(value: unknown, options: GoJsonOptions = {}): string {
  return encode(value, options.sortKeys ?? false, new Set());
}

function encode(value: unknown, sortKeys: boolean, seen: Set<object>): string {
  if (value !== null && typeof value === "object" && "toJSON" in value) {
    const toJSON = (value as { toJSON: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value);
  }
  switch (typeof value) {
    case "string":
      return quoteGoString(value);
    case "number":
      return encodeNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      return value === null ? "null" : encodeObject(value, sortKeys, seen);
    default:
      return "null";
  }
}

function encodeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`json: unsupported value: ${value}`);
  // ECMAScript's number-to-string switches to exponents at the same bounds as Go (1e-6, 1e21).
  return Object.is(value, -0) ? "-0" : String(value);
}

function encodeObject(value: object, sortKeys: boolean, seen: Set<object>): string {
  if (seen.has(value)) throw new TypeError("json: unsupported value: encountered a cycle");
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const items = value.map((item) => isOmitted(item) ? "null" : encode(item, sortKeys, seen));
      return `[${items.join(",")}]`;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((key) => !isOmitted(record[key]));
    if (sortKeys) keys.sort(compareCodePoints);
    const pairs = keys.map((key) => `${quoteGoString(key)}:${encode(record[key], sortKeys, seen)}`);
    return `{${pairs.join(",")}}`;
  } finally {
    seen.delete(value);
  }
}

function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** Orders strings as Go sorts map keys: by UTF-8 bytes, i.e. by code point (not UTF-16 unit). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Strings Go writes unchanged between quotes: printable ASCII without `"`, `\`, `<`, `>`, `&`. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

/**
 * Encodes `POST /api/v0/tsdb`'s body, byte for byte what {@linkcode encodeGoJson} writes for the
 * same points, on a fast path: the keys are constant and only `hostId` and `name` need quoting,
 * which plain ASCII names (all of them, once validated) skip.
 */
export function encodeMetricPoints(
  points: readonly {
    readonly hostId: string;
    readonly name: string;
    readonly time: number;
    readonly value: number;
  }[],
): string {
  const quote = (s: string) => PLAIN_ASCII.test(s) ? `"${s}"` : quoteGoString(s);
  let out = "[";
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    out += `${i === 0 ? "" : ","}{"hostId":${quote(p.hostId)},"name":${quote(p.name)},"time":${
      encodeNumber(p.time)
    },"value":${encodeNumber(p.value)}}`;
  }
  return out + "]";
}
