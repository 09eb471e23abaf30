/**
 * Benchmark of the metric-name check, which runs once per point where a value is produced and once
 * more before delivery: `deno bench -A scripts/metric_name_bench.ts`.
 *
 * @module
 */
import { isValidMetricName } from "../src/mackerel/metric_name.ts";

const NAMES = [
  "loadavg5",
  "cpu.user.percentage",
  "filesystem.dev_mapper_ubuntu--vg-root.size",
  "custom.mysql.innodb.buffer_pool_pages_dirty",
  "interface.eth0.rxBytes.delta",
];
/** The alternative measured against the regular expression: a table lookup per character. */
const ALLOWED = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") {
  ALLOWED[c.charCodeAt(0)] = 1;
}
function byTable(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || ALLOWED[c] === 0) return false;
  }
  return true;
}

Deno.bench("isValidMetricName, 5 typical names", { group: "name", baseline: true }, () => {
  for (const name of NAMES) if (!isValidMetricName(name)) throw new Error(name);
});

Deno.bench("a character table, same names", { group: "name" }, () => {
  for (const name of NAMES) if (!byTable(name)) throw new Error(name);
});
