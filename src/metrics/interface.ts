/**
 * Network rates from `/proc/net/dev` (reference §3.7): `interface.<name>.rxBytes.delta` and
 * `interface.<name>.txBytes.delta`, per second.
 *
 * Upstream sleeps 60 s between two samples inside each round; we keep the previous sample between
 * ticks instead (DESIGN.md principle 3), so the first call yields nothing, and we divide by the
 * real time between the two reads.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { sanitizeMetricKey } from "./sanitize.ts";

/** Byte counters of one interface in `/proc/net/dev`. */
export interface NetDevStat {
  /** Interface name as the kernel writes it. */
  readonly name: string;
  readonly rxBytes: number;
  readonly txBytes: number;
}

/**
 * Parses `/proc/net/dev`: only lines with a `:` followed by at least 16 numeric fields count
 * (the two header lines do not); received bytes are field 1, transmitted bytes field 9.
 */
export function parseNetDev(text: string): NetDevStat[] {
  const stats: NetDevStat[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === "" || fields.length < 16 || !fields.every((f) => /^\d+$/.test(f))) continue;
    stats.push({ name, rxBytes: Number(fields[0]), txBytes: Number(fields[8]) });
  }
  return stats;
}

/** Options of {@linkcode createInterfaceCollector}. */
export interface InterfaceCollectorOptions {
  readonly source: Source;
  /** `[interfaces] ignore`: interfaces whose sanitized name matches (unanchored) are skipped. */
  readonly ignore?: RegExp;
  /** Monotonic clock in milliseconds; `performance.now()` by default. */
  readonly now?: () => number;
}

/** Creates the `interface` collector. */
export function createInterfaceCollector(options: InterfaceCollectorOptions): Collector {
  const { source, ignore } = options;
  return createCounterRateCollector({
    name: "interface",
    sources: [source.procPath("net/dev")],
    now: options.now,
    metricName: (name, field) => `interface.${name}.${field}.delta`,
    read: async () => {
      const counters = new Map<string, { rxBytes: number; txBytes: number }>();
      for (const stat of parseNetDev(await source.readProc("net/dev"))) {
        if (stat.name === "lo") continue;
        const name = sanitizeMetricKey(stat.name);
        // Container peers come and go by the hundred; upstream never graphs them.
        if (name.startsWith("veth")) continue;
        if (ignore && name.search(ignore) !== -1) continue;
        counters.set(name, { rxBytes: stat.rxBytes, txBytes: stat.txBytes });
      }
      return counters;
    },
  });
}
