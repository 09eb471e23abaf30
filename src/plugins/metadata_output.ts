/**
 * Validates, encodes and compares metadata plugin output (docs/upstream.md, "Metadata plugins").
 *
 * Upstream decodes the output into a Go `interface{}` and re-encodes it with `encoding/json`; the
 * encoder here reproduces that text (sorted keys, `<>&` escaped) so caches and PUT bodies match.
 *
 * @module
 */
import { encodeGoJson } from "../mackerel/json.ts";
import { clampExecutionInterval, MIN_EXECUTION_INTERVAL_MINUTES } from "../config/schema.ts";

export { clampExecutionInterval, MIN_EXECUTION_INTERVAL_MINUTES };

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

/** Re-encodes a value compactly as Go's `json.Marshal` does (keys in code-point order). */
export function encodeMetadata(value: JsonValue): string {
  return encodeGoJson(value, { sortKeys: true });
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
