/**
 * Metric-name sanitizing shared by the disk, interface and filesystem collectors (docs/upstream.md,
 * "Rounds, names and sanitizing").
 *
 * @module
 */

/** Replaces each code point outside `[A-Za-z0-9_-]` with `_` (`abc*def.ggg` -> `abc_def_ggg`). */
export function sanitizeMetricKey(name: string): string {
  // The `u` flag makes an astral character (two UTF-16 units) one `_`, as Go counts runes.
  return name.replace(/[^A-Za-z0-9_-]/gu, "_");
}
