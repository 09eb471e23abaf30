/**
 * Per-second rates of monotonic counters, from two rounds' samples (docs/architecture.md,
 * "Principles").
 *
 * Shared by every collector of counters (disk, interface, and the opt-in ones): the first sample
 * only sets the baseline; then each counter present in both samples gives delta ÷ the window's nominal
 * seconds, stamped with the window's start ({@linkcode Window}), and a counter that went down (a
 * device replaced, a driver reset, a wrap) is left out, never sent negative. Gauges read in the
 * same pass are sent every round with the round's own time.
 *
 * @module
 */
import type { Collector, MetricValue } from "./collector.ts";
import { createWindows, type Window } from "./window.ts";

/** Counters by key (a device, an interface), each a record of named counters. */
export type Counters = ReadonlyMap<string, Readonly<Record<string, number>>>;

/** One read of a collector of counters. */
export interface CounterReading {
  readonly counters: Counters;
  /** Instant values read in the same pass, sent as they are with the round's time. */
  readonly gauges?: readonly MetricValue[];
}

/** Options of {@linkcode createCounterRateCollector}. */
export interface CounterRateOptions {
  readonly name: string;
  /** Reads the current counters (and gauges) for the round scheduled at `timeMs`. */
  readonly read: (signal: AbortSignal, timeMs: number) => Promise<CounterReading>;
  /** The metric name of one counter of one key, e.g. `disk.sda.reads.delta`. */
  readonly metricName: (key: string, counter: string) => string;
  /**
   * Divides each per-second rate once more, e.g. 10^4 turns µs per second into percent of the
   * time; 1 by default. A divisor rather than a factor keeps round numbers exact.
   */
  readonly divisor?: number;
}

/** Creates a collector that reports per-second rates of the counters `read` returns. */
export function createCounterRateCollector(options: CounterRateOptions): Collector {
  const windows = createWindows<Counters>();
  const divisor = options.divisor ?? 1;
  return {
    name: options.name,
    async collect({ timeMs, signal }): Promise<MetricValue[]> {
      const { counters, gauges = [] } = await options.read(signal, timeMs);
      // A round given up on (deadline, stop) must not move the baseline under the next one.
      signal.throwIfAborted();
      const window = windows.advance(timeMs, counters);
      if (!window) return [...gauges];
      return [...gauges, ...counterRates(window, options.metricName, divisor)];
    },
  };
}

/** The rates of the counters present in both samples of `window` that did not go down. */
export function counterRates(
  window: Window<Counters>,
  metricName: (key: string, counter: string) => string,
  divisor = 1,
): MetricValue[] {
  const { previous, current, seconds, time } = window;
  const values: MetricValue[] = [];
  for (const [key, latest] of current) {
    const earlier = previous.get(key);
    if (!earlier) continue;
    for (const [counter, value] of Object.entries(latest)) {
      const delta = value - (earlier[counter] ?? Number.NaN);
      if (delta >= 0) {
        values.push({ name: metricName(key, counter), value: delta / (seconds * divisor), time });
      }
    }
  }
  return values;
}
