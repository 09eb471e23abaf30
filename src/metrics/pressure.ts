/**
 * Pressure stall information (`[collectors] pressure`), from `<procfs>/pressure/{cpu,io,memory}`
 * (Linux >= 4.20 with PSI enabled; where it is absent the registry skips this collector).
 *
 * - `custom.pressure.<resource>.<some|full>_avg<10|60|300>`: the kernel's running averages, the
 *   percentage of time some (or all) non-idle tasks stalled on the resource;
 * - `custom.pressure.stall.<resource>_<some|full>`: the stall time counter (`total`, µs) as a
 *   rate over the round's window, in percent of that window: the exact average the avg fields
 *   approximate.
 *
 * The system-wide `full` line of cpu exists from Linux 5.13 (always zero there); a line the kernel
 * does not write is simply not sent.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { inGraph, type MetricDeclaration } from "./metric_declaration.ts";

/** The resources of `/proc/pressure` this collector reads. */
export const PRESSURE_RESOURCES = ["cpu", "io", "memory"] as const;

const KINDS = ["some", "full"] as const;
const AVERAGES = ["avg10", "avg60", "avg300"] as const;

/** One line of a pressure file. */
export interface PressureLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Total stall time in microseconds since boot. */
  readonly total: number;
}

/** A parsed pressure file: its `some` and `full` lines, where present. */
export type Pressure = Partial<Record<typeof KINDS[number], PressureLine>>;

const LINE = /^(some|full) avg10=(\d+\.\d+) avg60=(\d+\.\d+) avg300=(\d+\.\d+) total=(\d+)$/;

/** Parses a `/proc/pressure/*` file; lines not in the kernel's format are skipped. */
export function parsePressure(text: string): Pressure {
  const pressure: { -readonly [K in keyof Pressure]: PressureLine } = {};
  for (const line of text.split("\n")) {
    const match = LINE.exec(line.trim());
    if (!match) continue;
    const total = Number(match[5]);
    if (!Number.isSafeInteger(total)) continue;
    pressure[match[1] as typeof KINDS[number]] = {
      avg10: Number(match[2]),
      avg60: Number(match[3]),
      avg300: Number(match[4]),
      total,
    };
  }
  return pressure;
}

/** Options of {@linkcode createPressureCollector}. */
export interface PressureCollectorOptions {
  readonly source: Source;
}

/** Creates the `pressure` collector. */
export function createPressureCollector({ source }: PressureCollectorOptions): Collector {
  return createCounterRateCollector({
    name: "pressure",
    metricName: (key) => `custom.pressure.stall.${key}`,
    // µs stalled per second of the window, as percent: ÷ 10^6 µs/s × 100.
    divisor: 10_000,
    read: async () => {
      const files = await Promise.all(
        PRESSURE_RESOURCES.map(async (resource) => ({
          resource,
          pressure: parsePressure(await source.readProc(`pressure/${resource}`)),
        })),
      );
      const gauges: MetricValue[] = [];
      const counters = new Map<string, { total: number }>();
      for (const { resource, pressure } of files) {
        for (const kind of KINDS) {
          const line = pressure[kind];
          if (!line) continue;
          for (const avg of AVERAGES) {
            gauges.push({ name: `custom.pressure.${resource}.${kind}_${avg}`, value: line[avg] });
          }
          counters.set(`${resource}_${kind}`, { total: line.total });
        }
      }
      return { gauges, counters };
    },
  });
}

const TITLES = { cpu: "CPU", io: "I/O", memory: "Memory" } as const;
const WHO = { some: "some", full: "all" } as const;
const SECONDS = { avg10: 10, avg60: 60, avg300: 300 } as const;

/** One graph per resource for the averages, one for the stall time of all of them. */
const PRESSURE_METRICS: readonly MetricDeclaration[] = [
  ...PRESSURE_RESOURCES.flatMap((resource) =>
    inGraph(
      `Pressure Stall: ${TITLES[resource]} (%)`,
      KINDS.flatMap((kind) =>
        AVERAGES.map((avg) => ({
          name: `custom.pressure.${resource}.${kind}_${avg}`,
          unit: "percentage",
          label: `${kind} ${avg}`,
          description: `Time ${WHO[kind]} non-idle tasks stalled on ${resource}, in percent: ` +
            `the kernel's ${SECONDS[avg]} s average.`,
        }))
      ),
    )
  ),
  ...inGraph(
    "Pressure Stall Time (% of the minute)",
    PRESSURE_RESOURCES.flatMap((resource) =>
      KINDS.map((kind) => ({
        name: `custom.pressure.stall.${resource}_${kind}`,
        unit: "percentage",
        label: `${TITLES[resource]} ${kind}`,
        description: `Time ${WHO[kind]} non-idle tasks stalled on ${resource}, in percent of ` +
          "the window (rate of total).",
      }))
    ),
  ),
];

/** The registry's line: off unless `[collectors] pressure = true`. */
export const PRESSURE_COLLECTOR: CollectorDefinition = {
  name: "pressure",
  os: ["linux"],
  optIn: "pressure",
  metrics: PRESSURE_METRICS,
  sources: (source) => PRESSURE_RESOURCES.map((r) => source.procPath(`pressure/${r}`)),
  create: ({ source }) => createPressureCollector({ source }),
};
