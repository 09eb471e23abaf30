/**
 * The metric names the Mackerel API accepts.
 *
 * The API documents the `name` of a posted host or service metric as `[a-zA-Z0-9._-]+` (and the
 * custom-metric guide as `/^[-a-zA-Z0-9_.]+$/` before the `custom.` prefix); it documents no
 * length limit, so none is enforced here. One name outside that set makes the whole `POST
 * /api/v0/tsdb` fail with 400, so a bad name is dropped where it is produced and checked once more
 * before delivery. Both run per point: the check is one compiled regular expression, about 45 ns
 * for a typical name (scripts/metric_name_bench.ts), as fast as a hand-written character table.
 *
 * @module
 */

const VALID = /^[-a-zA-Z0-9_.]+$/;
/** The first code point outside the set (a lone surrogate counts as one). */
const FIRST_INVALID = /[^-a-zA-Z0-9_.]/u;
/** What a log line can show as it is; anything else is named by its code point only. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Whether the Mackerel API accepts `name` as a metric name: one or more of `[a-zA-Z0-9._-]`. */
export function isValidMetricName(name: string): boolean {
  return VALID.test(name);
}

/**
 * Why the API would refuse `name`, for a log line (`is empty`, `contains "/" (U+002F)`,
 * `contains U+0000`), or `undefined` when it is valid. Names the first character outside the set.
 */
export function metricNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  const bad = FIRST_INVALID.exec(name)?.[0];
  if (bad === undefined) return undefined;
  const code = "U+" + bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return PRINTABLE.test(bad) ? `contains ${JSON.stringify(bad)} (${code})` : `contains ${code}`;
}
