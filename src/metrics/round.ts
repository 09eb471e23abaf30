/**
 * One collection round: every collector concurrently, each under a deadline.
 *
 * @module
 */
import { deadline, raceAbort } from "../async/abort.ts";
import { errorMessage, logger } from "../log.ts";
import type { Collector, MetricValue } from "./collector.ts";

/** Options of {@linkcode collectRound}. */
export interface RoundOptions {
  /** The round's scheduled time in epoch milliseconds, passed to every collector. */
  readonly timeMs: number;
  /** How long one collector may take before its values are given up for this round. */
  readonly deadlineMs?: number;
  /** Gives up on every collector still running (the agent stops). */
  readonly signal?: AbortSignal;
  /** Told how each collector's run ended (the status file). */
  readonly onResult?: (collector: string, error?: unknown) => void;
}

/**
 * Runs every collector concurrently and merges their values (a later duplicate name wins). Each
 * value keeps the `time` its collector stamped (a rate's window start); the others have none and
 * take the round's.
 *
 * A failing or slow collector is skipped with one line, so one bad source cannot stall the round;
 * a non-finite value is dropped with a WARNING, as upstream does at enqueue.
 */
export async function collectRound(
  collectors: readonly Collector[],
  options: RoundOptions,
): Promise<MetricValue[]> {
  const log = logger("agent");
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${deadlineMs}`);
  // One deadline for the round: every collector starts at once, so they share it.
  const limit = deadline(deadlineMs, options.signal);
  let results: MetricValue[][];
  try {
    results = await Promise.all(collectors.map(async (collector) => {
      try {
        const values = await raceAbort(
          collector.collect({ timeMs: options.timeMs, signal: limit.signal }),
          limit.signal,
        );
        options.onResult?.(collector.name);
        return values;
      } catch (error) {
        options.onResult?.(collector.name, error);
        log.error(
          `Failed to generate value in ${collector.name} (skip this metric): ${
            errorMessage(error)
          }`,
        );
        return [];
      }
    }));
  } finally {
    limit.dispose();
  }
  const merged = new Map<string, MetricValue>();
  for (const value of results.flat()) {
    if (Number.isFinite(value.value)) merged.set(value.name, value);
    else log.warn(`Invalid value: name = ${value.name}, value = ${value.value} is not sent.`);
  }
  return [...merged.values()];
}
