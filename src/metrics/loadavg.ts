/**
 * The `loadavg1`, `loadavg5` and `loadavg15` metrics, read from `<procfs>/loadavg`.
 *
 * @module
 */
import type { Source } from "../host/source.ts";
import type { Collector, CollectorDefinition, MetricValue } from "./collector.ts";
import { createLoadavgFallback } from "./fallback.ts";

/** The three load averages of `/proc/loadavg`. */
export interface Loadavg {
  readonly loadavg1: number;
  readonly loadavg5: number;
  readonly loadavg15: number;
}

/** Options of {@linkcode createLoadavgCollector}. */
export interface LoadavgCollectorOptions {
  /** Where `loadavg` is read from (its procfs root). */
  readonly source: Source;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * Parses the text of `/proc/loadavg` (`0.52 0.58 0.59 2/512 12345`).
 *
 * @throws {Error} `unexpected format of /proc/loadavg` (upstream's text) when the first three
 * fields are not decimal numbers.
 */
export function parseLoadavg(text: string): Loadavg {
  const fields = text.trim().split(/\s+/);
  // A plain decimal pattern rather than parseFloat: the kernel never writes signs, exponents or
  // "inf", so anything else means we are reading the wrong file.
  if (fields.length < 3 || !fields.slice(0, 3).every((f) => DECIMAL.test(f))) {
    throw new Error("unexpected format of /proc/loadavg");
  }
  return {
    loadavg1: Number(fields[0]),
    loadavg5: Number(fields[1]),
    loadavg15: Number(fields[2]),
  };
}

/** Turns load averages into Mackerel's metric values. */
export function loadavgValues(loadavg: Loadavg): MetricValue[] {
  return [
    { name: "loadavg1", value: loadavg.loadavg1 },
    { name: "loadavg5", value: loadavg.loadavg5 },
    { name: "loadavg15", value: loadavg.loadavg15 },
  ];
}

/** Creates the collector of `loadavg1/5/15` from `<procfs>/loadavg`. */
export function createLoadavgCollector({ source }: LoadavgCollectorOptions): Collector {
  const path = source.procPath("loadavg");
  return {
    name: "loadavg",
    async collect() {
      const text = await source.readProc("loadavg");
      try {
        return loadavgValues(parseLoadavg(text));
      } catch (error) {
        // Keep upstream's wording first, then say which file it was (it may be a bind mount).
        throw new Error(`${(error as Error).message} (read from ${path})`, { cause: error });
      }
    },
  };
}

/**
 * The registry's line: upstream's load averages, always on; `Deno.loadavg()` without -A and on
 * macOS.
 */
export const LOADAVG_COLLECTOR: CollectorDefinition = {
  name: "loadavg",
  os: ["linux"],
  metrics: ([1, 5, 15] as const).map((minutes) => ({
    name: `loadavg${minutes}`,
    unit: "float",
    description: `Load average over the last ${minutes === 1 ? "minute" : `${minutes} minutes`}.`,
  })),
  sources: (source) => [source.procPath("loadavg")],
  create: ({ source }) => createLoadavgCollector({ source }),
  // Where /proc cannot be read; macOS has its own collector, Windows no load average.
  fallback: { sysKind: "loadavg", os: ["linux"], create: () => createLoadavgFallback() },
};
