/**
 * Per-second rates of monotonic counters, from two samples (DESIGN.md principle 3).
 *
 * Shared by the disk and interface collectors: the first sample only sets the baseline; then each
 * counter present in both samples gives Δ ÷ elapsed seconds, and a counter that went down (a
 * device replaced, a driver reset, a wrap) is left out, never sent negative.
 *
 * @module
 */
import type { Collector, MetricValue } from "./collector.ts";

/** Counters by key (a device, an interface), each a record of named counters. */
export type Counters = ReadonlyMap<string, Readonly<Record<string, number>>>;

/** Options of {@linkcode createCounterRateCollector}. */
export interface CounterRateOptions {
  readonly name: string;
  readonly sources: readonly string[];
  /** Reads the current counters. */
  readonly read: () => Promise<Counters>;
  /** The metric name of one counter of one key, e.g. `disk.sda.reads.delta`. */
  readonly metricName: (key: string, counter: string) => string;
  /** Monotonic clock in ms; `performance.now()` by default. */
  readonly now?: () => number;
}

/** Creates a collector that reports per-second rates of the counters `read` returns. */
export function createCounterRateCollector(options: CounterRateOptions): Collector {
  const now = options.now ?? (() => performance.now());
  let previous: { readonly at: number; readonly counters: Counters } | undefined;
  return {
    name: options.name,
    sources: options.sources,
    async collect(): Promise<MetricValue[]> {
      const counters = await options.read();
      const current = { at: now(), counters };
      const before = previous;
      previous = current;
      if (!before) return [];
      const seconds = (current.at - before.at) / 1000;
      if (!(seconds > 0)) return [];
      const values: MetricValue[] = [];
      for (const [key, latest] of current.counters) {
        const earlier = before.counters.get(key);
        if (!earlier) continue;
        for (const [counter, value] of Object.entries(latest)) {
          const delta = value - (earlier[counter] ?? Number.NaN);
          if (delta >= 0) {
            values.push({ name: options.metricName(key, counter), value: delta / seconds });
          }
        }
      }
      return values;
    },
  };
}
