/**
 * Interface errors and drops (`[collectors] interface_errors`), from `<procfs>/net/dev`, for the
 * interfaces the interface metrics graph (same filters, same sanitized names):
 * `custom.interface_errors.<name>.{rxErrors,txErrors,rxDrops,txDrops}`, per second over the
 * round's window (the kernel's `errs` and `drop` columns).
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { readInterfaceCounters } from "./interface.ts";
import { inGraph } from "./metric_declaration.ts";

/** The kernel's counters, as each is described. */
const COUNTERS = {
  rxErrors: "Receive errors per second (the kernel's rx errs).",
  txErrors: "Transmit errors per second (the kernel's tx errs).",
  rxDrops: "Received packets dropped per second (the kernel's rx drop).",
  txDrops: "Packets to send dropped per second (the kernel's tx drop).",
} as const;
const NAMES = Object.keys(COUNTERS) as (keyof typeof COUNTERS)[];

/** Options of {@linkcode createInterfaceErrorsCollector}. */
export interface InterfaceErrorsCollectorOptions {
  readonly source: Source;
  /** `[interfaces] ignore`, as for the interface metrics. */
  readonly ignore?: RegExp;
}

/** Creates the `interfaceErrors` collector. */
export function createInterfaceErrorsCollector(
  options: InterfaceErrorsCollectorOptions,
): Collector {
  return createCounterRateCollector({
    name: "interface_errors",
    metricName: (name, counter) => `custom.interface_errors.${name}.${counter}`,
    read: async () => ({
      counters: await readInterfaceCounters({
        ...options,
        pick: (stat) => Object.fromEntries(NAMES.map((c) => [c, stat[c]])),
      }),
    }),
  });
}

/**
 * The registry's line: off unless `[collectors] interface_errors = true`. One graph per interface
 * (`#`), as mackerel-agent-plugins draw per-device graphs.
 */
export const INTERFACE_ERRORS_COLLECTOR: CollectorDefinition = {
  name: "interface_errors",
  os: ["linux"],
  optIn: "interface_errors",
  metrics: inGraph(
    "Interface Errors and Drops (per second)",
    Object.entries(COUNTERS).map(([counter, description]) => ({
      name: `custom.interface_errors.<interface>.${counter}`,
      unit: "float",
      description,
    })),
  ),
  sources: (source) => [source.procPath("net/dev")],
  create: ({ source, config }) =>
    createInterfaceErrorsCollector({ source, ignore: config.interfaces.ignore }),
};
