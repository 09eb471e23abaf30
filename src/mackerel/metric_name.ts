/**
 * What the Mackerel API accepts as a metric name.
 *
 * @module
 */

const METRIC_NAME = /^[A-Za-z0-9._-]+$/;

/** Whether the API accepts `name` for a posted point: ASCII letters, digits, `.`, `-`, `_`. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}
