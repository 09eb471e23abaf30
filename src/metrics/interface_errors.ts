/**
 * Interface errors and drops (`[collectors] interface_errors`), from `<procfs>/net/dev`, for the
 * interfaces the interface metrics graph (same filters, same sanitized names):
 * `custom.interface_errors.<name>.{rxErrors,txErrors,rxDrops,txDrops}`, per second over the
 * round's window (the kernel's `errs` and `drop` columns).
 *
 * @module
 */
import type { GraphDef } from "../mackerel/api_types.ts";
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition } from "./collector.ts";
import { createCounterRateCollector } from "./counter_rates.ts";
import { readInterfaceCounters } from "./interface.ts";

const COUNTERS = ["rxErrors", "txErrors", "rxDrops", "txDrops"] as const;

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
        pick: (stat) => Object.fromEntries(COUNTERS.map((c) => [c, stat[c]])),
      }),
    }),
  });
}

/** One graph per interface (`#`), as mackerel-agent-plugins draw per-device graphs. */
export const INTERFACE_ERRORS_GRAPH_DEFS: readonly GraphDef[] = [{
  name: "custom.interface_errors.#",
  displayName: "Interface Errors and Drops (per second)",
  unit: "float",
  metrics: COUNTERS.map((counter) => ({
    name: `custom.interface_errors.#.${counter}`,
    displayName: counter,
    isStacked: false,
  })),
}];

/** The registry's line: off unless `[collectors] interface_errors = true`. */
export const INTERFACE_ERRORS_COLLECTOR: CollectorDefinition = {
  name: "interface_errors",
  optIn: "interfaceErrors",
  sources: (source) => [source.procPath("net/dev")],
  graphDefs: INTERFACE_ERRORS_GRAPH_DEFS,
  create: ({ source, config }) =>
    createInterfaceErrorsCollector({ source, ignore: config.interfaces.ignore }),
};
