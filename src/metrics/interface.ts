/**
 * Interface traffic rates from `/proc/net/dev` (docs/upstream.md, "Interfaces"):
 * `interface.<name>.rxBytes.delta` and `interface.<name>.txBytes.delta`, per second.
 *
 * Upstream sleeps 60 s between two samples inside each round; we keep the previous round's sample
 * instead (`window.ts`), so the first call yields nothing; a rate is stamped with the previous
 * round's time and divided by the nominal window, as upstream divides by its interval.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { type Counters, createCounterRateCollector } from "./counter_rates.ts";
import { sanitizeMetricKey } from "./sanitize.ts";

/** The counters of one interface in `/proc/net/dev` this agent uses. */
export interface NetDevStat {
  /** Interface name as the kernel writes it. */
  readonly name: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDrops: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDrops: number;
}

/**
 * Parses `/proc/net/dev`: only lines with a `:` followed by at least 16 numeric fields count
 * (the two header lines do not). Received bytes, packets, errs and drop are fields 1 to 4;
 * transmitted ones fields 9 to 12.
 */
export function parseNetDev(text: string): NetDevStat[] {
  const stats: NetDevStat[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === "" || fields.length < 16 || !fields.every((f) => /^\d+$/.test(f))) continue;
    const field = (index: number) => Number(fields[index]);
    stats.push({
      name,
      rxBytes: field(0),
      rxPackets: field(1),
      rxErrors: field(2),
      rxDrops: field(3),
      txBytes: field(8),
      txPackets: field(9),
      txErrors: field(10),
      txDrops: field(11),
    });
  }
  return stats;
}

/**
 * The metric key of an interface as upstream filters it: `lo` skipped, the name sanitized, then
 * `veth*` and `[interfaces] ignore` (unanchored) skipped; `undefined` for a skipped one.
 */
export function interfaceKey(name: string, ignore?: RegExp): string | undefined {
  if (name === "lo") return undefined;
  const key = sanitizeMetricKey(name);
  // Container peers come and go by the hundred; upstream never graphs them.
  if (key.startsWith("veth")) return undefined;
  if (ignore && key.search(ignore) !== -1) return undefined;
  return key;
}

/** Options of {@linkcode readInterfaceCounters}. */
export interface InterfaceCountersOptions {
  readonly source: Source;
  /** `[interfaces] ignore`. */
  readonly ignore?: RegExp;
  /** The counters to keep of each interface. */
  readonly pick: (stat: NetDevStat) => Record<string, number>;
}

/** Reads `net/dev` and keeps the picked counters of the interfaces upstream would graph. */
export async function readInterfaceCounters(options: InterfaceCountersOptions): Promise<Counters> {
  const counters = new Map<string, Record<string, number>>();
  for (const stat of parseNetDev(await options.source.readProc("net/dev"))) {
    const key = interfaceKey(stat.name, options.ignore);
    if (key !== undefined) counters.set(key, options.pick(stat));
  }
  return counters;
}

/** Options of {@linkcode createInterfaceCollector}. */
export interface InterfaceCollectorOptions {
  readonly source: Source;
  /** `[interfaces] ignore`: interfaces whose sanitized name matches (unanchored) are skipped. */
  readonly ignore?: RegExp;
}

/** Creates the `interface` collector. */
export function createInterfaceCollector(options: InterfaceCollectorOptions): Collector {
  return createCounterRateCollector({
    name: "interface",
    metricName: (name, field) => `interface.${name}.${field}.delta`,
    read: async () => ({
      counters: await readInterfaceCounters({
        ...options,
        pick: (stat) => ({ rxBytes: stat.rxBytes, txBytes: stat.txBytes }),
      }),
    }),
  });
}

/** The registry's line: upstream's interface metrics, always on. */
export const INTERFACE_COLLECTOR: CollectorDefinition = {
  name: "interface",
  os: ["linux"],
  metrics: [
    {
      name: "interface.<interface>.rxBytes.delta",
      unit: "bytes/sec",
      description: "Bytes received per second (lo, veth* and [interfaces] ignore left out).",
    },
    {
      name: "interface.<interface>.txBytes.delta",
      unit: "bytes/sec",
      description: "Bytes sent per second (lo, veth* and [interfaces] ignore left out).",
    },
  ],
  sources: (source) => [source.procPath("net/dev")],
  create: ({ source, config }) =>
    createInterfaceCollector({ source, ignore: config.interfaces.ignore }),
};
