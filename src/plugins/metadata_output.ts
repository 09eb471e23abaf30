/**
 * Validates, encodes and compares metadata plugin output (reference §7.5).
 *
 * Upstream decodes the output into a Go `interface{}` and re-encodes it with `encoding/json`; the
 * encoder here reproduces that text (sorted keys, `<>&` escaped) so caches and PUT bodies match.
 *
 * @module
 */

/** A JSON value as decoded from a plugin. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A valid output with its compact Go encoding, or the error upstream reports. */
export type MetadataOutput =
  | { readonly ok: true; readonly value: JsonValue; readonly json: string }
  | { readonly ok: false; readonly error: string };

/** Default and minimum of `execution_interval`, in minutes. */
export const MIN_EXECUTION_INTERVAL_MINUTES = 10;

/** Checks a metadata plugin's exit code and stdout: exactly one JSON value of any type. */
export function parseMetadataOutput(stdout: string, exitCode: number): MetadataOutput {
  if (exitCode !== 0) return { ok: false, error: `exits with: ${exitCode}` };
  const value = parseJsonValue(stdout);
  if (value === undefined) return { ok: false, error: `outputs invalid JSON: ${stdout}` };
  return { ok: true, value, json: encodeMetadata(value) };
}

/** Parses JSON as Go's `json.Unmarshal` into `interface{}` would; `undefined` when Go would fail. */
export function parseJsonValue(text: string): JsonValue | undefined {
  let value: JsonValue;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Go refuses numbers beyond float64 (e.g. 1e400) where JSON.parse yields Infinity.
  return allFinite(value) ? value : undefined;
}

function allFinite(v: JsonValue): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (v === null || typeof v !== "object") return true;
  return (Array.isArray(v) ? v : Object.values(v)).every(allFinite);
}

/** Compact JSON as Go's `json.Marshal` writes it: keys sorted, `<`, `>`, `&`, U+2028/9 escaped. */
export function encodeMetadata(value: JsonValue): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  // Go keeps the sign of negative zero; JSON.stringify drops it.
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : JSON.stringify(value);
  if (typeof value === "string") {
    return JSON.stringify(value.toWellFormed()).replace(
      /[<>&\u2028\u2029]/g,
      (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
    );
  }
  if (Array.isArray(value)) return `[${value.map(encodeMetadata).join(",")}]`;
  const obj = value as { readonly [key: string]: JsonValue };
  // Go sorts map keys by their UTF-8 bytes, which is code-point order, not UTF-16 order.
  const keys = Object.keys(obj).sort(compareCodePoints);
  return `{${keys.map((k) => `${encodeMetadata(k)}:${encodeMetadata(obj[k])}`).join(",")}}`;
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Semantic JSON equality (Go's `reflect.DeepEqual` on decoded values): formatting is no change. */
export function metadataEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as readonly JsonValue[];
    return a.length === bs.length && a.every((v, i) => metadataEqual(v, bs[i]));
  }
  const ao = a as { readonly [key: string]: JsonValue };
  const bo = b as { readonly [key: string]: JsonValue };
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length &&
    keys.every((k) => Object.hasOwn(bo, k) && metadataEqual(ao[k], bo[k]));
}

/** `execution_interval` in minutes: unset → 10, below 10 → 10, else as given. */
export function clampExecutionInterval(minutes: number | undefined): number {
  if (minutes === undefined || !(minutes >= MIN_EXECUTION_INTERVAL_MINUTES)) {
    return MIN_EXECUTION_INTERVAL_MINUTES;
  }
  return minutes;
}
